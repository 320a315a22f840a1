package access

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plume/directives"
)

// TestCorpusAccessLines takes the access-control lines (this package's
// directives and <Require*> blocks) of every real-world config and
// .htaccess file in ../shared/corpus, puts each file's lines in one
// <Directory>, and checks Plume accepts or rejects them as apache2 -t
// does, with the same message.
func TestCorpusAccessLines(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	mine := map[string]bool{}
	for _, m := range []*directives.Module{compatModule, authzCoreModule, authnCoreModule, authBasicModule, authnFileModule, groupFileModule} {
		mine[m.Name] = true
	}
	type extracted struct {
		file  string
		lines string
	}
	var all []extracted
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Size() > 1<<20 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var out []string
		depth := 0 // inside a <Require*> block
		for _, raw := range strings.Split(string(data), "\n") {
			l := strings.TrimSpace(raw)
			if l == "" || l[0] == '#' || strings.HasSuffix(l, "\\") || strings.Contains(l, "@@") || strings.Contains(l, "${") {
				continue
			}
			name := strings.Fields(l)[0]
			low := strings.ToLower(strings.TrimRight(name, ">"))
			switch {
			case strings.HasPrefix(low, "<require"):
				depth++
				out = append(out, l)
			case strings.HasPrefix(low, "</require"):
				if depth > 0 {
					depth--
					out = append(out, l)
				}
			default:
				if s, ok := directives.Registered(name); ok && mine[s.Module] && !strings.HasPrefix(name, "<") {
					out = append(out, l)
				}
			}
		}
		if depth == 0 && len(out) > 0 {
			all = append(all, extracted{path, strings.Join(out, "\n")})
		}
		return nil
	})
	if len(all) < 20 {
		t.Fatalf("only %d corpus files with access lines; corpus layout changed?", len(all))
	}
	srv := newTestServer(t, "")
	haveApache := needApache(t)
	dir := t.TempDir()
	for i, e := range all {
		_, _, perr := walkLayer(srv, layer{text: e.lines})
		if !haveApache {
			continue
		}
		out, aerr := apacheDirectoryTest(dir, fmt.Sprintf("c%d.conf", i), e.lines)
		switch {
		case (perr == nil) != (aerr == nil):
			t.Errorf("%s: plume error %v, apache2 -t: %s\nlines:\n%s", e.file, perr, out, e.lines)
		case perr != nil:
			msg := perr.Error()
			if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
				msg = msg[i+1:]
			}
			if !strings.Contains(string(out), msg) {
				t.Errorf("%s: plume says %q, apache2 -t: %s", e.file, msg, out)
			}
		}
	}
	t.Logf("%d corpus files checked", len(all))
}
