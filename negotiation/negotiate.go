package negotiation

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"plume/request"
)

// Host is what negotiation needs from the serving core.
type Host interface {
	// LookupVariant runs a GET sub-request of r for the file name in r's
	// directory (ap_sub_req_lookup_dirent for MultiViews entries,
	// ap_sub_req_lookup_file for type-map URIs, which may contain '/' and
	// "..": resolve them as Apache does and let access control decide):
	// the walk, access control, the type checkers (mod_mime, and
	// MultiViews again when that file is missing) and the fixups.
	LookupVariant(r *request.Request, name string) VariantInfo
}

// MemoHost is a Host that can reuse part of a variant's lookup while the
// variant's directory is unchanged. The Negotiator passes a Memo only for
// regular files (not symbolic links) of a directory an inotify watch
// covers; the Memo is dropped with the directory's cached listing (or
// type map) on any change in that directory. The host keeps there what
// depends on the file and the configuration alone (the walk's outcome,
// mod_mime's answer), never a request's access decision, and must notice
// a configuration change that the directory watch does not see (an
// .htaccess edit higher up) by keying on the request's merged config.
type MemoHost interface {
	Host
	LookupVariantMemo(r *request.Request, name string, memo *Memo) VariantInfo
}

// VariantInfo is the outcome of a variant's sub-request.
type VariantInfo struct {
	// Status is the sub-request's status: 200 when it passed every phase.
	Status int
	// Regular reports a regular file (r->finfo.filetype == APR_REG).
	Regular bool
	Size    int64
	// ContentType is what mod_mime set, parameters included
	// ("text/html; charset=utf-8"); "" when unknown.
	ContentType string
	Languages   []string
	// Encoding is the sub-request's Content-Encoding after its fixups
	// (FixEncoding re-spells x-gzip as the client asked).
	Encoding string
	Handler  string
	// Exceptions is mod_mime's "ap-mime-exceptions-list": the base name
	// then every extension mod_mime did not recognise, in order. nil when
	// mod_mime recognised no extension at all (the note is absent).
	Exceptions []string
	// Vary and TCN are the sub-request's own negotiation headers (its
	// ErrOut), present when the variant was itself negotiated.
	Vary string
	TCN  bool
	// Sub is the host's sub-request; it comes back in Result.Sub so the
	// host can promote it (ap_internal_fast_redirect) without a new lookup.
	Sub any
	// Pure (LookupVariantMemo only) reports an answer that depends on
	// nothing but the Memo's lifetime, the request's merged configuration
	// and server, its directory URI, the name and what else the outcome
	// key covers (Accept-Encoding, which re-spells the encoding): taken
	// from the Memo, with no access check run and nothing logged, because
	// the variant's configuration is the request's own. When every
	// variant's answer is Pure the negotiation's whole outcome is
	// memoised (outcome.go).
	Pure bool
}

// Result is the outcome of MultiViews or TypeMap.
type Result struct {
	// Status is request.OK, request.Declined, or an HTTP error status
	// (300, 403, 404, 406, 500, 506, ...) to answer with. On 300/406 the
	// variant list is in the "variant-list" note (see ErrorText).
	Status int
	// Variant is the chosen variant's name relative to the directory.
	Variant string
	// Sub (MultiViews) is the chosen variant's sub-request: the host
	// fast-redirects r to it, keeping r.ErrOut (Vary, TCN,
	// Content-Location), sets the sub-request's Args to r.Args when empty,
	// and does not send Last-Modified from r's own mtime.
	Sub any
	// SubContentType (MultiViews), when set, is the content type to give
	// Sub before promoting it: Apache types a variant that has a handler
	// but no type as application/x-httpd-cgi.
	SubContentType string
	// DirModTime (MultiViews) is the directory's modification time, the
	// source of Apache's variant list validator (set_vlist_validator on
	// a request whose missing file's finfo is its directory's).
	DirModTime time.Time
	// Redirect (TypeMap) is the URI to internally redirect to
	// (ap_internal_redirect): directory + variant + path info + ?args. The
	// redirected request keeps r.ErrOut, as Apache's does.
	Redirect string
	// Body (TypeMap, HasBody) is an inline "Body:" variant to send as is;
	// r.ContentType, ContentLanguage and ContentEncoding are already set.
	// Apache allows only GET and POST for it (405 otherwise, returned here).
	Body    []byte
	HasBody bool
	// NoCache (TypeMap) asks for "Expires: <now>" (r->no_cache): an
	// HTTP/1.0 client without CacheNegotiatedDocs. It survives the internal
	// redirect. MultiViews never sets it (Apache's fast redirect drops it).
	NoCache bool
}

