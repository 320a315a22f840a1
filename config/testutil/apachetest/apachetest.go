// Package apachetest runs Debian's apache2 as the oracle for tests of
// packages config and walk: a config verdict (apache2 -t) and a served temp
// tree on a loopback port. When PLUME_REQUIRE_APACHE=1 a missing apache2
// fails the test instead of skipping it.
package apachetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Binary is the oracle.
const Binary = "/usr/sbin/apache2"

// ModulesDir holds the loadable modules.
const ModulesDir = "/usr/lib/apache2/modules"

// Require skips (or, with PLUME_REQUIRE_APACHE=1, fails) when apache2 is
// missing.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("apache2 required (PLUME_REQUIRE_APACHE=1) but missing: %v", err)
		}
		t.Skipf("apache2 not installed: %v", err)
	}
}

// Available reports whether the oracle can run.
func Available() bool {
	_, err := os.Stat(Binary)
	return err == nil
}

// Header returns the boilerplate a test config needs, loading the named
// modules (identifiers without "_module", e.g. "headers").
func Header(dir string, port int, modules ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nErrorLog %s/error.log\nPidFile %s/httpd.pid\nServerName localhost\n", dir, dir, dir)
	b.WriteString("LoadModule mpm_event_module " + ModulesDir + "/mod_mpm_event.so\n")
	b.WriteString("LoadModule authz_core_module " + ModulesDir + "/mod_authz_core.so\n")
	for _, m := range modules {
		fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, ModulesDir, m)
	}
	if port > 0 {
		fmt.Fprintf(&b, "Listen 127.0.0.1:%d\nUser nobody\nGroup nogroup\nMutex file:%s default\n", port, dir)
	}
	return b.String()
}

var syntaxErrRE = regexp.MustCompile(`(?m)^AH00526: Syntax error on line (\d+) of [^\n]*:\n(.*)$`)

// Verdict is apache2 -t's answer: OK, or the error line and message.
type Verdict struct {
	OK   bool
	Line int
	Msg  string
	Out  string
}

// ConfigTest writes header+body to dir/test.conf and runs apache2 -t.
// Line is relative to body (1 = its first line).
func ConfigTest(t testing.TB, dir, header, body string) Verdict {
	t.Helper()
	conf := filepath.Join(dir, "test.conf")
	if err := os.WriteFile(conf, []byte(header+body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, Binary, "-t", "-f", conf).CombinedOutput()
	v := Verdict{Out: string(out)}
	if m := syntaxErrRE.FindStringSubmatch(v.Out); m != nil {
		n, _ := strconv.Atoi(m[1])
		v.Line = n - strings.Count(header, "\n")
		v.Msg = m[2]
		return v
	}
	v.OK = strings.Contains(v.Out, "Syntax OK")
	if !v.OK {
		v.Msg = strings.TrimSpace(v.Out)
	}
	return v
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a running apache2.
type Server struct {
	Dir  string
	Port int
	// ErrorLog is dir/error.log, where Header's configuration logs.
	ErrorLog string
	cmd      *exec.Cmd
}

// Start writes dir/serve.conf and runs apache2 -DFOREGROUND until the test
// ends, its output in dir/apache.out. An apache2 that exits before it
// listens fails the test with that output and the error log. The tree must
// be readable by the configured User.
func Start(t testing.TB, dir string, port int, conf string) *Server {
	t.Helper()
	path := filepath.Join(dir, "serve.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "apache.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(Binary, "-f", path, "-DFOREGROUND")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &Server{Dir: dir, Port: port, ErrorLog: filepath.Join(dir, "error.log"), cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			msg, _ := os.ReadFile(outPath)
			elog, _ := os.ReadFile(s.ErrorLog)
			t.Fatalf("apache2 exited before listening on port %d: %s\n%s", port, msg, elog)
		case <-time.After(50 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(s.ErrorLog)
	t.Fatalf("apache2 did not start on port %d: %s", port, log)
	return nil
}

// WaitLogged waits (up to 10 s) until the error log contains s, e.g.
// "AH00094": the last start-up line may be written after the port already
// accepts connections, and a test reading the log must not see it late.
func (s *Server) WaitLogged(substr string) {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if data, _ := os.ReadFile(s.ErrorLog); strings.Contains(string(data), substr) {
			return
		}
	}
}

var client = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Get fetches a path and returns status and headers.
func (s *Server) Get(t testing.TB, path string) (int, http.Header) {
	t.Helper()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", s.Port, path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}
