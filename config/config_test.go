package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"plume/config/testutil/apachetest"
	"plume/config/testutil/treetext"
	"plume/directives"
	"plume/parser"
)

// load applies body (with @ROOT@ replaced by root) through treetext.
func load(t *testing.T, root, body string) (*Config, error) {
	t.Helper()
	body = strings.ReplaceAll(body, "@ROOT@", root)
	tree, err := treetext.Tree(filepath.Join(root, "test.conf"), body, root)
	if err != nil {
		t.Fatal(err)
	}
	return FromTree(tree)
}

func tempRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"htdocs/sub", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// configCases are checked against Plume and, when available, apache2 -t.
// want is "" for Syntax OK, else Apache's message; line is the body line.
var configCases = []struct {
	name string
	body string
	want string
	line int
}{
	{"dir in dir", "<Directory /tmp>\n<Directory /tmp/x>\n</Directory>\n</Directory>", "<Directory not allowed in <Directory> context", 2},
	{"dir no args", "<Directory>\n</Directory>", "<Directory> directive requires additional arguments", 1},
	{"dir two args", "<Directory /a /b>\n</Directory>", "Multiple <Directory> arguments not (yet) supported.", 1},
	{"dir bad regex", "<Directory ~ \"(\">\n</Directory>", "Regex could not be compiled", 1},
	{"dirmatch bad regex", "<DirectoryMatch \"a[\">\n</DirectoryMatch>", "Regex could not be compiled", 1},
	{"dir empty regex", "<Directory ~>\n</Directory>", "", 0},
	{"pcre lookahead accepted", "<DirectoryMatch \"^/(?!private)\">\n</DirectoryMatch>", "", 0},
	{"files in location", "<Location /x>\n<Files a>\n</Files>\n</Location>", "<Files> cannot occur within <Location> section", 2},
	{"vhost nest", "<VirtualHost *:80>\n<VirtualHost *:80>\n</VirtualHost>\n</VirtualHost>", "<VirtualHost> cannot occur within <VirtualHost> section", 2},
	{"vhost in dir", "<Directory /tmp>\n<VirtualHost *:80>\n</VirtualHost>\n</Directory>", "<VirtualHost not allowed in <Directory> context", 2},
	{"vhost no args", "<VirtualHost>\n</VirtualHost>", "<VirtualHost> directive requires additional arguments", 1},
	{"limit excludes all", "<Directory /tmp>\n<LimitExcept GET>\n<Limit GET>\n</Limit>\n</LimitExcept>\n</Directory>", "<Limit> directive excludes all methods", 3},
	{"limit nested ok", "<Directory /tmp>\n<Limit GET POST>\n<Limit GET>\n</Limit>\n</Limit>\n</Directory>", "", 0},
	{"files in limit", "<Directory /tmp>\n<Limit GET>\n<Files x>\n</Files>\n</Limit>\n</Directory>", "<Files> cannot occur within <Limit> or <LimitExcept> section", 3},
	{"limit no args", "<Directory /tmp>\n<Limit>\n</Limit>\n</Directory>", "<Limit> directive requires additional arguments", 2},
	{"limit trace", "<Directory /tmp>\n<Limit TRACE>\n</Limit>\n</Directory>", "TRACE cannot be controlled by <Limit>, see TraceEnable", 2},
	{"limitexcept trace", "<Directory /tmp>\n<LimitExcept TRACE GET>\n</LimitExcept>\n</Directory>", "", 0},
	{"limit at top", "<Limit GET>\n</Limit>", "<Limit not allowed here", 1},
	{"limit custom method", "<Directory /tmp>\n<Limit FOO>\n</Limit>\n</Directory>", "", 0},
	{"files no args", "<Files>\n</Files>", "<Files> directive requires additional arguments", 1},
	{"files two args", "<Files a b>\n</Files>", "Multiple <Files> arguments not (yet) supported.", 1},
	{"files in files in dir", "<Directory /tmp>\n<Files a>\n<Files b>\n</Files>\n</Files>\n</Directory>", "", 0},
	{"dir in files", "<Files a>\n<Directory /tmp>\n</Directory>\n</Files>", "<Directory not allowed in <Files> context", 2},
	{"location in location", "<Location /a>\n<Location /b>\n</Location>\n</Location>", "<Location not allowed in <Location> context", 2},
	{"if in if", "<If \"true\">\n<If \"true\">\n</If>\n</If>", "", 0},
	{"else with arg", "<If \"true\">\n</If>\n<Else x>\n</Else>", "<Else> does not take an argument", 3},
	{"else alone", "<Else>\n</Else>", "<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope", 1},
	{"if no args", "<If>\n</If>", "<If> directive requires additional arguments", 1},
	{"if in limit", "<Directory /tmp>\n<Limit GET>\n<If \"true\">\n</If>\n</Limit>\n</Directory>", "<If> cannot occur within <Limit> or <LimitExcept> section", 3},
	{"documentroot arity", "DocumentRoot", "DocumentRoot takes one argument, Root directory of the document tree", 1},
	{"documentroot missing", "DocumentRoot /nonexistent-plume", "DocumentRoot '/nonexistent-plume' is not a directory, or is not readable", 1},
	{"documentroot relative", "DocumentRoot htdocs/", "", 0},
	{"documentroot vhost missing", "<VirtualHost *:80>\nDocumentRoot /nonexistent-plume\n</VirtualHost>", "", 0},
	{"servername arity", "ServerName", "ServerName takes one argument, The hostname and port of the server", 1},
	{"servername port", "ServerName a:b", "The port number \"a:b\" is outside the appropriate range (i.e., 1..65535).", 1},
	{"servername big port", "ServerName a.b:99999", "The port number \"a.b:99999\" is outside the appropriate range (i.e., 1..65535).", 1},
	{"servername url", "ServerName http://a.b:80", "", 0},
	{"servername v6", "ServerName [::1]:80", "Invalid ServerName \"[::1]:80\" use ServerAlias to set multiple server names.", 1},
	{"servername wildcard", "ServerName *.x", "Invalid ServerName \"*.x\" use ServerAlias to set multiple server names.", 1},
	{"servername two colons", "ServerName a:80:90", "", 0},
	{"servername empty port", "ServerName a:", "The port number \"a:\" is outside the appropriate range (i.e., 1..65535).", 1},
	{"serveralias main", "ServerAlias x", "ServerAlias only used in <VirtualHost>", 1},
	{"serveradmin arity", "ServerAdmin", "ServerAdmin takes one argument, The email address of the server administrator", 1},
	{"accessfilename empty", "AccessFileName", "", 0},
	{"accessfilename in dir", "<Directory /tmp>\nAccessFileName x\n</Directory>", "AccessFileName not allowed in <Directory> context", 2},
	{"hostnamelookups arity", "HostnameLookups", "HostnameLookups takes one argument, \"on\" to enable, \"off\" to disable reverse DNS lookups, or \"double\" to enable double-reverse DNS lookups", 1},
	{"hostnamelookups value", "HostnameLookups x", "parameter must be 'on', 'off', or 'double'", 1},
	{"hostnamelookups files", "<Files x>\nHostnameLookups on\n</Files>", "", 0},
	{"listen arity", "Listen", "Listen requires 1 or 2 arguments.", 1},
	{"listen no port", "Listen 127.0.0.1", "Port must be specified", 1},
	{"listen junk", "Listen x:y", "Port must be specified", 1},
	{"listen three", "Listen 80 http extra", "Listen requires 1 or 2 arguments.", 1},
	{"listen port 0", "Listen 127.0.0.1:0", "Invalid address or port", 1},
	{"listen v6 no port", "Listen [::1]", "Port must be specified", 1},
	{"listen duplicate", "Listen 127.0.0.1:18999\nListen 127.0.0.1:18999 https", "Cannot define multiple Listeners on the same IP:port", 2},
	{"listen wildcard and any", "Listen 18998\nListen 0.0.0.0:18998", "", 0},
	{"listen in vhost", "<VirtualHost *:80>\nListen 81\n</VirtualHost>", "Listen cannot occur within <VirtualHost> section", 2},
	{"options empty", "Options", "", 0},
	{"options bogus", "Options Bogus", "Illegal option Bogus", 1},
	{"options mixed", "<Directory /tmp>\nOptions Indexes +FollowSymLinks\n</Directory>", "Either all Options must start with + or -, or no Option may.", 2},
	{"options mixed 2", "<Directory /tmp>\nOptions +Indexes FollowSymLinks\n</Directory>", "Either all Options must start with + or -, or no Option may.", 2},
	{"options none plus", "<Directory /tmp>\nOptions None +Indexes\n</Directory>", "", 0},
	{"options all minus", "<Directory /tmp>\nOptions All -Indexes\n</Directory>", "", 0},
	{"options none late", "<Directory /tmp>\nOptions Indexes None\n</Directory>", "'Options None' must be the first Option given.", 2},
	{"options all late", "<Directory /tmp>\nOptions Indexes All\n</Directory>", "'Options All' must be the first option given.", 2},
	{"options plus all", "<Directory /tmp>\nOptions -All\n</Directory>", "You may not use 'Options +All' or 'Options -All'.", 2},
	{"options plus none", "<Directory /tmp>\nOptions +None\n</Directory>", "You may not use 'Options +None' or 'Options -None'.", 2},
	{"allowoverride top", "AllowOverride None", "AllowOverride not allowed here", 1},
	{"allowoverride empty", "<Directory /tmp>\nAllowOverride\n</Directory>", "", 0},
	{"allowoverride bad opt", "<Directory /tmp>\nAllowOverride Options=Bogus\n</Directory>", "Illegal option Bogus", 2},
	{"allowoverride bogus", "<Directory /tmp>\nAllowOverride Bogus\n</Directory>", "Illegal override option Bogus", 2},
	{"allowoverride nonfatal x", "<Directory /tmp>\nAllowOverride Nonfatal=x\n</Directory>", "", 0},
	{"allowoverride nonfatal", "<Directory /tmp>\nAllowOverride Nonfatal\n</Directory>", "=Override, =Unknown or =All expected after Nonfatal", 2},
	{"allowoverride location", "<Location /x>\nAllowOverride All\n</Location>", "", 0},
	{"allowoverridelist none", "<Directory /tmp>\nAllowOverrideList None x\n</Directory>", "'None' not allowed with other directives in AllowOverrideList", 2},
	{"allowoverridelist empty", "<Directory /tmp>\nAllowOverrideList\n</Directory>", "", 0},
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			root := tempRoot(t)
			_, err := load(t, root, tc.body)
			got, line := "", 0
			if err != nil {
				var pe *parser.Error
				if !errors.As(err, &pe) {
					t.Fatalf("error is not a *parser.Error: %v", err)
				}
				got, line = pe.Msg, pe.Pos.Line
			}
			if got != tc.want || (tc.want != "" && line != tc.line) {
				t.Errorf("Plume: got %q at line %d, want %q at line %d", got, line, tc.want, tc.line)
			}
		})
	}
}