// Negotiator is mod_negotiation bound to a host. It is safe for concurrent
// use; it caches directory listings and parsed type maps.
type Negotiator struct {
	host     Host
	memoHost MemoHost // host, when it can use a Memo
	dirs     *dirCache
	maps     *mapCache
	watch    DirWatcher
	onChange func(string)
	// outcomeHits counts MultiViews answered from the outcome memo.
	outcomeHits atomic.Uint64
}

// OutcomeHits is the number of MultiViews negotiations answered from the
// outcome memo (for tests and explain).
func (n *Negotiator) OutcomeHits() uint64 { return n.outcomeHits.Load() }

// New returns a Negotiator that runs sub-requests through host. Its caches
// are validated by a stat per use.
func New(host Host) *Negotiator { return NewWatched(host, nil) }

// NewWatched returns a Negotiator whose caches of the directories w
// watches are invalidated by w instead of being validated per use: a
// MultiViews request then makes no system call for the directory, and a
// MemoHost may skip the variants' walks. Directories w does not cover
// (WatchDir false) fall back to a stat per use.
func NewWatched(host Host, w DirWatcher) *Negotiator {
	n := &Negotiator{host: host, dirs: newDirCache(), maps: newMapCache(), watch: w}
	n.memoHost, _ = host.(MemoHost)
	n.onChange = n.Invalidate
	return n
}

// Invalidate drops cached knowledge of dir (a directory path) and the type
// maps in it: the DirWatcher calls it, and so may callers that learn of a
// change otherwise (the host, when the file it is about to serve is not
// the one a cached lookup described).
func (n *Negotiator) Invalidate(dir string) {
	if len(dir) > 1 {
		dir = strings.TrimSuffix(dir, "/")
	}
	n.dirs.invalidate(dir)
	n.maps.invalidateDir(dir)
}

// Watched reports whether the cache entry for path (a directory listed for
// MultiViews, or a type map) exists and is kept current by the
// DirWatcher rather than validated per use (for tests and explain).
func (n *Negotiator) Watched(path string) bool {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	n.dirs.mu.Lock()
	l := n.dirs.m[path]
	n.dirs.mu.Unlock()
	if l != nil {
		return l.watched
	}
	n.maps.mu.Lock()
	e := n.maps.m[path]
	n.maps.mu.Unlock()
	return e != nil && e.watched
}

// VariantListNote is the request note holding the HTML variant list of a
// 300/406 response (Apache's "variant-list").
const VariantListNote = "variant-list"

// dirOf is ap_make_dirstr_parent: everything up to and including the last
// '/'.
func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

func isGetOrHead(m string) bool { return m == http.MethodGet || m == http.MethodHead }

func logErr(r *request.Request, code, msg string) {
	r.LogError("negotiation", "error", code, msg)
}

