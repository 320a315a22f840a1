package walk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"plume/config"
	"plume/config/testutil/apachetest"
)

type req struct {
	uri     string
	status  int
	headers map[string]string // expected header values ("" = absent)
}

type walkCase struct {
	name  string
	files tree
	own   owners
	conf  string // DocumentRoot is @ROOT@/htdocs unless the conf sets it
	reqs  []req
	vhost bool // walk with the first vhost instead of the main server
}

var walkCases = []walkCase{
	{
		name:  "merge order: Directory, .htaccess, DirectoryMatch, Files, Location",
		files: tree{"htdocs/dm/file.html": "x", "htdocs/dm/.htaccess": "Header always append X-Trace ht-dm\nHeader always set X-Order htaccess"},
		conf: `<Directory />
Header always append X-Trace root
AllowOverride None
</Directory>
<Location /dm>
Header always append X-Trace loc
Header always set X-Order location
</Location>
<Files file.html>
Header always append X-Trace files
Header always set X-Order files
</Files>
<DirectoryMatch "\.html$">
Header always append X-Trace dirmatch
</DirectoryMatch>
<Directory @ROOT@/htdocs/dm>
AllowOverride FileInfo
Header always append X-Trace dir-dm
Header always set X-Order directory
</Directory>`,
		reqs: []req{
			{"/dm/file.html", 200, map[string]string{"X-Order": "location", "X-Trace": "root, dir-dm, ht-dm, dirmatch, files, loc"}},
			{"/dm/other.html", 404, map[string]string{"X-Order": "location", "X-Trace": "root, dir-dm, ht-dm, dirmatch, loc"}},
		},
	},
	{
		name: ".htaccess interleaves per level",
		files: tree{"htdocs/a/b/f.html": "x", "htdocs/a/f.html": "x",
			"htdocs/a/.htaccess": "Header always set X-A ht-a"},
		conf: `<Directory />
AllowOverride FileInfo
</Directory>
<Directory @ROOT@/htdocs/a/b>
Header always set X-A dir-b
</Directory>
<Directory @ROOT@/htdocs/a>
Header always set X-A dir-a
</Directory>`,
		reqs: []req{
			{"/a/f.html", 200, map[string]string{"X-A": "ht-a"}},
			{"/a/b/f.html", 200, map[string]string{"X-A": "dir-b"}},
		},
	},
	{
		name:  "regex Directory: files, trailing slash, nonexistent paths",
		files: tree{"htdocs/dm/file.html": "x", "htdocs/dmx/": ""},
		conf: `<Directory />
AllowOverride None
</Directory>
<DirectoryMatch "^@ROOT@/htdocs/dm$">
Header always set X-Exact yes
</DirectoryMatch>
<DirectoryMatch "^@ROOT@/htdocs/dm/">
Header always set X-Under yes
</DirectoryMatch>
<Directory ~ "^@ROOT@/htdocs/(?<site>[a-z]+)/nope">
Header always set X-Site missing
</Directory>
<Location /dm>
Header always set X-Loc dm
</Location>`,
		reqs: []req{
			{"/dm/file.html", 200, map[string]string{"X-Under": "yes", "X-Exact": "", "X-Loc": "dm"}},
			{"/dm/nope.html", 404, map[string]string{"X-Under": "yes", "X-Site": "missing", "X-Loc": "dm"}},
			{"/dmx/nope", 404, map[string]string{"X-Site": "missing", "X-Loc": ""}},
		},
	},
	{
		name:  "Files inside Directory applies to subdirectories",
		files: tree{"htdocs/d/x.txt": "x", "htdocs/d/sub/x.txt": "x", "htdocs/e/x.txt": "x"},
		conf: `<Directory />
AllowOverride None
</Directory>
<Directory @ROOT@/htdocs/d>
<Files x.txt>
Header set X-F d
</Files>
</Directory>
<FilesMatch "^x\.">
Header append X-M top
</FilesMatch>`,
		reqs: []req{
			{"/d/x.txt", 200, map[string]string{"X-F": "d", "X-M": "top"}},
			{"/d/sub/x.txt", 200, map[string]string{"X-F": "d"}},
			{"/e/x.txt", 200, map[string]string{"X-F": "", "X-M": "top"}},
		},
	},
	{
		name:  "wildcard Directory and Location",
		files: tree{"htdocs/w1/f.html": "x", "htdocs/w2/g/f.html": "x"},
		conf: `<Directory />
AllowOverride None
</Directory>
<Directory @ROOT@/htdocs/w*>
Header set X-W dir
</Directory>
<Location /w*/g>
Header set X-L loc
</Location>`,
		reqs: []req{
			{"/w1/f.html", 200, map[string]string{"X-W": "dir", "X-L": ""}},
			{"/w2/g/f.html", 200, map[string]string{"X-W": "dir", "X-L": ""}},
		},
	},
	{
		name:  "AllowOverride unset still reads .htaccess and allows nothing",
		files: tree{"htdocs/a/f.html": "x", "htdocs/a/.htaccess": "Header set X-H yes"},
		conf:  ``,
		reqs:  []req{{"/a/f.html", 500, nil}},
	},
	{
		name:  "AllowOverride None ignores .htaccess",
		files: tree{"htdocs/a/f.html": "x", "htdocs/a/.htaccess": "Bogus"},
		conf:  "<Directory />\nAllowOverride None\n</Directory>",
		reqs:  []req{{"/a/f.html", 200, nil}},
	},
	{
		name: "AllowOverride classes",
		files: tree{
			"htdocs/opt/f.html": "x", "htdocs/opt/.htaccess": "Options +MultiViews",
			"htdocs/all/f.html": "x", "htdocs/all/.htaccess": "Options +MultiViews",
			"htdocs/list/f.html": "x", "htdocs/list/.htaccess": "Options FollowSymLinks",
			"htdocs/list2/f.html": "x", "htdocs/list2/.htaccess": "Options None",
			"htdocs/auth/f.html": "x", "htdocs/auth/.htaccess": "Header set X-H yes",
			"htdocs/fi/f.html": "x", "htdocs/fi/.htaccess": "Header set X-H yes",
			"htdocs/nf/f.html": "x", "htdocs/nf/.htaccess": "Header set X-H yes\nOptions None",
			"htdocs/nu/f.html": "x", "htdocs/nu/.htaccess": "Bogus\nHeader set X-H yes",
			"htdocs/ol/f.html": "x", "htdocs/ol/.htaccess": "Header set X-H list",
			"htdocs/ol2/f.html": "x", "htdocs/ol2/.htaccess": "Options None",
		},
		conf: `<Directory />
AllowOverride None
</Directory>
<Directory @ROOT@/htdocs/opt>
AllowOverride Options
</Directory>
<Directory @ROOT@/htdocs/all>
AllowOverride All
</Directory>
<Directory @ROOT@/htdocs/list>
AllowOverride Options=Indexes,MultiViews
</Directory>
<Directory @ROOT@/htdocs/list2>
AllowOverride Options=Indexes,MultiViews
</Directory>
<Directory @ROOT@/htdocs/auth>
AllowOverride AuthConfig
</Directory>
<Directory @ROOT@/htdocs/fi>
AllowOverride FileInfo
</Directory>
<Directory @ROOT@/htdocs/nf>
AllowOverride FileInfo Nonfatal=Override
</Directory>
<Directory @ROOT@/htdocs/nu>
AllowOverride FileInfo Nonfatal=Unknown
</Directory>
<Directory @ROOT@/htdocs/ol>
AllowOverrideList Header
</Directory>
<Directory @ROOT@/htdocs/ol2>
AllowOverrideList Header
</Directory>`,
		reqs: []req{
			{"/opt/f.html", 500, nil},
			{"/all/f.html", 200, nil},
			{"/list/f.html", 500, nil},
			{"/list2/f.html", 200, nil},
			{"/auth/f.html", 500, nil},
			{"/fi/f.html", 200, map[string]string{"X-H": "yes"}},
			{"/nf/f.html", 200, map[string]string{"X-H": "yes"}},
			{"/nu/f.html", 200, map[string]string{"X-H": "yes"}},
			{"/ol/f.html", 200, map[string]string{"X-H": "list"}},
			{"/ol2/f.html", 500, nil},
		},
	},
	{
		name: "AccessFileName: first existing name wins",
		files: tree{"htdocs/a/f.html": "x", "htdocs/a/.acl": "Header set X-Acl acl",
			"htdocs/a/.htaccess": "Bogus", "htdocs/b/f.html": "x", "htdocs/b/.htaccess": "Header set X-Acl ht"},
		conf: "AccessFileName .acl .htaccess\n<Directory />\nAllowOverride FileInfo\n</Directory>",
		reqs: []req{
			{"/a/f.html", 200, map[string]string{"X-Acl": "acl"}},
			{"/b/f.html", 200, map[string]string{"X-Acl": "ht"}},
		},
	},
	{
		name: "symlinks: Options of the directory holding the link decide",
		files: tree{
			"htdocs/none/link.html": "->../target.html", "htdocs/target.html": "t",
			"htdocs/follow/link.html": "->../target.html", "htdocs/follow/dangling.html": "->../nothing.html",
			"htdocs/sym/ldir": "->../realdir", "htdocs/realdir/f.html": "x",
			"htdocs/owner/mine.html": "->../target.html", "htdocs/owner/theirs.html": "->../nobody.html", "htdocs/nobody.html": "n",
			"htdocs/both/theirs.html": "->../nobody.html",
			"htdocs/loc/link.html":    "->../target.html",
			"htdocs/out/link.html":    "->@ROOT@/outside.html", "outside.html": "secret",
		},
		own: owners{"htdocs/nobody.html": nobodyUID},
		conf: `<Directory />
AllowOverride None
Options None
</Directory>
<Directory @ROOT@/htdocs/follow>
Options FollowSymLinks
</Directory>
<Directory @ROOT@/htdocs/sym>
Options FollowSymLinks
</Directory>
<Directory @ROOT@/htdocs/sym/ldir>
Options -FollowSymLinks
</Directory>
<Directory @ROOT@/htdocs/owner>
Options SymLinksIfOwnerMatch
</Directory>
<Directory @ROOT@/htdocs/both>
Options FollowSymLinks SymLinksIfOwnerMatch
</Directory>
<Location /loc>
Options FollowSymLinks
</Location>
<Directory @ROOT@/htdocs/out>
Options FollowSymLinks
</Directory>`,
		reqs: []req{
			{"/none/link.html", 403, nil},
			{"/follow/link.html", 200, nil},
			{"/follow/dangling.html", 403, nil},
			{"/sym/ldir/f.html", 200, nil},
			{"/owner/mine.html", 200, nil},
			{"/owner/theirs.html", 403, nil},
			{"/both/theirs.html", 403, nil},
			{"/loc/link.html", 403, nil},
			{"/out/link.html", 200, nil},
		},
	},
	{
		name: "Options merges observed through FollowSymLinks",
		files: tree{"htdocs/t.html": "t",
			"htdocs/plus/l.html": "->../t.html", "htdocs/plusidx/l.html": "->../t.html",
			"htdocs/allminus/l.html": "->../t.html", "htdocs/noneplus/l.html": "->../t.html",
			"htdocs/abs/sub/l.html": "->../../t.html",
			"htdocs/ht/l.html":      "->../t.html", "htdocs/ht/.htaccess": "Options +FollowSymLinks",
			"htdocs/htoff/l.html": "->../t.html", "htdocs/htoff/.htaccess": "Options -FollowSymLinks",
			"htdocs/htabs/l.html": "->../t.html", "htdocs/htabs/.htaccess": "Options Indexes",
		},
		conf: `<Directory />
AllowOverride None
Options None
</Directory>
<Directory @ROOT@/htdocs/plus>
Options +FollowSymLinks
</Directory>
<Directory @ROOT@/htdocs/plusidx>
Options +Indexes
</Directory>
<Directory @ROOT@/htdocs/allminus>
Options All -Indexes
</Directory>
<Directory @ROOT@/htdocs/noneplus>
Options None +Indexes
</Directory>
<Directory @ROOT@/htdocs/abs>
Options +FollowSymLinks
</Directory>
<Directory @ROOT@/htdocs/abs/sub>
Options Indexes
</Directory>
<Directory @ROOT@/htdocs/ht>
AllowOverride Options
</Directory>
<Directory @ROOT@/htdocs/htoff>
AllowOverride Options
Options FollowSymLinks
</Directory>
<Directory @ROOT@/htdocs/htabs>
AllowOverride Options
Options FollowSymLinks
</Directory>`,
		reqs: []req{
			{"/plus/l.html", 200, nil},
			{"/plusidx/l.html", 403, nil},
			{"/allminus/l.html", 200, nil},
			{"/noneplus/l.html", 403, nil},
			{"/abs/sub/l.html", 403, nil},
			{"/ht/l.html", 200, nil},
			{"/htoff/l.html", 403, nil},
			{"/htabs/l.html", 403, nil},
		},
	},
	{
		name:  "symlink above DocumentRoot is checked",
		files: tree{"real/f.html": "x", "docroot_link": "->real"},
		conf:  "DocumentRoot @ROOT@/docroot_link\n<Directory />\nAllowOverride None\nOptions None\n</Directory>",
		reqs:  []req{{"/f.html", 403, nil}},
	},
	{
		name:  "symlink above DocumentRoot allowed by FollowSymLinks",
		files: tree{"real/f.html": "x", "docroot_link": "->real"},
		conf:  "DocumentRoot @ROOT@/docroot_link\n<Directory />\nAllowOverride None\n</Directory>",
		reqs:  []req{{"/f.html", 200, nil}},
	},
	{
		name:  "vhost sections merge after the main server's",
		files: tree{"htdocs/a/f.html": "x"},
		vhost: true,
		conf: `<Directory />
AllowOverride None
</Directory>
<Directory @ROOT@/htdocs/a>
Header set X-Dir main
Header set X-MainOnly yes
</Directory>
<Location />
Header set X-Loc main
</Location>
<VirtualHost 127.0.0.1:*>
DocumentRoot @ROOT@/htdocs
<Directory @ROOT@/htdocs/a>
Header set X-Dir vhost
</Directory>
<Location />
Header set X-Loc vhost
</Location>
</VirtualHost>`,
		reqs: []req{{"/a/f.html", 200, map[string]string{"X-Dir": "vhost", "X-MainOnly": "yes", "X-Loc": "vhost"}}},
	},
	{
		name:  "broken .htaccess is a 500; path info and trailing slash",
		files: tree{"htdocs/b/.htaccess": "Bogus", "htdocs/b/f.html": "x", "htdocs/ok/f.html": "x"},
		conf:  "<Directory />\nAllowOverride All\n</Directory>",
		reqs: []req{
			{"/b/f.html", 500, nil},
			{"/b/missing/x", 500, nil},
			{"/ok/f.html/", 404, nil},
			{"/ok/f.html/extra", 404, nil},
		},
	},
}

