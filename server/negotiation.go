package server

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"plume/config"
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
	// Variants are only looked at; the chosen one is reopened when served.
	closeSub(sr)
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

// multiViews runs mod_negotiation's type checker for r; typed reports
// that r now carries the chosen variant (mod_mime already ran on it).
func (x *exchange) multiViews(r *request.Request) (st int, typed bool) {
	neg := x.g.neg
	if neg == nil || r.Finfo != nil || config.AllowOptions(r.PerDir)&config.OptMulti == 0 {
		return request.Declined, false
	}
	res := neg.MultiViews(r)
	switch res.Status {
	case request.Declined:
		return request.Declined, false
	case request.OK:
		sr, ok := res.Sub.(*request.Request)
		if !ok {
			return http.StatusInternalServerError, false
		}
		args := r.Args
		// set_vlist_validator(r, r): the list's validator is an mtime-only
		// tag (the requested file does not exist); Plume uses the chosen
		// variant's mtime.
		if sr.Finfo != nil {
			x.setVLV(r, vlistValidator(nil, sr.Finfo.ModTime(), x.start))
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
	if v, ok := x.vlv[r]; ok {
		x.setVLV(nr, v)
	}
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
	if x.vlv == nil {
		x.vlv = map[*request.Request]string{}
	}
	x.vlv[r] = v
}

// vlistValidator is ap_make_etag for the source of a variant list: the
// map file (r) or, for MultiViews (r nil), an mtime-only tag.
func vlistValidator(r *request.Request, mtime, now time.Time) string {
	if r != nil && r.Finfo != nil {
		if e, ok := makeETag(r, r.Finfo, now); ok {
			return e
		}
	}
	weak := ""
	if now.Sub(mtime) <= time.Second {
		weak = "W/"
	}
	return weak + "\"" + strconv.FormatUint(uint64(mtime.UnixMicro()), 16) + "\""
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
