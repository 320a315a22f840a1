// Package request defines the state of one HTTP request as it moves through
// Plume's phases (Apache's request_rec): the URI and the file it maps to, the
// merged per-directory configuration, the environment, notes for the error
// log, and the outcome of each phase. Modules (access, negotiation, the
// serving core) read and write it; none of them owns it.
package request

import (
	"io/fs"
	"net/http"
	"net/netip"

	"plume/directives"
)

// Phase results, as Apache's hook return codes.
const (
	OK       = 0  // the phase handled the request
	Declined = -1 // the phase did not apply; try the next
	Done     = -2 // the response is complete
)

// Request is one request (or sub-request) in flight.
type Request struct {
	Method string
	// URI is the decoded, normalised path (r->uri); Args the raw query.
	URI      string
	Args     string
	Proto    string
	Header   http.Header // request headers
	Hostname string      // Host header, lowercased, port and trailing dot removed

	RemoteAddr netip.Addr // the client (r->useragent_addr)
	LocalAddr  netip.AddrPort

	Server *directives.Server // the selected (virtual) server
	// PerDir is the merged per-directory configuration for this request.
	PerDir directives.Vector

	// Filename is the filesystem path the URI maps to; PathInfo the
	// unmatched tail; Finfo the file's metadata (nil: no file).
	Filename string
	PathInfo string
	Finfo    fs.FileInfo
	// File is the file the walk opened and checked (symlink policy
	// included); handlers serve this descriptor, never a fresh open of
	// Filename, so there is no time-of-check/time-of-use gap. May be nil.
	File *File

	ContentType     string
	ContentLanguage []string
	ContentEncoding string
	Handler         string

	// Env is the subprocess environment (SetEnvIf, env=, ...); Notes are
	// per-request notes such as "error-notes".
	Env   map[string]string
	Notes map[string]string
	User  string

	// Main is the parent of a sub-request (nil for the main request).
	Main *Request
	// FSSynced is set once a walk of this client request has brought the
	// walk's caches up to date with the filesystem (drained inotify).
	// Sub-requests and internal redirects inherit it and their walks skip
	// that step: one drain per client request, and a change counts from
	// the next client request, as before.
	FSSynced bool
	// VListValidator is r->vlist_validator: the validator of the variant
	// list r was negotiated from ("" if none), folded into its ETag.
	VListValidator string

	// Out holds response headers; ErrOut headers also sent on errors.
	Out    http.Header
	ErrOut http.Header
	Status int

	// Log receives error-log lines for this request (module, level, AH
	// code and message). It may be nil.
	Log func(module, level, code, msg string)
}

// LogError writes an error-log line for the request if a logger is set.
func (r *Request) LogError(module, level, code, msg string) {
	if r.Log != nil {
		r.Log(module, level, code, msg)
	}
}

// IsSubRequest reports whether r is a sub-request.
func (r *Request) IsSubRequest() bool { return r.Main != nil }
