package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestNegotiationSeesChanges: with the directory listings, type maps and
// variant lookups cached and invalidated by inotify (no stat per
// request), every change counts from the next request, as in Apache,
// which reads the directory each time.
func TestNegotiationSeesChanges(t *testing.T) {
	s := startSite(t, `
AddLanguage en .en
AddLanguage fr .fr
AddLanguage de .de
AddLanguage it .it
AddHandler type-map .var
<Directory @ROOT@/htdocs>
AllowOverride All
</Directory>
<Directory @ROOT@/htdocs/mv>
Options +MultiViews
</Directory>
`, map[string]string{
		"htdocs/mv/doc.html.en": "english\n",
		"htdocs/mv/doc.html.fr": "french\n",
		"htdocs/tm/doc.html.en": "english\n",
		"htdocs/tm/doc.html.fr": "french\n",
		"htdocs/tm/doc.var":     "URI: doc\n\nURI: doc.html.en\nContent-Type: text/html\nContent-Language: en\n\nURI: doc.html.fr\nContent-Type: text/html\nContent-Language: fr\n",
	}, true)
	mv := filepath.Join(s.dir, "htdocs", "mv")
	tm := filepath.Join(s.dir, "htdocs", "tm")
	write := func(p, body string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compareAll := func(step string) {
		t.Helper()
		for _, lang := range []string{"it", "de", "fr", "en", "it, de;q=0.5"} {
			// Twice: the second answer may come from the outcome memo.
			s.compare("GET", "/mv/doc", "Accept-Language: "+lang)
			s.compare("GET", "/mv/doc", "Accept-Language: "+lang)
			s.compare("GET", "/tm/doc.var", "Accept-Language: "+lang)
			s.compare("GET", "/tm/doc.var", "Accept-Language: "+lang)
		}
		if t.Failed() {
			t.Fatalf("after %s", step)
		}
	}
	compareAll("start")
	neg := s.srv.gen.Load().neg
	if !neg.Watched(mv) || !neg.Watched(tm+"/doc.var") {
		t.Logf("no inotify watch: the stat fallback was tested instead")
	}
	steps := []struct {
		name string
		do   func()
	}{
		{"a variant added", func() { write(filepath.Join(mv, "doc.html.it"), "italiano\n") }},
		{"a variant renamed", func() { os.Rename(filepath.Join(mv, "doc.html.it"), filepath.Join(mv, "doc.html.de")) }},
		{"a variant rewritten", func() { write(filepath.Join(mv, "doc.html.de"), "deutsch, länger\n") }},
		{"a variant removed", func() { os.Remove(filepath.Join(mv, "doc.html.de")) }},
		{"a variant denied by an .htaccess above", func() {
			write(filepath.Join(s.dir, "htdocs", ".htaccess"), "<Files doc.html.fr>\nRequire all denied\n</Files>\n")
		}},
		{"the .htaccess above removed", func() { os.Remove(filepath.Join(s.dir, "htdocs", ".htaccess")) }},
		{"the type map edited", func() {
			write(filepath.Join(tm, "doc.var"), "URI: doc\n\nURI: doc.html.en\nContent-Type: text/html\nContent-Language: en\n\nURI: doc.html.it\nContent-Type: text/html\nContent-Language: it\n")
		}},
		{"the type map's variant created", func() { write(filepath.Join(tm, "doc.html.it"), "italiano\n") }},
		{"the type map's variant rewritten", func() { write(filepath.Join(tm, "doc.html.it"), "italiano, più lungo\n") }},
		{"a type map added among the variants", func() {
			write(filepath.Join(mv, "doc.var"), "URI: doc\n\nURI: doc.html.en\nContent-Type: text/html\nContent-Language: en\n")
		}},
		{"that type map removed", func() { os.Remove(filepath.Join(mv, "doc.var")) }},
	}
	for _, st := range steps {
		st.do()
		compareAll(st.name)
	}
}

// TestNegotiationOutcomeMemo: a MultiViews answer served from the
// outcome memo is byte for byte the answer negotiated afresh, and both
// are Apache's, across an Accept × Accept-Language × Accept-Encoding ×
// Negotiate matrix (the memo's key must cover every header that steers
// the choice; the env variables are covered in package negotiation).
func TestNegotiationOutcomeMemo(t *testing.T) {
	s := startSite(t, `
AddLanguage en .en
AddLanguage fr .fr
AddLanguage de .de
AddEncoding x-gzip .gz
AddType text/plain .txt
AddHandler type-map .var
LanguagePriority en fr de
ForceLanguagePriority Prefer Fallback
<Directory @ROOT@/htdocs/mv>
Options +MultiViews
</Directory>
`, map[string]string{
		"htdocs/mv/doc.html.en":    "english\n",
		"htdocs/mv/doc.html.fr":    "français\n",
		"htdocs/mv/doc.html.de":    "deutsch, etwas länger\n",
		"htdocs/mv/doc.txt.en":     "plain english\n",
		"htdocs/mv/doc.html.en.gz": "gzipped english, not really\n",
		"htdocs/tm/doc.html.en":    "english\n",
		"htdocs/tm/doc.html.fr":    "français\n",
		"htdocs/tm/doc.txt.de":     "deutsch\n",
		"htdocs/tm/doc.var": "URI: doc\n\nURI: doc.html.en\nContent-Type: text/html\nContent-Language: en\n\n" +
			"URI: doc.html.fr\nContent-Type: text/html; qs=0.9\nContent-Language: fr\n\n" +
			"URI: doc.txt.de\nContent-Type: text/plain\nContent-Language: de\nContent-Length: 8\n",
	}, true)
	neg := s.srv.gen.Load().neg
	// Headers negotiation sets, beside those compare checks.
	negHeaders := []string{"Vary", "TCN", "Content-Location", "Alternates"}
	snapshot := func(r rawResponse) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%d\n", r.status)
		keys := make([]string, 0, len(r.header))
		for k := range r.header {
			if k != "Date" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := r.header[k]
			if k == "Etag" && len(v) == 1 {
				// Weak while the file is less than a second old: the
				// requests of one case may straddle that second.
				v = []string{strings.TrimPrefix(v[0], "W/")}
			}
			fmt.Fprintf(&b, "%s: %q\n", k, v)
		}
		return b.String() + r.body
	}
	var combos [][]string
	for _, acc := range []string{"", "text/html", "text/plain;q=0.5, text/html", "*/*;q=0.1", "image/*"} {
		for _, lang := range []string{"", "fr", "en", "de;q=0.5, fr;q=0.4", "it"} {
			for _, enc := range []string{"", "gzip", "x-gzip"} {
				for _, nego := range []string{"", "trans", "1.0"} {
					var hdrs []string
					for _, h := range [][2]string{{"Accept", acc}, {"Accept-Language", lang}, {"Accept-Encoding", enc}, {"Negotiate", nego}} {
						if h[1] != "" {
							hdrs = append(hdrs, h[0]+": "+h[1])
						}
					}
					combos = append(combos, hdrs)
				}
			}
		}
	}
	before := neg.OutcomeHits()
	for _, target := range []string{"/mv/doc", "/tm/doc.var"} {
		for _, hdrs := range combos {
			where := target + " " + strings.Join(hdrs, "; ")
			first := do(t, s.plume, "GET", target, hdrs...)
			for i := 0; i < 2; i++ {
				again := do(t, s.plume, "GET", target, hdrs...)
				if a, b := snapshot(first), snapshot(again); a != b {
					t.Errorf("%s: answer %d differs from the first\n--- first\n%s\n--- again\n%s", where, i+2, a, b)
				}
			}
			s.compare("GET", target, hdrs...)
			a := do(t, s.apache, "GET", target, hdrs...)
			for _, h := range negHeaders {
				if av, pv := a.header.Get(h), first.header.Get(h); av != pv {
					t.Errorf("%s: header %s apache %q, plume %q", where, h, av, pv)
				}
			}
		}
	}
	if neg.OutcomeHits() == before {
		t.Error("the outcome memo was never used")
	}

	// A memoised choice gives way at once to a changed directory and to
	// a reloaded configuration (a new generation, a new Negotiator).
	choice := func() string {
		t.Helper()
		var loc string
		for i := 0; i < 2; i++ { // the second from the memo
			r := do(t, s.plume, "GET", "/mv/doc", "Accept-Language: it")
			if i > 0 && r.header.Get("Content-Location") != loc {
				t.Errorf("memoised answer %q, first %q", r.header.Get("Content-Location"), loc)
			}
			loc = r.header.Get("Content-Location")
		}
		return loc
	}
	if got := choice(); got != "doc.html.en" {
		t.Errorf("LanguagePriority en fr de: %q", got)
	}
	os.Remove(filepath.Join(s.dir, "htdocs", "mv", "doc.html.en"))
	if got := choice(); got != "doc.txt.en" {
		t.Errorf("doc.html.en removed: %q", got)
	}
	conf := filepath.Join(s.dir, "plume.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte(strings.Replace(string(b), "LanguagePriority en fr de", "LanguagePriority de fr en", 1)), 0o644)
	if err := s.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := choice(); got != "doc.html.de" {
		t.Errorf("after reload with LanguagePriority de fr en: %q", got)
	}
}

// BenchmarkNegotiation: the three ways to one document through every
// phase (walk, access, type check, fixups, handler) without the network,
// on one tree: /mv/doc through MultiViews, /tm/doc.var through a type
// map, and the file itself. The target: MultiViews within 10% of
// the direct file.
func BenchmarkNegotiation(b *testing.B) {
	doc := strings.Repeat("x", 6144)
	s := startSite(b, `
AddLanguage en .en
AddLanguage fr .fr
AddHandler type-map .var
<Directory @ROOT@/htdocs>
AllowOverride None
Require all granted
</Directory>
<Directory @ROOT@/htdocs/mv>
Options +MultiViews
</Directory>
`, map[string]string{
		"htdocs/mv/doc.html.en": doc,
		"htdocs/mv/doc.html.fr": doc,
		"htdocs/tm/doc.html.en": doc,
		"htdocs/tm/doc.html.fr": doc,
		"htdocs/tm/doc.var":     "URI: doc\n\nURI: doc.html.en\nContent-Type: text/html\nContent-Language: en\n\nURI: doc.html.fr\nContent-Type: text/html\nContent-Language: fr\n",
	}, false)
	h := s.srv.gen.Load().pipeline
	for _, bc := range []struct{ name, target string }{
		{"MultiViews", "/mv/doc"},
		{"TypeMap", "/tm/doc.var"},
		{"Direct", "/mv/doc.html.fr"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.target, nil)
			req.RemoteAddr = "127.0.0.1:5555"
			req.Header.Set("Accept-Language", "fr")
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if ct := w.h.Get("Content-Type"); ct != "text/html" {
				b.Fatalf("%s: Content-Type %q (headers %v)", bc.target, ct, w.h)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req)
			}
		})
	}
}

// TestVlistValidator pins the MultiViews list validator (built in one
// buffer) and its folding into the variant's ETag.
func TestVlistValidator(t *testing.T) {
	mtime := time.Unix(1700000000, 123456000)
	for _, tc := range []struct {
		name      string
		now       time.Time
		etag, vlv string
		want      string
	}{
		{"strong", mtime.Add(2 * time.Second), `"1-2"`, `"60a2418202240"`, `"1-2;60a2418202240`},
		{"weak", mtime.Add(time.Second), `"1-2"`, `W/"60a2418202240"`, `W/"1-2;60a2418202240`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := vlistValidator(nil, mtime, tc.now); got != tc.vlv {
				t.Errorf("vlistValidator = %s, want %s", got, tc.vlv)
			}
			if got := structuredETag(tc.etag, tc.vlv); got != tc.want {
				t.Errorf("structuredETag = %s, want %s", got, tc.want)
			}
		})
	}
}
