package parser

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	apacheNamesOnce sync.Once
	apacheNames     map[string]string
)

// apacheCanonical maps lower-cased directive names to Apache's spelling,
// from apache2 -L with the comparison preamble loaded, standing in for
// Plume's directive registry.
func apacheCanonical(t *testing.T, bin string) func(string) string {
	t.Helper()
	apacheNamesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plume-names-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		conf := filepath.Join(dir, "httpd.conf")
		os.WriteFile(conf, []byte("ServerName localhost\n"), 0o644)
		out, err := exec.Command(bin, append([]string{"-d", dir, "-f", conf, "-L"}, preambleArgs(dir)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("apache2 -L: %v\n%s", err, out)
		}
		apacheNames = map[string]string{}
		for _, l := range strings.Split(string(out), "\n") {
			if name, _, ok := strings.Cut(l, " ("); ok && l != "" && l[0] != '\t' && !strings.Contains(name, " ") {
				apacheNames[strings.ToLower(name)] = name
			}
		}
	})
	if len(apacheNames) < 50 {
		t.Fatalf("apache2 -L listed only %d directives", len(apacheNames))
	}
	return func(n string) string { return apacheNames[strings.ToLower(n)] }
}

// requireApache returns the path of Debian's apache2, skipping the test
// when it is absent unless PLUME_REQUIRE_APACHE=1, which makes absence a
// failure.
func requireApache(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("/usr/sbin/apache2")
	if err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("apache2 required (PLUME_REQUIRE_APACHE=1) but not usable: %v", err)
		}
		t.Skipf("apache2 not available: %v", err)
	}
	return p
}

// apachePreamble are the -C directives every comparison run gets: an MPM so
// that apache2 starts, mod_info for -D DUMP_CONFIG, and log files inside
// the case directory. Plume reads the same lines as Options.Pre.
func apachePreamble(dir string) []string {
	return []string{
		"LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so",
		"LoadModule info_module /usr/lib/apache2/modules/mod_info.so",
		"ErrorLog " + filepath.Join(dir, "error.log"),
		"PidFile " + filepath.Join(dir, "apache.pid"),
	}
}

type apacheResult struct {
	stdout, stderr string
	ok             bool
}

func runApache(t *testing.T, bin, dir string, c *goldenCase, pre []string) apacheResult {
	t.Helper()
	return runApacheConf(t, bin, dir, filepath.Join(dir, "httpd.conf"), c, pre)
}

func runApacheConf(t *testing.T, bin, dir, conf string, c *goldenCase, pre []string) apacheResult {
	t.Helper()
	args := []string{"-d", dir, "-f", conf, "-t", "-D", "DUMP_CONFIG"}
	for _, p := range pre {
		args = append(args, "-C", p)
	}
	for _, p := range c.post {
		args = append(args, "-c", p)
	}
	for _, d := range c.defines {
		args = append(args, "-D", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ROOT=" + dir}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("apache2 timed out")
	}
	return apacheResult{stdout: out.String(), stderr: errb.String(), ok: err == nil}
}

// dumpLikeModInfo renders nodes as `apache2 -t -D DUMP_CONFIG` (mod_info)
// prints the configuration tree.
func dumpLikeModInfo(b *strings.Builder, nodes []*Node, depth int, lastFile *string) {
	indent := strings.Repeat("  ", depth)
	inFile := func(f string) {
		if f != *lastFile {
			fmt.Fprintf(b, "# In file: %s\n", f)
			*lastFile = f
		}
	}
	for _, n := range nodes {
		inFile(n.Pos.File)
		fmt.Fprintf(b, "%s#%4d:\n", indent, n.Pos.Line)
		name := n.Name
		if n.Section {
			name = "<" + name
		}
		fmt.Fprintf(b, "%s%s %s\n", indent, name, n.Args)
		if n.Section && len(n.Children) > 0 {
			dumpLikeModInfo(b, n.Children, depth+1, lastFile)
			inFile(n.Pos.File)
			fmt.Fprintf(b, "%s</%s>\n", indent, n.Name)
		}
	}
}

// apacheError picks Apache's one-line error from its stderr.
func apacheError(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "apache2: ") && !strings.Contains(l, "AH00558") {
			return l
		}
	}
	return ""
}

