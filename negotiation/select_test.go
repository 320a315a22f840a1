package negotiation

import (
	"net/http"
	"strings"
	"testing"
)

// mkVariant builds a variant from a Content-Type value, a comma-separated
// language list, an encoding and a length.
func mkVariant(name, ct, langs, enc string, bytes int64) variant {
	v := newVariant()
	v.fileName = name
	a, _ := getEntry(ct)
	v.setMimeFields(a)
	if langs != "" {
		v.languages = strings.Split(langs, ",")
	}
	v.encoding = enc
	v.bytes = bytes
	return v
}

func TestSelection(t *testing.T) {
	html := func(name, langs string, n int64) variant { return mkVariant(name, "text/html", langs, "", n) }
	threeLangs := []variant{html("d.de", "de", 5), html("d.en", "en", 5), html("d.fr", "fr", 5)}
	tests := []struct {
		name   string
		vars   []variant
		hdr    map[string]string
		conf   DirConfig
		env    map[string]string
		want   string // chosen file, "" for none
		choice bool
	}{
		{name: "no headers: earliest of equals", vars: threeLangs, want: "d.de", choice: true},
		{name: "language", vars: threeLangs, hdr: map[string]string{"Accept-Language": "fr"}, want: "d.fr", choice: true},
		{name: "unknown language, Prefer default: none", vars: threeLangs, hdr: map[string]string{"Accept-Language": "it"}, want: "", choice: false},
		{name: "fallback", vars: threeLangs, hdr: map[string]string{"Accept-Language": "it"},
			conf: DirConfig{ForceLanguagePriority: ForceFallback, LanguagePriority: []string{"fr", "en"}}, want: "d.fr", choice: true},
		{name: "prefer breaks a tie", vars: threeLangs, hdr: map[string]string{"Accept-Language": "en;q=0.5, fr;q=0.5"},
			conf: DirConfig{LanguagePriority: []string{"fr"}}, want: "d.fr", choice: true},
		{name: "LanguagePriority is a plain prefix", vars: []variant{html("a", "english", 5), html("b", "fr", 5)},
			conf: DirConfig{LanguagePriority: []string{"en"}}, want: "a", choice: true},
		{name: "ForceLanguagePriority None ignores priority", vars: threeLangs,
			conf: DirConfig{ForceLanguagePriority: ForceNone, LanguagePriority: []string{"fr"}}, want: "d.de", choice: true},
		{name: "en-US fiddle reaches en at 0.001", vars: []variant{html("a", "en", 5), html("b", "de", 5)},
			hdr: map[string]string{"Accept-Language": "en-US"}, want: "a", choice: true},
		{name: "no-language variant loses to any language", vars: []variant{html("a", "", 1), html("b", "fr", 5)},
			hdr: map[string]string{"Accept-Language": "fr;q=0.01"}, want: "b", choice: true},
		{name: "no-language variant wins when none acceptable", vars: []variant{html("a", "", 1), html("b", "fr", 5)},
			hdr: map[string]string{"Accept-Language": "de"}, want: "a", choice: true},
		{name: "longest range wins", vars: []variant{html("a", "en-gb", 5), html("b", "en", 5)},
			hdr: map[string]string{"Accept-Language": "en;q=0.2, en-gb;q=0.9"}, want: "a", choice: true},
		{name: "star", vars: threeLangs, hdr: map[string]string{"Accept-Language": "*;q=0.5, fr;q=0.1"}, want: "d.de", choice: true},
		{name: "wildcard fiddle prefers exact type", vars: []variant{mkVariant("a", "image/png", "", "", 1), mkVariant("b", "text/html", "", "", 9)},
			hdr: map[string]string{"Accept": "text/html, */*"}, want: "b", choice: true},
		{name: "explicit q disables the fiddle", vars: []variant{mkVariant("a", "image/png", "", "", 1), mkVariant("b", "text/html", "", "", 9)},
			hdr: map[string]string{"Accept": "text/html;q=0.9, */*"}, want: "a", choice: true},
		{name: "qs multiplies", vars: []variant{mkVariant("a", "text/html; qs=0.5", "", "", 1), mkVariant("b", "text/plain", "", "", 9)},
			hdr: map[string]string{"Accept": "text/html, text/plain;q=0.6"}, want: "b", choice: true},
		{name: "lowest level without explicit accept", vars: []variant{mkVariant("a", "text/html; level=3", "", "", 1), mkVariant("b", "text/html; level=1", "", "", 9)},
			want: "b", choice: true},
		{name: "highest accepted level", vars: []variant{mkVariant("a", "text/html; level=3", "", "", 1), mkVariant("b", "text/html; level=1", "", "", 9)},
			hdr: map[string]string{"Accept": "text/html;level=3"}, want: "a", choice: true},
		{name: "explicit non-latin1 charset preferred", vars: []variant{mkVariant("a", "text/html; charset=iso-8859-1", "", "", 1), mkVariant("b", "text/html; charset=utf-8", "", "", 9)},
			want: "b", choice: true},
		{name: "unlisted charset refused", vars: []variant{mkVariant("a", "text/html; charset=koi8-r", "", "", 1)},
			hdr: map[string]string{"Accept-Charset": "utf-8"}, want: "", choice: false},
		{name: "identity beats gzip", vars: []variant{mkVariant("a", "text/html", "", "gzip", 1), mkVariant("b", "text/html", "", "", 9)},
			want: "b", choice: true},
		{name: "gzip asked", vars: []variant{mkVariant("a", "text/html", "", "x-gzip", 1), mkVariant("b", "text/html", "", "", 9)},
			hdr: map[string]string{"Accept-Encoding": "gzip"}, want: "a", choice: true},
		{name: "no-gzip", vars: []variant{mkVariant("a", "text/html", "", "x-gzip", 1), mkVariant("b", "text/html", "", "", 9)},
			hdr: map[string]string{"Accept-Encoding": "gzip"}, env: map[string]string{"no-gzip": "1"}, want: "b", choice: true},
		{name: "gzip-only-text/html keeps html", vars: []variant{mkVariant("a", "text/html", "", "x-gzip", 1), mkVariant("b", "text/plain", "", "x-gzip", 1)},
			hdr: map[string]string{"Accept-Encoding": "gzip", "Accept": "text/plain, text/html;q=0.1"}, env: map[string]string{"gzip-only-text/html": "1"}, want: "a", choice: true},
		{name: "smaller file", vars: []variant{html("a", "", 9), html("b", "", 3)}, want: "b", choice: true},
		{name: "prefer-language", vars: threeLangs, hdr: map[string]string{"Accept-Language": "en"}, env: map[string]string{"prefer-language": "fr"}, want: "d.fr", choice: true},
		{name: "prefer-language falls back when its variants are unacceptable", vars: []variant{mkVariant("a", "image/png", "fr", "", 1), html("b", "en", 5)},
			hdr: map[string]string{"Accept": "text/html"}, env: map[string]string{"prefer-language": "fr"}, want: "b", choice: true},
		{name: "empty Accept", vars: threeLangs, hdr: map[string]string{"Accept": ""}, want: "", choice: false},
		{name: "rvsa needs definite", vars: threeLangs, hdr: map[string]string{"Negotiate": "1.0"}, want: "d.de", choice: false},
		{name: "rvsa definite", vars: []variant{mkVariant("a", "text/html", "", "", 5)},
			hdr: map[string]string{"Negotiate": "1.0", "Accept": "text/html"}, want: "a", choice: true},
		{name: "trans: list only", vars: threeLangs, hdr: map[string]string{"Negotiate": "trans"}, want: "", choice: false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.hdr {
			h.Set(k, v)
		}
		conf := tt.conf
		s := newState(h, &conf, tt.env)
		s.vars = append([]variant(nil), tt.vars...)
		s.parseNegotiate(h)
		s.maybeAddDefaultAccepts(false)
		best, choice := s.bestMatch()
		got := ""
		if best >= 0 {
			got = s.vars[best].fileName
		}
		if got != tt.want || choice != tt.choice {
			t.Errorf("%s: got %q choice=%v, want %q choice=%v", tt.name, got, choice, tt.want, tt.choice)
		}
	}
}

func TestMimeMatch(t *testing.T) {
	tests := []struct {
		accept, typ string
		stars       int
	}{
		{"*/*", "text/html", 1}, {"*", "text/html", 1}, {"text/*", "text/html", 2}, {"text/html", "text/html", 3},
		{"*bad", "text/html", 0}, {"/*", "text/html", 0}, {"*/", "text/html", 0}, {"te/*", "text/html", 0},
		{"text/*", "text", 0}, {"text/x-server-parsed-html", "text/html", 0}, {"", "text/html", 0},
	}
	for _, tt := range tests {
		v := mkVariant("x", tt.typ, "", "", 1)
		a, _ := getEntry(tt.accept)
		mimeMatch(&a, &v)
		if v.mimeStars != tt.stars {
			t.Errorf("mimeMatch(%q, %q): stars %d, want %d", tt.accept, tt.typ, v.mimeStars, tt.stars)
		}
	}
}

func TestListItems(t *testing.T) {
	got := strings.Join(listItems(` Trans ,, VLIST, "a, b" ,guess-small`), "|")
	if got != `trans|vlist|"a, b"|guess-small` {
		t.Errorf("listItems: %q", got)
	}
}
