package server

import (
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"plume/config"
	"plume/directives"
	"plume/negotiation"
	"plume/request"
)

// negHost gives mod_negotiation its sub-requests: it finds the exchange a
// request belongs to and runs the lookup there.
type negHost struct {
	exchanges sync.Map // root *request.Request → *exchange
}

func rootOf(r *request.Request) *request.Request {
	for i := 0; r.Main != nil && i < 64; i++ {
		r = r.Main
	}
	return r
}

// LookupVariant implements negotiation.Host.
func (h *negHost) LookupVariant(r *request.Request, name string) negotiation.VariantInfo {
	v, ok := h.exchanges.Load(rootOf(r))
	if !ok {
		return negotiation.VariantInfo{Status: http.StatusInternalServerError}
	}
	x := v.(*exchange)
	sr := x.lookupDirent(r, name)
	// Variants are only looked at; the chosen one is looked up again,
	// its file kept, when it is served (multiViews).
	closeSub(sr)
	return variantInfo(sr)
}

func variantInfo(sr *request.Request) negotiation.VariantInfo {
	info := negotiation.VariantInfo{
		Status:      sr.Status,
		ContentType: sr.ContentType,
		Languages:   sr.ContentLanguage,
		Encoding:    sr.ContentEncoding,
		Handler:     sr.Handler,
		Vary:        sr.ErrOut.Get("Vary"),
		TCN:         sr.ErrOut.Get("TCN") != "",
		Sub:         sr,
	}
	if sr.Finfo != nil {
		info.Regular = sr.Finfo.Mode().IsRegular()
		info.Size = sr.Finfo.Size()
	}
	if _, ok := sr.Notes[NoteMimeExceptions]; ok {
		info.Exceptions = MimeExceptions(sr)
	}
	return info
}

// variantMemo is what a variant's lookup found that depends only on the
// file and the configuration: the walk's outcome and mod_mime's answer.
// It is valid for requests negotiated under the same merged configuration
// (perDir, kept here so that its address cannot be reused by a later
// one), server and directory URI, while the negotiation.Memo holding it
// lives (the directory is unchanged). Access control is never memoised.
type variantMemo struct {
	srv    *directives.Server
	perDir directives.Vector
	dirURI string

	vec        directives.Vector
	filename   string
	pathInfo   string
	finfo      fs.FileInfo
	env, notes map[string]string

	contentType string
	languages   []string
	encoding    string
	handler     string
	exceptions  []string
}

// maxMemosPerName bounds the configurations remembered per variant name.
const maxMemosPerName = 8

func sameVec(a, b directives.Vector) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// LookupVariantMemo implements negotiation.MemoHost: the variant's walk
// and mod_mime's answer come from memo when a request under the same
// configuration computed them; access control runs every time, as in
// Apache's sub-request.
func (h *negHost) LookupVariantMemo(r *request.Request, name string, memo *negotiation.Memo) negotiation.VariantInfo {
	v, ok := h.exchanges.Load(rootOf(r))
	if !ok {
		return negotiation.VariantInfo{Status: http.StatusInternalServerError}
	}
	x := v.(*exchange)
	dirURI := r.URI
	if i := strings.LastIndexByte(dirURI, '/'); i >= 0 {
		dirURI = dirURI[:i+1]
	}
	var list []*variantMemo
	if m, ok := memo.Load(name); ok {
		list = m.([]*variantMemo)
		for _, e := range list {
			if e.srv == r.Server && sameVec(e.perDir, r.PerDir) && e.dirURI == dirURI {
				return x.memoVariant(r, dirURI, name, e)
			}
		}
	}
	sr := x.lookupDirent(r, name)
	// A clean lookup of a regular file is remembered: it logged nothing
	// that a later request would miss (.htaccess warnings are logged once
	// per request tree, by the main request's walk of the same levels).
	// Its encoding must be mod_mime's own spelling: the sub-request's
	// fixups re-spelled it (gzip/x-gzip) for this client when its
	// Accept-Encoding names it, and then the original is unknown.
	if sr.Status == http.StatusOK && sr.File != nil && sr.Finfo != nil && sr.Finfo.Mode().IsRegular() &&
		(sr.ContentEncoding == "" || !negotiation.EncodingNamed(sr.ContentEncoding, r.Header)) {
		e := &variantMemo{srv: r.Server, perDir: r.PerDir, dirURI: dirURI,
			vec: sr.PerDir, filename: sr.Filename, pathInfo: sr.PathInfo, finfo: sr.Finfo, env: sr.Env, notes: sr.Notes,
			contentType: sr.ContentType, languages: sr.ContentLanguage, encoding: sr.ContentEncoding, handler: sr.Handler}
		if _, ok := sr.Notes[NoteMimeExceptions]; ok {
			e.exceptions = MimeExceptions(sr)
		}
		nl := make([]*variantMemo, 0, len(list)+1)
		if len(list) < maxMemosPerName {
			nl = append(nl, list...)
		}
		memo.Store(name, append(nl, e))
	}
	closeSub(sr)
	return variantInfo(sr)
}

