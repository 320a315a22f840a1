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
//	neg := negotiation.New(host)
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
// Result.NoCache asks for "Expires: <now>" (HTTP/1.0 clients). Headers are
// set in r.ErrOut, as Apache sets them in err_headers_out, so they survive
// error responses; Vary is already in the ','-joined form Apache sends.
package negotiation
