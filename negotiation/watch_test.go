package negotiation

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"plume/request"
)

// fakeWatcher stands in for the walk's inotify watcher: it records the
// registrations and fires them when the test says a directory changed.
type fakeWatcher struct {
	mu     sync.Mutex
	refuse bool
	// fireDuring makes WatchDir report a change of the directory while
	// it registers, as a drain running concurrently with a listing would.
	fireDuring bool
	cbs        map[string]func(string)
	calls      int
}

func (f *fakeWatcher) WatchDir(dir string, onChange func(string)) bool {
	f.mu.Lock()
	f.calls++
	if f.refuse {
		f.mu.Unlock()
		return false
	}
	if f.cbs == nil {
		f.cbs = map[string]func(string){}
	}
	f.cbs[dir] = onChange
	fire := f.fireDuring
	f.fireDuring = false
	f.mu.Unlock()
	if fire {
		onChange(dir)
	}
	return true
}

func (f *fakeWatcher) fire(dir string) {
	f.mu.Lock()
	cb := f.cbs[dir]
	f.mu.Unlock()
	if cb != nil {
		cb(dir)
	}
}

// countStats counts statFile calls for the test's duration.
func countStats(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	orig := statFile
	statFile = func(p string) (os.FileInfo, error) {
		n.Add(1)
		return orig(p)
	}
	t.Cleanup(func() { statFile = orig })
	return &n
}

// memoHost is the harness with a MemoHost side that remembers, per
// variant name, the request-independent part of the answer (here:
// everything but the access decision and the encoding's spelling,
// which depends on Accept-Encoding).
type memoHost struct {
	*harness
	hits, misses atomic.Int64
}

func (m *memoHost) LookupVariantMemo(r *request.Request, name string, memo *Memo) VariantInfo {
	path := filepath.Join(filepath.Dir(r.Filename), name)
	if m.deny[path] {
		return VariantInfo{Status: http.StatusForbidden, Regular: true}
	}
	key := name + "\x00" + strings.Join(r.Header.Values("Accept-Encoding"), ",")
	if v, ok := memo.Load(key); ok {
		m.hits.Add(1)
		info := v.(VariantInfo)
		// Nothing but the key decided it (the denials are fixed).
		info.Pure = true
		return info
	}
	m.misses.Add(1)
	info := m.LookupVariant(r, name)
	if info.Status == http.StatusOK && info.Regular {
		memo.Store(key, info)
	}
	return info
}

func TestWatchedListing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		refuse bool
	}{
		{"watched", false},
		{"refused: stat per use", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := newSiteRoot(t)
			h := newHarness(t, root)
			fw := &fakeWatcher{refuse: tt.refuse}
			h.neg = NewWatched(h, fw)
			stats := countStats(t)
			dir := filepath.Join(root, "l1")
			h.langsAdd(t, dir, "it")
			choose := func() string {
				t.Helper()
				r, _ := h.newRequest(nil, "GET", "/l1/page", filepath.Join(dir, "page"), http.Header{"Accept-Language": {"it, en;q=0.1"}}, nil)
				res := h.neg.MultiViews(r)
				if res.Status != request.OK {
					t.Fatalf("status %d", res.Status)
				}
				return res.Variant
			}
			if got := choose(); got != "page.en.html" {
				t.Fatalf("first: %s", got)
			}
			before := stats.Load()
			for i := 0; i < 3; i++ {
				choose()
			}
			if tt.refuse {
				if got := stats.Load() - before; got != 3 {
					t.Errorf("unwatched: %d stats for 3 requests, want 3", got)
				}
				if h.neg.Watched(dir) {
					t.Error("Watched true without a watch")
				}
				return
			}
			if got := stats.Load() - before; got != 0 {
				t.Errorf("watched: %d stats for 3 requests, want none", got)
			}
			if !h.neg.Watched(dir) {
				t.Error("Watched false")
			}
			if fw.calls != 1 {
				t.Errorf("WatchDir called %d times, want once", fw.calls)
			}
			// A change nobody reported is not seen: the listing is trusted.
			if err := os.WriteFile(filepath.Join(dir, "page.it.html"), []byte("it\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := choose(); got != "page.en.html" {
				t.Errorf("unreported change seen (%s): the listing was re-read", got)
			}
			fw.fire(dir)
			if got := choose(); got != "page.it.html" {
				t.Errorf("after the change was reported: %s", got)
			}
			os.Remove(filepath.Join(dir, "page.it.html"))
			fw.fire(dir + "/") // the walk may pass the directory with its '/'
			if got := choose(); got != "page.en.html" {
				t.Errorf("after removal: %s", got)
			}
		})
	}
}

