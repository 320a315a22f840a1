package walk

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// permChildEnv makes the test binary act as TestPermissionsAsNobody's
// child: it walks the requests and prints the results as JSON.
const permChildEnv = "PLUME_WALK_PERM_CHILD"

type permResult struct {
	URI    string
	Status int
	Log    []string
	Notes  map[string]string
}

// TestPermissionsAsNobody checks the permission answers of the walk
// (AH00035 for a missing search permission, AH00529 for an unreadable
// .htaccess, as verified on apache2) by re-running this test binary as
// nobody; root would bypass the permission checks.
func TestPermissionsAsNobody(t *testing.T) {
	if os.Getenv(permChildEnv) != "" {
		permChild(t)
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to nobody")
	}
	root := makeTree(t, tree{"htdocs/locked/f.html": "x", "htdocs/ht/f.html": "x", "htdocs/ht/.htaccess": "Options None", "htdocs/ok/f.html": "x"}, nil)
	os.Chmod(filepath.Join(root, "htdocs/locked"), 0o700)
	os.Chmod(filepath.Join(root, "htdocs/ht/.htaccess"), 0o600)
	bin := filepath.Join(root, "walk.test")
	copyFile(t, os.Args[0], bin)
	cmd := exec.Command(bin, "-test.run", "^TestPermissionsAsNobody$")
	cmd.Env = append(os.Environ(), permChildEnv+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyUID, Gid: nobodyUID}}
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("child timed out")
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var results []permResult
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "PERM ") {
			var r permResult
			if err := json.Unmarshal([]byte(line[5:]), &r); err != nil {
				t.Fatal(err)
			}
			results = append(results, r)
		}
	}
	want := map[string]struct {
		status int
		log    string
	}{
		"/locked/f.html": {403, "[core:error] (13)Permission denied: AH00035: access to /locked/f.html denied (filesystem path '" + root + "/htdocs/locked/f.html') because search permissions are missing on a component of the path"},
		"/ht/f.html":     {403, "[core:crit] (13)Permission denied: AH00529: " + root + "/htdocs/ht/.htaccess pcfg_openfile: unable to check htaccess file, ensure it is readable and that '" + root + "/htdocs/ht/' is executable"},
		"/ok/f.html":     {0, ""},
	}
	if len(results) != len(want) {
		t.Fatalf("child results %+v\n%s", results, out)
	}
	for _, r := range results {
		w := want[r.URI]
		got := strings.Join(r.Log, "\n")
		if r.Status != w.status || got != w.log {
			t.Errorf("%s: status %d log %q, want %d %q", r.URI, r.Status, got, w.status, w.log)
		}
		if r.URI == "/ht/f.html" && r.Notes["error-notes"] != "Server unable to read htaccess file, denying access to be safe" {
			t.Errorf("error-notes %q", r.Notes["error-notes"])
		}
	}
}

func permChild(t *testing.T) {
	root := os.Getenv(permChildEnv)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\n</Directory>\n<Directory @ROOT@/htdocs/ht>\nAllowOverride All\n</Directory>")
	w := newTestWalker(t, cfg)
	for _, uri := range []string{"/locked/f.html", "/ht/f.html", "/ok/f.html"} {
		res := w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri)
		res.Close()
		r := permResult{URI: uri, Status: res.Status, Notes: res.Notes}
		for _, l := range res.Log {
			r.Log = append(r.Log, l.String())
		}
		b, _ := json.Marshal(r)
		os.Stdout.WriteString("PERM " + string(b) + "\n")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