// MultiViews is mod_negotiation's type checker (handle_multi). Call it when
// r.Filename does not exist (r.Finfo == nil) and Options MultiViews is in
// force, for main requests and sub-requests alike (mod_dir's index lookups
// rely on it). Declined means no variant exists: continue as without
// MultiViews.
func (n *Negotiator) MultiViews(r *request.Request) Result {
	if r.Finfo != nil || !filepath.IsAbs(r.Filename) {
		return Result{Status: request.Declined}
	}
	dirName := dirOf(r.Filename)
	dir := dirName
	if len(dir) > 1 {
		dir = strings.TrimSuffix(dir, "/")
	}
	l, err := n.dirs.list(dir, n.watch, n.onChange)
	if err != nil {
		logErr(r, "AH00686", "cannot read directory for multi: "+dirName)
		return Result{Status: http.StatusForbidden}
	}
	// The outcome memo (outcome.go): a watched listing, variants looked
	// up through the MemoHost, and no error headers yet to merge with.
	var keyBuf [256]byte
	var key []byte
	if l.memo != nil && n.memoHost != nil && len(r.ErrOut) == 0 {
		k, ok := appendOutcomeKey(keyBuf[:0], r, multiName(r.Filename))
		if ok {
			if o := l.memo.loadOutcome(k, r); o != nil {
				n.outcomeHits.Add(1)
				return o.replay(r)
			}
			key = k
		}
	}
	s := n.newState(r)
	if st := n.readTypesMulti(r, s, l); st != request.OK {
		return Result{Status: st}
	}
	if len(s.vars) == 0 {
		return Result{Status: request.Declined}
	}
	preferScripts := !isGetOrHead(r.Method) || r.Args != "" || r.PathInfo != ""
	best, res := n.doNegotiation(r, s, preferScripts)
	if res.Status != request.OK {
		return res
	}
	v := &s.vars[best]
	res.Variant = v.fileName
	res.DirModTime = s.dirMtime
	if v.info == nil {
		// From a type map found among the files: look the variant up now.
		info := n.lookupMapVariant(r, s, v.fileName)
		if info.Status != http.StatusOK {
			return Result{Status: info.Status}
		}
		v.info = &info
	} else if v.fromDir && v.info.Handler != "" && v.info.ContentType == "" {
		// read_types_multi typed the discovered sub-request.
		res.SubContentType = cgiMagicType
	}
	res.Sub = v.info.Sub
	// Apache sets r->no_cache here too, but ap_internal_fast_redirect
	// keeps it only if the variant's sub-request also had it, which it
	// never has: MultiViews responses carry no Expires.
	res.NoCache = false
	if key != nil && s.pure && !s.noted {
		l.memo.storeOutcome(key, newOutcome(r, &res))
	}
	return res
}

// multiName is the name MultiViews looks for: the last segment of the
// requested file ("" for a directory).
func multiName(filename string) string {
	if strings.HasSuffix(filename, "/") {
		return ""
	}
	return filepath.Base(filename)
}

// TypeMap is mod_negotiation's handler for type-map files (handle_map_file).
// Call it when r.Handler is "type-map" or "application/x-type-map".
func (n *Negotiator) TypeMap(r *request.Request) Result {
	cm, st := n.getMap(r, r.Filename, r.Filename, r.Finfo)
	if st != request.OK {
		return Result{Status: st}
	}
	// The outcome memo (outcome.go): a watched map that logs nothing,
	// its chosen variant looked up through the MemoHost.
	var keyBuf [256]byte
	var key []byte
	if cm.memo != nil && n.memoHost != nil && len(cm.tm.logs) == 0 && len(r.ErrOut) == 0 {
		k, ok := appendOutcomeKey(keyBuf[:0], r, "")
		if ok {
			if o := cm.memo.loadOutcome(k, r); o != nil {
				n.outcomeHits.Add(1)
				res := o.replay(r)
				res.Redirect = n.mapRedirect(r, res.Variant)
				return res
			}
			key = k
		}
	}
	s := n.newState(r)
	s.vars, s.memo = copyVariants(cm.tm.variants), cm.memo
	s.pure = key != nil
	best, res := n.doNegotiation(r, s, false)
	if res.Status != request.OK {
		return res
	}
	v := &s.vars[best]
	res.Variant = v.fileName
	if v.hasBody {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
			return Result{Status: http.StatusMethodNotAllowed}
		}
		if v.mimeType != "" {
			if v.charset != "" {
				r.ContentType = v.mimeType + "; charset=" + v.charset
			} else {
				r.ContentType = v.mimeType
			}
		}
		if len(v.languages) > 0 {
			r.ContentLanguage = append([]string(nil), v.languages...)
		}
		if v.encoding != "" {
			r.ContentEncoding = v.encoding
		}
		res.Body, res.HasBody = v.body, true
		return res
	}
	if key != nil && s.pure && !s.noted {
		cm.memo.storeOutcome(key, newOutcome(r, &res))
	}
	res.Redirect = n.mapRedirect(r, v.fileName)
	return res
}

