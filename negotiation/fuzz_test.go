package negotiation

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"plume/request"
)

// FuzzParseTypeMap checks that any map file parses without panicking and
// that inline bodies stay within the file. Seeds (run by plain go test)
// are the test maps; go test -fuzz explores further on demand.
func FuzzParseTypeMap(f *testing.F) {
	ents, _ := os.ReadDir(filepath.Join("..", "testdata", "negotiation", "maps"))
	for _, e := range ents {
		if data, err := os.ReadFile(filepath.Join("..", "testdata", "negotiation", "maps", e.Name())); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("Body:\n\n"))
	f.Add([]byte("URI: x\nBody:(t)\nabc(t)\n"))
	f.Add([]byte("URI: a\n \n\t\n#\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tm := parseTypeMap(data, "/d/f.var")
		for _, v := range tm.variants {
			if v.hasBody && len(v.body) > len(data) {
				t.Fatalf("body longer than the file")
			}
		}
	})
}

// FuzzSelection runs the whole selection over hostile Accept* headers.
func FuzzSelection(f *testing.F) {
	for _, s := range []string{"", "*", "*/*;q=0.5", "text/html;level=3, */*;q=.", "en-US, *;q=0", "\"a,b\";q=\"", ";;;,,,", "x-gzip;q=0.0001"} {
		f.Add(s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, accept, lang, charset, enc string) {
		h := http.Header{"Accept": {accept}, "Accept-Language": {lang}, "Accept-Charset": {charset}, "Accept-Encoding": {enc}, "Negotiate": {lang}}
		s := newState(h, &DirConfig{ForceLanguagePriority: ForcePrefer | ForceFallback, LanguagePriority: []string{"en", ""}}, nil)
		s.vars = []variant{mkVariant("a", "text/html; level=2", "en,fr", "gzip", 3), mkVariant("b", "text/plain; charset=utf-8", "", "", 3),
			mkVariant("c", accept, lang, enc, -1)}
		s.parseNegotiate(h)
		s.maybeAddDefaultAccepts(true)
		if best, choice := s.bestMatch(); choice && best < 0 {
			t.Fatal("choice without a variant")
		}
		s.sendAlternates = true
		s.isTransparent = true
		s.setNegHeaders(&request.Request{}, true)
		_ = s.variantList()
	})
}
