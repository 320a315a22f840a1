package negotiation

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/negotiation/golden.txt from Apache's answers")

const apacheBin = "/usr/sbin/apache2"

var langFiles = map[string]string{"page.en.html": "en\n", "page.fr.html": "fr!\n", "page.de.html": "de!!\n"}

var site = []dirSpec{
	{path: "l1", files: langFiles},
	{path: "l2", files: langFiles, conf: []string{"LanguagePriority en fr de"}},
	{path: "l3", files: langFiles, conf: []string{"LanguagePriority fr de en", "ForceLanguagePriority Fallback"}},
	{path: "l4", files: langFiles, conf: []string{"LanguagePriority de en", "ForceLanguagePriority Prefer Fallback"}},
	{path: "l5", files: langFiles, conf: []string{"LanguagePriority en", "ForceLanguagePriority None"}},
	{path: "l6", files: map[string]string{"page.html": "none\n", "page.en-gb.html": "gb\n", "page.en-us.html": "us!\n", "page.fr.html": "fr\n"},
		conf: []string{"LanguagePriority en-gb fr"}},
	{path: "l7", files: map[string]string{"page.html": "x\n", "page.fr.html": "fr\n"}, conf: []string{"DefaultLanguage de"}},
	{path: "t1", files: map[string]string{"x.html": "<p>h</p>\n", "x.txt": "text\n", "x.jpg": "jpg\n", "x.json": "{}\n"}},
	{path: "gz", files: map[string]string{"doc.html": "plain html\n", "doc.html.gz": "gz\n", "doc.txt.gz": "tgz\n"}},
	{path: "maps", maps: true, files: map[string]string{
		"test.txt": "hello\n", "test.jpg": "hello\n", "qs.en.html": "qs en\n", "qs.fr.html": "qs fr\n", "qs.txt": "qs txt\n",
		"lvl1.html": "level 1\n", "lvl3.html": "level three\n", "lvl.txt": "lvl\n",
		"cs.utf8.html": "utf8\n", "cs.latin1.html": "latin1\n", "cs.koi.html": "koi\n",
		"doc.html": "plain html\n", "doc.html.gz": "gz\n", "mv.en.html": "mv en\n", "mv.fr.html": "mv fr\n",
		"a&b'c.txt": "esc\n", "secret.html": "secret\n"},
		deny: []string{"secret.html"}},
	{path: "acl", files: map[string]string{"a.en.html": "a en\n", "a.fr.html": "a fr\n", "b.en.html": "b\n", "b.fr.html": "b\n"},
		deny: []string{"a.fr.html", "b.en.html", "b.fr.html"}},
	{path: "idx", files: map[string]string{"index.html.en": "index en\n", "index.html.fr": "index fr\n"}},
	{path: "tm", conf: []string{"MultiviewsMatch Handlers"}, files: map[string]string{
		"foo.var":     "URI: foo\n\nURI: foo.en.html\nContent-Type: text/html\nContent-Language: en\n\nURI: foo.fr.html\nContent-Type: text/html\nContent-Language: fr\n",
		"foo.en.html": "foo en\n", "foo.fr.html": "foo fr\n", "foo.de.html": "not in the map\n",
		"baz.hnd": "handled\n", "baz.html": "<p>baz</p>\n",
		"bar.var": "URI: bar\nContent-Type: text/plain\nContent-Language: en\nBody:--\nbar en\n--\n\nURI: bar\nContent-Type: text/plain\nContent-Language: fr\nBody:--\nbar fr\n--\n"}},
	{path: "ex", files: map[string]string{"foo.bak.html": "bak\n", "foo.en.xyz": "xyz\n"}},
}

type tcase struct {
	method, proto string // "" means GET over HTTP/1.1
	path          string
	hdr           [][2]string
}

func (c tcase) name() string {
	var b strings.Builder
	if c.method != "" || c.proto != "" {
		fmt.Fprintf(&b, "%s %s ", c.method, c.proto)
	}
	b.WriteString(c.path)
	for _, h := range c.hdr {
		fmt.Fprintf(&b, " [%s: %s]", h[0], h[1])
	}
	return b.String()
}

