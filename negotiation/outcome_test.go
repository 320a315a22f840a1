package negotiation

import (
	"net/http"
	"strings"
	"testing"

	"plume/request"
)

// TestOutcomeKey: every input the choice depends on changes the key, and
// what it does not depend on leaves it; an oversized key is refused.
func TestOutcomeKey(t *testing.T) {
	base := func() *request.Request {
		return &request.Request{Method: "GET", URI: "/d/doc", Header: http.Header{
			"Accept": {"text/html"}, "Accept-Language": {"fr"}, "User-Agent": {"curl"}, "Cookie": {"a=b"},
		}, Env: map[string]string{"other": "1"}}
	}
	key := func(r *request.Request, name string) string {
		k, ok := appendOutcomeKey(nil, r, name)
		if !ok {
			t.Fatalf("key refused")
		}
		return string(k)
	}
	ref := key(base(), "doc")
	for _, tt := range []struct {
		name  string
		edit  func(r *request.Request)
		vname string
		same  bool
	}{
		{"another name", func(r *request.Request) {}, "doc2", false},
		{"another directory URI", func(r *request.Request) { r.URI = "/e/doc" }, "doc", false},
		{"same directory, other name in URI", func(r *request.Request) { r.URI = "/d/x" }, "doc", true},
		{"POST", func(r *request.Request) { r.Method = "POST" }, "doc", false},
		{"HEAD is GET", func(r *request.Request) { r.Method = "HEAD" }, "doc", true},
		{"query string", func(r *request.Request) { r.Args = "a" }, "doc", false},
		{"path info", func(r *request.Request) { r.PathInfo = "/x" }, "doc", false},
		{"Accept", func(r *request.Request) { r.Header["Accept"] = []string{"text/plain"} }, "doc", false},
		{"Accept split in two lines", func(r *request.Request) { r.Header["Accept"] = []string{"text/html", ""} }, "doc", false},
		{"Accept-Language", func(r *request.Request) { r.Header["Accept-Language"] = []string{"en"} }, "doc", false},
		{"Accept-Charset", func(r *request.Request) { r.Header["Accept-Charset"] = []string{"utf-8"} }, "doc", false},
		{"Accept-Encoding", func(r *request.Request) { r.Header["Accept-Encoding"] = []string{"gzip"} }, "doc", false},
		{"Negotiate", func(r *request.Request) { r.Header["Negotiate"] = []string{"trans"} }, "doc", false},
		{"Lynx without Negotiate", func(r *request.Request) { r.Header["User-Agent"] = []string{"Lynx/2.8"} }, "doc", true},
		{"Cookie", func(r *request.Request) { r.Header["Cookie"] = []string{"c=d"} }, "doc", true},
		{"no-gzip", func(r *request.Request) { r.Env["no-gzip"] = "" }, "doc", false},
		{"gzip-only-text/html=1", func(r *request.Request) { r.Env["gzip-only-text/html"] = "1" }, "doc", false},
		{"gzip-only-text/html=0", func(r *request.Request) { r.Env["gzip-only-text/html"] = "0" }, "doc", true},
		{"prefer-language", func(r *request.Request) { r.Env["prefer-language"] = "de" }, "doc", false},
		{"another variable", func(r *request.Request) { r.Env["other"] = "2" }, "doc", true},
	} {
		r := base()
		tt.edit(r)
		if got := key(r, tt.vname) == ref; got != tt.same {
			t.Errorf("%s: same key %v, want %v", tt.name, got, tt.same)
		}
	}
	// Lynx matters with Negotiate: trans.
	a, b := base(), base()
	a.Header["Negotiate"], b.Header["Negotiate"] = []string{"trans"}, []string{"trans"}
	b.Header["User-Agent"] = []string{"Lynx/2.8"}
	if key(a, "doc") == key(b, "doc") {
		t.Error("Lynx with Negotiate: trans: same key")
	}
	r := base()
	r.Header["Accept"] = []string{strings.Repeat("x", maxOutcomeKey)}
	if _, ok := appendOutcomeKey(nil, r, "doc"); ok {
		t.Error("an oversized key was accepted")
	}
}

// TestOutcomeMemoBounded: a store filled by varying keys is emptied, not
// grown, and a replayed header slice is the request's own.
func TestOutcomeMemoBounded(t *testing.T) {
	var m Memo
	r := &request.Request{}
	for i := 0; i < 10*maxOutcomes; i++ {
		m.storeOutcome([]byte(strings.Repeat("k", i)), &outcome{keys: []string{"Vary"}, vals: []string{"accept"}})
		if len(m.outcomes) > maxOutcomes {
			t.Fatalf("%d outcomes kept", len(m.outcomes))
		}
	}
	o := m.loadOutcome([]byte(strings.Repeat("k", 10*maxOutcomes-1)), r)
	if o == nil {
		t.Fatal("the last outcome was dropped")
	}
	r1, r2 := &request.Request{}, &request.Request{}
	o.replay(r1)
	o.replay(r2)
	r1.ErrOut["Vary"] = append(r1.ErrOut["Vary"], "x")
	r1.ErrOut["Vary"][0] = "changed"
	if got := r2.ErrOut.Get("Vary"); got != "accept" {
		t.Errorf("another request's header changed: %q", got)
	}
}