func docRootConf(c walkCase) string {
	if strings.Contains(c.conf, "DocumentRoot") && !c.vhost {
		return c.conf
	}
	return "DocumentRoot @ROOT@/htdocs\n" + c.conf
}

func checkOutcome(t *testing.T, who string, rq req, got outcome) {
	t.Helper()
	if got.status != rq.status {
		t.Errorf("%s %s: status %d, want %d", who, rq.uri, got.status, rq.status)
	}
	if got.status != 200 && got.status != 404 {
		return // error responses carry no Header set values
	}
	for k, v := range rq.headers {
		if g := got.headers.Get(k); g != v {
			t.Errorf("%s %s: %s = %q, want %q", who, rq.uri, k, g, v)
		}
	}
}

func TestWalkCases(t *testing.T) {
	for _, c := range walkCases {
		t.Run(c.name, func(t *testing.T) {
			root := makeTree(t, c.files, c.own)
			cfg := loadConfig(t, root, docRootConf(c))
			w := newTestWalker(t, cfg)
			srv := cfg.Main
			if c.vhost {
				srv = cfg.VHosts[0]
			}
			for _, req := range c.reqs {
				for pass := 0; pass < 2; pass++ { // second pass: from the caches
					got, _ := plumeOutcome(t, w, srv, req.uri)
					checkOutcome(t, "plume", req, got)
				}
			}
		})
	}
}