const noHeader = "\x00none"

// cases generates the matrix: every path/header combination.
func cases() []tcase {
	var out []tcase
	var method, proto string
	add := func(path string, hdr ...string) {
		c := tcase{path: path, method: method, proto: proto}
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i+1] != noHeader {
				c.hdr = append(c.hdr, [2]string{hdr[i], hdr[i+1]})
			}
		}
		out = append(out, c)
	}
	langs := []string{noHeader, "", "en", "fr", "de", "it", "en-US", "en-gb", "EN", "fr;q=0.5, de;q=0.5", "*", "*;q=0.1, it",
		"de;q=0, *", "en;q=0.5, fr;q=0.5, de;q=0.5", "fr, en;q=0.9", "it, *;q=0.5", "en-gb;q=0.8, en;q=0.9", "de-AT", "fr;q=0"}
	for _, d := range []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7"} {
		for _, l := range langs {
			add("/"+d+"/page", "Accept-Language", l)
		}
	}
	accepts := []string{noHeader, "*/*", "text/*", "image/*", "*", "", "*bad", "/*", "*/", "te/*", "text/html",
		"text/plain;q=0.5, text/html;q=0.4", "text/html;level=3", "image/jpeg;q=0, */*;q=0.1", "application/json",
		"text/*, image/jpeg;q=0.9", "TEXT/PLAIN", "application/json;q=0.1, image/*;q=0.2"}
	for _, p := range []string{"/t1/x", "/maps/test.var", "/maps/test"} {
		for _, a := range accepts {
			add(p, "Accept", a)
		}
	}
	encs := []string{noHeader, "", "gzip", "x-gzip", "gzip;q=0", "identity;q=0, gzip", "*", "br", "gzip, identity;q=0.5"}
	for _, p := range []string{"/gz/doc", "/maps/enc.var"} {
		for _, e := range encs {
			add(p, "Accept-Encoding", e)
		}
	}
	for _, e := range []string{noHeader, "gzip"} {
		add("/gz/doc", "Accept-Encoding", e, "X-No-Gzip", "1", "Accept", "text/plain")
		add("/gz/doc", "Accept-Encoding", e, "X-Gzip-Html", "1", "Accept", "text/plain")
		add("/gz/doc", "Accept-Encoding", e, "X-Gzip-Html", "1", "Accept", "text/html;q=0.1, text/plain")
	}
	for _, a := range []string{noHeader, "text/plain", "text/html", "text/html;q=0.5, text/plain;q=0.4"} {
		for _, l := range []string{noHeader, "fr"} {
			add("/maps/qs.var", "Accept", a, "Accept-Language", l)
		}
	}
	for _, l := range []string{noHeader, "en", "fr", "de", "it"} {
		for _, a := range []string{noHeader, "text/plain"} {
			add("/maps/body.var", "Accept-Language", l, "Accept", a)
		}
	}
	for _, a := range []string{noHeader, "text/html", "text/html;level=1", "text/html;level=2", "text/html;level=3", "text/html;level=3, text/plain"} {
		add("/maps/level.var", "Accept", a)
	}
	for _, c := range []string{noHeader, "", "utf-8", "koi8-r", "iso-8859-1;q=0.5, *;q=0.4", "*;q=0"} {
		add("/maps/charset.var", "Accept-Charset", c)
	}
	for _, m := range []string{"colon", "nobody", "badlen", "noend", "missing", "multi", "sub", "paren"} {
		for _, a := range []string{noHeader, "image/*"} {
			add("/maps/"+m+".var", "Accept", a)
		}
	}
	for _, n := range []string{"trans", "vlist", "1.0", "*", "guess-small", "trans, vlist"} {
		add("/l5/page", "Accept-Language", "it", "Negotiate", n)
		add("/t1/x", "Accept", "application/xml", "Negotiate", n)
	}
	add("/l5/page", "Accept-Language", "it", "Negotiate", "trans", "User-Agent", "Lynx/2.8")
	add("/l1/page", "Accept-Language", "en", "Negotiate", "1.0")
	add("/l1/page", "Negotiate", "trans")
	for _, p := range []string{"fr", "it"} {
		for _, l := range []string{noHeader, "en"} {
			add("/l1/page", "X-Prefer-Lang", p, "Accept-Language", l)
		}
	}
	add("/acl/a")
	add("/acl/b")
	for _, l := range []string{noHeader, "en", "fr", "it"} {
		add("/idx/", "Accept-Language", l)
	}
	add("/ex/foo")
	add("/ex/foo.bak")
	add("/ex/foo.html")
	add("/maps/esc.var", "Accept", "x/y")
	for _, l := range []string{noHeader, "en", "fr", "de", "it"} {
		add("/tm/foo", "Accept-Language", l)
		add("/tm/bar", "Accept-Language", l)
	}
	add("/tm/baz")
	add("/tm/baz?x=1")
	add("/tm/baz", "Negotiate", "vlist")
	add("/tm/baz", "Accept", "application/xml", "Negotiate", "vlist")
	add("/maps/rec.var")
	add("/maps/deny.var")
	add("/maps/deny.var", "Accept", "text/plain")
	add("/maps/body", "Accept-Language", "fr")
	add("/maps/body", "Accept-Language", "en")
	add("/maps/qs", "Accept", "text/html", "Accept-Language", "fr")
	add("/maps/esc.var")
	add("/maps/test.var?a=b%20c")
	add("/maps/qs?x=1")
	add("/t1/x?x=1", "Accept", "application/xml")
	for _, m := range []string{"HEAD", "POST"} {
		method = m
		add("/l1/page", "Accept-Language", "fr")
		add("/l1/page", "Accept-Language", "it")
		add("/maps/qs.var")
		add("/maps/body.var", "Accept-Language", "fr")
		add("/idx/", "Accept-Language", "fr")
		add("/t1/x", "Accept", "application/xml")
	}
	method = ""
	proto = "HTTP/1.0"
	add("/l1/page", "Accept-Language", "fr")
	add("/l1/page", "Accept-Language", "it")
	add("/acl/a")
	add("/maps/qs.var")
	add("/maps/test")
	add("/maps/body.var", "Accept-Language", "fr")
	add("/idx/")
	proto = ""
	return out
}

