package access

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"plume/config/testutil/apachetest"
	"plume/directives"
	"plume/request"
)

// The differential harness: the same cases are served by Debian's apache2
// (a private instance on a loopback port, the cases as directories with
// <Directory> sections and .htaccess files) and checked by Plume's Check,
// and the status, challenge header and error-log lines must agree.

// needApache reports whether apache2 can run; under
// PLUME_REQUIRE_APACHE=1 its absence fails the test.
func needApache(t testing.TB) bool {
	t.Helper()
	if !apachetest.Available() {
		apachetest.Require(t) // fails when required
		t.Logf("apache2 not installed: comparing with golden answers only")
		return false
	}
	return true
}

// apacheDirectoryTest writes a configuration with apacheModules loaded
// and lines inside <Directory dir> to dir/name and runs apache2 -t on it.
func apacheDirectoryTest(dir, name, lines string) ([]byte, error) {
	conf := filepath.Join(dir, name)
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nErrorLog %s/error.log\nPidFile %s/pid\nServerName localhost\n", dir, dir, dir)
	for _, m := range apacheModules {
		fmt.Fprintf(&b, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
	}
	fmt.Fprintf(&b, "<Directory %s>\n%s\n</Directory>\n", dir, lines)
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return exec.Command(apachetest.Binary, "-t", "-f", conf).CombinedOutput()
}

var apacheModules = []string{"mpm_event", "authz_core", "authz_host", "access_compat", "authn_core",
	"authn_file", "auth_basic", "authz_user", "authz_groupfile"}

// accessCase is one directory: its <Directory> text, its .htaccess text
// and the requests made to its index.html.
type accessCase struct {
	name     string
	dirConf  string
	htaccess string
	requests []accessRequest
}

type accessRequest struct {
	client string // source address, 127.x.y.z
	method string
	auth   string // Authorization header value
	env    map[string]string
}

// accessResult is what both servers must agree on.
type accessResult struct {
	status    int
	challenge string
	logs      []string // "module:level AHnnnnn: message"
}

func (a accessResult) String() string {
	return fmt.Sprintf("%d challenge=%q logs=%q", a.status, a.challenge, a.logs)
}

// testTree is a throw-away document tree readable by Apache's worker user.
type testTree struct {
	root    string
	docroot string
}

func newTestTree(t testing.TB, cases []accessCase) *testTree {
	t.Helper()
	root, err := os.MkdirTemp("", "plume-access-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	tr := &testTree{root: root, docroot: filepath.Join(root, "htdocs")}
	for _, c := range cases {
		dir := filepath.Join(tr.docroot, c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("ok\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if c.htaccess != "" {
			if err := os.WriteFile(filepath.Join(dir, ".htaccess"), []byte(tr.expand(c.htaccess)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil {
			os.Chmod(p, info.Mode().Perm()|0o444|map[bool]os.FileMode{true: 0o111}[info.IsDir()])
		}
		return nil
	})
	return tr
}

// expand replaces @ROOT@ in case text with the tree's root.
func (tr *testTree) expand(s string) string { return strings.ReplaceAll(s, "@ROOT@", tr.root) }

type apacheServer struct {
	port   int
	errLog string
	offset int64
}

// startApache serves the tree with each case's <Directory> section.
func startApache(t testing.TB, tr *testTree, cases []accessCase) *apacheServer {
	t.Helper()
	port := apachetest.FreePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nDefaultRuntimeDir %s\nPidFile %s/apache.pid\nErrorLog %s/error.log\nLogLevel warn\n", tr.root, tr.root, tr.root, tr.root)
	for _, m := range apacheModules {
		fmt.Fprintf(&b, "LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", m, m)
	}
	fmt.Fprintf(&b, "User www-data\nGroup www-data\nListen 127.0.0.1:%d\nServerName localhost\n", port)
	if haveIPv6Loopback() {
		fmt.Fprintf(&b, "Listen [::1]:%d\n", port)
	}
	b.WriteString("StartServers 1\nServerLimit 1\nThreadsPerChild 16\nMinSpareThreads 1\nMaxSpareThreads 16\nMaxRequestWorkers 16\nMutex file:" + tr.root + " default\n")
	fmt.Fprintf(&b, "DocumentRoot %s\n<Directory %s>\nAllowOverride All\nOptions None\n</Directory>\n", tr.docroot, tr.docroot)
	for _, c := range cases {
		if c.dirConf != "" {
			fmt.Fprintf(&b, "<Directory %s/%s>\n%s\n</Directory>\n", tr.docroot, c.name, tr.expand(c.dirConf))
		}
	}
	srv := apachetest.Start(t, tr.root, port, b.String())
	a := &apacheServer{port: port, errLog: srv.ErrorLog}
	// Skip the start-up lines.
	srv.WaitLogged("AH00094")
	a.newLogLines()
	return a
}

var logLineRE = regexp.MustCompile(`^\[[^\]]*\] \[(\w+):(\w+)\] \[pid [^\]]*\] (?:\(\d+\)[^:]*: )?(?:\[client [^\]]*\] )?(AH\d{5}): (.*)$`)

// newLogLines returns the error-log lines written since the last call,
// in the comparison form.
func (a *apacheServer) newLogLines() []string {
	f, err := os.Open(a.errLog)
	if err != nil {
		return nil
	}
	defer f.Close()
	f.Seek(a.offset, io.SeekStart)
	data, _ := io.ReadAll(f)
	a.offset += int64(len(data))
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		if m := logLineRE.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, fmt.Sprintf("%s:%s %s: %s", m[1], m[2], m[3], m[4]))
		}
	}
	return out
}

func (a *apacheServer) do(t testing.TB, c accessCase, req accessRequest) accessResult {
	t.Helper()
	src := net.ParseIP(req.client)
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	method := req.method
	if method == "" {
		method = "GET"
	}
	host := "127.0.0.1"
	if src.To4() == nil {
		host = "[::1]"
	}
	hr, _ := http.NewRequestWithContext(context.Background(), method, fmt.Sprintf("http://%s:%d/%s/index.html", host, a.port, c.name), nil)
	if req.auth != "" {
		hr.Header.Set("Authorization", req.auth)
	}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("apache request %s %s: %v", c.name, req.client, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return accessResult{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), logs: a.newLogLines()}
}

// plumeCheck runs Check for the case as the server would.
func plumeCheck(t testing.TB, tr *testTree, srv *directives.Server, c accessCase, req accessRequest) accessResult {
	t.Helper()
	var layers []layer
	if c.dirConf != "" {
		layers = append(layers, layer{text: tr.expand(c.dirConf)})
	}
	if c.htaccess != "" {
		layers = append(layers, layer{text: tr.expand(c.htaccess), htaccess: true})
	}
	vec := mergedVector(t, srv, layers...)
	method := req.method
	if method == "" {
		method = "GET"
	}
	var res accessResult
	r := &request.Request{
		Method: method, URI: "/" + c.name + "/index.html", Proto: "HTTP/1.1",
		Header:     http.Header{},
		RemoteAddr: netip.MustParseAddr(req.client),
		LocalAddr:  localFor(req.client),
		Server:     srv, PerDir: vec,
		Filename: filepath.Join(tr.docroot, c.name, "index.html"),
		Env:      map[string]string{}, Notes: map[string]string{},
		Out: http.Header{}, ErrOut: http.Header{},
		Log: func(module, level, code, msg string) {
			if code == "" || level == "debug" || level == "info" {
				return // Plume's own notes, or below Apache's LogLevel warn
			}
			res.logs = append(res.logs, fmt.Sprintf("%s:%s %s: %s", module, level, code, msg))
		},
	}
	for k, v := range req.env {
		r.Env[k] = v
	}
	if req.auth != "" {
		r.Header.Set("Authorization", req.auth)
	}
	res.status = Check(r)
	if res.status == 0 {
		res.status = 200
	}
	res.challenge = r.ErrOut.Get("WWW-Authenticate")
	return res
}

// haveIPv6Loopback reports whether ::1 can be listened on here.
func haveIPv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func localFor(client string) netip.AddrPort {
	if netip.MustParseAddr(client).Is6() {
		return netip.MustParseAddrPort("[::1]:80")
	}
	return netip.MustParseAddrPort("127.0.0.1:80")
}
