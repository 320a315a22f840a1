package parser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type htaccessCase struct {
	name    string
	data    string
	wantErr string // HtaccessFormat with the file path as $F; "" = parses
}

func htaccessCases() []htaccessCase {
	x := func(n int) string { return strings.Repeat("x", n) }
	return []htaccessCase{
		{"line-8191", "#" + x(8190) + "\n", ""},
		{"line-8192", "#" + x(8191) + "\n", "$F: Error reading $F at line 1: Line too long"},
		{"line-8192-noeol", "#" + x(8191), ""},
		{"line-8193-noeol", "#" + x(8192), "$F: Error reading $F at line 1: Line too long"},
		{"line-8192-crlf", "#" + x(8190) + "\r\n", "$F: Error reading $F at line 1: Line too long"},
		{"line-8191-crlf", "#" + x(8189) + "\r\n", ""},
		{"continued-8191", "#" + x(8090) + "\\\n" + strings.Repeat("y", 100) + "\n", ""},
		{"continued-8192", "#" + x(8091) + "\\\n" + strings.Repeat("y", 100) + "\n", "$F: Error reading $F at line 2: Line too long"},
		{"continued-crlf-8192", "#" + x(8091) + "\\\r\n" + strings.Repeat("y", 100) + "\n", "$F: Error reading $F at line 2: Line too long"},
		{"long-third-line", "Options None\n\n#" + x(8191) + "\n", "$F: Error reading $F at line 3: Line too long"},
		{"leading-space-counts", "   #" + x(8188) + "\n", "$F: Error reading $F at line 1: Line too long"},
		{"long-line-in-true-cond", "<IfModule mod_so.c>\n#" + x(8191) + "\n</IfModule>\n", "$F: Error reading $F at line 2: Line too long"},
		{"long-line-in-false-cond", "<IfModule nope_module>\n#" + x(8191) + "\n</IfModule>\n", "$F: Error reading $F at line 2: Line too long"},
		{"without-matching", "</Directory>\n", "$F: </Directory> without matching <Directory> section"},
		{"not-closed", "Options None\n<Files x>\n", "$F: $F:2: <Files> was not closed."},
		{"soak-eof", "<IfModule nope_module>\nOptions None\n", "$F: Expected </IfModule> before end of configuration"},
		{"cond-ok", "<IfModule mod_so.c>\nOptions None\n</IfModule>\n<IfModule nope_module>\nBogus\n</IfModule>\n", ""},
	}
}

func TestParseHtaccessLimits(t *testing.T) {
	for _, c := range htaccessCases() {
		t.Run(c.name, func(t *testing.T) {
			path := "/srv/www/.htaccess"
			_, err := ParseHtaccess(path, []byte(c.data), nil, Options{})
			got := ""
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not *Error", err)
				}
				got = strings.ReplaceAll(pe.HtaccessFormat(), path, "$F")
			}
			if got != c.wantErr {
				t.Errorf("got %q, want %q", got, c.wantErr)
			}
		})
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestHtaccessAgainstApache serves each case's .htaccess with apache2 and
// compares the alert Apache logs with ours (and a 200 with no error).
func TestHtaccessAgainstApache(t *testing.T) {
	bin := requireApache(t)
	root, err := os.MkdirTemp("", "plume-htaccess-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	www := filepath.Join(root, "www")
	cases := htaccessCases()
	for _, c := range cases {
		d := filepath.Join(www, c.name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "index.html"), []byte("ok\n"), 0o644)
		os.WriteFile(filepath.Join(d, ".htaccess"), []byte(c.data), 0o644)
	}
	for _, d := range []string{root, www} {
		os.Chmod(d, 0o755)
	}
	port := freePort(t)
	logPath := filepath.Join(root, "error.log")
	conf := fmt.Sprintf(`LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
ServerName localhost
Listen 127.0.0.1:%d
ErrorLog %s
PidFile %s/apache.pid
User www-data
Group www-data
DocumentRoot %s
<Directory %s>
AllowOverride All
Require all granted
</Directory>
`, port, logPath, root, www, www)
	confPath := filepath.Join(root, "httpd.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-d", root, "-f", confPath, "-DFOREGROUND")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	up := false
	for i := 0; i < 100 && !up; i++ {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
			c.Close()
			up = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !up {
		t.Fatalf("apache2 did not start: %s", out)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Truncate(logPath, 0)
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/%s/index.html", port, c.name))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			path := filepath.Join(www, c.name, ".htaccess")
			var logged string
			for i := 0; i < 20; i++ { // the log line may land just after the response
				b, _ := os.ReadFile(logPath)
				for _, l := range strings.Split(string(b), "\n") {
					if strings.Contains(l, "[core:alert]") {
						if i := strings.Index(l, "] "+path); i >= 0 {
							logged = strings.ReplaceAll(l[i+2:], path, "$F")
						}
					}
				}
				if logged != "" || resp.StatusCode == 200 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			_, perr := ParseHtaccess(path, []byte(c.data), nil, Options{})
			ours := ""
			if perr != nil {
				ours = strings.ReplaceAll(perr.(*Error).HtaccessFormat(), path, "$F")
			}
			if c.wantErr == "" {
				if resp.StatusCode != 200 || ours != "" {
					t.Errorf("apache2 status %d log %q; plume error %q", resp.StatusCode, logged, ours)
				}
				return
			}
			if resp.StatusCode != 500 || logged != ours {
				t.Errorf("apache2 status %d logged %q\n plume: %q", resp.StatusCode, logged, ours)
			}
		})
	}
}
