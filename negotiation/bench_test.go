package negotiation

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"plume/directives"
	"plume/request"
)

func benchHarness(b *testing.B) (*harness, string) {
	root := newSiteRoot(b)
	// Age the tree beyond the racy window so that the caches are trusted,
	// as they are in steady state.
	old := time.Now().Add(-time.Hour)
	filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	return newHarness(b, root), root
}

var benchHeader = http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}, "Accept-Language": {"fr-CH, fr;q=0.9, en;q=0.8"}, "Accept-Encoding": {"gzip, deflate"}}

// BenchmarkMultiViews: /l2/page through MultiViews, directory listing cached.
func BenchmarkMultiViews(b *testing.B) {
	h, root := benchHarness(b)
	path := filepath.Join(root, "l2", "page")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := h.newRequest(nil, "GET", "/l2/page", path, benchHeader, nil)
		if res := h.neg.MultiViews(r); res.Status != request.OK {
			b.Fatal(res.Status)
		}
	}
}

// BenchmarkMultiViewsWatched: the same with the listing kept current by a
// (fake) directory watcher and the variant lookups memoised by the host:
// no system call at all. "outcome": with the merged configuration stable
// across requests (as the server's is), the whole outcome is memoised.
func BenchmarkMultiViewsWatched(b *testing.B) {
	for _, stable := range []bool{false, true} {
		name := "variants"
		if stable {
			name = "outcome"
		}
		b.Run(name, func(b *testing.B) {
			h, root := benchHarness(b)
			h.stableVecs = stable
			h.neg = NewWatched(&memoHost{harness: h}, &fakeWatcher{})
			path := filepath.Join(root, "l2", "page")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, _ := h.newRequest(nil, "GET", "/l2/page", path, benchHeader, nil)
				if res := h.neg.MultiViews(r); res.Status != request.OK {
					b.Fatal(res.Status)
				}
			}
		})
	}
}

// BenchmarkTypeMap: /maps/qs.var through the type-map handler (parsed map
// cached).
func BenchmarkTypeMap(b *testing.B) {
	h, root := benchHarness(b)
	path := filepath.Join(root, "maps", "qs.var")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := h.newRequest(nil, "GET", "/maps/qs.var", path, benchHeader, nil)
		if res := h.neg.TypeMap(r); res.Status != request.OK {
			b.Fatal(res.Status)
		}
	}
}

// BenchmarkDirect: the same harness request for an existing file, without
// negotiation (stat and mod_mime only) — the baseline.
func BenchmarkDirect(b *testing.B) {
	h, root := benchHarness(b)
	path := filepath.Join(root, "l2", "page.fr.html")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, _ := h.newRequest(nil, "GET", "/l2/page.fr.html", path, benchHeader, nil); r.Finfo == nil {
			b.Fatal("missing")
		}
	}
}

