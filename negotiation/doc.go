// Package negotiation is mod_negotiation: type-map (.var) files, MultiViews
// variant discovery, Apache's selection algorithm over Accept,
// Accept-Language, Accept-Charset and Accept-Encoding (and RVSA/1.0 for
// "Negotiate: 1.0"), the response headers (Vary, TCN, Content-Location,
// Alternates) and the 300/406 variant lists, with directory listings and
// parsed type maps cached instead of re-read per request. It also registers
// the module's directives: LanguagePriority, ForceLanguagePriority and
// CacheNegotiatedDocs.
//
// The serving core provides a Host, which runs sub-requests (walk, access
// control, mod_mime), and calls three entry points:
//
//	neg := negotiation.NewWatched(host, walker) // or New(host): stat per use
//
//	// type_checker hook, first: the file does not exist and Options
//	// MultiViews is on (also for mod_dir's index sub-requests).
//	if r.Finfo == nil && multiViewsOn {
//		switch res := neg.MultiViews(r); res.Status {
//		case request.OK:
//			// fast-redirect r to res.Sub (r.ErrOut keeps Vary/TCN/...)
//		case request.Declined:
//			// carry on: mod_mime, then 404 from the handler
//		default:
//			// error response res.Status; for 300/406 the page text is
//			// negotiation.ErrorText(res.Status, r.Notes[negotiation.VariantListNote])
//		}
//	}
//
//	// handler for "type-map" / "application/x-type-map":
//	res := neg.TypeMap(r) // res.Redirect (internal redirect) or res.Body
//
//	// fixup: re-spell gzip/x-gzip as the client did.
//	negotiation.FixEncoding(r)
//
// Caching. negotiation.NewWatched(host, w) takes a DirWatcher (the walk's
// inotify watcher, *walk.Walker): a directory listing or a parsed type map
// of a watched directory is then used without any system call until w
// reports a change in that directory (the walk drains its events at the
// start of every request, so a change counts from the next request).
// Directories w cannot watch are validated by a stat per use, as with
// New. A host that also implements MemoHost gets, for the regular files
// of a watched directory, a Memo that lives as long as the cached listing
// (or map): there it keeps each variant's walk and mod_mime answer, so
// that a MultiViews request walks only the variant it serves. Access
// control is never memoised. When every variant's answer came from the
// Memo untouched by the request (VariantInfo.Pure: the variant's
// configuration is the request's own, so Apache runs no access check
// for it), the whole outcome (chosen variant, Vary, TCN,
// Content-Location, Alternates) is memoised too, keyed on the request's
// configuration, server, directory URI, name, method class, query/path
// info, protocol class, the Accept* and Negotiate headers and the
// prefer-language/no-gzip/gzip-only-text/html variables (outcome.go); a
// steady-state request then negotiates nothing. The chosen variant is
// looked up afresh by the host to be served (its walk, symlink policy
// and access control run per request), which also catches what a watch
// cannot see (a directory above replaced): then the host calls
// Invalidate and negotiates again.
//
// Result.NoCache asks for "Expires: <now>" (HTTP/1.0 clients). Headers are
// set in r.ErrOut, as Apache sets them in err_headers_out, so they survive
// error responses; Vary is already in the ','-joined form Apache sends.
package negotiation
