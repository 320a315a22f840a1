package server

import (
	"os"
	"strings"
	"testing"
)

var sixKiB = strings.Repeat("0123456789abcdef", 384)

// TestDifferentialStatic compares static serving, mod_mime, errors,
// ranges and conditional requests with Apache.
func TestDifferentialStatic(t *testing.T) {
	s := startSite(t, `
<Directory @ROOT@/htdocs/a>
AddEncoding x-gzip .gz
AddLanguage en .en
AddLanguage fr .fr
AddCharset UTF-8 .utf8
AddType text/x-custom .cust
AddDefaultCharset On
ServerSignature On
FileETag All
</Directory>
<Directory @ROOT@/htdocs/a/sub>
RemoveType .cust
FileETag -INode
AddDefaultCharset Off
</Directory>
<Directory @ROOT@/htdocs/pi>
AcceptPathInfo On
</Directory>
<Directory @ROOT@/htdocs/ft>
ForceType text/plain
</Directory>
<Directory @ROOT@/htdocs/noetag>
FileETag None
</Directory>
ServerAdmin admin@example.com
<Directory @ROOT@/htdocs/mail>
ServerSignature EMail
</Directory>
<Directory @ROOT@/htdocs/rd>
Redirect /rd/old http://example.com/new
RedirectMatch 301 ^/rd/m(.*)$ /moved$1
</Directory>
<Directory @ROOT@/htdocs/lim>
LimitRequestBody 10
</Directory>
`, map[string]string{
		"htdocs/six.txt":              sixKiB,
		"htdocs/index.html":           "<html>home</html>\n",
		"htdocs/a/f.html.en.gz":       "gz",
		"htdocs/a/f.fr.html":          "fr",
		"htdocs/a/y.txt":              "text",
		"htdocs/a/u.txt.utf8":         "u",
		"htdocs/a/x.cust":             "custom",
		"htdocs/a/noext":              "plain",
		"htdocs/a/sub/x.cust":         "custom",
		"htdocs/a/sub/t.txt":          "t",
		"htdocs/pi/p.html":            "pi",
		"htdocs/ft/x.png":             "not a png",
		"htdocs/noetag/n.txt":         "n",
		"htdocs/mail/m.txt":           "m",
		"htdocs/lim/l.txt":            "l",
		"htdocs/rd/old":               "o",
		"htdocs/rd/mx":                "m",
		"htdocs/a/multi.dots..html":   "dots",
		"htdocs/a/UPPER.HTML":         "upper",
		"htdocs/a/weird name&<>.html": "weird",
	}, true)
	cases := []struct {
		method, target string
		hdrs           []string
	}{
		{"GET", "/six.txt", nil},
		{"HEAD", "/six.txt", nil},
		{"POST", "/six.txt", nil},
		{"PUT", "/six.txt", nil},
		{"DELETE", "/nope", nil},
		{"OPTIONS", "/six.txt", nil},
		{"GET", "/nope", nil},
		{"HEAD", "/nope", nil},
		{"GET", "/a/nope", nil},
		{"GET", "/mail/nope", nil},
		{"GET", "/a/f.html.en.gz", nil},
		{"GET", "/a/f.fr.html", nil},
		{"GET", "/a/y.txt", nil},
		{"GET", "/a/u.txt.utf8", nil},
		{"GET", "/a/x.cust", nil},
		{"GET", "/a/noext", nil},
		{"GET", "/a/sub/x.cust", nil},
		{"GET", "/a/sub/t.txt", nil},
		{"GET", "/a/multi.dots..html", nil},
		{"GET", "/a/UPPER.HTML", nil},
		{"GET", "/a/weird%20name&%3C%3E.html", nil},
		{"GET", "/a/y.txt/extra", nil},
		{"GET", "/pi/p.html/extra", nil},
		{"GET", "/ft/x.png", nil},
		{"GET", "/noetag/n.txt", nil},
		{"GET", "/a%2Fy.txt", nil},
		{"GET", "/a/%00", nil},
		{"GET", "/../x", nil},
		{"GET", "/a/../../x", nil},
		{"GET", "/a/./y.txt", nil},
		{"GET", "//a//y.txt", nil},
		{"GET", "/%61/y.txt", nil},
		{"GET", "/a/b/../y.txt", nil},
		{"GET", "/rd/old", nil},
		{"GET", "/rd/old?q=1", nil},
		{"GET", "/rd/mx", nil},
		{"POST", "/lim/l.txt", []string{"BODY:0123456789abcdef"}},
		{"POST", "/lim/l.txt", []string{"BODY:0123"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-3"}},
		{"GET", "/six.txt", []string{"Range: bytes=-5"}},
		{"GET", "/six.txt", []string{"Range: bytes=6000-"}},
		{"GET", "/six.txt", []string{"Range: bytes=9000-"}},
		{"GET", "/six.txt", []string{"Range: bytes=5-1"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-3,10-12"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-1,1-2,4-5"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-0,-1"}},
		{"GET", "/six.txt", []string{"Range: items=0-3"}},
		{"GET", "/six.txt", []string{"Range: bytes=-0"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-0,-0"}},
		{"GET", "/six.txt", []string{"Range: bytes=" + strings.Repeat("0-0,", 200) + "0-0"}},
		{"GET", "/six.txt", []string{"Range: bytes=" + strings.Repeat("0-0,", 150) + "0-0"}},
		{"GET", "/six.txt", []string{"Range: bytes=1-2,5-6,3-4"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-1,x"}},
		{"GET", "/six.txt", []string{"Range: bytes= 0-1"}},
		{"GET", "http://other.example/six.txt", nil},
		{"GET", "/six.txt%00.html", nil},
		{"GET", "/..%2fsix.txt", nil},
		{"OPTIONS", "*", nil},
		{"GET", "/" + strings.Repeat("a", 8178), nil},
		{"GET", "/" + strings.Repeat("a", 300), nil},
		{"GET", "/" + strings.Repeat("a", 8250), nil},
		{"GET", "/six.txt", []string{"Range: bytes=0-99999"}},
		{"GET", "/six.txt", []string{"If-Modified-Since: Sun, 06 Nov 2050 08:49:37 GMT"}},
		{"GET", "/six.txt", []string{"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"}},
		{"GET", "/six.txt", []string{"If-Match: \"nope\""}},
		{"GET", "/six.txt", []string{"If-None-Match: *"}},
		{"GET", "/six.txt", []string{"If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT"}},
		{"GET", "/six.txt", []string{"Range: bytes=0-3", "If-Range: \"nope\""}},
	}
	for _, c := range cases {
		s.compare(c.method, c.target, c.hdrs...)
	}
	// Validators taken from the response itself.
	p := do(t, s.plume, "GET", "/six.txt")
	etag := p.header.Get("ETag")
	lm := p.header.Get("Last-Modified")
	for _, h := range [][]string{
		{"If-None-Match: " + etag},
		{"If-Match: " + etag},
		{"If-Modified-Since: " + lm},
		{"Range: bytes=0-3", "If-Range: " + etag},
		{"Range: bytes=0-3", "If-Range: " + lm},
	} {
		s.compare("GET", "/six.txt", h...)
	}
}

// TestDifferentialDirs compares mod_dir, mod_autoindex, mod_alias and
// ErrorDocument with Apache.
func TestDifferentialDirs(t *testing.T) {
	s := startSite(t, `
<Directory @ROOT@/htdocs/list>
Options Indexes
</Directory>
<Directory @ROOT@/htdocs/fancy>
Options Indexes
IndexOptions FancyIndexing
IndexIgnore *.bak
HeaderName HEADER.html
ReadmeName README.txt
</Directory>
<Directory @ROOT@/htdocs/fancy2>
Options Indexes
IndexOptions FancyIndexing FoldersFirst NameWidth=*
IndexOrderDefault Descending Size
</Directory>
<Directory @ROOT@/htdocs/idx2>
DirectoryIndex nope.html second.html
</Directory>
<Directory @ROOT@/htdocs/abs>
DirectoryIndex /list/plain
</Directory>
<Directory @ROOT@/htdocs/off>
DirectoryIndex disabled
Options Indexes
</Directory>
<Directory @ROOT@/htdocs/noslash>
DirectorySlash Off
</Directory>
<Directory @ROOT@/htdocs/redir>
DirectoryIndexRedirect on
</Directory>
<Directory @ROOT@/htdocs/fb>
FallbackResource /fb/front.html
</Directory>
Alias /al/ @ROOT@/other/
AliasMatch ^/am/(.*)\.x$ @ROOT@/other/$1.txt
Redirect /r1 http://example.com/target
Redirect permanent /r2 /local/path
Redirect 303 /r3 http://example.com/x?a=b
Redirect gone /gone
RedirectMatch ^/rm/(.*)$ http://example.com/m/$1
<Location /loc>
Alias @ROOT@/other/a.txt
</Location>
ErrorDocument 404 /errors/404.html
ErrorDocument 403 "Forbidden text here"
ErrorDocument 410 http://example.com/gone-page
<Directory @ROOT@/htdocs/e2>
ErrorDocument 404 /errors/missing.html
</Directory>
<Directory @ROOT@/htdocs/e3>
ErrorDocument 404 default
</Directory>
<Directory @ROOT@/other>
Require all granted
</Directory>
`, map[string]string{
		"htdocs/index.html":                                  "home\n",
		"htdocs/list/plain":                                  "p",
		"htdocs/list/b.txt":                                  "b",
		"htdocs/list/sub/":                                   "",
		"htdocs/list/we ird&<>.txt":                          "w",
		"htdocs/fancy/HEADER.html":                           "<p>header</p>\n",
		"htdocs/fancy/README.txt":                            "read <me>\n",
		"htdocs/fancy/zz.c":                                  "zzz",
		"htdocs/fancy/a.bak":                                 "bak",
		"htdocs/fancy/a-very-long-file-name-that-is-cut.txt": "long",
		"htdocs/fancy/big.bin":                               strings.Repeat("x", 5000),
		"htdocs/fancy/dir/":                                  "",
		"htdocs/fancy2/small":                                "s",
		"htdocs/fancy2/larger":                               "larger file",
		"htdocs/fancy2/d/":                                   "",
		"htdocs/idx2/second.html":                            "second\n",
		"htdocs/abs/x":                                       "x",
		"htdocs/off/index.html":                              "should not be used",
		"htdocs/noslash/index.html":                          "ns",
		"htdocs/redir/index.html":                            "r",
		"htdocs/noidx/file":                                  "f",
		"htdocs/fb/front.html":                               "front controller\n",
		"htdocs/errors/404.html":                             "custom 404 page\n",
		"htdocs/e2/x":                                        "x",
		"htdocs/e3/x":                                        "x",
		"other/a.txt":                                        "aliased\n",
		"other/m.txt":                                        "matched\n",
	}, true)
	for _, c := range []struct{ method, target string }{
		{"GET", "/"},
		{"GET", "/list/"},
		{"GET", "/list"},
		{"GET", "/list?x=1"},
		{"GET", "/list/?C=N;O=D"},
		{"POST", "/list/"},
		{"GET", "/fancy/"},
		{"GET", "/fancy/?C=S;O=D"},
		{"GET", "/fancy/?C=M;O=A"},
		{"GET", "/fancy2/"},
		{"GET", "/idx2/"},
		{"GET", "/abs/"},
		{"GET", "/off/"},
		{"GET", "/noslash"},
		{"GET", "/noslash/"},
		{"GET", "/redir/"},
		{"GET", "/noidx/"},
		{"GET", "/fb/missing/thing"},
		{"GET", "/fb/front.html"},
		{"GET", "/al/a.txt"},
		{"GET", "/loc"},
		{"GET", "/loc/deeper"},
		{"GET", "/al/none.txt"},
		{"GET", "/am/m.x"},
		{"GET", "/r1"},
		{"GET", "/r1/sub/page?q=1"},
		{"GET", "/r2/x"},
		{"GET", "/r3/y?q=1"},
		{"GET", "/gone"},
		{"GET", "/rm/abc"},
		{"GET", "/rm/a%20b%3Cc"},
		{"GET", "/rm/x?y=1"},
		{"GET", "/nothing-here"},
		{"HEAD", "/nothing-here"},
		{"GET", "/e2/nothing"},
		{"GET", "/e3/nothing"},
	} {
		s.compare(c.method, c.target)
	}
}

// TestDifferentialNegotiation checks the MultiViews and type-map wiring
// (selection itself is package negotiation's).
func TestDifferentialNegotiation(t *testing.T) {
	s := startSite(t, `
AddLanguage en .en
AddLanguage fr .fr
AddHandler type-map .var
<Directory @ROOT@/htdocs/mv>
Options +MultiViews
</Directory>
`, map[string]string{
		"htdocs/mv/index.html.en": "english\n",
		"htdocs/mv/index.html.fr": "french\n",
		"htdocs/mv/page.html":     "page\n",
		"htdocs/mv/doc.txt.en":    "doc en\n",
		"htdocs/mv/map.var":       "URI: map\n\nURI: page.html\nContent-Type: text/html\n",
	}, true)
	for _, c := range []struct {
		target string
		hdrs   []string
	}{
		{"/mv/", nil},
		{"/mv/", []string{"Accept-Language: fr"}},
		{"/mv/page", nil},
		{"/mv/doc", nil},
		{"/mv/doc.txt", []string{"Accept-Language: de"}},
		{"/mv/nothing", nil},
		{"/mv/map.var", nil},
	} {
		s.compare("GET", c.target, c.hdrs...)
	}
}

// TestDifferentialVhosts compares name-based virtual host selection.
func TestDifferentialVhosts(t *testing.T) {
	s := startSite(t, `
<VirtualHost *>
ServerName v1.test
DocumentRoot @ROOT@/v1
</VirtualHost>
<VirtualHost *>
ServerName v2.test
ServerAlias *.v2.test alt?.example
DocumentRoot @ROOT@/v2
</VirtualHost>
<Directory @ROOT@/v1>
Require all granted
</Directory>
<Directory @ROOT@/v2>
Require all granted
</Directory>
`, map[string]string{
		"htdocs/who.txt": "main",
		"v1/who.txt":     "v1",
		"v2/who.txt":     "v2",
	}, true)
	for _, host := range []string{"v1.test", "V2.TEST", "v2.test.", "x.v2.test", "alt1.example", "alt12.example", "other.test", "v2.test:1234", "", "[::1]"} {
		hdr := "Host: " + host
		s.compare("GET", "/who.txt", hdr)
	}
	// A Host with '/' is rejected by net/http before Plume sees it (400
	// with Go's own body), so only the status is checked.
	if r := do(t, s.plume, "GET", "/who.txt", "Host: bad/host"); r.status != 400 {
		t.Errorf("Host: bad/host: status %d, want 400", r.status)
	}
}

// TestDifferentialDebianAutoindex renders listings with Debian's stock
// autoindex.conf (HTMLTable, icons by type/encoding/name, VersionSort) and
// with icons in the <pre> layout.
func TestDifferentialDebianAutoindex(t *testing.T) {
	if _, err := os.Stat("/etc/apache2/mods-available/autoindex.conf"); err != nil {
		t.Skip("Debian's autoindex.conf is not installed")
	}
	s := startSite(t, `
Include /etc/apache2/mods-available/autoindex.conf
<Directory @ROOT@/htdocs/d>
Options Indexes
AddDescription "A <b>C</b> program" prog.c
AddDescription "Archives" *.tar.gz
</Directory>
<Directory @ROOT@/htdocs/pre>
Options Indexes
IndexOptions -HTMLTable +IconsAreLinks
AddDescription "This description is much longer than twenty-three characters" a.txt
</Directory>
<Directory @ROOT@/htdocs/x>
Options Indexes
IndexOptions +XHTML
</Directory>
<Directory @ROOT@/htdocs/x2>
Options Indexes
IndexOptions XHTML FancyIndexing
IndexStyleSheet /s.css
</Directory>
<Directory @ROOT@/htdocs/x3>
Options Indexes
IndexOptions XHTML
</Directory>
<Directory @ROOT@/htdocs/x4>
Options Indexes
IndexStyleSheet /s.css
IndexOptions +ScanHTMLTitles
</Directory>
`, map[string]string{
		"htdocs/x/a.txt":       "a",
		"htdocs/x2/a.txt":      "a",
		"htdocs/x3/a.txt":      "a",
		"htdocs/x4/a.txt":      "a",
		"htdocs/x4/b.txt":      "b",
		"htdocs/x4/t.html":     "<html><head><TITLE>\nA page\ntitle</title></head></html>",
		"htdocs/x4/u.html":     "<html>no title</html>",
		"htdocs/d/a.txt":       "hi",
		"htdocs/d/b.tar.gz":    "x",
		"htdocs/d/prog.c":      "c",
		"htdocs/d/README":      "r",
		"htdocs/d/img.png":     strings.Repeat("\x00", 3000),
		"htdocs/d/file10.txt":  "10",
		"htdocs/d/file9.txt":   "9",
		"htdocs/d/sub/":        "",
		"htdocs/d/song.ogg":    "o",
		"htdocs/pre/a.txt":     "a",
		"htdocs/pre/x.bin":     "b",
		"htdocs/pre/dir/":      "",
		"htdocs/pre/unknown.q": "q",
	}, true)
	for _, target := range []string{"/d/", "/d/?C=S;O=D", "/d/?C=D;O=A", "/d/?C=N;O=D", "/pre/", "/pre/?C=M;O=D", "/x/", "/x2/", "/x3/", "/x4/"} {
		s.compare("GET", target)
	}
}

// TestTrace checks TRACE and TraceEnable Off (net/http does not keep the
// order of header fields, so the echoed body is not compared with Apache).
func TestTrace(t *testing.T) {
	on := startSite(t, "", map[string]string{"htdocs/x": "x"}, false)
	r := do(t, on.plume, "TRACE", "/x", "X-Probe: 1")
	if r.status != 200 || r.header.Get("Content-Type") != "message/http" || !strings.HasPrefix(r.body, "TRACE /x HTTP/1.1\r\n") || !strings.Contains(r.body, "X-Probe: 1\r\n") {
		t.Errorf("TRACE: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	off := startSite(t, "TraceEnable off\n", map[string]string{"htdocs/x": "x"}, false)
	r = do(t, off.plume, "TRACE", "/x")
	if r.status != 405 || r.header.Get("Allow") != "" || !strings.Contains(r.body, "The requested method TRACE is not allowed") {
		t.Errorf("TraceEnable off: %d Allow=%q %q", r.status, r.header.Get("Allow"), r.body)
	}
	if _, ok := r.header["Allow"]; !ok {
		t.Errorf("TraceEnable off: Apache sends an empty Allow header")
	}
}

// TestDifferentialIPVhost checks that an IP-specific <VirtualHost> takes
// the address from every wildcard one, whatever the Host header says.
func TestDifferentialIPVhost(t *testing.T) {
	s := startSite(t, `
<VirtualHost *>
ServerName star.test
DocumentRoot @ROOT@/star
</VirtualHost>
<VirtualHost 127.0.0.1>
ServerName ip.test
DocumentRoot @ROOT@/ip
</VirtualHost>
<VirtualHost 127.0.0.1>
ServerName ip2.test
DocumentRoot @ROOT@/ip2
</VirtualHost>
<Directory @ROOT@>
Require all granted
</Directory>
`, map[string]string{
		"htdocs/who.txt": "main",
		"star/who.txt":   "star",
		"ip/who.txt":     "ip",
		"ip2/who.txt":    "ip2",
	}, true)
	for _, host := range []string{"star.test", "ip.test", "ip2.test", "nobody.test"} {
		s.compare("GET", "/who.txt", "Host: "+host)
	}
}

// TestModMimeUsePathInfo types a request by its path info.
func TestModMimeUsePathInfo(t *testing.T) {
	s := startSite(t, `
<Directory @ROOT@/htdocs/p>
AcceptPathInfo On
ModMimeUsePathInfo On
AddType text/x-special .spc
DefaultLanguage de
</Directory>
`, map[string]string{"htdocs/p/script": "s"}, true)
	s.compare("GET", "/p/script/extra.spc")
	s.compare("GET", "/p/script")
}
