// Package negotiation is mod_negotiation: type-map (.var) files, MultiViews
// variant discovery, Apache's selection algorithm over Accept,
// Accept-Language, Accept-Charset and Accept-Encoding, and the response
// headers (Vary, TCN, Content-Location, Alternates) and 300/406 bodies,
// with per-directory variant sets cached instead of rescanned per request.
package negotiation
