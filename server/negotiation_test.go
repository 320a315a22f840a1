package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
			s.compare("GET", "/mv/doc", "Accept-Language: "+lang)
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
