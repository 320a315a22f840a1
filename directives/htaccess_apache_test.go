package directives

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"plume/parser"
)

// TestHtaccessAgainstApache serves .htaccess files with apache2 and checks
// that the walker gives Apache's verdicts and texts: the fatal errors
// (logged at alert as "<file>: <message>") and the Nonfatal=Override /
// Nonfatal=Unknown warnings AH02295 and AH02296.
func TestHtaccessAgainstApache(t *testing.T) {
	const apache = "/usr/sbin/apache2"
	if _, err := os.Stat(apache); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("PLUME_REQUIRE_APACHE=1 but %s is missing", apache)
		}
		t.Skip("no apache2")
	}
	cases := []struct {
		dir, allow string
		override   int
		htaccess   string
	}{
		{"fatal-override", "FileInfo", OrFileInfo, "Options None\n"},
		{"fatal-unknown", "All", OrAll, "Bogus x\n"},
		{"fatal-arity", "All", OrAll, "ErrorDocument 404\n"},
		{"fatal-read-time", "All", OrAll, "Define X\n"},
		{"nonfatal-override", "FileInfo Nonfatal=Override", OrFileInfo | NonfatalOverride, "Options None\nErrorDocument 404 /x\n"},
		{"nonfatal-unknown", "All Nonfatal=Unknown", OrAll | NonfatalUnknown, "BogusDirective x\nErrorDocument 404 /x\n"},
		{"nonfatal-all", "Indexes Nonfatal=All", OrIndexes | NonfatalAll, "Options None\nBogus\n"},
	}
	root := t.TempDir()
	// apache2 runs its child as www-data: the tree must be readable.
	for p := root; p != "/" && p != "."; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil && p == root {
			t.Fatal(err)
		}
	}
	docs := filepath.Join(root, "htdocs")
	var conf strings.Builder
	port := freePort(t)
	fmt.Fprintf(&conf, "ServerRoot %s\nListen 127.0.0.1:%d\nServerName localhost\nErrorLog %s/error.log\nLogLevel warn\nPidFile %s/pid\n"+
		"LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"+
		"LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"+
		"User www-data\nGroup www-data\nDocumentRoot %s\n<Directory %s>\nRequire all granted\n</Directory>\n",
		root, port, root, root, docs, docs)
	for _, c := range cases {
		d := filepath.Join(docs, c.dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, ".htaccess"), []byte(c.htaccess), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "index.html"), []byte("ok\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "<Directory %s>\nAllowOverride %s\n</Directory>\n", d, c.allow)
	}
	confPath := filepath.Join(root, "httpd.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, apache, "-X", "-f", confPath)
	if out, err := exec.Command(apache, "-t", "-f", confPath).CombinedOutput(); err != nil {
		t.Fatalf("apache2 -t: %v\n%s", err, out)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	client := &http.Client{Timeout: 5 * time.Second}
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	up := false
	for i := 0; i < 100 && !up; i++ {
		if resp, err := client.Get(base); err == nil {
			resp.Body.Close()
			up = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !up {
		t.Fatal("apache2 did not start")
	}
	// Request each directory in turn and keep the log lines each request
	// added: the Nonfatal warnings do not name their file.
	line := regexp.MustCompile(`\] \[core:(alert|warn)\] \[pid [^]]*\] (?:\[client [^]]*\] )?(.*)`)
	logPath := filepath.Join(root, "error.log")
	seen := 0
	status := map[string]int{}
	logged := map[string][]string{}
	for _, c := range cases {
		resp, err := client.Get(base + c.dir + "/index.html")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		status[c.dir] = resp.StatusCode
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data[seen:]), "\n") {
			if m := line.FindStringSubmatch(l); m != nil && (strings.Contains(m[2], ".htaccess: ") || strings.HasPrefix(m[2], "AH0229")) {
				logged[c.dir] = append(logged[c.dir], m[2])
			}
		}
		seen = len(data)
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			path := filepath.Join(docs, c.dir, ".htaccess")
			cfg := &Config{Loaded: map[string]bool{}}
			var ours []string
			nodes, err := parser.ParseHtaccess(path, []byte(c.htaccess), nil, parser.Options{})
			if err == nil {
				state := &Cmd{Override: c.override, Htaccess: true, Limited: LimitAll, Path: filepath.Dir(path) + "/",
					Server: &Server{Config: NewVector()}, Dir: NewVector(), Global: cfg}
				err = Walk(nodes, state)
			}
			wantStatus := http.StatusOK
			if err != nil {
				var pe *parser.Error
				if !asParserError(err, &pe) {
					t.Fatalf("not a *parser.Error: %v", err)
				}
				ours = append(ours, pe.HtaccessFormat())
				wantStatus = http.StatusInternalServerError
			}
			for _, w := range cfg.Warnings {
				if w.Code != "" { // Plume's own "not supported" notes aside
					ours = append(ours, w.Code+": "+w.Msg)
				}
			}
			theirs := logged[c.dir]
			if status[c.dir] != wantStatus {
				t.Errorf("apache2 answered %d, the walker's verdict means %d", status[c.dir], wantStatus)
			}
			if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
				t.Errorf("walker:\n%s\napache2 logged:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
			}
		})
	}
}

func asParserError(err error, pe **parser.Error) bool {
	e, ok := err.(*parser.Error)
	if ok {
		*pe = e
	}
	return ok
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