// memoVariant is the sub-request of a memoised variant: the remembered
// walk, access control run afresh, the remembered type. It is only
// looked at (never served: multiViews looks the chosen variant up again),
// so it shares the memo's maps.
func (x *exchange) memoVariant(r *request.Request, dirURI, name string, e *variantMemo) negotiation.VariantInfo {
	if sameVec(e.vec, r.PerDir) {
		// The variant's configuration is r's own: Apache skips a
		// sub-request's access checks then (r passed them), and so
		// nothing here depends on the request: no sub-request at all.
		return negotiation.VariantInfo{Status: http.StatusOK, Regular: true, Size: e.finfo.Size(),
			ContentType: e.contentType, Languages: e.languages, Encoding: negotiation.RespellEncoding(e.encoding, r.Header), Handler: e.handler,
			Exceptions: e.exceptions, Sub: e, Pure: true}
	}
	sr := &request.Request{
		Method:     http.MethodGet,
		URI:        dirURI + name,
		Proto:      r.Proto,
		Header:     r.Header,
		RemoteAddr: r.RemoteAddr,
		LocalAddr:  r.LocalAddr,
		Server:     x.srv.Server,
		Main:       r,
		Hostname:   r.Hostname,
		User:       r.User,
		PerDir:     e.vec,
		Filename:   e.filename,
		PathInfo:   e.pathInfo,
		Finfo:      e.finfo,
		Env:        e.env,
		Notes:      e.notes,
		ErrOut:     http.Header{},
		Status:     http.StatusOK,
	}
	sr.Log = func(module, level, code, msg string) {
		x.log(sr, module, LevelOf(level), code, msg)
	}
	info := negotiation.VariantInfo{Regular: true, Size: e.finfo.Size(), Sub: sr}
	if st := x.g.checkAccess(sr); st != request.OK && st != request.Declined {
		info.Status = st
		sr.Status = st
		return info
	}
	// The sub-request's fixups re-spell the encoding for this client.
	enc := negotiation.RespellEncoding(e.encoding, r.Header)
	sr.ContentType, sr.ContentLanguage, sr.ContentEncoding, sr.Handler = e.contentType, e.languages, enc, e.handler
	info.Status = http.StatusOK
	info.ContentType, info.Languages, info.Encoding, info.Handler = e.contentType, e.languages, enc, e.handler
	info.Exceptions = e.exceptions
	return info
}

// sameFile reports whether two lookups saw the same version of a file.
func sameFile(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) || a.Mode() != b.Mode() {
		return false
	}
	sa, oka := a.Sys().(*syscall.Stat_t)
	sb, okb := b.Sys().(*syscall.Stat_t)
	if oka && okb {
		return sa.Ino == sb.Ino && sa.Dev == sb.Dev && sa.Ctim == sb.Ctim
	}
	return true
}

// multiViews runs mod_negotiation's type checker for r; typed reports
// that r now carries the chosen variant (mod_mime already ran on it).
func (x *exchange) multiViews(r *request.Request) (st int, typed bool) {
	neg := x.g.neg
	if neg == nil || r.Finfo != nil || config.AllowOptions(r.PerDir)&config.OptMulti == 0 {
		return request.Declined, false
	}
	// r's error headers before negotiation, to start again from them.
	var errOut http.Header
	if len(r.ErrOut) > 0 {
		errOut = r.ErrOut.Clone()
	}
	res := neg.MultiViews(r)
	var fresh *request.Request
	for retry := 0; res.Status == request.OK; retry++ {
		var chosenInfo fs.FileInfo
		switch c := res.Sub.(type) {
		case *request.Request:
			chosenInfo = c.Finfo
		case *variantMemo:
			chosenInfo = c.finfo
		default:
			return http.StatusInternalServerError, false
		}
		// The variants were only looked at (some through the memo): look
		// the chosen one up again, keeping its file to serve. A file
		// other than the one negotiated over means a change the
		// directory watch could not see (a directory above replaced, a
		// hard link written elsewhere): forget the directory and
		// negotiate again, once.
		fresh = x.lookupDirent(r, res.Variant)
		if retry > 0 || sameFile(chosenInfo, fresh.Finfo) {
			break
		}
		closeSub(fresh)
		neg.Invalidate(dirOfFile(r.Filename))
		if errOut != nil {
			r.ErrOut = errOut.Clone()
		} else {
			clear(r.ErrOut)
		}
		res = neg.MultiViews(r)
	}
	switch res.Status {
	case request.Declined:
		return request.Declined, false
	case request.OK:
		sr := fresh
		if sr.Status != http.StatusOK {
			closeSub(sr)
			return sr.Status, false
		}
		args := r.Args
		// set_vlist_validator(r, r): the list's validator is an mtime-only
		// tag of r's finfo, which for a missing file is its directory's.
		if !res.DirModTime.IsZero() {
			x.setVLV(r, vlistValidator(nil, res.DirModTime, x.start))
		} else if sr.Finfo != nil {
			x.setVLV(r, vlistValidator(nil, sr.Finfo.ModTime(), x.start))
		}
		// sr is dropped after the redirect: when r has no notes yet it
		// takes sr's map instead of copying it into a new one.
		if len(r.Notes) == 0 && sr.Notes != nil {
			r.Notes, sr.Notes = sr.Notes, r.Notes
		}
		fastRedirect(r, sr)
		r.Args = sr.Args
		if r.Args == "" {
			r.Args = args
		}
		return request.OK, true
	}
	return res.Status, false
}

