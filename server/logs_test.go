package server

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDifferentialAccessLog runs the same requests against Apache and
// Plume and compares the access-log lines field by field.
func TestDifferentialAccessLog(t *testing.T) {
	format := `%h %l %u "%r" %>s %s %b %B %U %q %H %m %v %p %f "%{Referer}i" "%{User-agent}i" "%{Content-Type}o" %404{X-Test}i %!200{X-Test}i %X [%{%Y-%m-%d}t] %{remote}p`
	// %O (bytes sent with headers) differs with the Server banner and
	// header set, so it is checked separately below.
	s := startSite(t, `
LogFormat "`+strings.ReplaceAll(format, `"`, `\"`)+`" testfmt
CustomLog @ROOT@/@WHO@-access.log testfmt
ErrorDocument 404 /missing.html
<Directory @ROOT@/htdocs/d>
Options Indexes
</Directory>
`, map[string]string{
		"htdocs/index.html":   "hi",
		"htdocs/a b.txt":      "x",
		"htdocs/missing.html": "custom",
		"htdocs/d/f":          "f",
	}, true)
	reqs := []struct {
		method, target string
		hdrs           []string
	}{
		{"GET", "/", []string{"Referer: http://ref/", "User-Agent: test \"agent\"\\"}},
		{"GET", "/a%20b.txt?x=1&y", []string{"X-Test: yes"}},
		{"HEAD", "/index.html", nil},
		{"GET", "/nope", []string{"X-Test: nf"}},
		{"GET", "/d", nil},
		{"GET", "/d/", nil},
		{"PUT", "/index.html", nil},
	}
	for _, r := range reqs {
		do(t, s.apache, r.method, r.target, r.hdrs...)
		do(t, s.plume, r.method, r.target, r.hdrs...)
	}
	// Apache writes its log lines when a request ends; give both a moment.
	read := func(who string) []string {
		var lines []string
		for i := 0; i < 50; i++ {
			b, _ := os.ReadFile(filepath.Join(s.dir, who+"-access.log"))
			lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if len(lines) >= len(reqs) && lines[0] != "" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return lines
	}
	ap, pl := read("apache"), read("plume")
	if len(ap) != len(reqs) || len(pl) != len(reqs) {
		t.Fatalf("log lines: apache %d, plume %d, want %d\n%s\n%s", len(ap), len(pl), len(reqs), ap, pl)
	}
	// Both servers write a line after the response has gone out, so lines
	// of quick successive requests may be in either order: compare sorted.
	port := regexp.MustCompile(`127\.0\.0\.1:\d+|" \d+ |\d+$`)
	norm := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = port.ReplaceAllString(l, "PORT")
		}
		sort.Strings(out)
		return out
	}
	a, p := norm(ap), norm(pl)
	for i := range a {
		if a[i] != p[i] {
			t.Errorf("log line differs:\napache %s\nplume  %s", a[i], p[i])
		}
	}
}

// TestDifferentialErrorLog compares the per-request error-log lines.
func TestDifferentialErrorLog(t *testing.T) {
	s := startSite(t, `
LogLevel info
<Directory @ROOT@/htdocs/quiet>
LogLevel error
</Directory>
<Directory @ROOT@/htdocs/noidx>
Options -Indexes
</Directory>
<Directory @ROOT@/htdocs/dis>
Options -Indexes
DirectoryIndex disabled
</Directory>
<Directory @ROOT@/htdocs/ns>
Options -Indexes
DirectorySlash Off
</Directory>
<Directory @ROOT@/htdocs/two>
Options -Indexes
DirectoryIndex a.html b.html
</Directory>
`, map[string]string{
		"htdocs/dis/f":        "f",
		"htdocs/quiet/f":      "f",
		"htdocs/ns/f":         "f",
		"htdocs/two/f":        "f",
		"htdocs/x.txt":        "x",
		"htdocs/noidx/a.txt":  "a",
		"htdocs/sub/file.txt": "f",
	}, true)
	targets := []string{"/nope", "/noidx/", "/a%2Fb", "/../x", "/x.txt/extra", "/sub/missing.html", "/dis/", "/ns", "/two/", "/quiet/missing",
		// Escaped in the message as ap_escape_errorlog_item does.
		"/caf%C3%A9", "/a%09b", "/q%22x", "/b%5Cs", "/e%1B[31m"}
	for _, tg := range targets {
		do(t, s.apache, "GET", tg)
		do(t, s.plume, "GET", tg)
	}
	stamp := regexp.MustCompile(`^\[[^]]+\] `)
	pid := regexp.MustCompile(`\[pid \d+:tid \d+\] `)
	client := regexp.MustCompile(`\[client 127\.0\.0\.1:\d+\] `)
	read := func(name string) []string {
		var out []string
		for i := 0; i < 50; i++ {
			out = out[:0]
			b, _ := os.ReadFile(filepath.Join(s.dir, name))
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.Contains(l, "[client ") {
					continue
				}
				l = stamp.ReplaceAllString(l, "")
				l = pid.ReplaceAllString(l, "")
				l = client.ReplaceAllString(l, "[client C] ")
				out = append(out, l)
			}
			if len(out) >= len(targets)-1 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return out
	}
	ap, pl := read("error.log"), read("plume-error.log")
	if len(ap) < len(targets)-1 {
		t.Fatalf("apache logged %d request lines, want %d: %q", len(ap), len(targets), ap)
	}
	t.Logf("%d lines compared", len(ap))
	sort.Strings(ap)
	sort.Strings(pl)
	if strings.Join(ap, "\n") != strings.Join(pl, "\n") {
		t.Errorf("error log differs\n--- apache\n%s\n--- plume\n%s", strings.Join(ap, "\n"), strings.Join(pl, "\n"))
	}
	// The line format itself: [date] [module:level] [pid N:tid N] [client ip:port] AHnnnnn: text
	b, _ := os.ReadFile(filepath.Join(s.dir, "plume-error.log"))
	line := regexp.MustCompile(`(?m)^\[\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4}\] \[core:info\] \[pid \d+:tid \d+\] \[client 127\.0\.0\.1:\d+\] AH00128: File does not exist: .*/htdocs/nope$`)
	if !line.Match(b) {
		t.Errorf("no AH00128 line in Apache's format:\n%s", b)
	}
}

// TestSentBytes checks %O against the bytes the client actually received,
// for a file sent with sendfile, an error page and a HEAD.
func TestSentBytes(t *testing.T) {
	s := startSite(t, "LogFormat \"%O %B %>s\" sent\nCustomLog @ROOT@/sent.log sent\n", map[string]string{
		"htdocs/big.bin": strings.Repeat("z", 100000),
	}, false)
	var want []string
	for _, req := range []string{"GET /big.bin", "GET /missing", "HEAD /big.bin"} {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.plume, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, req+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		want = append(want, strconv.Itoa(len(b)))
	}
	var got []string
	for i := 0; i < 50; i++ {
		data, _ := os.ReadFile(filepath.Join(s.dir, "sent.log"))
		got = got[:0]
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if f := strings.Fields(l); len(f) == 3 {
				got = append(got, f[0])
			}
		}
		if len(got) == len(want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%%O logged %v, client received %v", got, want)
	}
}