// mapRedirect is the internal redirect of a type map to its variant
// name: the map's directory URI, the name, r's path info and query.
func (n *Negotiator) mapRedirect(r *request.Request, name string) string {
	uri := r.URI
	if r.PathInfo != "" {
		uri = strings.TrimSuffix(uri, r.PathInfo)
	}
	target := escapeURI(dirOf(uri)) + name + r.PathInfo
	if r.Args != "" {
		target += "?" + r.Args
	}
	return target
}

func (n *Negotiator) newState(r *request.Request) *state {
	h := r.Header
	if h == nil {
		h = http.Header{}
	}
	s := newState(h, dirConfig(r.PerDir), r.Env)
	s.dirName = dirOf(r.Filename)
	s.statSize = func(name string) int64 {
		// The file may be outside the watched directory, or a symbolic
		// link to one: its size is not covered by the Memo's lifetime.
		s.pure = false
		if fi, err := statFile(filepath.Join(s.dirName, name)); err == nil {
			return fi.Size()
		}
		return -1
	}
	return s
}

// readTypesMulti is read_types_multi: it fills s.vars from the directory
// listing l (or from a type map found there) and returns request.OK or an
// error status. s.pure tells whether every variant's answer was Pure.
func (n *Negotiator) readTypesMulti(r *request.Request, s *state, l *dirListing) int {
	filp := multiName(r.Filename)
	s.dirMtime = l.mtime
	s.pure = l.memo != nil && n.memoHost != nil
	anyMatch := false
	for i := range l.entries {
		e := &l.entries[i]
		if len(e.name) <= len(filp) || e.name[:len(filp)] != filp || e.name[len(filp)] != '.' {
			continue
		}
		if e.isDir() {
			continue
		}
		anyMatch = true
		var info VariantInfo
		if l.memo != nil && e.typ == dtReg && n.memoHost != nil {
			info = n.memoHost.LookupVariantMemo(r, e.name, l.memo)
		} else {
			info = n.host.LookupVariant(r, e.name)
		}
		s.pure = s.pure && info.Pure
		if !info.Regular {
			continue
		}
		ct := info.ContentType
		if info.Handler != "" && ct == "" {
			ct = cgiMagicType
		}
		if info.Exceptions == nil || !exceptionsCovered(filp, info.Exceptions) {
			continue
		}
		if info.Status != http.StatusOK || ct == "" {
			continue
		}
		if ct == mapFileMagicType || info.Handler == "type-map" {
			// A type map among the files replaces the listing (its
			// parse logs per request: no outcome memo).
			s.pure = false
			vars, memo, st := n.loadMap(r, s.dirName+e.name, r.Filename, nil)
			if st != request.OK {
				s.vars = nil
				return st
			}
			s.vars, s.memo = vars, memo
			s.countMultiviews = 0
			return request.OK
		}
		v := newVariant()
		inf := info
		v.info = &inf
		v.fromDir = true
		v.fileName = e.name
		v.encoding = info.Encoding
		if len(info.Languages) > 0 {
			v.languages = info.Languages
		}
		a, _ := getEntry(ct)
		v.setMimeFields(a)
		s.vars = append(s.vars, v)
		s.countMultiviews++
	}
	if anyMatch && len(s.vars) == 0 {
		logErr(r, "AH00687", "Negotiation: discovered file(s) matching request: "+r.Filename+" (None could be negotiated).")
		return http.StatusNotFound
	}
	slices.SortStableFunc(s.vars, func(a, b variant) int {
		if a.sourceQ != b.sourceQ {
			if a.sourceQ > b.sourceQ {
				return -1
			}
			return 1
		}
		return strings.Compare(a.fileName, b.fileName)
	})
	return request.OK
}

