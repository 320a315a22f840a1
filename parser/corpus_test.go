package parser

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is the shared corpus of real-world configurations, beside the
// checkout (never copied into the repository).
const corpusDir = "../../shared/corpus"

type corpusFile struct{ path, kind string }

func corpusFiles(t *testing.T) []corpusFile {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "SOURCES.tsv"))
	if err != nil {
		t.Skipf("no corpus: %v", err)
	}
	defer f.Close()
	var out []corpusFile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 || cols[0] == "file" {
			continue
		}
		out = append(out, corpusFile{path: filepath.Join(corpusDir, cols[0]), kind: cols[2]})
	}
	return out
}

// TestCorpusAgainstApache reads every corpus file as a main configuration
// with apache2 -t and with Load: where Apache stops while reading (a
// one-line error) we must print the same line; where Apache reads the file
// (then maybe refusing a directive, which is the walker's business) we must
// accept it, and when Apache accepts it all, its -D DUMP_CONFIG tree must be
// ours.
func TestCorpusAgainstApache(t *testing.T) {
	files := corpusFiles(t)
	bin := requireApache(t)
	same, structural, trees := 0, 0, 0
	for _, cf := range files {
		name := strings.TrimPrefix(cf.path, corpusDir+"/")
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			data, err := os.ReadFile(cf.path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "httpd.conf"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			c := &goldenCase{name: name, env: map[string]string{}}
			pre := apachePreamble(dir)
			res := runApache(t, bin, dir, c, pre)
			tree, lerr := Load("httpd.conf", Options{ServerRoot: dir, Pre: pre, CheckModuleFiles: true,
				CanonicalName: apacheCanonical(t, bin), Getenv: func(string) (string, bool) { return "", false }})
			apacheLine := apacheError(res.stderr)
			if lerr != nil {
				got := lerr.(*Error).Format("apache2")
				if got != apacheLine {
					t.Errorf("read error differs:\n plume: %q\napache: %q\nstderr: %s", got, apacheLine, res.stderr)
					return
				}
				structural++
				same++
				return
			}
			if apacheLine != "" {
				t.Errorf("plume reads the file, apache2 stops: %q", apacheLine)
				return
			}
			same++
			if res.ok {
				var b strings.Builder
				last := ""
				dumpLikeModInfo(&b, tree.Root.Children, 0, &last)
				if b.String() != res.stdout {
					t.Errorf("tree differs from apache2 -D DUMP_CONFIG:\n--- plume\n%s--- apache2\n%s", b.String(), res.stdout)
					return
				}
				trees++
			}
		})
	}
	t.Logf("%d corpus files: %d same verdict (%d read errors), %d trees identical to Apache's", len(files), same, structural, trees)
}
