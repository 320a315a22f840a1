package server

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	confd "plume/conf.d"
	"plume/config"
	"plume/directives"
	"plume/parser"
)

// TestDefaultConfiguration serves the embedded conf.d demo site and checks
// each feature its start page advertises.
func TestDefaultConfiguration(t *testing.T) {
	conf, cleanup, err := confd.Unpack()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Listen 127\.0\.0\.1:8080$`).Match(b) {
		t.Errorf("the default configuration must listen on 127.0.0.1:8080")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The demo logs to the terminal; keep test output quiet.
	text := strings.NewReplacer("ErrorLog /dev/stderr", "ErrorLog "+filepath.Dir(conf)+"/error.log",
		"CustomLog /dev/stdout", "CustomLog "+filepath.Dir(conf)+"/access.log").Replace(string(b))
	os.WriteFile(conf, []byte(text), 0o644)
	srv, err := New(Options{
		Load: func() (*config.Config, error) {
			return config.Load(conf, parser.Options{Builtin: func(n string) bool { _, ok := directives.Implemented(n); return ok }})
		},
		Hooks:      StandardHooks(),
		Listeners:  []net.Listener{ln},
		NoPrivDrop: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Listen()
	srv.Start()
	defer srv.Shutdown(t.Context())
	base := "http://" + ln.Addr().String()
	for _, c := range []struct {
		target, hdr string
		status      int
		contains    string
	}{
		{"/", "", 200, "Plume is running"},
		{"/files", "", 301, "/files/"},
		{"/files/", "", 200, "notes.txt"},
		{"/files/?C=S;O=D", "", 200, "README.txt"},
		{"/docs/", "Accept-Language: fr", 200, "en français"},
		{"/docs/", "Accept-Language: en", 200, "English page"},
		{"/private/secret.txt", "", 403, "Forbidden"},
		{"/no-such-page", "", 404, "ErrorDocument 404"},
		{"/old-page", "", 301, "/docs/"},
		{"/retired", "", 410, "Gone"},
		{"/files/notes.txt", "Range: bytes=0-4", 206, "Plume"},
	} {
		var hdrs []string
		if c.hdr != "" {
			hdrs = append(hdrs, c.hdr)
		}
		r := do(t, base, "GET", c.target, hdrs...)
		if r.status != c.status || !strings.Contains(r.body+r.header.Get("Location"), c.contains) {
			t.Errorf("GET %s (%s): %d %q, want %d containing %q", c.target, c.hdr, r.status, r.body, c.status, c.contains)
		}
	}
	if r := do(t, base, "GET", "/files/"); strings.Contains(r.body, "notes.txt.bak") {
		t.Errorf("IndexIgnore *.bak did not hide notes.txt.bak")
	}
}
