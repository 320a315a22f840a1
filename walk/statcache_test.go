package walk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestStatCacheExact: with the stat cache warm, every change to the file,
// to a directory above it or to its kind is seen by the very next walk
// (default options), whatever the Options/AllowOverride.
func TestStatCacheExact(t *testing.T) {
	confs := map[string]string{
		"fast": "<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>",
		"slow": "<Directory />\nOptions SymLinksIfOwnerMatch\nAllowOverride All\n</Directory>",
		"none": "<Directory />\nOptions None\nAllowOverride None\n</Directory>",
	}
	for cname, conf := range confs {
		t.Run(cname, func(t *testing.T) {
			root := makeTree(t, tree{"htdocs/a/b/f.html": "one", "other.html": "elsewhere!"}, nil)
			cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n"+conf)
			w := newTestWalker(t, cfg)
			a := filepath.Join(root, "htdocs/a")
			f := filepath.Join(a, "b/f.html")
			steps := []struct {
				name   string
				change func() error
			}{
				{"append", func() error {
					h, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
					if err != nil {
						return err
					}
					_, err = h.Write([]byte("two"))
					h.Close()
					return err
				}},
				{"truncate", func() error { return os.Truncate(f, 2) }},
				{"chmod", func() error { return os.Chmod(f, 0o640) }},
				{"touch", func() error { return os.Chtimes(f, time.Unix(1e9, 0), time.Unix(1e9, 0)) }},
				{"rename over", func() error {
					os.WriteFile(f+".tmp", []byte("replaced by rename"), 0o644)
					return os.Rename(f+".tmp", f)
				}},
				{"remove", func() error { return os.Remove(f) }},
				{"recreate", func() error { return os.WriteFile(f, []byte("recreated"), 0o644) }},
				{"replace parent", func() error {
					if err := os.Rename(filepath.Join(a, "b"), filepath.Join(a, "b.old")); err != nil {
						return err
					}
					os.MkdirAll(filepath.Join(a, "b"), 0o755)
					return os.WriteFile(f, []byte("in a new parent"), 0o644)
				}},
				{"replace grandparent", func() error {
					if err := os.Rename(a, a+".old"); err != nil {
						return err
					}
					os.MkdirAll(filepath.Join(a, "b"), 0o755)
					return os.WriteFile(f, []byte("in a new grandparent!"), 0o644)
				}},
				{"swap grandparent back", func() error {
					os.Rename(a, a+".new")
					return os.Rename(a+".old", a)
				}},
				{"symlink", func() error {
					os.Remove(f)
					return os.Symlink(filepath.Join(root, "other.html"), f)
				}},
				{"file again", func() error {
					os.Remove(f)
					return os.WriteFile(f, []byte("a file again"), 0o644)
				}},
			}
			for _, s := range steps {
				for i := 0; i < 3; i++ { // warm: the stat cache fills on the second walk
					w.Walk(cfg.Main, "/a/b/f.html", f).Close()
				}
				if err := s.change(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				res := w.Walk(cfg.Main, "/a/b/f.html", f)
				var lst syscall.Stat_t
				lerr := syscall.Lstat(f, &lst)
				switch {
				case lerr != nil:
					if res.Info != nil && res.PathInfo == "" && res.Status == 0 {
						t.Errorf("%s: file gone, walk found it (%v)", s.name, res.Info.Size())
					}
				case lst.Mode&syscall.S_IFMT == syscall.S_IFLNK:
					want := 0
					if cname == "none" {
						want = 403
					}
					if res.Status != want {
						t.Errorf("%s: status %d, want %d", s.name, res.Status, want)
					}
				default:
					if res.Status != 0 || res.Info == nil {
						t.Errorf("%s: status %d, info %v", s.name, res.Status, res.Info)
						break
					}
					got := res.Info.Sys().(*syscall.Stat_t)
					if got.Ino != lst.Ino || got.Size != lst.Size || got.Mtim != lst.Mtim || got.Mode != lst.Mode {
						t.Errorf("%s: walk stat ino %d size %d mtime %v mode %o, file ino %d size %d mtime %v mode %o",
							s.name, got.Ino, got.Size, got.Mtim, got.Mode, lst.Ino, lst.Size, lst.Mtim, lst.Mode)
					}
					var fst syscall.Stat_t
					if res.File == nil || syscall.Fstat(int(res.File.Fd()), &fst) != nil || fst.Ino != got.Ino {
						t.Errorf("%s: the descriptor served is not the file described", s.name)
					}
				}
				res.Close()
			}
		})
	}
}

// TestStatCacheHardLink: a file with several links is never cached, so a
// write through its other name (which only that name's directory hears
// of) is seen by the next walk. (A link made after the file was cached is
// not heard of either: the entry then lives until the next tick, about a
// second; see statCache.)
func TestStatCacheHardLink(t *testing.T) {
	root := makeTree(t, tree{"htdocs/a/f.html": "x"}, nil)
	f := filepath.Join(root, "htdocs/a/f.html")
	other := filepath.Join(root, "elsewhere.html")
	if err := os.Link(f, other); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	for n := 2; n < 10; n++ {
		for i := 0; i < 3; i++ {
			w.Walk(cfg.Main, "/a/f.html", f).Close()
		}
		h, err := os.OpenFile(other, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte("y"))
		h.Close()
		res := w.Walk(cfg.Main, "/a/f.html", f)
		if res.Info == nil || res.Info.Size() != int64(n) {
			t.Errorf("after write %d through the other link: info %v", n, res.Info)
		}
		res.Close()
	}
}

// TestStatCacheSteadyState: a warm regular file costs no fstat, and files
// with several links are never cached.
func TestStatCacheSteadyState(t *testing.T) {
	root := makeTree(t, tree{"htdocs/f.html": "x", "htdocs/g.html": "y"}, nil)
	if err := os.Link(filepath.Join(root, "htdocs/g.html"), filepath.Join(root, "g2.html")); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	for _, c := range []struct {
		name   string
		cached bool
	}{{"f.html", true}, {"g.html", false}} {
		p := filepath.Join(root, "htdocs", c.name)
		for i := 0; i < 2; i++ {
			w.Walk(cfg.Main, "/"+c.name, p).Close()
		}
		hit := false
		for i := 0; i < 3 && !hit; i++ { // one walk may cross the stat cache's tick
			res := w.Explain(cfg.Main, "/"+c.name, p)
			res.Close()
			hit = res.Trace.Syscalls <= 2
		}
		if hit != c.cached {
			t.Errorf("%s: cached %v, want %v", c.name, hit, c.cached)
		}
	}
}

// TestStatCacheConcurrentExact: while a writer replaces the file with ever
// larger versions, a walk started after version v was complete never
// reports an older one, however many walks share the inotify drain.
func TestStatCacheConcurrentExact(t *testing.T) {
	root := makeTree(t, tree{"htdocs/d/f.html": "0"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nOptions FollowSymLinks\nAllowOverride None\n</Directory>")
	w := newTestWalker(t, cfg)
	f := filepath.Join(root, "htdocs/d/f.html")
	var version atomic.Int64 // size of the last complete version
	version.Store(1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000 && !stop.Load(); i++ {
				v := version.Load()
				res := w.Walk(cfg.Main, "/d/f.html", f)
				if res.Info != nil && res.Info.Size() < v {
					select {
					case errs <- fmt.Sprintf("walk saw size %d after version %d was complete", res.Info.Size(), v):
					default:
					}
				}
				res.Close()
			}
		}()
	}
	for n := 2; n < 200; n++ { // bounded: 200 versions
		tmp := f + ".tmp"
		if err := os.WriteFile(tmp, []byte(strings.Repeat("x", n)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f); err != nil {
			t.Fatal(err)
		}
		version.Store(int64(n))
		if n%20 == 0 { // and in place, which keeps the inode
			h, _ := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
			h.Write([]byte("y"))
			h.Close()
			version.Store(int64(n + 1))
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