// TestWalkCasesAgainstApache serves each case's tree with apache2 and
// checks that the table (which Plume is held to) is what Apache answers.
func TestWalkCasesAgainstApache(t *testing.T) {
	apachetest.Require(t)
	if os.Getuid() != 0 {
		t.Skip("the symlink owner cases need root to chown")
	}
	for _, c := range walkCases {
		t.Run(c.name, func(t *testing.T) {
			root := makeTree(t, c.files, c.own)
			srv := startApache(t, root, docRootConf(c))
			for _, req := range c.reqs {
				st, h := srv.Get(t, req.uri)
				checkOutcome(t, "apache2", req, outcome{status: st, headers: h})
			}
		})
	}
}

func TestErrorLogLines(t *testing.T) {
	root := makeTree(t, tree{"htdocs/none/link.html": "->../t.html", "htdocs/t.html": "t",
		"htdocs/b/.htaccess": "Options None\n", "htdocs/b/f": "x", "htdocs/fifo/": ""}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\nOptions None\n</Directory>\n<Directory @ROOT@/htdocs/b>\nAllowOverride FileInfo\n</Directory>")
	w := newTestWalker(t, cfg)
	cases := []struct{ uri, want string }{
		{"/none/link.html", "[core:error] AH00037: Symbolic link not allowed or link target not accessible: " + root + "/htdocs/none/link.html"},
		{"/b/f", "[core:alert] " + root + "/htdocs/b/.htaccess: Options not allowed here"},
	}
	for _, c := range cases {
		res := w.Walk(cfg.Main, c.uri, cfg.Main.DocumentRoot+c.uri)
		res.Close()
		if len(res.Log) == 0 || res.Log[len(res.Log)-1].String() != c.want {
			t.Errorf("%s: log %v, want %q", c.uri, res.Log, c.want)
		}
	}
}

// TestHtaccessUnreadable: an .htaccess that is a directory (apache2 2.4.71
// logs AH00554 then AH00529 and answers 403), and one that is a FIFO
// (which must not hang the walk).
func TestHtaccessUnreadable(t *testing.T) {
	root := makeTree(t, tree{"htdocs/a/f": "x", "htdocs/a/.htaccess/": "", "htdocs/p/f": "x"}, nil)
	if err := unix.Mkfifo(filepath.Join(root, "htdocs/p/.htaccess"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride All\n</Directory>")
	w := newTestWalker(t, cfg)
	res := w.Walk(cfg.Main, "/a/f", cfg.Main.DocumentRoot+"/a/f")
	res.Close()
	if res.Status != 403 || len(res.Log) != 2 || res.Log[0].Code != "AH00554" || res.Log[1].Code != "AH00529" || res.Notes["error-notes"] == "" {
		t.Fatalf("status %d log %v notes %v", res.Status, res.Log, res.Notes)
	}
	res = w.Walk(cfg.Main, "/p/f", cfg.Main.DocumentRoot+"/p/f")
	res.Close()
	if res.Status != 403 {
		t.Fatalf("fifo .htaccess: status %d", res.Status)
	}
}

func TestHostileFilenames(t *testing.T) {
	root := makeTree(t, tree{"htdocs/f.html": "x", "secret.txt": "s"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	long := "/" + strings.Repeat("a/", 3000)
	for _, name := range []string{"relative/path", "/htdocs/\x00/f", long, ""} {
		res := w.Walk(cfg.Main, "/x", name)
		if res.Status != 403 || res.File != nil {
			t.Errorf("%q: status %d", name, res.Status)
		}
		res.Close()
	}
	// ".." is resolved lexically, as apr_filepath_merge does; the server
	// normalises URIs before mapping, so this is the filename it gets.
	res := w.Walk(cfg.Main, "/x", cfg.Main.DocumentRoot+"/../secret.txt")
	defer res.Close()
	if res.Filename != root+"/secret.txt" {
		t.Errorf("filename %q", res.Filename)
	}
}

func TestMatchEnv(t *testing.T) {
	root := makeTree(t, tree{"htdocs/site1/f.html": "x"}, nil)
	cfg := loadConfig(t, root, `DocumentRoot @ROOT@/htdocs
<Directory />
AllowOverride None
</Directory>
<DirectoryMatch "^@ROOT@/htdocs/(?<site>[a-z0-9]+)/">
</DirectoryMatch>
<LocationMatch "^/(?<first>[a-z]+)">
</LocationMatch>`)
	w := newTestWalker(t, cfg)
	res := w.Walk(cfg.Main, "/site1/f.html", cfg.Main.DocumentRoot+"/site1/f.html")
	defer res.Close()
	if res.Env["MATCH_SITE"] != "site1" || res.Env["MATCH_FIRST"] != "site" {
		t.Fatalf("env %v", res.Env)
	}
}

func TestLocationWalk(t *testing.T) {
	root := makeTree(t, tree{"htdocs/": ""}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Location /foo>\nHeader set X-L foo\n</Location>\n<Location />\nHeader append X-All all\n</Location>")
	w := newTestWalker(t, cfg)
	for _, c := range []struct{ uri, want string }{{"/foo", "foo"}, {"/foo/", "foo"}, {"/foo/x", "foo"}, {"/foobar", ""}} {
		v, _ := w.LocationWalk(cfg.Main, c.uri, nil)
		h := headersOf(v)
		if h.Get("X-L") != c.want || h.Get("X-All") != "all" {
			t.Errorf("%s: %v", c.uri, h)
		}
	}
}

func TestServedFileIsTheCheckedOne(t *testing.T) {
	root := makeTree(t, tree{"htdocs/f.html": "content", "htdocs/d/": ""}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	res := w.Walk(cfg.Main, "/f.html", filepath.Join(root, "htdocs/f.html"))
	if res.File == nil || res.Info == nil || res.Info.Size() != 7 {
		t.Fatalf("res %+v", res)
	}
	// Replace the path after the walk: the descriptor still reads the
	// checked file.
	os.Rename(filepath.Join(root, "htdocs/f.html"), filepath.Join(root, "htdocs/g.html"))
	os.WriteFile(filepath.Join(root, "htdocs/f.html"), []byte("swapped!"), 0o644)
	buf := make([]byte, 16)
	n, _ := res.File.Read(buf)
	res.Close()
	if string(buf[:n]) != "content" {
		t.Fatalf("read %q", buf[:n])
	}
	res = w.Walk(cfg.Main, "/d", filepath.Join(root, "htdocs/d"))
	defer res.Close()
	if res.File == nil || !res.Info.IsDir() {
		t.Fatalf("dir walk %+v", res)
	}
	d, err := res.File.OS()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Readdirnames(-1); err != nil {
		t.Fatalf("directory descriptor not readable: %v", err)
	}
}

var _ = config.OptAll

// TestPlumeWarningsOncePerVersion: Plume's own warning about an access
// file (a directive it does not implement) is logged by the first request
// that reads that version of the file, not by every request; an edit logs
// it again.
func TestPlumeWarningsOncePerVersion(t *testing.T) {
	root := makeTree(t, tree{"htdocs/a/f": "x", "htdocs/a/.htaccess": "SetEnvIf User-Agent x y\n"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride All\n</Directory>")
	// As after "LoadModule setenvif_module ...": a module Plume lacks.
	cfg.Dirs.Loaded["setenvif_module"], cfg.Dirs.Loaded["mod_setenvif.c"] = true, true
	w := newTestWalker(t, cfg)
	warned := func() bool {
		res := w.Walk(cfg.Main, "/a/f", cfg.Main.DocumentRoot+"/a/f")
		res.Close()
		if res.Status != 0 {
			t.Fatalf("status %d log %v", res.Status, res.Log)
		}
		for _, l := range res.Log {
			if strings.Contains(l.Msg, "not supported by Plume") {
				return true
			}
		}
		return false
	}
	if !warned() {
		t.Fatal("first request: no warning about SetEnvIf")
	}
	for i := 0; i < 3; i++ {
		if warned() {
			t.Fatalf("request %d: the warning was logged again", i+2)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "htdocs/a/.htaccess"), []byte("SetEnvIf User-Agent z y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !warned() {
		t.Fatal("after an edit: no warning")
	}
}
