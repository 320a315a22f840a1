package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"plume/config"
	"plume/directives"
	"plume/parser"
)

const apacheBin = "/usr/sbin/apache2"

// needApache skips (or, with PLUME_REQUIRE_APACHE=1, fails) without apache2.
func needApache(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(apacheBin); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("%s is required (PLUME_REQUIRE_APACHE=1): %v", apacheBin, err)
		}
		t.Skipf("%s not installed", apacheBin)
	}
}

// site is a config body plus a document tree, run under Apache and Plume.
type site struct {
	t       testing.TB
	dir     string
	conf    string
	apache  string // base URL
	plume   string
	srv     *Server
	apCmd   *exec.Cmd
	errLogA string
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSite writes files (path → content; a trailing "/" makes a
// directory) under a temp root, and starts Apache and Plume on body,
// where @ROOT@ is the root directory.
func startSite(t testing.TB, body string, files map[string]string, withApache bool) *site {
	t.Helper()
	dir, err := os.MkdirTemp("", "plume-server-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if strings.HasSuffix(n, "/") {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Let file mtimes age past Apache's one-second weak-ETag window.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	s := &site{t: t, dir: dir}
	body = strings.ReplaceAll(body, "@ROOT@", dir)
	plumeBody := strings.ReplaceAll(body, "@WHO@", "plume")
	body = strings.ReplaceAll(body, "@WHO@", "apache")
	mods := ""
	for _, m := range []string{"mpm_event", "authz_core", "mime", "dir", "autoindex", "alias", "negotiation"} {
		mods += fmt.Sprintf("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
	}
	apPort := freePort(t)
	preamble := fmt.Sprintf("ServerRoot %s\nListen 127.0.0.1:%d\nPidFile %s/apache.pid\nErrorLog %s/error.log\n%sUser www-data\nGroup www-data\nServerName localhost\nTypesConfig /etc/mime.types\nDocumentRoot %s/htdocs\n",
		dir, apPort, dir, dir, mods, dir)
	conf := filepath.Join(dir, "test.conf")
	if err := os.WriteFile(conf, []byte(preamble+body), 0o644); err != nil {
		t.Fatal(err)
	}
	s.conf = conf
	s.errLogA = filepath.Join(dir, "error.log")

	// Plume reads the same file, with its own error log.
	plumeConf := filepath.Join(dir, "plume.conf")
	plumePre := strings.Replace(preamble, "ErrorLog "+dir+"/error.log", "ErrorLog "+dir+"/plume-error.log", 1)
	plumePre = strings.Replace(plumePre, "apache.pid", "plume.pid", 1)
	os.WriteFile(plumeConf, []byte(plumePre+plumeBody), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{
		Load: func() (*config.Config, error) {
			return config.Load(plumeConf, parser.Options{Builtin: func(n string) bool { _, ok := directives.Implemented(n); return ok }})
		},
		Hooks:      StandardHooks(),
		Listeners:  []net.Listener{ln},
		NoPrivDrop: true,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("plume: %v", err)
	}
	srv.Listen()
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	s.srv = srv
	s.plume = "http://" + ln.Addr().String()

	if withApache {
		needApache(t)
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		cmd := exec.Command(apacheBin, "-f", conf, "-DFOREGROUND")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s.apCmd = cmd
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
		addr := fmt.Sprintf("127.0.0.1:%d", apPort)
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(s.errLogA)
				t.Fatalf("apache2 did not start: %s", b)
			}
			time.Sleep(50 * time.Millisecond)
		}
		s.apache = "http://" + addr
	}
	return s
}

// rawResponse is what a test compares.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// do sends a raw request (method, target, extra header lines) and reads
// the response.
func do(t testing.TB, base, method, target string, hdrs ...string) rawResponse {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := method + " " + target + " HTTP/1.1\r\nConnection: close\r\n"
	hasHost := false
	body := ""
	var rest []string
	for _, h := range hdrs {
		if b, ok := strings.CutPrefix(h, "BODY:"); ok {
			body = b
			rest = append(rest, "Content-Length: "+strconv.Itoa(len(b)))
			continue
		}
		rest = append(rest, h)
	}
	hdrs = rest
	for _, h := range hdrs {
		if strings.HasPrefix(strings.ToLower(h), "host:") {
			hasHost = true
		}
	}
	if !hasHost {
		req += "Host: " + addr + "\r\n"
	}
	for _, h := range hdrs {
		req += h + "\r\n"
	}
	req += "\r\n" + body
	io.WriteString(c, req)
	br := bufio.NewReader(c)
	hreq, _ := http.NewRequest(method, "http://"+addr+"/", nil)
	if method != "HEAD" {
		hreq.Method = "GET"
	}
	resp, err := http.ReadResponse(br, hreq)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// comparedHeaders are the headers whose values must match Apache's.
var comparedHeaders = []string{"Content-Type", "Content-Length", "Location", "ETag", "Last-Modified",
	"Content-Range", "Content-Encoding", "Content-Language", "Accept-Ranges"}

func normaliseBody(s, apacheBase, plumeBase string) string {
	s = strings.ReplaceAll(s, "Apache/2.4.71 (Debian)", serverBanner(""))
	s = strings.ReplaceAll(s, strings.TrimPrefix(apacheBase, "http://"), "HOST")
	s = strings.ReplaceAll(s, strings.TrimPrefix(plumeBase, "http://"), "HOST")
	if ap := strings.LastIndexByte(apacheBase, ':'); ap > 0 {
		s = strings.ReplaceAll(s, "Port "+apacheBase[ap+1:], "Port PORT")
	}
	if pp := strings.LastIndexByte(plumeBase, ':'); pp > 0 {
		s = strings.ReplaceAll(s, "Port "+plumeBase[pp+1:], "Port PORT")
	}
	return s
}

// compare sends the same request to both servers and reports differences.
func (s *site) compare(method, target string, hdrs ...string) {
	t := s.t
	t.Helper()
	a := do(t, s.apache, method, target, hdrs...)
	p := do(t, s.plume, method, target, hdrs...)
	where := method + " " + target
	if len(hdrs) > 0 {
		where += " " + strings.Join(hdrs, "; ")
	}
	if a.status != p.status {
		t.Errorf("%s: status apache %d, plume %d\nplume body: %s", where, a.status, p.status, p.body)
		return
	}
	for _, h := range comparedHeaders {
		av, pv := a.header.Get(h), p.header.Get(h)
		if h == "Location" || h == "Content-Length" {
			av = normaliseBody(av, s.apache, s.plume)
			pv = normaliseBody(pv, s.apache, s.plume)
		}
		if h == "Content-Length" && (av == "" || a.header.Get("Content-Type") == "" && a.status >= 400) {
			// Apache sends some generated bodies chunked.
			continue
		}
		if strings.HasPrefix(a.header.Get("Content-Type"), "multipart/byteranges") && (h == "Content-Type" || h == "Content-Length") {
			continue
		}
		if av != pv && !(h == "Content-Length" && a.body != p.body) {
			t.Errorf("%s: header %s apache %q, plume %q", where, h, av, pv)
		}
	}
	if allowSet(a.header.Get("Allow")) != allowSet(p.header.Get("Allow")) {
		t.Errorf("%s: Allow apache %q, plume %q", where, a.header.Get("Allow"), p.header.Get("Allow"))
	}
	ab := normaliseBody(a.body, s.apache, s.plume)
	pb := normaliseBody(p.body, s.apache, s.plume)
	if ct := a.header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/byteranges") {
		ab = strings.ReplaceAll(ab, strings.TrimPrefix(ct, "multipart/byteranges; boundary="), "BOUNDARY")
		pb = strings.ReplaceAll(pb, strings.TrimPrefix(p.header.Get("Content-Type"), "multipart/byteranges; boundary="), "BOUNDARY")
	}
	if ab != pb {
		t.Errorf("%s: body differs\n--- apache\n%s\n--- plume\n%s", where, ab, pb)
	}
}

func allowSet(v string) string {
	parts := strings.Split(v, ",")
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