// dirOfFile is the directory part of a file name, without the final '/'.
func dirOfFile(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// typeMapHandler is mod_negotiation's handler for .var files.
func (x *exchange) typeMapHandler(r *request.Request) int {
	neg := x.g.neg
	if neg == nil {
		return request.Declined
	}
	res := neg.TypeMap(r)
	if res.Status != request.OK {
		return res.Status
	}
	if r.Finfo != nil {
		x.setVLV(r, vlistValidator(r, r.Finfo.ModTime(), x.start))
	}
	if res.NoCache {
		r.ErrOut.Set("Expires", x.start.UTC().Format(http.TimeFormat))
	}
	if res.HasBody {
		h := x.rw.Header()
		for k, v := range r.ErrOut {
			h[k] = v
		}
		if ct := makeContentType(r, r.ContentType); ct != "" {
			h.Set("Content-Type", ct)
		}
		if len(r.ContentLanguage) > 0 {
			h.Set("Content-Language", strings.Join(r.ContentLanguage, ","))
		}
		if r.ContentEncoding != "" {
			h.Set("Content-Encoding", r.ContentEncoding)
		}
		h.Set("Content-Length", strconv.Itoa(len(res.Body)))
		x.rw.WriteHeader(http.StatusOK)
		x.rw.Write(res.Body)
		return request.Done
	}
	return x.internalRedirect(r, res.Redirect)
}

// internalRedirect is ap_internal_redirect: a new request for uri (with
// its query), the same method, r's error headers kept.
func (x *exchange) internalRedirect(r *request.Request, target string) int {
	if x.redirects >= 10 {
		x.log(r, "core", LevelError, "AH00124", "Request exceeded the limit of 10 internal redirects due to probable configuration error. Use 'LimitInternalRecursion' to increase the limit if necessary. Use 'LogLevel debug' to get a backtrace.")
		return http.StatusInternalServerError
	}
	x.redirects++
	uri, args, _ := strings.Cut(target, "?")
	nr := x.newRequest(r.Method, uri, args)
	nr.Hostname = r.Hostname
	nr.ErrOut = r.ErrOut
	nr.VListValidator = r.VListValidator
	for k, v := range r.Env {
		nr.Env["REDIRECT_"+k] = v
	}
	nr.Env["REDIRECT_STATUS"] = "200"
	x.last = nr
	x.track(nr)
	st := x.p.processRequest(x, nr, false)
	if st == request.OK {
		st = x.invokeHandler(nr)
	}
	if st != request.OK && st != request.Done {
		x.die(nr, st)
	}
	return request.Done
}

func (x *exchange) setVLV(r *request.Request, v string) {
	r.VListValidator = v
}

// vlistValidator is ap_make_etag for the source of a variant list: the
// map file (r) or, for MultiViews (r nil), an mtime-only tag.
func vlistValidator(r *request.Request, mtime, now time.Time) string {
	if r != nil && r.Finfo != nil {
		if e, ok := makeETag(r, r.Finfo, now); ok {
			return e
		}
	}
	// Built in one buffer: one allocation per negotiated request.
	var buf [24]byte
	b := buf[:0]
	if now.Sub(mtime) <= time.Second {
		b = append(b, "W/"...)
	}
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(mtime.UnixMicro()), 16)
	b = append(b, '"')
	return string(b)
}

// structuredETag is ap_set_etag with a variant list validator:
// "variant;vlv", weak as a whole when the validator is weak.
func structuredETag(etag, vlv string) string {
	if etag == "" || vlv == "" {
		return etag
	}
	weak := strings.HasPrefix(vlv, "W/")
	if weak && !strings.HasPrefix(etag, "W/") {
		etag = "W/" + etag
	}
	// Apache 2.4.71 sends this tag without its closing quote (observed);
	// Plume sends the same bytes.
	return strings.TrimSuffix(etag, "\"") + ";" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(vlv, "W/"), "\""), "\"")
}