// BenchmarkSelection: best_match alone over three language variants.
func BenchmarkSelection(b *testing.B) {
	vars := []variant{}
	for _, l := range []string{"de", "en", "fr"} {
		v := newVariant()
		v.fileName, v.languages, v.bytes = "page."+l+".html", []string{l}, 10
		v.setMimeFields(acceptRec{name: "text/html", quality: 1, level: 2})
		vars = append(vars, v)
	}
	conf := &DirConfig{LanguagePriority: []string{"en", "fr", "de"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := newState(benchHeader, conf, nil)
		s.vars = append(s.vars[:0], vars...)
		s.mayChoose = true
		s.maybeAddDefaultAccepts(false)
		if best, ok := s.bestMatch(); !ok || s.vars[best].languages[0] != "fr" {
			b.Fatal("wrong choice")
		}
	}
}

func TestNoCacheAndCacheNegotiatedDocs(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	for _, tt := range []struct {
		proto, path string
		cache       bool
		want        bool
	}{
		{"HTTP/1.0", "maps/qs.var", false, true},
		{"HTTP/0.9", "maps/qs.var", false, true},
		{"HTTP/1.1", "maps/qs.var", false, false},
		{"HTTP/1.0", "maps/qs.var", true, false},
		{"HTTP/1.0", "l1/page", false, false}, // MultiViews: dropped by the fast redirect
	} {
		r, _ := h.newRequest(nil, "GET", "/"+tt.path, filepath.Join(root, tt.path), http.Header{}, nil)
		r.Proto = tt.proto
		cmd := newTestCmd("")
		if tt.cache {
			cmd.Server.Config.Set(Module, &ServerConfig{CacheNegotiatedDocs: true})
		}
		r.Server = cmd.Server
		var res Result
		if r.Finfo != nil {
			res = h.neg.TypeMap(r)
		} else {
			res = h.neg.MultiViews(r)
		}
		if res.Status != request.OK || res.NoCache != tt.want {
			t.Errorf("%+v: status %d NoCache %v", tt, res.Status, res.NoCache)
		}
	}
}

func TestDirectoryCacheSeesChanges(t *testing.T) {
	root := newSiteRoot(t)
	h := newHarness(t, root)
	dir := filepath.Join(root, "l1")
	choose := func() string {
		r, _ := h.newRequest(nil, "GET", "/l1/page", filepath.Join(dir, "page"), http.Header{"Accept-Language": {"it, en;q=0.1"}}, nil)
		res := h.neg.MultiViews(r)
		if res.Status != request.OK {
			t.Fatalf("status %d", res.Status)
		}
		return res.Variant
	}
	if got := choose(); got != "page.en.html" {
		t.Fatalf("before: %s", got)
	}
	h.langsAdd(t, dir, "it")
	if err := os.WriteFile(filepath.Join(dir, "page.it.html"), []byte("it\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := choose(); got != "page.it.html" {
		t.Errorf("new variant not seen: %s", got)
	}
	// An old listing must not be trusted even within one mtime tick:
	// rename keeps the directory mtime close to the previous read.
	if err := os.Remove(filepath.Join(dir, "page.it.html")); err != nil {
		t.Fatal(err)
	}
	h.neg.Invalidate(dir)
	if got := choose(); got != "page.en.html" {
		t.Errorf("after removal: %s", got)
	}
	// Once the directory is older than the racy window, listings are
	// reused: a second call must not re-read (checked via the cache).
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dir, old, old)
	choose()
	l1 := h.neg.dirs.m[dir]
	choose()
	if h.neg.dirs.m[dir] != l1 || !l1.trusted {
		t.Error("stable directory listing was re-read")
	}
}

// langsAdd adds AddLanguage for ext in the harness's config of dir.
func (h *harness) langsAdd(t *testing.T, dir, lang string) {
	c := h.confFor(dir)
	c.langs[lang] = lang
}

// fixedHost answers sub-requests from a table, to time negotiation alone.
type fixedHost map[string]VariantInfo

func (f fixedHost) LookupVariant(_ *request.Request, name string) VariantInfo { return f[name] }

// BenchmarkMultiViewsCore: /l2/page with sub-requests answered from memory,
// so only the listing check (one stat) and the selection are timed.
func BenchmarkMultiViewsCore(b *testing.B) {
	_, root := benchHarness(b)
	host := fixedHost{}
	for _, l := range []string{"de", "en", "fr"} {
		host["page."+l+".html"] = VariantInfo{Status: 200, Regular: true, Size: 4, ContentType: "text/html",
			Languages: []string{l}, Exceptions: []string{"page"}}
	}
	neg := New(host)
	conf := &DirConfig{LanguagePriority: []string{"en", "fr", "de"}}
	v := directives.NewVector()
	v.Set(Module, conf)
	path := filepath.Join(root, "l2", "page")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &request.Request{Method: "GET", Proto: "HTTP/1.1", Header: benchHeader, Filename: path, PerDir: v}
		if res := neg.MultiViews(r); res.Status != request.OK || res.Variant != "page.fr.html" {
			b.Fatal(res.Status, res.Variant)
		}
	}
}