// exceptionsCovered reports whether the dot-separated segments of the
// requested name contain mod_mime's unrecognised parts in order.
func exceptionsCovered(filp string, exc []string) bool {
	k := 0
	seg := filp
	for len(seg) > 0 && k < len(exc) {
		part, rest, more := strings.Cut(seg, ".")
		if part == exc[k] {
			k++
		}
		if !more {
			break
		}
		seg = rest
	}
	return k == len(exc)
}

// loadMap reads a type map through the cache, replaying its log lines
// (which name logName, the request's file, as Apache does) and mapping a
// failure to a status.
func (n *Negotiator) loadMap(r *request.Request, path, logName string, fi fs.FileInfo) ([]variant, *Memo, int) {
	cm, st := n.getMap(r, path, logName, fi)
	if st != request.OK {
		return nil, nil, st
	}
	return copyVariants(cm.tm.variants), cm.memo, request.OK
}

// getMap is loadMap without the copy of the variants.
func (n *Negotiator) getMap(r *request.Request, path, logName string, fi fs.FileInfo) (*cachedMap, int) {
	cm, err := n.maps.get(path, fi, n.watch, n.onChange)
	if err != nil {
		logErr(r, "AH00683", "cannot access type map file: "+path)
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil, http.StatusNotFound
		}
		return nil, http.StatusForbidden
	}
	tm := cm.tm
	for _, l := range tm.logs {
		logErr(r, l.code, l.format(logName))
	}
	if tm.status != 0 {
		return nil, tm.status
	}
	return cm, request.OK
}

// copyVariants copies a cached map's variants, which a negotiation
// annotates.
func copyVariants(vs []variant) []variant {
	vars := make([]variant, len(vs))
	copy(vars, vs)
	return vars
}

// lookupMapVariant looks up a variant named in a type map: through the
// map's Memo when the name is a plain entry of the map's (watched)
// directory.
func (n *Negotiator) lookupMapVariant(r *request.Request, s *state, name string) VariantInfo {
	if s.memo != nil && n.memoHost != nil && name != "" && !strings.Contains(name, "/") && name != "." && name != ".." {
		info := n.memoHost.LookupVariantMemo(r, name, s.memo)
		s.pure = s.pure && info.Pure
		return info
	}
	s.pure = false
	return n.host.LookupVariant(r, name)
}

// doNegotiation is do_negotiation. It returns the chosen variant's index
// and a Result whose Status is request.OK or an error status.
func (n *Negotiator) doNegotiation(r *request.Request, s *state, preferScripts bool) (int, Result) {
	if isGetOrHead(r.Method) {
		s.isTransparent = r.PathInfo == ""
		for i := range s.vars {
			if strings.Contains(s.vars[i].fileName, "/") || s.vars[i].hasBody {
				s.isTransparent = false
			}
		}
	}
	if s.isTransparent {
		s.parseNegotiate(r.Header)
	} else {
		s.mayChoose = true
	}
	s.maybeAddDefaultAccepts(preferScripts)
	best, choice := s.bestMatch()
	if !choice {
		s.sendAlternates = true
		s.setNegHeaders(r, false)
		note := r
		if r.Main != nil {
			note = r.Main
		}
		if note.Notes == nil {
			note.Notes = map[string]string{}
		}
		note.Notes[VariantListNote] = s.variantList()
		s.noted = true
		if s.isTransparent && s.uaSupportsTrans {
			return -1, Result{Status: http.StatusMultipleChoices}
		}
		if best < 0 {
			logErr(r, "AH00690", "no acceptable variant: "+r.Filename)
			return -1, Result{Status: http.StatusNotAcceptable}
		}
	}
	if s.isTransparent {
		if st := n.setupChoiceResponse(r, s, &s.vars[best]); st != 0 {
			return -1, Result{Status: st}
		}
	} else {
		s.setNegHeaders(r, choice)
	}
	res := Result{Status: request.OK}
	if !cacheNegotiatedDocs(r.Server) && protoBefore11(r.Proto) && s.countMultiviews != 1 {
		res.NoCache = true
	}
	return best, res
}

