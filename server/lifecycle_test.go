package server

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"plume/config"
	"plume/parser"
)

// TestReload swaps in a changed configuration and keeps the running one
// when the new one is broken.
func TestReload(t *testing.T) {
	s := startSite(t, "Redirect /r http://one.example/\n", map[string]string{"htdocs/x": "x"}, false)
	if r := do(t, s.plume, "GET", "/r"); r.header.Get("Location") != "http://one.example/" {
		t.Fatalf("before reload: %d %q", r.status, r.header.Get("Location"))
	}
	conf := filepath.Join(s.dir, "plume.conf")
	b, _ := os.ReadFile(conf)
	os.WriteFile(conf, []byte(strings.Replace(string(b), "one.example", "two.example", 1)), 0o644)
	if err := s.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := do(t, s.plume, "GET", "/r"); r.header.Get("Location") != "http://two.example/" {
		t.Fatalf("after reload: %d %q", r.status, r.header.Get("Location"))
	}
	os.WriteFile(conf, append(b, []byte("\nBogusDirective x\n")...), 0o644)
	err := s.srv.Reload()
	if err == nil || !strings.Contains(err.Error(), "Invalid command 'BogusDirective'") {
		t.Fatalf("broken reload: %v", err)
	}
	if r := do(t, s.plume, "GET", "/r"); r.header.Get("Location") != "http://two.example/" {
		t.Fatalf("after failed reload: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestKeepAlive checks MaxKeepAliveRequests as Apache counts it: the
// limit is the number of keep-alive answers, so the connection carries one
// more request, answered with Connection: close (apache2 with
// MaxKeepAliveRequests 2 closes after the third answer).
func TestKeepAlive(t *testing.T) {
	s := startSite(t, "MaxKeepAliveRequests 3\n", map[string]string{"htdocs/x": "x"}, false)
	c, err := net.Dial("tcp", strings.TrimPrefix(s.plume, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 1; i <= 4; i++ {
		c.Write([]byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"))
		var closeHdr bool
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if strings.EqualFold(strings.TrimSpace(line), "Connection: close") {
				closeHdr = true
			}
			if line == "\r\n" {
				break
			}
		}
		br.Discard(1)
		if closeHdr != (i == 4) {
			t.Errorf("request %d: Connection: close = %v", i, closeHdr)
		}
	}
}

// TestServeProcess runs the plume binary as root: it must bind, write the
// PidFile, switch to User/Group (so a root-only file is 403, as with
// Apache's children), reload on SIGHUP and stop on SIGTERM.
func TestServeProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to test the switch to User/Group")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir, err := os.MkdirTemp("", "plume-serve-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// After the switch to nobody the process can only re-read its
	// configuration and remove its PidFile where nobody may.
	os.Chmod(dir, 0o755)
	os.Chown(dir, 65534, 65534)
	bin := filepath.Join(dir, "plume")
	build := exec.Command("go", "build", "-o", bin, "plume")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	port := freePort(t)
	os.MkdirAll(filepath.Join(dir, "htdocs"), 0o755)
	os.WriteFile(filepath.Join(dir, "htdocs", "open.txt"), []byte("open"), 0o644)
	os.WriteFile(filepath.Join(dir, "htdocs", "secret.txt"), []byte("secret"), 0o600)
	conf := filepath.Join(dir, "httpd.conf")
	body := "ServerRoot " + dir + "\nListen 127.0.0.1:" + strconv.Itoa(port) + "\nServerName localhost\nUser nobody\nGroup nogroup\n" +
		"PidFile " + dir + "/plume.pid\nErrorLog " + dir + "/error.log\nDocumentRoot " + dir + "/htdocs\nRedirect /r http://one.example/\n"
	os.WriteFile(conf, []byte(body), 0o644)
	cmd := exec.Command(bin, "serve", "-f", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("plume did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid, _ := os.ReadFile(filepath.Join(dir, "plume.pid"))
	if strings.TrimSpace(string(pid)) != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("PidFile holds %q, want %d", pid, cmd.Process.Pid)
	}
	if r := do(t, base, "GET", "/open.txt"); r.status != 200 {
		t.Errorf("open.txt: %d", r.status)
	}
	if r := do(t, base, "GET", "/secret.txt"); r.status != 403 {
		t.Errorf("root-only secret.txt: %d, want 403 after dropping privileges", r.status)
	}
	if runtime.GOOS == "linux" {
		st, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
		if !strings.Contains(string(st), "Uid:\t65534") {
			t.Errorf("process did not switch to nobody:\n%s", st)
		}
	}
	os.WriteFile(conf, []byte(strings.Replace(body, "one.example", "two.example", 1)), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	ok := false
	for i := 0; i < 100 && !ok; i++ {
		time.Sleep(20 * time.Millisecond)
		ok = do(t, base, "GET", "/r").header.Get("Location") == "http://two.example/"
	}
	if !ok {
		t.Error("SIGHUP did not reload the configuration")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		done <- nil
	case <-time.After(15 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
	if _, err := os.Stat(filepath.Join(dir, "plume.pid")); !os.IsNotExist(err) {
		t.Errorf("PidFile not removed: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	for _, want := range []string{"AH00489", "AH00494: SIGHUP received.  Attempting to restart", "AH00491: caught SIGTERM, shutting down"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("error log lacks %q:\n%s", want, log)
		}
	}
}

// TestListenSeveral binds every Listen address (IPv6 loopback too when the
// machine has it) and serves the same site on each.
func TestListenSeveral(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "htdocs"), 0o755)
	os.WriteFile(filepath.Join(dir, "htdocs", "x.txt"), []byte("x"), 0o644)
	p1, p2 := freePort(t), freePort(t)
	addrs := []string{"127.0.0.1:" + strconv.Itoa(p1), "127.0.0.1:" + strconv.Itoa(p2)}
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		addrs = append(addrs, l.Addr().String())
		l.Close()
	}
	conf := "ServerRoot " + dir + "\nServerName localhost\nErrorLog " + dir + "/error.log\nDocumentRoot " + dir + "/htdocs\n" +
		"Listen 127.0.0.1:" + strconv.Itoa(freePort(t)) + " https\n"
	for _, a := range addrs {
		conf += "Listen " + a + "\n"
	}
	os.WriteFile(filepath.Join(dir, "httpd.conf"), []byte(conf), 0o644)
	srv, err := New(Options{
		Load: func() (*config.Config, error) {
			return config.Load(filepath.Join(dir, "httpd.conf"), parser.Options{})
		},
		Hooks:      StandardHooks(),
		NoPrivDrop: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	srv.opts.Stderr = devnull
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Shutdown(t.Context())
	if got := len(srv.Addrs()); got != len(addrs) {
		t.Fatalf("bound %d listeners, want %d", got, len(addrs))
	}
	for _, a := range addrs {
		if r := do(t, "http://"+a, "GET", "/x.txt"); r.status != 200 || r.body != "x" {
			t.Errorf("%s: %d %q", a, r.status, r.body)
		}
	}
	// A second server on the same addresses fails to start, as Apache does.
	dup, err := New(Options{Load: func() (*config.Config, error) {
		return config.Load(filepath.Join(dir, "httpd.conf"), parser.Options{})
	}, NoPrivDrop: true})
	if err != nil {
		t.Fatal(err)
	}
	dup.opts.Stderr = devnull
	if err := dup.Listen(); err == nil || !strings.Contains(err.Error(), "could not bind to address") {
		t.Errorf("second bind: %v", err)
	}
}
