package walk

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// callLog records WatchDir callbacks.
type callLog struct {
	mu    sync.Mutex
	calls map[string]int
}

func (l *callLog) fn(dir string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string]int{}
	}
	l.calls[dir]++
}

func (l *callLog) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

// TestWatchDir: every kind of entry change in a watched directory calls
// the callbacks before the next Walk returns (default options), losing the
// watch calls them too, and a lost registration is gone.
func TestWatchDir(t *testing.T) {
	root := makeTree(t, tree{"htdocs/d/f.html": "x", "htdocs/d/sub/g.html": "y", "htdocs/e/": ""}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\nOptions FollowSymLinks\n</Directory>")
	w := newTestWalker(t, cfg)
	dir := filepath.Join(root, "htdocs/d")
	sub := filepath.Join(dir, "sub")
	walk := func() { w.Walk(cfg.Main, "/e/", filepath.Join(root, "htdocs/e/")).Close() }

	var a, b callLog
	fa, fb := a.fn, b.fn // stored once: registering them again is a no-op
	for _, d := range []string{dir, dir + "/"} {
		if !w.WatchDir(d, fa) {
			t.Fatalf("WatchDir(%s) = false", d)
		}
	}
	if !w.WatchDir(dir, fa) || !w.WatchDir(dir, fb) || !w.WatchDir(sub, fa) {
		t.Fatal("WatchDir = false")
	}
	walk()
	a.take()
	b.take()

	steps := []struct {
		name   string
		change func() error
		a, b   map[string]int
	}{
		{"create", func() error { return os.WriteFile(filepath.Join(dir, "new.html"), []byte("n"), 0o644) }, nil, nil},
		{"modify", func() error {
			f, err := os.OpenFile(filepath.Join(dir, "f.html"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			f.Write([]byte("more"))
			return f.Close()
		}, nil, nil},
		{"chmod", func() error { return os.Chmod(filepath.Join(dir, "f.html"), 0o600) }, nil, nil},
		{"rename", func() error { return os.Rename(filepath.Join(dir, "new.html"), filepath.Join(dir, "new.html.en")) }, nil, nil},
		{"delete", func() error { return os.Remove(filepath.Join(dir, "new.html.en")) }, nil, nil},
		{"symlink", func() error { return os.Symlink("f.html", filepath.Join(dir, "l.html")) }, nil, nil},
		{"subdir entry", func() error { return os.WriteFile(filepath.Join(sub, "h.html"), []byte("h"), 0o644) }, map[string]int{sub: 1}, map[string]int{}},
		// Renaming the directory that holds sub: sub's watch is lost, d's
		// entry changed.
		{"rename sub", func() error { return os.Rename(sub, filepath.Join(dir, "sub2")) }, map[string]int{sub: 1, dir: 1}, map[string]int{dir: 1}},
		{"after loss", func() error { return os.WriteFile(filepath.Join(dir, "sub2/i.html"), []byte("i"), 0o644) }, map[string]int{}, map[string]int{}},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		walk()
		wantA, wantB := s.a, s.b
		if wantA == nil {
			wantA, wantB = map[string]int{dir: 1}, map[string]int{dir: 1}
		}
		// One change may produce several events (IN_MODIFY and
		// IN_CLOSE_WRITE): at least one call each is what matters.
		for _, c := range []struct {
			who       string
			got, want map[string]int
		}{{"a", a.take(), wantA}, {"b", b.take(), wantB}} {
			for d := range c.want {
				if c.got[d] == 0 {
					t.Errorf("%s: callback %s not called for %s (calls %v)", s.name, c.who, d, c.got)
				}
			}
			for d := range c.got {
				if _, ok := c.want[d]; !ok {
					t.Errorf("%s: callback %s called for %s (calls %v)", s.name, c.who, d, c.got)
				}
			}
		}
	}
	// A removed directory cannot be watched again.
	if err := os.RemoveAll(filepath.Join(dir, "sub2")); err != nil {
		t.Fatal(err)
	}
	if w.WatchDir(sub, fa) {
		t.Error("WatchDir of a missing directory = true")
	}
	walk()
	a.take()
	b.take()
	// Closing the walker loses every watch.
	w.Close()
	if got := a.take(); got[dir] != 1 {
		t.Errorf("close: callback a calls %v, want one for %s", got, dir)
	}
	if got := b.take(); got[dir] != 1 {
		t.Errorf("close: callback b calls %v, want one for %s", got, dir)
	}
}

// TestWatchDirUnavailable: no watch when watches are disabled.
func TestWatchDirUnavailable(t *testing.T) {
	root := makeTree(t, tree{"htdocs/d/f.html": "x"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs")
	w := NewWithOptions(cfg, Options{MaxWatches: -1})
	defer w.Close()
	for _, d := range []string{filepath.Join(root, "htdocs/d"), "", "relative/dir"} {
		if w.WatchDir(d, func(string) {}) {
			t.Errorf("WatchDir(%q) = true with MaxWatches -1", d)
		}
	}
	w2 := newTestWalker(t, cfg)
	if w2.WatchDir("relative/dir", func(string) {}) {
		t.Error("WatchDir of a relative path = true")
	}
}

// TestWatchDirReentrant: a callback may register again (a cache refilling
// at once) without deadlocking.
func TestWatchDirReentrant(t *testing.T) {
	root := makeTree(t, tree{"htdocs/d/f.html": "x"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs")
	w := newTestWalker(t, cfg)
	dir := filepath.Join(root, "htdocs/d")
	var mu sync.Mutex
	n := 0
	var fn func(string)
	fn = func(d string) {
		mu.Lock() // the cache's own lock, also held around WatchDir below
		defer mu.Unlock()
		n++
		w.WatchDir(d, fn)
	}
	mu.Lock()
	ok := w.WatchDir(dir, fn)
	mu.Unlock()
	if !ok {
		t.Fatal("WatchDir = false")
	}
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	w.Walk(cfg.Main, "/d/f.html", filepath.Join(dir, "f.html")).Close()
	mu.Lock()
	defer mu.Unlock()
	if n == 0 {
		t.Error("callback not called")
	}
}

// TestWatchDirNoAlloc: registering a stored func again, and a drain with
// no events, allocate nothing.
func TestWatchDirNoAlloc(t *testing.T) {
	root := makeTree(t, tree{"htdocs/d/f.html": "x"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs")
	w := newTestWalker(t, cfg)
	dir := filepath.Join(root, "htdocs/d")
	var l callLog
	fn := l.fn
	if !w.WatchDir(dir, fn) {
		t.Fatal("WatchDir = false")
	}
	if n := testing.AllocsPerRun(100, func() { w.WatchDir(dir, fn) }); n != 0 {
		t.Errorf("WatchDir again: %v allocs", n)
	}
	var calls int
	if n := testing.AllocsPerRun(100, func() { w.watch.drain(&calls) }); n != 0 {
		t.Errorf("drain: %v allocs", n)
	}
}

// TestHtaccessAncestorReplaced: a watch follows an inode, the cache is
// keyed by path. When a directory above the one holding an .htaccess is
// renamed away and another put in its place, the next walk reads the new
// .htaccess, although no event reached the old one's watch.
func TestHtaccessAncestorReplaced(t *testing.T) {
	root := makeTree(t, tree{"htdocs/a/b/.htaccess": "Header set X-V one", "htdocs/a/b/f.html": "x"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\n</Directory>\n<Directory @ROOT@/htdocs/a/b>\nAllowOverride FileInfo\n</Directory>")
	w := newTestWalker(t, cfg)
	a := filepath.Join(root, "htdocs/a")
	for i, v := range []string{"two", "three", "four"} {
		for _, uri := range []string{"/a/b/", "/a/b/f.html"} {
			o, _ := plumeOutcome(t, w, cfg.Main, uri)
			o, _ = plumeOutcome(t, w, cfg.Main, uri) // cached
			_ = o
		}
		old := fmt.Sprintf("%s.old%d", a, i)
		if err := os.Rename(a, old); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(a, "b"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(a, "b/.htaccess"), []byte("Header set X-V "+v), 0o644)
		os.WriteFile(filepath.Join(a, "b/f.html"), []byte("x"), 0o644)
		for _, uri := range []string{"/a/b/", "/a/b/f.html"} {
			if o, _ := plumeOutcome(t, w, cfg.Main, uri); o.headers.Get("X-V") != v {
				t.Errorf("round %d %s: X-V %q, want %q", i, uri, o.headers.Get("X-V"), v)
			}
		}
	}
}