func protoBefore11(p string) bool {
	return p == "HTTP/1.0" || p == "HTTP/0.9"
}

// setupChoiceResponse is setup_choice_response: refuses variants that
// negotiate themselves (506) and adds Content-Location and the negotiation
// headers.
func (n *Negotiator) setupChoiceResponse(r *request.Request, s *state, v *variant) int {
	if v.info == nil {
		info := n.lookupMapVariant(r, s, v.fileName)
		if info.Status != http.StatusOK && !info.TCN {
			return info.Status
		}
		v.info = &info
	}
	if s.isTransparent && v.info.TCN {
		return http.StatusVariantAlsoNegotiates
	}
	if v.info.Handler == "type-map" {
		return http.StatusVariantAlsoNegotiates
	}
	out := errOut(r)
	if v.info.Vary != "" {
		out.Set("Variant-Vary", v.info.Vary)
		out.Set("Vary", v.info.Vary)
	}
	out.Set("Content-Location", escapePathSegment(v.fileName))
	s.setNegHeaders(r, true)
	return 0
}

func errOut(r *request.Request) http.Header {
	if r.ErrOut == nil {
		r.ErrOut = http.Header{}
	}
	return r.ErrOut
}

// setNegHeaders is set_neg_headers: Alternates (when asked for), Vary for
// the dimensions in which the variants differ, and TCN.
func (s *state) setNegHeaders(r *request.Request, choice bool) {
	var varyType, varyLang, varyCharset, varyEnc bool
	var alt []string
	for i := range s.vars {
		v := &s.vars[i]
		lang := strings.Join(v.languages, ",")
		if i > 0 {
			f := &s.vars[0]
			varyType = varyType || f.mimeType != v.mimeType
			varyCharset = varyCharset || f.charset != v.charset
			varyLang = varyLang || strings.Join(f.languages, ",") != lang
			varyEnc = varyEnc || f.encoding != v.encoding
		}
		if !s.sendAlternates {
			continue
		}
		var b strings.Builder
		b.WriteString(`{"`)
		b.WriteString(escapePathSegment(v.fileName))
		b.WriteString(`" `)
		b.WriteString(formatQS(v.sourceQ))
		if v.mimeType != "" {
			b.WriteString(" {type " + v.mimeType + "}")
		}
		if v.charset != "" {
			b.WriteString(" {charset " + v.charset + "}")
		}
		if lang != "" {
			b.WriteString(" {language " + lang + "}")
		}
		if v.encoding != "" {
			b.WriteString(" {encoding " + v.encoding + "}")
		}
		if !(v.info != nil && v.info.Handler != "") {
			if l := s.contentLength(v); l >= 0 {
				b.WriteString(" {length " + strconv.FormatInt(l, 10) + "}")
			}
		}
		b.WriteString("}")
		alt = append(alt, b.String())
	}
	out := errOut(r)
	if s.sendAlternates && len(s.vars) > 0 {
		mergeHeader(out, "Alternates", strings.Join(alt, ", "))
	}
	var vary []string
	if s.isTransparent {
		vary = append(vary, "negotiate")
	}
	if varyType {
		vary = append(vary, "accept")
	}
	if varyLang {
		vary = append(vary, "accept-language")
	}
	if varyCharset {
		vary = append(vary, "accept-charset")
	}
	if varyEnc {
		vary = append(vary, "accept-encoding")
	}
	if len(vary) > 0 {
		addVary(out, vary)
	}
	if s.isTransparent {
		if choice {
			out.Set("TCN", "choice")
		} else {
			out.Set("TCN", "list")
		}
	}
}

// mergeHeader is apr_table_mergen: append to an existing value with ", ".
func mergeHeader(h http.Header, k, v string) {
	if old := h.Get(k); old != "" {
		v = old + ", " + v
	}
	h.Set(k, v)
}

