package walk

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSymlinkOutsideDocumentRoot: a link from the document tree to a file
// outside it, under each Options combination of the directory holding it.
func TestSymlinkOutsideDocumentRoot(t *testing.T) {
	cases := []struct {
		options   string
		targetUID int
		want      int
	}{
		{"None", 0, 403},
		{"Indexes", 0, 403},
		{"FollowSymLinks", 0, 200},
		{"FollowSymLinks", nobodyUID, 200},
		{"SymLinksIfOwnerMatch", 0, 200},
		{"SymLinksIfOwnerMatch", nobodyUID, 403},
		{"FollowSymLinks SymLinksIfOwnerMatch", nobodyUID, 403},
		{"All", nobodyUID, 200},
		{"All -FollowSymLinks", 0, 403},
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to chown the link target")
	}
	for _, c := range cases {
		root := makeTree(t, tree{"htdocs/l/link.txt": "->@ROOT@/secret.txt", "secret.txt": "secret"}, owners{"secret.txt": c.targetUID})
		cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\nOptions None\n</Directory>\n<Directory @ROOT@/htdocs/l>\nOptions "+c.options+"\n</Directory>")
		w := newTestWalker(t, cfg)
		got, res := plumeOutcome(t, w, cfg.Main, "/l/link.txt")
		if got.status != c.want {
			t.Errorf("Options %s, target uid %d: status %d, want %d", c.options, c.targetUID, got.status, c.want)
		}
		if c.want == 403 && res.File != nil {
			t.Errorf("Options %s: a descriptor was returned for a forbidden link", c.options)
		}
	}
}

// TestSymlinkSwapRace swaps a regular file and a forbidden symlink under the
// same name while walks run: no walk may ever hand out the link target.
func TestSymlinkSwapRace(t *testing.T) {
	for _, options := range []string{"None", "SymLinksIfOwnerMatch"} {
		t.Run(options, func(t *testing.T) {
			root := makeTree(t, tree{"htdocs/d/f.txt": "public", "secret.txt": "secret"}, owners{"secret.txt": nobodyUID})
			if os.Getuid() != 0 && options != "None" {
				t.Skip("needs root to chown the target")
			}
			cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride None\nOptions "+options+"\n</Directory>")
			w := newTestWalker(t, cfg)
			dir := filepath.Join(root, "htdocs/d")
			file, link := filepath.Join(dir, "file.tmp"), filepath.Join(dir, "link.tmp")
			target := filepath.Join(dir, "f.txt")
			var stop atomic.Bool
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the attacker: swap file and link, bounded
				defer wg.Done()
				deadline := time.Now().Add(2 * time.Second)
				for i := 0; i < 20000 && !stop.Load() && time.Now().Before(deadline); i++ {
					os.WriteFile(file, []byte("public"), 0o644)
					os.Rename(file, target)
					os.Symlink(filepath.Join(root, "secret.txt"), link)
					os.Rename(link, target)
				}
			}()
			var served, denied int
			deadline := time.Now().Add(2 * time.Second)
			for i := 0; i < 20000 && time.Now().Before(deadline); i++ {
				res := w.Walk(cfg.Main, "/d/f.txt", filepath.Join(root, "htdocs/d/f.txt"))
				if res.File != nil {
					b, _ := io.ReadAll(res.File)
					if string(b) == "secret" {
						stop.Store(true)
						t.Fatalf("walk %d served the symlink target", i)
					}
					served++
				} else if res.Status == 403 {
					denied++
				}
				res.Close()
			}
			stop.Store(true)
			wg.Wait()
			if served == 0 || denied == 0 {
				t.Logf("served %d, denied %d (the race did not interleave much)", served, denied)
			}
		})
	}
}

// TestHtaccessChangeIsSeen: an edit is honoured by the very next walk, with
// inotify and with stat validation.
func TestHtaccessChangeIsSeen(t *testing.T) {
	for _, maxWatches := range []int{0, -1} {
		root := makeTree(t, tree{"htdocs/a/f.html": "x"}, nil)
		cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride FileInfo\n</Directory>")
		w := NewWithOptions(cfg, Options{MaxWatches: maxWatches, ParseHtaccess: newTestWalker(t, cfg).ht.parse})
		defer w.Close()
		ht := filepath.Join(root, "htdocs/a/.htaccess")
		get := func() string {
			o, _ := plumeOutcome(t, w, cfg.Main, "/a/f.html")
			if o.status != 200 {
				return "status " + string(rune('0'+o.status/100))
			}
			return o.headers.Get("X-V")
		}
		for i := 0; i < 50; i++ { // bounded: 50 edit/check rounds
			want := ""
			switch i % 3 {
			case 0:
				os.Remove(ht)
			case 1:
				want = "v" + string(rune('a'+i%26))
				os.WriteFile(ht, []byte("Header set X-V "+want), 0o644)
			case 2:
				want = "w" + string(rune('a'+i%26))
				tmp := ht + ".tmp"
				os.WriteFile(tmp, []byte("Header set X-V "+want), 0o644)
				os.Rename(tmp, ht) // editors save by rename
			}
			if got := get(); got != want {
				t.Fatalf("maxWatches %d round %d: X-V %q, want %q", maxWatches, i, got, want)
			}
			if got := get(); got != want {
				t.Fatalf("maxWatches %d round %d (cached): X-V %q, want %q", maxWatches, i, got, want)
			}
		}
		if maxWatches == 0 && w.ht.watch.watchCount() == 0 {
			t.Errorf("no inotify watches were used")
		}
	}
}

// TestConcurrentWalks runs walks from several goroutines while an
// .htaccess is rewritten: every answer is one of the two versions (run
// with -race to check the caches).
func TestConcurrentWalks(t *testing.T) {
	root := makeTree(t, tree{"htdocs/a/b/f.html": "x", "htdocs/a/.htaccess": "Header set X-V one", "htdocs/c/g.html": "y"}, nil)
	cfg := loadConfig(t, root, "DocumentRoot @ROOT@/htdocs\n<Directory />\nAllowOverride FileInfo\n</Directory>")
	w := newTestWalker(t, cfg)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 300 && !stop.Load(); i++ {
			v := []string{"one", "two"}[i%2]
			tmp := filepath.Join(root, "htdocs/a/.tmp")
			os.WriteFile(tmp, []byte("Header set X-V "+v), 0o644)
			os.Rename(tmp, filepath.Join(root, "htdocs/a/.htaccess")) // atomic: never a partial file
			time.Sleep(time.Millisecond)
		}
	}()
	errs := make(chan string, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				uri := []string{"/a/b/f.html", "/c/g.html", "/a/missing"}[(g+i)%3]
				res := w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri)
				h := headersOf(res.PerDir).Get("X-V")
				res.Close()
				if strings.HasPrefix(uri, "/a/") && h != "one" && h != "two" && res.Status == 0 {
					select {
					case errs <- uri + ": X-V " + h:
					default:
					}
				}
			}
		}(g)
	}
	time.AfterFunc(20*time.Second, func() { stop.Store(true) })
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