// buildSite writes the site under root, world-readable for Apache's user.
func buildSite(t testing.TB, root string) {
	mapsDir := filepath.Join("..", "testdata", "negotiation", "maps")
	for _, d := range site {
		dir := filepath.Join(root, d.path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for n, c := range d.files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if d.maps {
			ents, err := os.ReadDir(mapsDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				data, err := os.ReadFile(filepath.Join(mapsDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// newHarness builds the in-process server over root.
func newHarness(t testing.TB, root string) *harness {
	types := readMimeTypes(t, filepath.Join("..", "testdata", "negotiation", "mime.types"))
	h := &harness{t: t, root: root, dirs: map[string]*mimeConf{}, deny: map[string]bool{}}
	base := &mimeConf{types: types, langs: map[string]string{}, encs: map[string]string{}, charsets: map[string]string{}, handlers: map[string]string{}}
	for _, l := range globalConf {
		base.apply(t, l, nil)
	}
	h.dirs[root] = base
	for _, d := range site {
		c := base.clone()
		cmd := newTestCmd("/" + d.path)
		for _, l := range d.conf {
			c.apply(t, l, cmd)
		}
		if v := cmd.Dir.Get(Module); v != nil {
			c.negConf = v.(*DirConfig)
		}
		h.dirs[filepath.Join(root, d.path)] = c
		for _, n := range d.deny {
			h.deny[filepath.Join(root, d.path, n)] = true
		}
	}
	h.neg = New(h)
	return h
}

func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Path
	if r.URL.RawQuery != "" {
		uri += "?" + r.URL.RawQuery
	}
	resp := h.serve(r.Method, r.Proto, uri, r.Header, 0, nil)
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header()["Content-Type"] = nil
	}
	w.WriteHeader(resp.status)
	io.WriteString(w, resp.body)
}

// apacheConf renders the same site for Apache.
func apacheConf(root, serverRoot string, port int) string {
	typesPath, _ := filepath.Abs(filepath.Join("..", "testdata", "negotiation", "mime.types"))
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nServerName 127.0.0.1\nListen 127.0.0.1:%d\nPidFile %s/pid\nErrorLog %s/error.log\nLogLevel info\n", serverRoot, port, serverRoot, serverRoot)
	for _, m := range []string{"mpm_event", "authz_core", "mime", "negotiation", "dir", "setenvif"} {
		fmt.Fprintf(&b, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
	}
	fmt.Fprintf(&b, "User nobody\nGroup nogroup\nTypesConfig %s\nDocumentRoot %s\n", typesPath, root)
	b.WriteString("SetEnvIf X-No-Gzip 1 no-gzip\nSetEnvIf X-Gzip-Html 1 gzip-only-text/html=1\nSetEnvIf X-Prefer-Lang \"(.+)\" prefer-language=$1\n")
	b.WriteString(strings.Join(globalConf, "\n") + "\n")
	fmt.Fprintf(&b, "<Directory %s>\nOptions +MultiViews\nRequire all granted\n</Directory>\n", root)
	for _, d := range site {
		fmt.Fprintf(&b, "<Directory %s/%s>\n", root, d.path)
		for _, l := range d.conf {
			b.WriteString(l + "\n")
		}
		for _, n := range d.deny {
			fmt.Fprintf(&b, "<Files \"%s\">\nRequire all denied\n</Files>\n", n)
		}
		b.WriteString("</Directory>\n")
	}
	return b.String()
}

var comparedHeaders = []string{"Content-Type", "Content-Language", "Content-Encoding", "Content-Location", "Vary", "TCN", "Alternates"}

// fetch runs one case against a server and renders the answer canonically.
func fetch(client *http.Client, base string, c tcase) (string, error) {
	method := c.method
	if method == "" {
		method = "GET"
	}
	if c.proto == "HTTP/1.0" {
		return fetch10(base, method, c)
	}
	req, err := http.NewRequest(method, base+c.path, nil)
	if err != nil {
		return "", err
	}
	for _, h := range c.hdr {
		req.Header[http.CanonicalHeaderKey(h[0])] = []string{h[1]}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	return render(resp.StatusCode, resp.Header, string(body)), nil
}

// fetch10 sends an HTTP/1.0 request by hand (net/http's client speaks
// only HTTP/1.1).
func fetch10(base, method string, c tcase) (string, error) {
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.0\r\nHost: %s\r\n", method, c.path, addr)
	for _, h := range c.hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return "", err
	}
	req, _ := http.NewRequest(method, base+c.path, nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	return render(resp.StatusCode, resp.Header, string(body)), nil
}

// renderLogs renders log lines with the temporary site root as $ROOT.
func renderLogs(lines []string, root string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("log: " + strings.ReplaceAll(l, root, "$ROOT") + "\n")
	}
	return b.String()
}

func render(status int, h http.Header, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %d\n", status)
	for _, k := range comparedHeaders {
		if v := h.Values(k); len(v) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(v, " | "))
		}
	}
	if h.Get("Expires") != "" {
		b.WriteString("Expires: (set)\n")
	}
	if status == 200 || status == 300 || status == 406 {
		for _, l := range strings.SplitAfter(body, "\n") {
			if l != "" {
				b.WriteString("| " + l)
			}
		}
		if body != "" && !strings.HasSuffix(body, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

var goldenPath = filepath.Join("..", "testdata", "negotiation", "golden.txt")

func parseGolden(t testing.TB) map[string]string {
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("golden file: %v (run go test ./negotiation -run TestAgainstApache -update)", err)
	}
	out := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(line, "=== ") {
			name = strings.TrimSuffix(line[4:], "\n")
			out[name] = ""
			continue
		}
		if name != "" {
			out[name] += line
		}
	}
	return out
}

func writeGolden(t testing.TB, answers map[string]string, order []tcase) {
	var b bytes.Buffer
	for _, c := range order {
		fmt.Fprintf(&b, "=== %s\n%s", c.name(), answers[c.name()])
	}
	if err := os.WriteFile(goldenPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newSiteRoot(t testing.TB) string {
	dir, err := os.MkdirTemp("", "plume-negotiation-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "htdocs")
	buildSite(t, root)
	return root
}

var testClient = &http.Client{
	Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4},
	Timeout:   10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// TestMatrixGolden runs every case through the in-process harness (over
// loopback HTTP) and compares with Apache's recorded answers.
func TestMatrixGolden(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	srv := httptest.NewServer(h)
	defer srv.Close()
	golden := parseGolden(t)
	all := cases()
	if len(all) < 200 {
		t.Fatalf("only %d cases", len(all))
	}
	for _, c := range all {
		want, ok := golden[c.name()]
		if !ok {
			t.Errorf("%s: no golden answer", c.name())
			continue
		}
		got, err := fetch(testClient, srv.URL, c)
		if err != nil {
			t.Fatalf("%s: %v", c.name(), err)
		}
		got += renderLogs(h.takeLogs(), root)
		if got != want {
			t.Errorf("%s:\n--- plume\n%s--- apache (golden)\n%s", c.name(), got, want)
		}
	}
}

var apacheMu sync.Mutex

var logLineRE = regexp.MustCompile(`^\[[^]]*\] (\[negotiation:[a-z]+\]) .*?(AH\d{5}: .*)$`)

// negotiationLogLines returns mod_negotiation's error-log lines written
// after offset (as "[negotiation:level] AHnnnnn: message") and the new
// offset.
func negotiationLogLines(t *testing.T, path string, offset int) ([]string, int) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data[offset:]), "\n") {
		if m := logLineRE.FindStringSubmatch(l); m != nil {
			out = append(out, m[1]+" "+m[2])
		}
	}
	return out, len(data)
}

// startApache serves root with Debian's apache2 on a free loopback port.
func startApache(t *testing.T, root string) string {
	if _, err := os.Stat(apacheBin); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("PLUME_REQUIRE_APACHE=1 but %s is missing", apacheBin)
		}
		t.Skipf("%s not installed", apacheBin)
	}
	apacheMu.Lock()
	t.Cleanup(apacheMu.Unlock)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	serverRoot := filepath.Dir(root)
	conf := filepath.Join(serverRoot, "httpd.conf")
	if err := os.WriteFile(conf, []byte(apacheConf(root, serverRoot, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(apacheBin, "-f", conf, "-DFOREGROUND")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(serverRoot, "error.log"))
	t.Fatalf("apache did not start: %s\n%s", stderr.String(), log)
	return ""
}

// TestAgainstApache runs the matrix against apache2 and the harness in the
// same run and compares status, negotiation headers and bodies.
func TestAgainstApache(t *testing.T) {
	root := newSiteRoot(t)
	apacheURL := startApache(t, root)
	h := newHarness(t, root)
	srv := httptest.NewServer(h)
	defer srv.Close()
	all := cases()
	answers := map[string]string{}
	errorLog := filepath.Join(filepath.Dir(root), "error.log")
	logged, logLines := 0, 0
	for _, c := range all {
		want, err := fetch(testClient, apacheURL, c)
		if err != nil {
			t.Fatalf("apache %s: %v", c.name(), err)
		}
		var wantLogs []string
		wantLogs, logged = negotiationLogLines(t, errorLog, logged)
		logLines += len(wantLogs)
		want += renderLogs(wantLogs, root)
		answers[c.name()] = want
		got, err := fetch(testClient, srv.URL, c)
		if err != nil {
			t.Fatalf("plume %s: %v", c.name(), err)
		}
		got += renderLogs(h.takeLogs(), root)
		if got != want {
			t.Errorf("%s:\n--- plume\n%s--- apache\n%s", c.name(), got, want)
		}
	}
	if logLines < 50 {
		t.Errorf("only %d mod_negotiation log lines compared: is the log format recognised?", logLines)
	}
	t.Logf("%d cases, %d error-log lines compared", len(all), logLines)
	if *update {
		writeGolden(t, answers, all)
	}
	names := make([]string, 0, len(answers))
	for k := range answers {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) != len(all) {
		t.Errorf("duplicate case names: %d unique of %d", len(names), len(all))
	}
}