// addVary merges tokens into Vary the way Apache's output does in the end
// (fixup_vary): unique field names, case-insensitively, joined by ','.
func addVary(h http.Header, tokens []string) {
	if len(h["Vary"]) == 0 {
		// The usual case: negotiation's own tokens, already unique.
		h["Vary"] = []string{strings.Join(tokens, ",")}
		return
	}
	var all []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			return
		}
		seen[strings.ToLower(t)] = true
		all = append(all, t)
	}
	for _, old := range h.Values("Vary") {
		for _, t := range strings.FieldsFunc(old, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			add(t)
		}
	}
	for _, t := range tokens {
		add(t)
	}
	h.Set("Vary", strings.Join(all, ","))
}

// formatQS prints a source quality as Alternates does: "%1.3f" in a
// 6-byte buffer, trailing zeros stripped.
func formatQS(q float32) string {
	b := []byte(fmt.Sprintf("%1.3f", float64(q)))
	if len(b) > 5 {
		b = b[:5]
	}
	if len(b) == 5 && b[4] == '0' {
		b = b[:4]
		if b[3] == '0' {
			b = b[:3]
			if b[2] == '0' {
				b = b[:1]
			}
		}
	}
	return string(b)
}

// variantList is make_variant_list.
func (s *state) variantList() string {
	var b strings.Builder
	b.WriteString("Available variants:\n<ul>\n")
	for i := range s.vars {
		v := &s.vars[i]
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a> %s", escapePathSegment(v.fileName), escapeHTML(v.fileName), v.description)
		if v.mimeType != "" {
			b.WriteString(", type " + v.mimeType)
		}
		if len(v.languages) > 0 {
			b.WriteString(", language " + strings.Join(v.languages, ","))
		}
		if v.charset != "" {
			b.WriteString(", charset " + v.charset)
		}
		if v.encoding != "" {
			b.WriteString(", encoding " + v.encoding)
		}
		b.WriteString("</li>\n")
	}
	b.WriteString("</ul>\n")
	return b.String()
}

// escapeHTML is ap_escape_html: < > & and " only.
func escapeHTML(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;", "\"", "&quot;").Replace(s)
}

// ErrorText is the status-specific part of Apache's error page for the
// statuses negotiation returns (ap_send_error_response's canned text), given
// the request's "variant-list" note. ok is false for other statuses.
func ErrorText(status int, variantList string) (text string, ok bool) {
	switch status {
	case http.StatusNotAcceptable:
		return "<p>An appropriate representation of the requested resource could not be found on this server.</p>\n" + variantList, true
	case http.StatusMultipleChoices:
		return variantList, true
	}
	return "", false
}

// FixEncoding is mod_negotiation's fixup (fix_encoding): it re-spells the
// response's Content-Encoding as the client spelled it in Accept-Encoding
// (gzip versus x-gzip).
func FixEncoding(r *request.Request) {
	r.ContentEncoding = RespellEncoding(r.ContentEncoding, r.Header)
}

// RespellEncoding is what FixEncoding makes of the encoding enc for a
// request with headers h.
func RespellEncoding(enc string, h http.Header) string {
	e, _ := respell(enc, h)
	return e
}

// EncodingNamed reports whether h's Accept-Encoding names enc in either
// spelling (gzip, x-gzip): then FixEncoding may have changed it, and what
// it was before cannot be told from what it is.
func EncodingNamed(enc string, h http.Header) bool {
	_, named := respell(enc, h)
	return named
}

func respell(enc string, h http.Header) (string, bool) {
	bare := strings.TrimPrefix(enc, "x-")
	if bare == "" || h == nil {
		return enc, false
	}
	vals := h["Accept-Encoding"]
	if len(vals) == 0 {
		return enc, false
	}
	recs, ok := parseHeaderLine(vals)
	if !ok {
		return enc, false
	}
	xenc := ""
	for _, a := range recs {
		if a.name == bare {
			return a.name, true
		}
		if strings.HasPrefix(a.name, "x-") && a.name[2:] == bare {
			xenc = a.name
		}
	}
	if xenc != "" {
		return xenc, true
	}
	return enc, false
}