// TestAgainstApache runs every golden case through apache2 -t: error cases
// must fail with exactly our message; the others must pass, and the tree
// mod_info dumps must be ours.
func TestAgainstApache(t *testing.T) {
	bin := requireApache(t)
	compared := 0
	for _, c := range loadGoldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.materialize(t, dir)
			if c.noApache != "" {
				t.Skipf("not compared with apache2: %s", c.noApache)
			}
			if c.htaccess != "" {
				t.Skip(".htaccess cases are compared by TestHtaccessAgainstApache")
			}
			pre := apachePreamble(dir)
			res := runApache(t, bin, dir, c, append(append([]string(nil), pre...), c.pre...))
			opts := c.options(dir, pre)
			opts.CanonicalName = apacheCanonical(t, bin)
			tree, err := Load("httpd.conf", opts)
			compared++
			if err != nil {
				want := apacheError(res.stderr)
				got := err.(*Error).Format("apache2")
				if res.ok || got != want {
					t.Errorf("apache2 verdict differs:\n apache2 ok=%v: %q\n   plume: %q\nstderr:\n%s", res.ok, want, got, res.stderr)
				}
				return
			}
			if !res.ok {
				t.Fatalf("plume accepts, apache2 refuses:\n%s", res.stderr)
			}
			var b strings.Builder
			last := ""
			dumpLikeModInfo(&b, tree.Root.Children, 0, &last)
			if got := b.String(); got != res.stdout {
				t.Errorf("tree differs from apache2 -D DUMP_CONFIG:\n--- plume\n%s--- apache2\n%s", got, res.stdout)
			}
			// Warnings Apache prints while reading must be ours too.
			var wantWarn, gotWarn []string
			for _, l := range strings.Split(res.stderr, "\n") {
				if i := strings.Index(l, "] AH"); i >= 0 && !strings.Contains(l, "AH00558") {
					wantWarn = append(wantWarn, l[i+2:])
				}
			}
			for _, w := range tree.Warnings {
				gotWarn = append(gotWarn, w.Code+": "+w.Msg)
			}
			sort.Strings(wantWarn)
			sort.Strings(gotWarn)
			if strings.Join(wantWarn, "\n") != strings.Join(gotWarn, "\n") {
				t.Errorf("warnings differ:\n plume: %q\napache: %q", gotWarn, wantWarn)
			}
		})
	}
}

// TestDebianAgainstApache reads Debian's stock /etc/apache2 tree as
// apache2ctl would (envvars in the environment) and compares the tree with
// apache2 -D DUMP_CONFIG.
func TestDebianAgainstApache(t *testing.T) {
	if _, err := os.Stat("/etc/apache2/apache2.conf"); err != nil {
		t.Skip("no /etc/apache2")
	}
	bin := requireApache(t)
	env, err := LoadEnvvars("/etc/apache2/envvars")
	if err != nil {
		t.Fatal(err)
	}
	// apache2ctl creates the run, lock and log directories; this test
	// points them at a temporary directory instead.
	tmp := t.TempDir()
	for _, k := range []string{"APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"} {
		env[k] = filepath.Join(tmp, strings.ToLower(k))
		os.MkdirAll(env[k], 0o755)
	}
	env["APACHE_PID_FILE"] = filepath.Join(tmp, "apache2.pid")
	pre := []string{"LoadModule info_module /usr/lib/apache2/modules/mod_info.so"}
	c := &goldenCase{name: "debian", env: env}
	res := runApacheConf(t, bin, "/etc/apache2", "/etc/apache2/apache2.conf", c, pre)
	if !res.ok {
		t.Fatalf("apache2 refuses the stock configuration:\n%s", res.stderr)
	}
	tree, err := Load("apache2.conf", Options{ServerRoot: "/etc/apache2", Pre: pre, CanonicalName: apacheCanonical(t, bin),
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	last := ""
	dumpLikeModInfo(&b, tree.Root.Children, 0, &last)
	if b.String() != res.stdout {
		t.Errorf("tree differs from apache2 -D DUMP_CONFIG:\n--- plume\n%s--- apache2\n%s", b.String(), res.stdout)
	}
}
