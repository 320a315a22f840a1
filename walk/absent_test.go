package walk

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// sameWalk compares what a request sees of two walk results.
func sameWalk(a, b *Result) string {
	switch {
	case a.Status != b.Status:
		return fmt.Sprintf("status %d, want %d", a.Status, b.Status)
	case a.Filename != b.Filename || a.PathInfo != b.PathInfo:
		return fmt.Sprintf("filename %q path_info %q, want %q %q", a.Filename, a.PathInfo, b.Filename, b.PathInfo)
	case (a.Info == nil) != (b.Info == nil):
		return fmt.Sprintf("info %v, want %v", a.Info, b.Info)
	case a.Info != nil && (a.Info.Size() != b.Info.Size() || a.Info.IsDir() != b.Info.IsDir()):
		return fmt.Sprintf("info size %d dir %v, want %d %v", a.Info.Size(), a.Info.IsDir(), b.Info.Size(), b.Info.IsDir())
	case !reflect.DeepEqual(a.Log, b.Log):
		return fmt.Sprintf("log %v, want %v", a.Log, b.Log)
	}
	return ""
}

// TestAbsentExact: with the negative entry of a missing name warm, every
// change that makes the name (or a component of the path) exist, or the
// path name something else, is seen by the very next walk, whose result
// is the one a walker without caches computes.
func TestAbsentExact(t *testing.T) {
	confs := map[string]string{
		"fast": "<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>",
		"slow": "<Directory />\nOptions SymLinksIfOwnerMatch\nAllowOverride All\n</Directory>",
	}
	for cname, conf := range confs {
		t.Run(cname, func(t *testing.T) {
			root := makeTree(t, tree{"htdocs/a/b/f.html": "one", "other.html": "elsewhere!", "otherdir/x": "x"}, nil)
			cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n"+conf)
			w := newTestWalker(t, cfg)
			b := filepath.Join(root, "htdocs/a/b")
			m := filepath.Join(b, "doc")
			uris := []string{"/a/b/doc", "/a/b/doc/x/y", "/a/b/doc/"}
			steps := []struct {
				name   string
				change func() error
			}{
				{"none", func() error { return nil }},
				{"create file", func() error { return os.WriteFile(m, []byte("now"), 0o644) }},
				{"remove file", func() error { return os.Remove(m) }},
				{"rename in", func() error {
					os.WriteFile(filepath.Join(root, "tmp.html"), []byte("renamed in"), 0o644)
					return os.Rename(filepath.Join(root, "tmp.html"), m)
				}},
				{"rename out", func() error { return os.Rename(m, filepath.Join(root, "tmp.html")) }},
				{"hard link", func() error { return os.Link(filepath.Join(root, "other.html"), m) }},
				{"unlink", func() error { return os.Remove(m) }},
				{"mkdir", func() error { return os.Mkdir(m, 0o755) }},
				{"file in dir", func() error { return os.WriteFile(filepath.Join(m, "x"), []byte("x"), 0o644) }},
				{"rmdir", func() error { os.Remove(filepath.Join(m, "x")); return os.Remove(m) }},
				{"symlink", func() error { return os.Symlink(filepath.Join(root, "other.html"), m) }},
				{"remove symlink", func() error { return os.Remove(m) }},
				{"symlink to dir", func() error { return os.Symlink(filepath.Join(root, "otherdir"), m) }},
				{"remove symlink to dir", func() error { return os.Remove(m) }},
				{"replace parent", func() error {
					if err := os.Rename(b, b+".old"); err != nil {
						return err
					}
					if err := os.Mkdir(b, 0o755); err != nil {
						return err
					}
					return os.WriteFile(m, []byte("in a new parent"), 0o644)
				}},
				{"parent back", func() error {
					os.Rename(b, b+".new")
					return os.Rename(b+".old", b)
				}},
				{"parent a symlink", func() error {
					os.Rename(b, b+".old")
					os.MkdirAll(filepath.Join(root, "elsewhere"), 0o755)
					os.WriteFile(filepath.Join(root, "elsewhere/doc"), []byte("through a link"), 0o644)
					return os.Symlink(filepath.Join(root, "elsewhere"), b)
				}},
				{"parent a directory again", func() error {
					os.Remove(b)
					return os.Rename(b+".old", b)
				}},
				{"parent removed", func() error {
					os.Rename(b, b+".old")
					return nil
				}},
				{"parent back again", func() error { return os.Rename(b+".old", b) }},
			}
			for _, s := range steps {
				for _, uri := range uris {
					for i := 0; i < 3; i++ { // warm: the entry fills on the second miss
						w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri).Close()
					}
				}
				if err := s.change(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				fresh := newTestWalker(t, cfg)
				for _, uri := range uris {
					got := w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri)
					want := fresh.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri)
					if d := sameWalk(got, want); d != "" {
						t.Errorf("%s: %s: %s", s.name, uri, d)
					}
					got.Close()
					want.Close()
				}
				fresh.Close()
			}
		})
	}
}

