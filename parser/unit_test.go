package parser

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestFnmatchPeriod(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.conf", "a.conf", true},
		{"*.conf", ".a.conf", false}, // FNM_PERIOD: '*' does not match a leading dot
		{".*.conf", ".a.conf", true},
		{"?a", ".a", false},
		{"[.]a", ".a", false},
		{"\\.a", ".a", true},
		{"*", "", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[abc]x", "bx", true},
		{"[!abc]x", "bx", false},
		{"[!abc]x", "dx", true},
		{"[^abc]x", "dx", true},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[]]x", "]x", true},
		{"[!]]x", "]x", false},
		{"[a-]x", "-x", true},
		{"[x", "[x", true}, // no ']': '[' is a literal
		{"\\*", "*", true},
		{"\\*", "a", false},
		{"a\\", "a\\", true},
		{"*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false},
		{"site-*.conf", "site-1.conf", true},
		{"[0-9][0-9]-*", "10-x", true},
	}
	for _, tt := range tests {
		if got := fnmatchPeriod(tt.pattern, tt.name); got != tt.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestHasWildcard(t *testing.T) {
	tests := map[string]bool{
		"/etc/a.conf": false, "*.conf": true, "a?": true, "[ab]": true, "[ab": false,
		"a]": false, "\\*": false, "a\\": false, "x/[a]/y": true,
	}
	for in, want := range tests {
		if got := hasWildcard(in); got != want {
			t.Errorf("hasWildcard(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestExpand(t *testing.T) {
	v := newVars(func(k string) (string, bool) {
		env := map[string]string{"HOME": "/root", "EMPTY": "", "X": "env-x"}
		s, ok := env[k]
		return s, ok
	})
	val := "defined"
	v.define("X", &val)
	v.define("NOVAL", nil)
	tests := []struct {
		in, want string
		warned   []string
	}{
		{"plain", "plain", nil},
		{"${HOME}/x", "/root/x", nil},
		{"${x}", "defined", nil}, // Define'd values: case-insensitive, before the environment
		{"${EMPTY}|", "|", nil},
		{"${NOVAL}", "${NOVAL}", []string{"NOVAL"}},
		{"${a:b}", "${a:b}", nil},
		{"${}", "${}", []string{""}},
		{"$HOME ${HOME", "$HOME ${HOME", nil},
		{"$${HOME}$", "$/root$", nil},
		{"${a${HOME}}", "${a${HOME}}", []string{"a${HOME"}},
	}
	for _, tt := range tests {
		var warned []string
		got := v.expand(tt.in, func(n string) { warned = append(warned, n) })
		if got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if fmt.Sprintf("%q", warned) != fmt.Sprintf("%q", tt.warned) {
			t.Errorf("expand(%q) warned %q, want %q", tt.in, warned, tt.warned)
		}
	}
}

func TestUndefineOrder(t *testing.T) {
	v := newVars(nil)
	for _, n := range []string{"A", "B", "C"} {
		v.define(n, nil)
	}
	v.undefine("A")
	if strings.Join(v.names, ",") != "C,B" {
		t.Errorf("names after UnDefine A = %v, want [C B] (apr_array_pop into the hole)", v.names)
	}
	if v.defined("a") {
		t.Error("IfDefine names are case-sensitive")
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		in   string
		want []string // "first-last:col:text"
	}{
		{"a\nb\n", []string{"1-1:1:a", "2-2:1:b"}},
		{"  a  \n\n\tb", []string{"1-1:3:a", "2-2:1:", "3-3:2:b"}},
		{"a\\\n  b\n", []string{"1-2:1:a  b"}},
		{"a\\\r\nb\r\n", []string{"1-2:1:ab"}},
		{"a \\ \nb\n", []string{"1-1:1:a \\", "2-2:1:b"}},
		{"a\\\n", []string{"1-2:1:a"}},
		{"a\\", []string{"1-1:1:a\\"}},
		{"a\\\\\n\nb\n", []string{"1-3:1:ab"}},
		{"a\x00b\\\nc\n", []string{"1-1:1:a", "2-2:1:c"}},
		{"# c \\\nX\n", []string{"1-2:1:# c X"}},
	}
	for _, tt := range tests {
		r := &lineReader{name: "f", data: []byte(tt.in), limit: MaxConfigLine}
		var got []string
		for i := 0; i < 100; i++ {
			l, ok, err := r.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, strings.Join([]string{itoa(l.firstLine) + "-" + itoa(l.lastLine), itoa(l.col), l.text}, ":"))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("lines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestParseLine(t *testing.T) {
	tests := []struct{ in, word, kind, args string }{
		{"Options None", "Options", "directive", "None"},
		{`"Options" None`, "Options", "directive", "None"},
		{"<Directory /x>", "<Directory", "open", "/x>"},
		{"<Directory>", "<Directory>", "open", ""},
		{"</Directory> trailing", "</Directory>", "close", "trailing"},
		{`"" x`, "", "empty", ""},
		{"Name   a  b ", "Name", "directive", "a  b "},
		{"'a b' c", "a b", "directive", "c"},
	}
	for _, tt := range tests {
		w, k, a, err := ParseLine(tt.in)
		if err != nil || w != tt.word || k != tt.kind || a != tt.args {
			t.Errorf("ParseLine(%q) = %q %q %q %v, want %q %q %q", tt.in, w, k, a, err, tt.word, tt.kind, tt.args)
		}
	}
}

func TestEscapeLog(t *testing.T) {
	tests := map[string]string{
		"plain":           "plain",
		"a\\b":            `a\\b`,
		"\xef\xbb\xbfX":   `\xef\xbb\xbfX`,
		"a\nb\tc\rd\ve\b": `a\nb\tc\rd\ve\b`,
		"\x01\x7f\"":      `\x01\x7f"`,
	}
	for in, want := range tests {
		if got := EscapeLog(in); got != want {
			t.Errorf("EscapeLog(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a", 8000) + strings.Repeat("\x01", 100)
	got := escapeLogLimit(long, maxLogLine)
	if len(got) > maxLogLine || !strings.HasSuffix(got, `\x01`) || len(got) != 8000+4*47 {
		t.Errorf("limited escape has length %d, want %d ending in a whole escape", len(got), 8000+4*47)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos: Pos{File: "/b.conf", Line: 3}, Msg: "boom", Structural: true,
		Includes: []Pos{{File: CmdLineFile, Line: 2}, {File: "/a.conf", Line: 7}}}
	want := "httpd: Syntax error in -C/-c directive: Syntax error on line 7 of /a.conf: Syntax error on line 3 of /b.conf: boom"
	if got := e.Format("httpd"); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	w := &Error{Pos: Pos{File: "/x", Line: 1}, Msg: "Invalid command '\xef\xbb\xbfA', perhaps", Hint: BOMHint}
	if got := w.Format("apache2"); !strings.HasPrefix(got, "AH00526: Syntax error on line 1 of /x:\nInvalid command '\\xef\\xbb\\xbfA', perhaps\n(hint: ") {
		t.Errorf("got %q", got)
	}
	if !HasBOM("\xef\xbb\xbfServerRoot") || HasBOM("ServerRoot") {
		t.Error("HasBOM")
	}
}

// TestBOMAgainstApache checks the BOM verdict the directive walker must
// produce from the parser's node name, word for word.
func TestBOMAgainstApache(t *testing.T) {
	bin := requireApache(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "httpd.conf")
	os.WriteFile(conf, []byte("\xef\xbb\xbfServerName a.example\n"), 0o644)
	tree, err := Load(conf, Options{ServerRoot: dir})
	if err != nil {
		t.Fatal(err)
	}
	n := tree.Root.Children[0]
	if !HasBOM(n.Name) {
		t.Fatalf("first node %q lost its BOM", n.Name)
	}
	ours := (&Error{Pos: n.Pos, Msg: "Invalid command '" + n.Name + "', perhaps misspelled or defined by a module not included in the server configuration"}).Format("apache2")
	var out bytes.Buffer
	cmd := exec.Command(bin, append([]string{"-d", dir, "-f", conf, "-t"}, preambleArgs(dir)...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	if !strings.Contains(out.String(), ours) {
		t.Errorf("apache2 printed:\n%s\nwant it to contain:\n%s", out.String(), ours)
	}
}

func preambleArgs(dir string) []string {
	var args []string
	for _, p := range apachePreamble(dir) {
		args = append(args, "-C", p)
	}
	return args
}

func TestServerRootRelativeToCwd(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "cwd", "sub"), 0o755)
	os.MkdirAll(filepath.Join(dir, "root", "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "root", "httpd.conf"), []byte("ServerRoot sub\n"), 0o644)
	t.Chdir(filepath.Join(dir, "cwd"))
	tree, err := Load("httpd.conf", Options{ServerRoot: filepath.Join(dir, "root")})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "cwd", "sub"); tree.ServerRoot != want {
		t.Errorf("ServerRoot = %q, want %q (relative to the working directory, as Apache)", tree.ServerRoot, want)
	}
}

func TestIncludeNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	os.WriteFile(filepath.Join(dir, "httpd.conf"), []byte("Include fifo.conf\nInclude /dev/null\n"), 0o644)
	_, err := Load("httpd.conf", Options{ServerRoot: dir})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	want := "apache2: Syntax error on line 1 of " + filepath.Join(dir, "httpd.conf") + ": Could not open configuration file " + fifo + ": Bad file descriptor"
	if got := pe.Format("apache2"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestLoadEnvvars(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "envvars")
	os.WriteFile(p, []byte(`# comment
unset HOME
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
	SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
else
	SUFFIX=
fi
export APACHE_RUN_USER=www-data
export APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid
export APACHE_LOG_DIR="/var/log/apache2${SUFFIX}"
export APACHE_LOCK_DIR=${LOCKBASE:-/var/lock}/apache2
QUOTED='single $NOT'
export QUOTED
export LANG=C
export LANG
#export APACHE_ARGUMENTS=''
`), 0o644)
	t.Setenv("APACHE_CONFDIR", "/etc/apache2-two")
	got, err := LoadEnvvars(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"APACHE_RUN_USER": "www-data", "APACHE_PID_FILE": "/var/run/apache2-two/apache2.pid",
		"APACHE_LOG_DIR": "/var/log/apache2-two", "APACHE_LOCK_DIR": "/var/lock/apache2",
		"QUOTED": "single $NOT", "LANG": "C",
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := LoadEnvvars(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestDebianEnvvars(t *testing.T) {
	if _, err := os.Stat("/etc/apache2/envvars"); err != nil {
		t.Skip("no /etc/apache2/envvars")
	}
	t.Setenv("APACHE_CONFDIR", "")
	env, err := LoadEnvvars("/etc/apache2/envvars")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"APACHE_RUN_USER", "APACHE_RUN_GROUP", "APACHE_PID_FILE", "APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"} {
		if env[k] == "" {
			t.Errorf("%s not set: %v", k, env)
		}
	}
	if env["APACHE_LOG_DIR"] != "/var/log/apache2" {
		t.Errorf("APACHE_LOG_DIR = %q", env["APACHE_LOG_DIR"])
	}
}

func TestDumpJSON(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "httpd.conf"), []byte("ServerName a\n<Directory /x>\n  Options \\\n None\nInclude inc.conf\n</Directory>\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "inc.conf"), []byte("AllowOverride All\n"), 0o644)
	tree, err := Load("httpd.conf", Options{ServerRoot: dir})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := DumpJSON(&b, tree.Root); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(b.String(), dir, "$ROOT")
	want := `[
  {
    "name": "ServerName",
    "args": "a",
    "file": "$ROOT/httpd.conf",
    "line": 1,
    "first_line": 1,
    "col": 1
  },
  {
    "name": "Directory",
    "args": "/x>",
    "section": true,
    "file": "$ROOT/httpd.conf",
    "line": 2,
    "first_line": 2,
    "col": 1,
    "children": [
      {
        "name": "Options",
        "args": "None",
        "file": "$ROOT/httpd.conf",
        "line": 4,
        "first_line": 3,
        "col": 3
      },
      {
        "name": "AllowOverride",
        "args": "All",
        "file": "$ROOT/inc.conf",
        "line": 1,
        "first_line": 1,
        "col": 1,
        "includes": [
          "$ROOT/httpd.conf:5"
        ]
      }
    ]
  }
]
`
	if got != want {
		t.Errorf("DumpJSON:\n%s", got)
	}
	var d bytes.Buffer
	Dump(&d, tree.Root.Children[1])
	if want := "$ROOT/httpd.conf:2: <Directory /x>\n  $ROOT/httpd.conf:4: Options None\n  $ROOT/inc.conf:1: AllowOverride All\n</Directory>\n"; strings.ReplaceAll(d.String(), dir, "$ROOT") != want {
		t.Errorf("Dump of one section:\n%s", d.String())
	}
}

// TestDeepNesting: hostile depth gives a clear error, not a crash, and
// depth up to the limit works (true conditionals are read without
// recursion).
func TestDeepNesting(t *testing.T) {
	for _, open := range []string{"<IfModule mod_so.c>\n", "<Directory /x>\n", "<IfDefine !X>\n<Files a>\n"} {
		deep := strings.Repeat(open, 100000)
		_, err := ParseHtaccess("/h", []byte(deep), nil, Options{})
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nested more than 4096 deep") {
			t.Fatalf("%q x 100000: err = %v", open, err)
		}
		if pe.Pos.Line != MaxNesting+1 {
			t.Errorf("%q: error at line %d, want %d", open, pe.Pos.Line, MaxNesting+1)
		}
	}
	ok := strings.Repeat("<IfModule mod_so.c>\n", MaxNesting-1) + "<Directory /x>\nOptions None\n</Directory>\n"
	nodes, err := ParseHtaccess("/h", []byte(ok), nil, Options{})
	if err != nil || len(nodes) != 1 || nodes[0].Name != "Directory" {
		t.Fatalf("nodes %v, err %v", nodes, err)
	}
}

// TestEnvvarsAgainstShell sources envvars files with /bin/sh and compares
// the exported variables with LoadEnvvars.
func TestEnvvarsAgainstShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	files := []string{"/etc/apache2/envvars"}
	dir := t.TempDir()
	custom := filepath.Join(dir, "envvars")
	os.WriteFile(custom, []byte("unset HOME\nA=1\nexport B=\"x${A}y\" C='$A'\nexport D=${NOPE:-dflt}/z\nif [ -n \"$A\" ]; then\nexport E=yes\nelse\nexport E=no\nfi\n"), 0o644)
	files = append(files, custom)
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		for _, confdir := range []string{"", "/etc/apache2-two"} {
			cmd := exec.Command(sh, "-c", `. "$1" && env -0`, "sh", f)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			if confdir != "" {
				cmd.Env = append(cmd.Env, "APACHE_CONFDIR="+confdir)
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sh: %v", err)
			}
			shellEnv := map[string]string{}
			for _, kv := range strings.Split(string(out), "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					shellEnv[k] = v
				}
			}
			t.Setenv("APACHE_CONFDIR", confdir)
			got, err := LoadEnvvars(f)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range got {
				if shellEnv[k] != v {
					t.Errorf("%s (APACHE_CONFDIR=%q): %s = %q, sh says %q", f, confdir, k, v, shellEnv[k])
				}
			}
			for k, v := range shellEnv {
				switch k {
				case "PATH", "PWD", "SHLVL", "_", "APACHE_CONFDIR":
					continue
				}
				if _, ok := got[k]; !ok {
					t.Errorf("%s: sh exports %s=%q, LoadEnvvars does not", f, k, v)
				}
			}
		}
	}
}

func TestTakeWords(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
		more bool
	}{
		{`a`, 1, `["a"]`, false},
		{`""`, 1, `[""]`, false},
		{`a "" b`, 2, `["a" ""]`, true},
		{`'x y' z`, 3, `["x y" "z" ""]`, false},
		{``, 2, `["" ""]`, false},
	}
	for _, tt := range tests {
		w, more := TakeWords(tt.in, tt.n)
		if fmt.Sprintf("%q", w) != tt.want || more != tt.more {
			t.Errorf("TakeWords(%q, %d) = %q, %v; want %s, %v", tt.in, tt.n, w, more, tt.want, tt.more)
		}
	}
}

func TestSectionArgs(t *testing.T) {
	tests := []struct{ args, want, err string }{
		{"/x>", "/x", ""},
		{"/x> junk", "/x", ""},
		{"/a>b>", "/a>b", ""},
		{`"/x y" >`, `"/x y" `, ""},
		{">", "", "<Directory> directive requires additional arguments"},
		{"/x", "", "<Directory> directive missing closing '>'"},
	}
	for _, tt := range tests {
		n := &Node{Name: "Directory", Section: true, Args: tt.args}
		got, err := n.SectionArgs()
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("SectionArgs(%q) = %q, %v; want %q, %q", tt.args, got, err, tt.want, tt.err)
		}
	}
}