// A change reported while the listing is being read must not leave the
// listing it read in the cache.
func TestWatchedListingRace(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	fw := &fakeWatcher{fireDuring: true}
	h.neg = NewWatched(h, fw)
	dir := filepath.Join(root, "l1")
	r, _ := h.newRequest(nil, "GET", "/l1/page", filepath.Join(dir, "page"), http.Header{}, nil)
	if res := h.neg.MultiViews(r); res.Status != request.OK {
		t.Fatalf("status %d", res.Status)
	}
	if h.neg.Watched(dir) {
		t.Fatal("a listing read across a reported change was cached")
	}
	r, _ = h.newRequest(nil, "GET", "/l1/page", filepath.Join(dir, "page"), http.Header{}, nil)
	h.neg.MultiViews(r)
	if !h.neg.Watched(dir) {
		t.Fatal("the next read was not cached")
	}
}

func TestWatchedTypeMap(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	fw := &fakeWatcher{}
	h.neg = NewWatched(h, fw)
	stats := countStats(t)
	dir := filepath.Join(root, "maps")
	mapPath := filepath.Join(dir, "edit.var")
	write := func(body string) {
		if err := os.WriteFile(mapPath, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("URI: edit\n\nURI: qs.en.html\nContent-Type: text/html\nContent-Language: en\n")
	choose := func(withFinfo bool) string {
		t.Helper()
		r, _ := h.newRequest(nil, "GET", "/maps/edit.var", mapPath, http.Header{}, nil)
		if !withFinfo {
			r.Finfo = nil
		}
		res := h.neg.TypeMap(r)
		if res.Status != request.OK {
			t.Fatalf("status %d", res.Status)
		}
		return res.Variant
	}
	if got := choose(false); got != "qs.en.html" {
		t.Fatalf("first: %s", got)
	}
	before := stats.Load()
	choose(false)
	if stats.Load() != before {
		t.Error("a watched type map was stat'ed")
	}
	write("URI: edit\n\nURI: qs.fr.html\nContent-Type: text/html\nContent-Language: fr\n")
	fw.fire(dir)
	if got := choose(true); got != "qs.fr.html" {
		t.Errorf("after the edit was reported: %s", got)
	}
	// The walk's stat of the map (r.Finfo) catches an edit the watch did
	// not report, at no cost.
	write("URI: edit\n\nURI: qs.txt\nContent-Type: text/plain\n\n")
	if got := choose(true); got != "qs.txt" {
		t.Errorf("edit with a new stat, unreported: %s", got)
	}
}

// TestMatrixGoldenWatched replays the Apache-compared cases with watched
// caches and a host that memoises variant lookups, against Apache's
// recorded answers (TestAgainstApache checks them against apache2).
func TestMatrixGoldenWatched(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	h.stableVecs = true
	mh := &memoHost{harness: h}
	h.neg = NewWatched(mh, &fakeWatcher{})
	golden := parseGolden(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for pass := 0; pass < 3; pass++ { // later passes run from the caches, the last from the outcome memo
		for _, c := range cases() {
			want, ok := golden[c.name()]
			if !ok {
				t.Fatalf("%s: no golden answer", c.name())
			}
			got, err := fetch(testClient, srv.URL, c)
			if err != nil {
				t.Fatal(err)
			}
			got += renderLogs(h.takeLogs(), root)
			if got != want {
				t.Errorf("pass %d %s:\n--- plume\n%s--- apache\n%s", pass, c.name(), got, want)
			}
		}
	}
	if mh.hits.Load() == 0 {
		t.Error("the memo was never used")
	}
	if h.neg.OutcomeHits() == 0 {
		t.Error("the outcome memo was never used")
	}
}

// Listings, type maps and memos are shared by concurrent requests while
// changes are reported (run with -race).
func TestWatchedConcurrent(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	fw := &fakeWatcher{}
	h.stableVecs = true // outcomes memoised too
	h.neg = NewWatched(&memoHost{harness: h}, fw)
	dir := filepath.Join(root, "l1")
	mapPath := filepath.Join(root, "maps", "qs.var")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, _ := h.newRequest(nil, "GET", "/l1/page", filepath.Join(dir, "page"), http.Header{"Accept-Language": {"de, en;q=0.5"}}, nil)
				if res := h.neg.MultiViews(r); res.Status != request.OK || !strings.HasPrefix(res.Variant, "page.") {
					t.Errorf("MultiViews: %d %q", res.Status, res.Variant)
					return
				}
				r, _ = h.newRequest(nil, "GET", "/maps/qs.var", mapPath, http.Header{}, nil)
				if res := h.neg.TypeMap(r); res.Status != request.OK {
					t.Errorf("TypeMap: %d", res.Status)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		fw.fire(dir)
		fw.fire(filepath.Join(root, "maps"))
	}
	close(stop)
	wg.Wait()
	h.takeLogs()
}
