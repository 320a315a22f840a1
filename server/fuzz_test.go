package server

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"plume/request"
)

func TestNormalizePath(t *testing.T) {
	for _, c := range []struct {
		in, out string
		ok      bool
	}{
		{"/", "/", true},
		{"/a/./b", "/a/b", true},
		{"/a/../b", "/b", true},
		{"/a/..", "/", true},
		{"/a/.", "/a/", true},
		{"/..", "", false},
		{"/a/../../b", "", false},
		{"//a///b//", "/a/b/", true},
		{"/%61%2e%2e/x", "/a../x", true},
		{"/%2e%2e/x", "", false},
		{"/%zz", "", false},
		{"/%2F", "/%2F", true},
		{"a", "", false},
	} {
		got, ok := normalizePath(c.in, true)
		if ok != c.ok || (ok && got != c.out) {
			t.Errorf("normalizePath(%q) = %q, %v; want %q, %v", c.in, got, ok, c.out, c.ok)
		}
	}
}

func TestParseRanges(t *testing.T) {
	r := &request.Request{Header: http.Header{}}
	for _, c := range []struct {
		spec string
		want string
		st   int
	}{
		{"bytes=0-3", "0-3", 0},
		{"bytes=-5", "95-99", 0},
		{"bytes=-500", "0-99", 0},
		{"bytes=90-", "90-99", 0},
		{"bytes=0-1,1-2,4-5", "0-2,4-5", 0},
		{"bytes=0-1,2-3", "0-3", 0},
		{"bytes=5-1", "", 0},
		{"bytes=100-", "", 416},
		{"bytes=x-1", "", 0},
		{"bytes=0-0,-1", "0-0,99-99", 0},
		{"bytes=-0", "", 0},
		{"bytes=0-99,0-99", "0-99", 0},
		{"items=0-1", "", 0},
	} {
		r.Header.Set("Range", c.spec)
		got, st := parseRanges(r, 100, "", "")
		var parts []string
		for _, g := range got {
			parts = append(parts, itoa(g.start)+"-"+itoa(g.end))
		}
		if strings.Join(parts, ",") != c.want || st != c.st {
			t.Errorf("%s: %v %d, want %s %d", c.spec, parts, st, c.want, c.st)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/%2e%2e/", "//x//", "/%zz", "/a/./b/../../c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := normalizePath(s, true)
		if !ok {
			return
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("%q → %q does not start with /", s, out)
		}
		for _, seg := range strings.Split(out, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("%q → %q keeps a dot segment", s, out)
			}
		}
		unescapeURL(out, false, false)
	})
}

func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-3", "bytes=-1,0-0", "bytes=5-", "bytes=,,,", "bytes=99999999999999999999-"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 || size > 1<<40 {
			return
		}
		r := &request.Request{Header: http.Header{"Range": {spec}}}
		got, _ := parseRanges(r, size, "", "")
		for _, g := range got {
			if g.start < 0 || g.end >= size || g.start > g.end {
				t.Fatalf("%q size %d: bad range %+v", spec, size, g)
			}
		}
	})
}

func FuzzLogFormat(f *testing.F) {
	for _, s := range []string{commonLogFormat, `%{Referer}i %400,501{X}i %!200h %{%Y}t %{usec_frac}t`, `%`, `%{`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		compileLogFormat(s)
		strftime(s, fixedTime)
	})
}

var fixedTime = mustTime("2026-11-25T22:11:01Z")

// TestHostileRequests sends malformed and abusive requests: each gets an
// answer (never a dropped connection from a panic), and nothing reaches
// the internal-error path.
func TestHostileRequests(t *testing.T) {
	s := startSite(t, "<Directory @ROOT@/htdocs/d>\nOptions Indexes\n</Directory>\n", map[string]string{
		"htdocs/x.txt": strings.Repeat("x", 1000),
		"htdocs/d/a":   "a",
	}, false)
	many := "bytes=" + strings.Repeat("0-0,", 500) + "0-0"
	for _, c := range []struct {
		method, target string
		hdrs           []string
		want           int
	}{
		{"GET", "/" + strings.Repeat("a/", 2000), nil, 404},
		{"GET", "/x.txt", []string{"Range: " + many}, 200},
		{"GET", "/x.txt", []string{"Range: bytes=-0"}, 200},
		{"GET", "/x.txt", []string{"Range: bytes=0-1," + strings.Repeat("-", 100)}, 200},
		{"GET", "/x.txt", []string{"If-Modified-Since: garbage", "If-None-Match: ,,,"}, 200},
		{"GET", "http://other.example/x.txt", nil, 200},
		{"OPTIONS", "*", nil, 200},
		{"GET", "/d/?C=Z;O=Q;F=9;V=x;P=*", nil, 200},
		{"GET", "/%2e%2e/%2e%2e/etc/passwd", nil, 400},
		{"GET", "/..%2f..%2fetc/passwd", nil, 404},
		{"GET", "/x.txt%00.html", nil, 404},
		{"GET", "/x.txt", []string{"Host: [::1"}, 400},
		{"BREW", "/x.txt", nil, 501},
	} {
		r := do(t, s.plume, c.method, c.target, c.hdrs...)
		if r.status != c.want {
			t.Errorf("%s %.60s %v: %d, want %d", c.method, c.target, c.hdrs, r.status, c.want)
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "plume-error.log"))
	if strings.Contains(string(log), "internal error") {
		t.Errorf("a request reached the internal-error path:\n%s", log)
	}
}

// TestNoDescriptorLeak answers many requests that end before a handler
// consumes the opened file (405, 304, 416, redirects, listings, errors)
// and checks that no descriptor stays open.
func TestNoDescriptorLeak(t *testing.T) {
	s := startSite(t, `
ErrorDocument 404 /err.html
<Directory @ROOT@/htdocs/d>
Options +Indexes +MultiViews
</Directory>
`, map[string]string{
		"htdocs/x.txt":        "xxxx",
		"htdocs/err.html":     "err",
		"htdocs/d/a.txt":      "a",
		"htdocs/d/v.html.en":  "en",
		"htdocs/d/v.html.fr":  "fr",
		"htdocs/d/sub/f.html": "f",
	}, false)
	countFDs := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		return len(ents)
	}
	p := do(t, s.plume, "GET", "/x.txt")
	etag := p.header.Get("ETag")
	reqs := []struct {
		method, target string
		hdrs           []string
	}{
		{"PUT", "/x.txt", nil},
		{"GET", "/x.txt", []string{"If-None-Match: " + etag}},
		{"GET", "/x.txt", []string{"Range: bytes=99-"}},
		{"GET", "/x.txt", []string{"Range: bytes=0-0,2-2"}},
		{"GET", "/x.txt/pi", nil},
		{"GET", "/d", nil},
		{"GET", "/d/", nil},
		{"GET", "/d/v", nil},
		{"GET", "/d/v.html", []string{"Accept-Language: fr"}},
		{"GET", "/nope", nil},
		{"HEAD", "/x.txt", nil},
		{"OPTIONS", "/x.txt", nil},
	}
	for _, r := range reqs {
		do(t, s.plume, r.method, r.target, r.hdrs...)
	}
	// os.File closes its descriptor when collected: keep the collector
	// out of the way so a leak shows.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := countFDs()
	for i := 0; i < 20; i++ {
		for _, r := range reqs {
			do(t, s.plume, r.method, r.target, r.hdrs...)
		}
	}
	// Connections close asynchronously; allow a moment.
	var after int
	for i := 0; i < 50; i++ {
		if after = countFDs(); after <= before+2 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("descriptors: %d before, %d after %d requests", before, after, 20*len(reqs))
}
