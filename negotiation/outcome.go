package negotiation

import (
	"encoding/binary"
	"net/http"
	"strings"
	"time"
	"unsafe"

	"plume/directives"
	"plume/request"
)

// The outcome memo. A MultiViews negotiation over a watched directory
// (or a type map's, in a watched directory) whose every variant answer
// was Pure (see VariantInfo) and that stat'ed no file depends only on:
//
//   - the directory's content (the Memo lives as long as the listing or
//     the parsed map),
//   - the request's merged configuration and server (which decide the
//     variants' configuration, mod_mime's answer, LanguagePriority, ...),
//   - the directory URI (Location sections of the variants' URIs) and the
//     requested name,
//   - whether the method is GET/HEAD, whether there are a query string
//     or path info (transparency and the CGI preference), and whether
//     the protocol is before HTTP/1.1 (a type map's NoCache),
//   - the Accept, Accept-Language, Accept-Charset, Accept-Encoding and
//     Negotiate headers, and for "Negotiate: trans" whether User-Agent
//     starts with "Lynx",
//   - the prefer-language, no-gzip and gzip-only-text/html variables.
//
// So the whole outcome (the chosen variant and the headers negotiation
// set) is kept in the Memo under those, and a later request with the same
// ones skips the variant set, the qualities and the headers' assembly.
// Only clean outcomes are kept: a chosen variant (not 300/406, which also
// log and set a note; not a type map's inline body), no type map among
// a listing's files and no map that logs (its lines are logged per
// request), and negotiation starting from empty error headers. A type
// map's redirect target is rebuilt per request from its URI, path info
// and query.

// Bounds: a hostile client varying its headers can fill one directory's
// store, which is then emptied; a key longer than maxOutcomeKey (long
// headers) is not memoised at all.
const (
	maxOutcomes   = 32
	maxOutcomeKey = 1024
)

// outcome is a memoised MultiViews result.
type outcome struct {
	srv    *directives.Server
	perDir directives.Vector // kept so that its address cannot be reused

	variant        string
	noCache        bool
	sub            any
	subContentType string
	dirModTime     time.Time
	// header names and values negotiation set in r.ErrOut, in order.
	keys []string
	vals []string
}

func sameVec(a, b directives.Vector) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// appendKey appends to b everything but the configuration and server
// that r's negotiation depends on (see above). ok is false when the key
// would exceed maxOutcomeKey.
func appendOutcomeKey(b []byte, r *request.Request, name string) ([]byte, bool) {
	dirURI := r.URI
	if i := strings.LastIndexByte(dirURI, '/'); i >= 0 {
		dirURI = dirURI[:i+1]
	}
	b = appendStr(b, name)
	b = appendStr(b, dirURI)
	var flags byte
	if isGetOrHead(r.Method) {
		flags |= 1
	}
	if r.Args != "" {
		flags |= 2
	}
	if r.PathInfo != "" {
		flags |= 4
	}
	if protoBefore11(r.Proto) {
		flags |= 128 // a type map's NoCache
	}
	if _, ok := r.Env["no-gzip"]; ok {
		flags |= 8
	}
	if r.Env["gzip-only-text/html"] == "1" {
		flags |= 16
	}
	pl, hasPL := r.Env["prefer-language"]
	if hasPL {
		flags |= 32
	}
	h := r.Header
	neg := h["Negotiate"]
	if len(neg) > 0 && strings.HasPrefix(h.Get("User-Agent"), "Lynx") {
		flags |= 64
	}
	b = append(b, flags)
	if hasPL {
		b = appendStr(b, pl)
	}
	for _, vs := range [...][]string{h["Accept"], h["Accept-Language"], h["Accept-Charset"], h["Accept-Encoding"], neg} {
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			if len(b)+len(v) > maxOutcomeKey {
				return b, false
			}
			b = appendStr(b, v)
		}
	}
	return b, len(b) <= maxOutcomeKey
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// loadOutcome returns the outcome kept for key under r's configuration.
func (m *Memo) loadOutcome(key []byte, r *request.Request) *outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.outcomes[string(key)] {
		if o.srv == r.Server && sameVec(o.perDir, r.PerDir) {
			return o
		}
	}
	return nil
}

// storeOutcome keeps o for key.
func (m *Memo) storeOutcome(key []byte, o *outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.outcomes == nil || len(m.outcomes) >= maxOutcomes {
		m.outcomes = map[string][]*outcome{}
	}
	k := string(key)
	list := m.outcomes[k]
	if len(list) >= maxMemosPerKey {
		list = nil
	}
	m.outcomes[k] = append(list[:len(list):len(list)], o)
}

// maxMemosPerKey bounds the configurations remembered for one key.
const maxMemosPerKey = 4

// newOutcome records r's negotiation result and the headers it set in
// r.ErrOut (empty before).
func newOutcome(r *request.Request, res *Result) *outcome {
	o := &outcome{srv: r.Server, perDir: r.PerDir, variant: res.Variant, noCache: res.NoCache, sub: res.Sub,
		subContentType: res.SubContentType, dirModTime: res.DirModTime}
	for k, vs := range r.ErrOut {
		for _, v := range vs {
			o.keys = append(o.keys, k)
			o.vals = append(o.vals, v)
		}
	}
	return o
}

// replay gives r the memoised result: the same headers in r.ErrOut (each
// value its own slice, so that appending to one never reaches another
// request's) and the same Result.
func (o *outcome) replay(r *request.Request) Result {
	if len(o.keys) > 0 {
		if r.ErrOut == nil {
			r.ErrOut = make(http.Header, len(o.keys))
		}
		vals := make([]string, len(o.vals))
		copy(vals, o.vals)
		for i, k := range o.keys {
			if old := r.ErrOut[k]; old != nil {
				r.ErrOut[k] = append(old, vals[i])
			} else {
				r.ErrOut[k] = vals[i : i+1 : i+1]
			}
		}
	}
	return Result{Status: request.OK, Variant: o.variant, NoCache: o.noCache, Sub: o.sub,
		SubContentType: o.subContentType, DirModTime: o.dirModTime}
}