// TestAbsentSteadyState: a warm walk of a missing name costs the drain
// only, and nothing at all for a walk that continues a client request
// (WalkSynced); the result is the one of a walker without caches.
func TestAbsentSteadyState(t *testing.T) {
	root := makeTree(t, tree{"htdocs/mv/doc.html.en": "en"}, nil)
	for _, conf := range []string{
		"<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>",
		"<Directory />\nOptions SymLinksIfOwnerMatch\nAllowOverride All\n</Directory>",
	} {
		cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n"+conf)
		w := newTestWalker(t, cfg)
		fresh := newTestWalker(t, cfg)
		for _, uri := range []string{"/mv/doc", "/mv/doc/extra/", "/mv/nodir/doc"} {
			name := cfg.Main.DocumentRoot + uri
			for i := 0; i < 3; i++ {
				w.Walk(cfg.Main, uri, name).Close()
			}
			for _, synced := range []bool{false, true} {
				budget := 1
				if synced {
					budget = 0
				}
				var res *Result
				for i := 0; i < 3; i++ { // one walk may cross the cache's tick
					res = w.walk(cfg.Main, uri, name, &Trace{}, synced)
					res.Close()
					if res.Trace.Syscalls <= budget {
						break
					}
				}
				if res.Trace.Syscalls > budget {
					t.Errorf("%s (synced %v): %d syscalls, budget %d", uri, synced, res.Trace.Syscalls, budget)
				}
				want := fresh.Walk(cfg.Main, uri, name)
				want.Close()
				if d := sameWalk(res, want); d != "" {
					t.Errorf("%s: %s", uri, d)
				}
			}
		}
	}
}

// TestAbsentBounded: clients asking for ever new missing names cannot
// grow the negative entries beyond their bounds.
func TestAbsentBounded(t *testing.T) {
	root := makeTree(t, tree{"htdocs/a/f.html": "x", "htdocs/b/f.html": "x"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	check := func() {
		w.stats.mu.RLock()
		defer w.stats.mu.RUnlock()
		n := 0
		for dir, d := range w.stats.dirs {
			if len(d.absent) > maxAbsentPerDir {
				t.Fatalf("%s: %d negative entries (max %d)", dir, len(d.absent), maxAbsentPerDir)
			}
			n += len(d.absent)
		}
		if n != w.stats.absentCount || n > maxAbsentEntries {
			t.Fatalf("%d negative entries, counted %d (max %d)", n, w.stats.absentCount, maxAbsentEntries)
		}
	}
	for _, d := range []string{"a", "b"} {
		for i := 0; i < 3*maxAbsentPerDir; i++ {
			uri := fmt.Sprintf("/%s/missing-%d", d, i)
			for j := 0; j < 2; j++ {
				w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri).Close()
			}
			if i%97 == 0 {
				check()
			}
		}
	}
	check()
}

// TestAbsentConcurrentExact: while a writer creates and removes the name,
// a walk that started and ended with no change in between sees the state
// the writer last completed, however many walks share the drain and
// whether or not the negative entry was stored by another walk.
func TestAbsentConcurrentExact(t *testing.T) {
	root := makeTree(t, tree{"htdocs/d/other.html": "x"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	f := filepath.Join(root, "htdocs/d/doc")
	// seq is even while the file is absent, odd while it exists; it moves
	// before and after each change.
	var seq, walks atomic.Int64
	var stop atomic.Bool
	// settle lets the readers walk a settled state (and store or use a
	// negative entry) before the next change.
	var readers sync.WaitGroup
	readersDone := make(chan struct{})
	settle := func() {
		for start := walks.Load(); walks.Load() < start+30; {
			select {
			case <-readersDone:
				return
			default:
				runtime.Gosched()
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		readers.Add(1)
		go func() {
			defer wg.Done()
			defer readers.Done()
			for i := 0; i < 20000 && !stop.Load(); i++ {
				before := seq.Load()
				res := w.Walk(cfg.Main, "/d/doc", f)
				walks.Add(1)
				after := seq.Load()
				found := res.Info != nil && res.PathInfo == ""
				res.Close()
				if before == after && before%4 != 1 && before%4 != 3 {
					want := before%4 == 2 // settled: 0 absent, 2 present
					if found != want {
						select {
						case errs <- fmt.Sprintf("seq %d: found %v, want %v", before, found, want):
						default:
						}
					}
				}
			}
		}()
	}
	go func() { readers.Wait(); close(readersDone) }()
	settle()
	for n := 0; n < 200; n++ { // bounded: 200 changes each way
		seq.Add(1)
		if err := os.WriteFile(f, []byte("now"), 0o644); err != nil {
			t.Fatal(err)
		}
		seq.Add(1)
		settle()
		seq.Add(1)
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
		seq.Add(1)
		settle()
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
