package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"plume/directives"
)

// The golden configtest cases live in testdata/configtest/*.txtar at the
// repository root. Each archive has:
//
//	a comment with option lines:
//	  load: rewrite alias      modules to LoadModule (name → NAME_module, mod_NAME.so)
//	  args: -D X               extra flags for both plume and apache2
//	  plume-args: --strict     extra flags for plume only
//	  apache: skip             do not compare with apache2 (Plume-only behaviour)
//	  needs: access_compat_module   skip the case until Plume implements the
//	                           module (its handler produces the message)
//	-- test.conf --            the configuration (plus any other files it includes);
//	                           $WORK stands for the temporary directory
//	-- want --                 "exit N" then plume's normalised output
//
// Every case is run through plume configtest and, unless skipped, through
// apache2 -t with the same files and the same module-loading preamble; the
// verdict and every Apache line must be equal (Plume's own lines - its
// warnings, hints and the carry-over summary - are removed first).

const goldenDir = "../testdata/configtest"

type archive struct {
	comment string
	files   map[string]string
	order   []string
}

func parseTxtar(data string) archive {
	a := archive{files: map[string]string{}}
	cur := ""
	var buf strings.Builder
	flush := func() {
		if cur == "" {
			a.comment = buf.String()
		} else {
			a.files[cur] = buf.String()
			a.order = append(a.order, cur)
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		t := strings.TrimRight(line, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			cur = strings.TrimSpace(t[3 : len(t)-3])
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return a
}

func formatTxtar(a archive) string {
	var b strings.Builder
	b.WriteString(a.comment)
	for _, name := range a.order {
		fmt.Fprintf(&b, "-- %s --\n", name)
		b.WriteString(a.files[name])
	}
	return b.String()
}

func (a archive) option(key string) []string {
	var out []string
	for _, line := range strings.Split(a.comment, "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			out = append(out, strings.Fields(v)...)
		}
	}
	return out
}

func apachePath(t *testing.T) string {
	const p = "/usr/sbin/apache2"
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("PLUME_REQUIRE_APACHE=1 but %s is missing", p)
		}
		return ""
	}
	return p
}

func loadLine(name string) string {
	return fmt.Sprintf("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n", name, name)
}

// writeCase materialises the archive's files in dir and returns the
// arguments both servers get.
func writeCase(t *testing.T, a archive, dir string) []string {
	t.Helper()
	// Apache's default error log is logs/error_log under the ServerRoot;
	// its directory must exist even for -t. (No ErrorLog directive, so the
	// preamble only has what every case needs.)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	pre := "ServerName localhost\n" + loadLine("mpm_event") + loadLine("authz_core")
	for _, m := range a.option("load") {
		pre += loadLine(m)
	}
	if err := os.WriteFile(filepath.Join(dir, "preamble.conf"), []byte(pre), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range a.files {
		if name == "want" {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(data, "$WORK", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-d", dir, "-f", dir + "/test.conf", "-C", "Include " + dir + "/preamble.conf"}
	for _, a := range a.option("args") {
		args = append(args, strings.ReplaceAll(a, "$WORK", dir))
	}
	return args
}

var (
	logPrefix = regexp.MustCompile(`(?m)^\[[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\] \[([a-z_0-9]+):(\w+)\] \[pid \d+(:tid \d+)?\] `)
	argv0Line = regexp.MustCompile(`(?m)^(apache2|plume|httpd): `)
	summary   = regexp.MustCompile(`^\d+ directives? of \d+ modules? will not carry over: `)
)

func normalise(out, dir string) string {
	out = strings.ReplaceAll(out, dir, "$WORK")
	out = logPrefix.ReplaceAllString(out, "[$$TIME] [$1:$2] [pid $$PID] ")
	out = argv0Line.ReplaceAllString(out, "$$ARGV0: ")
	return out
}

// apacheLines drops what only Plume prints.
func apacheLines(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "[plume:") || strings.HasPrefix(line, "(hint: ") || summary.MatchString(line) {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func TestMain(m *testing.M) {
	argv0Name = "plume"
	os.Exit(m.Run())
}

// runPlume runs the CLI in-process on a fresh root.
func runPlume(args []string) (string, int) {
	var out bytes.Buffer
	root := NewRoot()
	root.SetOut(&out)
	root.SetErr(&out)
	code := run(root, args, &out)
	return out.String(), code
}

func runApache(t *testing.T, apache string, args []string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, apache, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "LANG=C"}
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("apache2: %v", err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func TestConfigtestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d golden cases", len(files))
	}
	apache := apachePath(t)
	update := os.Getenv("PLUME_UPDATE_GOLDEN") == "1"
	for _, file := range files {
		file := file
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := parseTxtar(string(data))
			for _, m := range a.option("needs") {
				if _, ok := directives.Implemented(m); !ok {
					t.Skipf("Plume does not implement %s yet", m)
				}
			}
			dir := t.TempDir()
			args := writeCase(t, a, dir)
			plumeArgs := append([]string{"configtest"}, args...)
			plumeArgs = append(plumeArgs, a.option("plume-args")...)
			out, code := runPlume(plumeArgs)
			got := fmt.Sprintf("exit %d\n%s", code, normalise(out, dir))
			if update {
				if _, ok := a.files["want"]; !ok {
					a.order = append(a.order, "want")
				}
				a.files["want"] = got
				if err := os.WriteFile(file, []byte(formatTxtar(a)), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want := a.files["want"]; got != want {
				t.Errorf("plume output:\n%s\nwant:\n%s", got, want)
			}
			if apache == "" || len(a.option("apache")) > 0 && a.option("apache")[0] == "skip" {
				return
			}
			aout, acode := runApache(t, apache, append([]string{"-t"}, args...))
			apacheGot := fmt.Sprintf("exit %d\n%s", acode, normalise(aout, dir))
			if ours := apacheLines(got); ours != apacheGot {
				t.Errorf("plume and apache2 disagree\nplume (Apache lines):\n%s\napache2:\n%s", ours, apacheGot)
			}
		})
	}
}