func TestConfigErrorsAgainstApache(t *testing.T) {
	apachetest.Require(t)
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			root := tempRoot(t)
			body := strings.ReplaceAll(tc.body, "@ROOT@", root)
			v := apachetest.ConfigTest(t, root, apachetest.Header(root, 0), body)
			if tc.want == "" {
				if !v.OK {
					t.Fatalf("apache2 disagrees with the table: %s", v.Out)
				}
				return
			}
			if v.Msg != tc.want || v.Line != tc.line {
				t.Fatalf("apache2 disagrees with the table: got %q at line %d, table %q at %d\n%s", v.Msg, v.Line, tc.want, tc.line, v.Out)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	cases := []struct {
		body string
		want []string
	}{
		{"<Location /x>\nAllowOverride All\n</Location>", []string{"AH00114: Useless use of AllowOverride in line @L of @F."}},
		{"<Files x>\nAllowOverride All\n</Files>", []string{"AH00114: Useless use of AllowOverride in line @L of @F."}},
		{"<Directory /tmp>\nAllowOverrideList Bogus Options Listen\n</Directory>", []string{
			"AH00116: Discarding unrecognized directive `Bogus' in AllowOverrideList at @F:@L",
			"AH02304: Discarding directive `Listen' not allowed in AllowOverrideList at @F:@L"}},
	}
	for _, tc := range cases {
		root := tempRoot(t)
		cfg, err := load(t, root, tc.body)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(root, "test.conf")
		var got []string
		for _, w := range cfg.Warnings {
			if w.Code != "" {
				got = append(got, w.Code+": "+w.Msg)
			}
		}
		var want []string
		for _, w := range tc.want {
			want = append(want, strings.NewReplacer("@F", f, "@L", "2").Replace(w))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%q: warnings\n%s\nwant\n%s", tc.body, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if apachetest.Available() {
			header := apachetest.Header(root, 0)
			v := apachetest.ConfigTest(t, root, header, tc.body)
			line := strconv.Itoa(2 + strings.Count(header, "\n"))
			for _, w := range tc.want {
				w = strings.NewReplacer("@F", f, "@L", line).Replace(w)
				if !strings.Contains(v.Out, w) {
					t.Errorf("apache2 output lacks %q:\n%s", w, v.Out)
				}
			}
		}
	}
}

func TestOptionsMerge(t *testing.T) {
	// Each case: Options lines of nested Directory sections /a, /a/b, /a/b/c
	// merged from the server default (FollowSymLinks).
	cases := []struct {
		opts []string
		want int
	}{
		{nil, OptSymLinks},
		{[]string{"Indexes"}, OptIndexes},
		{[]string{"+Indexes"}, OptSymLinks | OptIndexes},
		{[]string{"+Indexes", "-FollowSymLinks"}, OptIndexes},
		{[]string{"None", "+Indexes"}, OptIndexes},
		{[]string{"All", "-Indexes"}, OptAll &^ OptIndexes},
		{[]string{"All", "MultiViews"}, OptMulti},
		{[]string{"None +Indexes", "+MultiViews"}, OptIndexes | OptMulti},
		{[]string{"All -Indexes"}, OptAll &^ OptIndexes},
		{[]string{"Includes", "+IncludesNOEXEC"}, OptIncludes},
		{[]string{"+Indexes", "Indexes", "+ExecCGI"}, OptIndexes | OptExecCGI},
		{[]string{"-Indexes", "+Indexes"}, OptSymLinks | OptIndexes},
		{[]string{"RunScripts"}, OptMulti | OptExecCGI},
	}
	for _, tc := range cases {
		body := ""
		dir := "/a"
		for _, o := range tc.opts {
			body += "<Directory " + dir + ">\nOptions " + o + "\n</Directory>\n"
			dir += "/b"
		}
		cfg, err := load(t, tempRoot(t), body)
		if err != nil {
			t.Fatal(err)
		}
		v := cfg.Main.Defaults
		for _, s := range cfg.Main.Dirs {
			v = directives.MergeDirs(v, s.Config)
		}
		if got := AllowOptions(v); got != tc.want {
			t.Errorf("%q: opts %#x, want %#x", tc.opts, got, tc.want)
		}
	}
}

func TestAllowOverrideParse(t *testing.T) {
	cases := []struct {
		arg          string
		override     int
		overrideOpts int
	}{
		{"None", 0, OptUnset | OptAll | OptSymOwner | OptMulti},
		{"All", directives.OrAll, OptUnset | OptAll | OptSymOwner | OptMulti},
		{"Options", directives.OrOptions, OptAll},
		{"Options=Indexes,MultiViews", directives.OrOptions, OptIndexes | OptMulti},
		{"AuthConfig FileInfo", directives.OrAuthCfg | directives.OrFileInfo, OptUnset | OptAll | OptSymOwner | OptMulti},
		{"Limit Nonfatal=Override", directives.OrLimit | directives.NonfatalOverride, OptUnset | OptAll | OptSymOwner | OptMulti},
		{"Indexes None", 0, OptUnset | OptAll | OptSymOwner | OptMulti},
		{"", 0, OptUnset | OptAll | OptSymOwner | OptMulti},
	}
	for _, tc := range cases {
		cfg, err := load(t, tempRoot(t), "<Directory /x>\nAllowOverride "+tc.arg+"\n</Directory>")
		if err != nil {
			t.Fatal(err)
		}
		d := Core(cfg.Main.Dirs[0].Config)
		if d.Override != tc.override || d.OverrideOpts != tc.overrideOpts {
			t.Errorf("AllowOverride %s: override %#x opts %#x, want %#x %#x", tc.arg, d.Override, d.OverrideOpts, tc.override, tc.overrideOpts)
		}
	}
}

func TestModel(t *testing.T) {
	root := tempRoot(t)
	body := `DocumentRoot @ROOT@/htdocs/
ServerName main.test:8080
<DirectoryMatch "^/re1">
</DirectoryMatch>
<Directory @ROOT@/htdocs/sub>
</Directory>
<Directory />
</Directory>
<Directory @ROOT@/htdocs>
</Directory>
<Directory @ROOT@/htdocs/./sub/../sub/>
</Directory>
<Location /b>
</Location>
<Location /a>
</Location>
<Files x>
</Files>
Listen 127.0.0.1:8080
Listen [::1]:81 https
AccessFileName .acl .htaccess
<VirtualHost 127.0.0.1:8080 *:81>
ServerName v.test
ServerAlias *.v.test w.test
<Directory @ROOT@/htdocs>
</Directory>
<Directory ~ "^/re2">
</Directory>
<Location /c>
</Location>
</VirtualHost>
<VirtualHost _default_>
DocumentRoot @ROOT@/other
</VirtualHost>`
	cfg, err := load(t, root, body)
	if err != nil {
		t.Fatal(err)
	}
	paths := func(secs []*Section) string {
		var out []string
		for _, s := range secs {
			out = append(out, strings.ReplaceAll(s.Path, root, "R"))
		}
		return strings.Join(out, " ")
	}
	if got, want := paths(cfg.Main.Dirs), "/ R/htdocs/ R/htdocs/sub/ R/htdocs/sub/ ^/re1"; got != want {
		t.Errorf("main Dirs %q, want %q", got, want)
	}
	if got, want := paths(cfg.Main.Locations), "/b /a"; got != want {
		t.Errorf("main Locations %q, want %q", got, want)
	}
	if len(cfg.VHosts) != 2 {
		t.Fatalf("%d vhosts", len(cfg.VHosts))
	}
	v := cfg.VHosts[0]
	if got, want := paths(v.Dirs), "/ R/htdocs/ R/htdocs/ R/htdocs/sub/ R/htdocs/sub/ ^/re1 ^/re2"; got != want {
		t.Errorf("vhost Dirs %q, want %q", got, want)
	}
	if v.Dirs[1].Pos.Line > v.Dirs[2].Pos.Line {
		t.Errorf("main <Directory htdocs> must sort before the vhost's")
	}
	if got, want := paths(v.Locations), "/b /a /c"; got != want {
		t.Errorf("vhost Locations %q, want %q", got, want)
	}
	if v.Name != "v.test" || strings.Join(v.Aliases, ",") != "*.v.test,w.test" || !v.IsVirtual {
		t.Errorf("vhost name %q aliases %q", v.Name, v.Aliases)
	}
	if len(v.Addrs) != 2 || v.Addrs[0] != (VHostAddr{"127.0.0.1", 8080}) || v.Addrs[1] != (VHostAddr{"*", 81}) {
		t.Errorf("vhost addrs %+v", v.Addrs)
	}
	if cfg.Main.DocumentRoot != root+"/htdocs" || v.DocumentRoot != root+"/htdocs" || cfg.VHosts[1].DocumentRoot != root+"/other" {
		t.Errorf("document roots %q %q %q", cfg.Main.DocumentRoot, v.DocumentRoot, cfg.VHosts[1].DocumentRoot)
	}
	if cfg.Main.Name != "main.test" || cfg.Main.Port != 8080 || cfg.VHosts[1].Name != "main.test" {
		t.Errorf("server names %q:%d %q", cfg.Main.Name, cfg.Main.Port, cfg.VHosts[1].Name)
	}
	if strings.Join(v.AccessFileNames, ",") != ".acl,.htaccess" {
		t.Errorf("vhost access names %q", v.AccessFileNames)
	}
	if len(cfg.Listen) != 2 || cfg.Listen[0].Addr != "127.0.0.1:8080" || cfg.Listen[1].Addr != "[::1]:81" || cfg.Listen[1].Proto != "https" {
		t.Errorf("listen %+v", cfg.Listen)
	}
	if files := Core(cfg.Main.Defaults).Files; len(files) != 1 || files[0].Path != "x" {
		t.Errorf("server-level Files %+v", files)
	}
	if c := cfg.Main.Dirs[0].Components; c != 0 {
		t.Errorf("<Directory /> components %d", c)
	}
	if c := cfg.Main.Dirs[2].Components; c != strings.Count(root+"/htdocs/sub/", "/") {
		t.Errorf("components %d", c)
	}
}

func TestVHostDefaultsMerge(t *testing.T) {
	cfg, err := load(t, tempRoot(t), "HostnameLookups Double\nOptions Indexes\n<VirtualHost *:80>\nOptions +MultiViews\n</VirtualHost>\n<VirtualHost *:81>\nHostnameLookups off\n</VirtualHost>")
	if err != nil {
		t.Fatal(err)
	}
	if got := AllowOptions(cfg.VHosts[0].Defaults); got != OptIndexes|OptMulti {
		t.Errorf("vhost opts %#x", got)
	}
	if HostnameLookups(cfg.VHosts[0].Defaults) != HostnameLookupDouble || HostnameLookups(cfg.VHosts[1].Defaults) != HostnameLookupOff {
		t.Errorf("HostnameLookups not merged")
	}
	if AllowOptions(cfg.Main.Defaults) != OptIndexes {
		t.Errorf("main opts changed by vhost merge")
	}
}

// testDenyModule stands in for an access module (which registers itself
// from its own package) so the <If> fail-closed marking can be tested here.
var testDenyModule = directives.RegisterModule(&directives.Module{Name: "plume_test_deny_module", Restricts: true,
	CreateDir: func(string) any { return new(int) }})

func init() {
	directives.Register(&directives.Spec{Name: "PlumeTestDeny", Module: "plume_test_deny_module", Syntax: directives.NoArgs,
		ReqOverride: directives.OrAuthCfg | directives.OrAll, Func: func(c *directives.Cmd, _ []string) error {
			c.DirConfig(testDenyModule)
			return nil
		}})
}

func TestIfFailClosedMarking(t *testing.T) {
	cfg, err := load(t, tempRoot(t), "<Directory /x>\n<If \"%{REMOTE_ADDR} == '1.2.3.4'\">\nPlumeTestDeny\n</If>\n<Else>\nOptions Indexes\n</Else>\n</Directory>")
	if err != nil {
		t.Fatal(err)
	}
	ifs := Core(cfg.Main.Dirs[0].Config).Ifs
	if len(ifs) != 2 || !ifs[0].Restricts || ifs[1].Restricts {
		t.Fatalf("ifs %+v", ifs)
	}
}

func TestRegexNamedMatches(t *testing.T) {
	for _, pat := range []string{`^/(?P<site>[a-z]+)/`, `^/(?<site>[a-z]+)/(?=x)`} {
		m, err := CompileRegex(pat)
		if err != nil {
			t.Fatal(pat, err)
		}
		got := m.NamedMatches("/abc/x")
		if got["SITE"] != "abc" {
			t.Errorf("%s: %v", pat, got)
		}
		if m.NamedMatches("/ABC/") != nil {
			t.Errorf("%s matched", pat)
		}
	}
}
