package walk

import (
	"strings"
	"testing"
)

// FuzzWalk: any filename and URI give a result, never a panic or a hang,
// and a forbidden symlink is never opened. Run on demand:
// go test -fuzz FuzzWalk ./walk
func FuzzWalk(f *testing.F) {
	for _, s := range []string{"/a/f.html", "/a/../../secret", "/a//b/./c/", "/link/x", "/a/f.html/", "/\x00", "", "/a/.htaccess", "/fifo"} {
		f.Add(s, s)
	}
	root := makeTree(f, tree{"htdocs/a/f.html": "x", "htdocs/a/.htaccess": "Header set X-A a",
		"htdocs/link": "->../secret", "secret/x": "s", "htdocs/b/.htaccess": "Bogus"}, nil)
	cfg := loadConfig(f, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nOptions None\nAllowOverride FileInfo\n</Directory>")
	w := newTestWalker(f, cfg)
	f.Fuzz(func(t *testing.T, uri, rel string) {
		res := w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+rel)
		defer res.Close()
		if res.File != nil && res.Status != 0 {
			t.Fatalf("descriptor returned with status %d", res.Status)
		}
		// Paths through htdocs/link (Options None) must never be opened;
		// "../secret/x" reached lexically is another matter.
		if res.File != nil && strings.Contains(res.Filename, "/htdocs/link") {
			t.Fatalf("%q: opened %s through a forbidden symlink", rel, res.Filename)
		}
	})
}
