package server

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"plume/config"
	"plume/directives"
	"plume/http1"
	"plume/negotiation"
	"plume/request"
)

// Pipeline runs requests through the phases of one configuration
// generation, in Apache's order (ap_process_request_internal): URI
// normalisation and unescaping, translation (mod_alias, DocumentRoot),
// the request walk, access control, type checking (negotiation, mod_mime),
// fixups (ForceType/SetHandler, mod_alias per-directory redirects, mod_dir)
// and the handler.
type Pipeline struct {
	g *generation
}

// ResponseWriter is the response side of a request: it remembers the
// status and counts body bytes for the access log, and keeps net/http's
// sendfile path (ReadFrom) reachable.
type ResponseWriter struct {
	w           http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	headerOnly  bool
}

// Header is the response header map.
func (rw *ResponseWriter) Header() http.Header { return rw.w.Header() }

// WriteHeader sends the status line and headers.
func (rw *ResponseWriter) WriteHeader(code int) {
	if rw.wroteHeader {
		return
	}
	rw.wroteHeader = true
	rw.status = code
	rw.w.WriteHeader(code)
}

// Write writes body bytes (discarded for HEAD by net/http).
func (rw *ResponseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.headerOnly {
		return len(p), nil
	}
	n, err := rw.w.Write(p)
	rw.bytes += int64(n)
	return n, err
}

// ReadFrom copies from src, letting net/http use sendfile for files.
func (rw *ResponseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.headerOnly {
		return 0, nil
	}
	n, err := io.Copy(rw.w, src)
	rw.bytes += n
	return n, err
}

// writerOnly hides ReadFrom so a copy goes through a buffer (EnableSendfile Off).
type writerOnly struct{ io.Writer }

// exchange is one client request/response, across internal redirects.
type exchange struct {
	p      *Pipeline
	g      *generation
	rw     *ResponseWriter
	hr     *http.Request
	conn   *connState
	first  *request.Request // the request as received (%r, %<s)
	last   *request.Request // after internal redirects (%>s)
	srv    *config.Server
	start  time.Time
	elog   *ErrorLogger
	client string // "ip:port" for the error log
	// hostPort is the port of the Host header ("" if none).
	hostPort  string
	redirects int
	// lastErrorStatus is the error being answered (for REDIRECT_STATUS).
	// tracked are the exchange's top-level requests (the first and any
	// internal redirects), registered for negotiation's sub-requests.
	tracked []*request.Request
	// sentBefore is the connection's byte count when the request began.
	sentBefore int64
	// errorStatus is the status an ErrorDocument page is sent with.
	errorStatus int
}

// knownMethods are the methods Apache registers; others are 501 (AH00135)
// unless the configuration registered them (<Limit FOO>), which
// config.MethodNumber knows.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "POST": true, "DELETE": true, "CONNECT": true,
	"OPTIONS": true, "TRACE": true, "PATCH": true, "PROPFIND": true, "PROPPATCH": true,
	"MKCOL": true, "COPY": true, "MOVE": true, "LOCK": true, "UNLOCK": true,
	"VERSION-CONTROL": true, "CHECKOUT": true, "UNCHECKOUT": true, "CHECKIN": true,
	"UPDATE": true, "LABEL": true, "REPORT": true, "MKWORKSPACE": true, "MKACTIVITY": true,
	"BASELINE-CONTROL": true, "MERGE": true,
}

// allowHeader is make_allow's value for the core handlers (Apache prints
// the methods in hash order, which varies between processes).
const allowHeader = "GET,POST,OPTIONS,HEAD,TRACE"

func (s *Server) serveHTTP(w http.ResponseWriter, hr *http.Request) {
	g := s.gen.Load()
	g.pipeline.serve(w, hr)
}

// ServeHTTP makes a Pipeline an http.Handler (tests use it directly).
func (p *Pipeline) ServeHTTP(w http.ResponseWriter, hr *http.Request) { p.serve(w, hr) }

func (p *Pipeline) serve(w http.ResponseWriter, hr *http.Request) {
	g := p.g
	defer func() {
		// A bug in a phase must cost one request, never the server.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			g.errorLog(g.cfg.Main.Server).Log("core", LevelCrit, hr.RemoteAddr, "", fmt.Sprintf("internal error serving %s: %v", hr.RequestURI, v))
			w.Header().Set("Connection", "close")
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		}
	}()
	x := &exchange{p: p, g: g, hr: hr, start: time.Now(),
		// An HTTP/0.9 HEAD (Unsafe) gets the body: Apache drops it only
		// in the header filter, which assbackwards requests skip.
		rw: &ResponseWriter{w: w, headerOnly: hr.Method == http.MethodHead && !http1.HTTP09(hr)}}
	st, _ := hr.Context().Value(connKey{}).(*connState)
	if st == nil {
		st = &connState{}
		if ap, err := netip.ParseAddrPort(hr.RemoteAddr); err == nil {
			st.remote = ap
		}
		if la, ok := hr.Context().Value(http.LocalAddrContextKey).(interface{ String() string }); ok {
			if ap, err := netip.ParseAddrPort(la.String()); err == nil {
				st.local = ap
			}
		}
	}
	x.conn = st
	if st.counter != nil {
		x.sentBefore = st.counter.written.Load()
	}
	n := st.requests.Add(1)
	// A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; Apache
	// logs them as IPv4.
	x.client = netip.AddrPortFrom(st.remote.Addr().Unmap(), st.remote.Port()).String()
	h := w.Header()
	h.Set("Server", g.banner)
	if max := g.mainCore.MaxKeepAliveRequests; (g.mainCore.maxKASet && max > 0 && n > int64(max)) || (!g.mainCore.maxKASet && n > 100) {
		h.Set("Connection", "close")
	}

	hostName, hostPort, okHost := fixHostname(hr.Host, !http1.Protocol(hr).Unsafe)
	x.hostPort = hostPort
	x.srv = g.vhosts.selectServer(st.local, hostName)
	x.elog = g.errorLog(x.srv.Server)

	r := x.newRequest(hr.Method, "", "")
	r.Hostname = hostName
	x.first, x.last = r, r
	x.track(r)
	defer x.untrackAll()
	defer x.logAccess()

	// A request the connection layer refused while reading it (request
	// line, header fields, framing) is answered here, as ap_read_request
	// hands it to ap_die: the standard page or the server's ErrorDocument.
	if perr := http1.ParseError(hr); perr != nil {
		if perr.Silent {
			// Nothing is sent (the connection layer discards it); the
			// access log still records the request, as Apache's.
			r.Status = perr.Status
			x.rw.status = perr.Status
			return
		}
		if perr.Code != "" || perr.Msg != "" {
			x.log(r, "core", LevelOf(perr.Level), perr.Code, perr.Msg)
		}
		if perr.Note != "" {
			r.Notes["error-notes"] = perr.Note
		}
		x.die(r, perr.Status)
		return
	}
	if http1.MustClose(hr) {
		// AP_CONN_CLOSE (Transfer-Encoding with Content-Length):
		// ap_discard_request_body reads nothing on such a connection.
		hr.Body = http.NoBody
	}
	if !knownMethods[hr.Method] && config.MethodNumber(hr.Method) < 0 {
		x.log(r, "core", LevelError, "AH00135", "Invalid method in request "+requestLine(hr))
		h.Set("Connection", "close")
		x.die(r, http.StatusNotImplemented)
		return
	}
	if hr.Host == "" && hr.ProtoAtLeast(1, 1) {
		x.log(r, "core", LevelDebug, "AH00569", "client sent HTTP/1.1 request without hostname (see RFC2616 section 14.23): "+hr.URL.Path)
		x.die(r, http.StatusBadRequest)
		return
	}
	if !okHost {
		x.log(r, "core", LevelDebug, "AH00550", "Client sent malformed Host header: "+hr.Host)
		x.die(r, http.StatusBadRequest)
		return
	}
	raw := hr.RequestURI
	if raw == "*" {
		if hr.Method == http.MethodOptions {
			h.Set("Content-Length", "0")
			h["Content-Type"] = nil
			x.rw.WriteHeader(http.StatusOK)
			return
		}
		x.die(r, http.StatusBadRequest)
		return
	}
	if hr.Method == http.MethodConnect && !strings.HasPrefix(raw, "/") {
		// CONNECT host:port has no path: nothing to walk or translate.
		// Without mod_proxy Apache's core handler refuses the method.
		h.Set("Allow", allowHeader)
		x.die(r, http.StatusMethodNotAllowed)
		return
	}
	if i := strings.Index(raw, "://"); i >= 0 && !strings.HasPrefix(raw, "/") {
		rest := raw[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			raw = rest[j:]
		} else {
			raw = "/"
		}
	}
	path, args, _ := strings.Cut(raw, "?")
	r.Args = args
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	cs := directives.DirOf(x.srv.Config, coreModule, &CoreServer{})
	norm, ok := normalizePath(path, cs.MergeSlashes != Off)
	r.URI = path
	if !ok {
		x.log(r, "core", LevelError, "AH10244", "invalid URI path ("+path+")")
		x.die(r, http.StatusBadRequest)
		return
	}
	dec, status := unescapeURL(norm, cs.AllowEncodedSlashes >= 2, cs.AllowEncodedSlashes == 3)
	if status == 404 {
		x.log(r, "core", LevelInfo, "AH00026", "found %2f (encoded '/') in URI path ("+norm+"), returning 404")
		r.URI = norm
		x.die(r, http.StatusNotFound)
		return
	}
	if status == 400 {
		x.log(r, "core", LevelError, "AH10244", "invalid URI path ("+path+")")
		x.die(r, http.StatusBadRequest)
		return
	}
	r.URI = dec
	if hr.Method == http.MethodTrace {
		if cs.TraceEnable == traceOff {
			// ap_send_http_trace: 405 with an empty Allow, as Apache sends.
			x.sendErrorPage(r, http.StatusMethodNotAllowed, "", 0)
			return
		}
		x.trace(r)
		return
	}
	x.run(r)
}

// requestLine is the_request: the line as received when the connection
// layer has it (a malformed line is logged as sent), else rebuilt.
func requestLine(hr *http.Request) string {
	if l, ok := http1.RequestLine(hr); ok {
		if l == "" {
			// No request line (a timeout in the middle of it): Apache
			// logs "-".
			return "-"
		}
		return l
	}
	if hr.ProtoMajor == 0 {
		return hr.Method + " " + hr.RequestURI
	}
	return hr.Method + " " + hr.RequestURI + " " + hr.Proto
}

// newRequest makes a request record for the exchange's connection.
func (x *exchange) newRequest(method, uri, args string) *request.Request {
	r := x.newRecord(method, uri, args)
	r.Env = map[string]string{}
	r.Notes = map[string]string{}
	r.Out = http.Header{}
	r.ErrOut = http.Header{}
	r.Log = func(module, level, code, msg string) {
		x.log(r, module, LevelOf(level), code, msg)
	}
	return r
}

// newRecord is newRequest without the Log function and the maps, for
// lookupDirent: its sub-request sets its own Log, and most of its maps
// stay empty (walk.Result.Apply and findContentType make Env and Notes
// when they have something to put there, nothing on that path writes Out).
func (x *exchange) newRecord(method, uri, args string) *request.Request {
	r := &request.Request{
		Method:     method,
		URI:        uri,
		Args:       args,
		Proto:      x.hr.Proto,
		Header:     x.hr.Header,
		RemoteAddr: x.conn.remote.Addr().Unmap(),
		LocalAddr:  x.conn.local,
		Server:     x.srv.Server,
		PerDir:     x.srv.Defaults,
		Status:     http.StatusOK,
	}
	if x.first != nil {
		r.Hostname = x.first.Hostname
		// A sub-request or internal redirect: x.last is the current
		// top-level request, whose walk (if it ran) synced the caches.
		r.FSSynced = x.last.FSSynced
	}
	return r
}

func (x *exchange) log(r *request.Request, module string, level int, code, msg string) {
	if level < 0 {
		level = LevelError
	}
	var levels *LogLevels
	if r != nil && r.PerDir != nil {
		levels = coreDirOf(r).LogLevel
	}
	x.elog.LogAt(levels, module, level, x.client, code, msg)
}

// run processes a (main or internally redirected) request and answers it.
func (x *exchange) run(r *request.Request) {
	st := x.p.processRequest(x, r, false)
	if st == request.OK {
		st = x.invokeHandler(r)
	}
	if st != request.OK && st != request.Done {
		x.die(r, st)
	}
}

// processRequest is ap_process_request_internal without the handler. For a
// sub-request it returns OK or the status the sub-request would answer.
func (p *Pipeline) processRequest(x *exchange, r *request.Request, sub bool) int {
	g := p.g
	if st := translate(r, x); st != request.OK && st != request.Declined {
		return st
	}
	r.PerDir = x.srv.Defaults
	if g.walker != nil {
		if st := g.walker.Walk(r); st != request.OK && st != request.Declined {
			return st
		}
	} else if st := statOnly(r); st != request.OK {
		return st
	}
	if st := g.checkAccess(r); st != request.OK && st != request.Declined {
		return st
	}
	st, typed := x.multiViews(r)
	if st != request.OK && st != request.Declined {
		return st
	}
	for _, tc := range g.hooks.TypeCheckers {
		if typed {
			break
		}
		st := tc(r)
		if st == request.OK {
			typed = true
			break
		}
		if st != request.Declined {
			return st
		}
	}
	if !typed {
		findContentType(r, g.types)
	}
	// Fixups: core_override_type (REALLY_FIRST), mod_alias, mod_dir (LAST).
	overrideType(r)
	negotiation.FixEncoding(r)
	if st := aliasFixup(r, x); st != request.OK && st != request.Declined {
		return st
	}
	if st := dirFixup(r, x, sub); st != request.OK && st != request.Declined {
		return st
	}
	return request.OK
}

var defaultCoreDir = CoreDir{}

func coreDirOf(r *request.Request) *CoreDir {
	return directives.DirOf(r.PerDir, coreModule, &defaultCoreDir)
}

// overrideType is core_override_type: ForceType and SetHandler win over
// mod_mime ("none" cancels an inherited value).
func overrideType(r *request.Request) {
	d := coreDirOf(r)
	if d.ForceType != "" && d.ForceType != "none" {
		r.ContentType = d.ForceType
	}
	if d.Handler != "" && d.Handler != "none" {
		r.Handler = d.Handler
	}
}

// handlerName is what ap_invoke_handler dispatches on: the handler, else
// the content type without parameters.
func handlerName(r *request.Request) string {
	if r.Handler != "" {
		return r.Handler
	}
	ct := r.ContentType
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	return strings.ToLower(ct)
}

// invokeHandler runs the handler chain.
func (x *exchange) invokeHandler(r *request.Request) int {
	name := handlerName(r)
	if h, ok := x.g.hooks.Handlers[name]; ok {
		if st := h(r, x.rw); st != request.Declined {
			return st
		}
	}
	if name == "type-map" || name == "application/x-type-map" {
		if st := x.typeMapHandler(r); st != request.Declined {
			return st
		}
	}
	if name == DirMagicType {
		if st := x.autoindex(r); st != request.Declined {
			return st
		}
	}
	return x.defaultHandler(r)
}

// subRequest makes a sub-request of r for uri ("" args keep none).
func (x *exchange) subRequest(r *request.Request, method, uri, args string) *request.Request {
	sr := x.newRequest(method, uri, args)
	inherit(sr, r)
	return sr
}

// inherit gives sub-request sr what it takes from its parent r.
func inherit(sr, r *request.Request) {
	sr.Main = r
	sr.Header = r.Header
	sr.Hostname = r.Hostname
	sr.User = r.User
}

// LookupURI runs a sub-request for uri through every phase but the
// handler (ap_sub_req_lookup_uri); Status holds 200 or the error status.
func (x *exchange) lookupURI(r *request.Request, uri, args string) *request.Request {
	if !strings.HasPrefix(uri, "/") {
		dir := r.URI
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			dir = dir[:i+1]
		}
		uri = dir + uri
	}
	if n, ok := normalizePath(uri, true); ok {
		uri = n
	}
	sr := x.subRequest(r, "GET", uri, args)
	st := x.p.processRequest(x, sr, true)
	if st == request.OK || st == request.Declined {
		sr.Status = http.StatusOK
	} else {
		sr.Status = st
	}
	return sr
}

// lookupDirent is ap_sub_req_lookup_dirent: a sub-request for one entry
// of r's directory, mapped straight to the file (no translation).
func (x *exchange) lookupDirent(r *request.Request, name string) *request.Request {
	dirURI := r.URI
	if i := strings.LastIndexByte(dirURI, '/'); i >= 0 {
		dirURI = dirURI[:i+1]
	}
	dir := r.Filename
	if r.Finfo == nil || !r.Finfo.IsDir() {
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			dir = dir[:i+1]
		}
	} else if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	// The URI and the file name from one allocation.
	both := dirURI + name + dir + name
	sr := x.newRecord("GET", both[:len(dirURI)+len(name)], "")
	inherit(sr, r)
	// ErrOut is written by access control (WWW-Authenticate).
	sr.ErrOut = http.Header{}
	sr.Filename = both[len(dirURI)+len(name):]
	sr.PerDir = x.srv.Defaults
	sr.Log = func(module, level, code, msg string) {
		if code == "AH00037" && strings.HasSuffix(msg, ": "+sr.Filename) {
			code = direntSymlinkCode(sr.Filename)
		}
		x.log(sr, module, LevelOf(level), code, msg)
	}
	st := request.OK
	if x.g.walker != nil {
		st = x.g.walker.Walk(sr)
	} else {
		st = statOnly(sr)
	}
	if st == request.OK || st == request.Declined {
		st = x.g.checkAccess(sr)
	}
	if st == request.OK || st == request.Declined {
		findContentType(sr, x.g.types)
		overrideType(sr)
		sr.Status = http.StatusOK
	} else {
		sr.Status = st
	}
	return sr
}

// fastRedirect is ap_internal_fast_redirect: r takes over the result of
// the sub-request (file, config, type) while keeping its own URI.
func fastRedirect(r, sr *request.Request) {
	r.Filename = sr.Filename
	r.PathInfo = sr.PathInfo
	r.Finfo = sr.Finfo
	if r.File != nil && r.File != sr.File {
		r.File.Close()
	}
	r.File = sr.File
	r.PerDir = sr.PerDir
	r.ContentType = sr.ContentType
	r.ContentLanguage = sr.ContentLanguage
	r.ContentEncoding = sr.ContentEncoding
	r.Handler = sr.Handler
	for k, v := range sr.Out {
		r.Out[k] = v
	}
	for k, v := range sr.ErrOut {
		r.ErrOut[k] = v
	}
	for k, v := range sr.Notes {
		r.Notes[k] = v
	}
	for k, v := range sr.Env {
		r.Env[k] = v
	}
	r.URI = sr.URI
}

// closeSub releases a sub-request's file when its result is not used.
func closeSub(sr *request.Request) {
	if sr != nil && sr.File != nil {
		sr.File.Close()
		sr.File = nil
	}
}

// serverName is ap_get_server_name.
func (x *exchange) serverName(r *request.Request) string {
	if coreDirOf(r).UseCanonicalName != On && r.Hostname != "" {
		return r.Hostname
	}
	if x.srv.Name != "" {
		return x.srv.Name
	}
	if x.g.cfg.Main.Name != "" {
		return x.g.cfg.Main.Name
	}
	return x.conn.local.Addr().Unmap().String()
}

// serverPort is ap_get_server_port.
func (x *exchange) serverPort(r *request.Request) int {
	if coreDirOf(r).UseCanonicalName == On {
		if x.srv.Port != 0 {
			return x.srv.Port
		}
	} else if x.hostPort != "" {
		if n, err := strconv.Atoi(x.hostPort); err == nil {
			return n
		}
	}
	if p := x.conn.local.Port(); p != 0 {
		return int(p)
	}
	if x.srv.Port != 0 {
		return x.srv.Port
	}
	return 80
}

// constructURL is ap_construct_url for this server.
func (x *exchange) constructURL(r *request.Request, uri string) string {
	host := x.serverName(r)
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	port := x.serverPort(r)
	if coreDirOf(r).UseCanonicalName != On && r.Hostname != "" && x.hostPort == "" {
		// The client named the host without a port: Debian's 2.4.71 then
		// builds self-referential URLs with the default port (observed:
		// conformance case static/vhosts), not the connection's.
		port = 80
	}
	if port != 80 {
		host += ":" + strconv.Itoa(port)
	}
	return "http://" + host + uri
}

// signature is ap_psignature("<hr>\n", r).
func (x *exchange) signature(r *request.Request) string {
	d := coreDirOf(r)
	if d.ServerSignature != SigOn && d.ServerSignature != SigEmail {
		return ""
	}
	port := strconv.Itoa(x.serverPort(r))
	name := escapeHTML(x.serverName(r))
	if d.ServerSignature == SigEmail {
		admin := x.srv.ServerAdmin
		if admin == "" {
			admin = x.g.cfg.Main.ServerAdmin
		}
		if admin == "" {
			admin = "[no address given]"
		}
		mailto := "mailto:"
		if isAbsoluteURL(admin) {
			mailto = ""
		}
		return "<hr>\n<address>" + x.g.banner + " Server at <a href=\"" + mailto + escapeHTML(admin) + "\">" + name + "</a> Port " + port + "</address>\n"
	}
	return "<hr>\n<address>" + x.g.banner + " Server at " + name + " Port " + port + "</address>\n"
}

// dropsConnection is ap_status_drops_connection.
func dropsConnection(code int) bool {
	switch code {
	case 400, 408, 411, 413, 414, 500, 501, 503:
		return true
	}
	return false
}

// die is ap_die: answer r with an error status, through ErrorDocument
// when one is configured.
func (x *exchange) die(r *request.Request, code int) {
	x.dieRecursive(r, code, 0)
}

func (x *exchange) dieRecursive(r *request.Request, code, recursive int) {
	if x.rw.wroteHeader {
		return
	}
	r.Status = code
	h := x.rw.Header()
	if dropsConnection(code) {
		h.Set("Connection", "close")
	}
	if recursive == 0 && code != http.StatusNotModified && code != http.StatusNoContent {
		if doc, ok := coreDirOf(r).ErrorDocs[code]; ok && doc != "default" {
			switch {
			case strings.HasPrefix(doc, "\""):
				x.sendErrorPage(r, code, doc[1:], 0)
				return
			case strings.HasPrefix(doc, "/") && x.redirects < 10:
				x.errorDocumentRedirect(r, code, doc)
				return
			case isAbsoluteURL(doc):
				if code != http.StatusUnauthorized {
					r.Out.Set("Location", doc)
					x.sendErrorPage(r, http.StatusFound, "", 0)
					return
				}
			}
		}
	}
	x.sendErrorPage(r, code, "", recursive)
}

// errorDocumentRedirect is the internal redirect of ap_die to a local
// ErrorDocument: a GET (unless HEAD) for the document, answered with the
// original status and REDIRECT_* variables.
func (x *exchange) errorDocumentRedirect(r *request.Request, code int, doc string) {
	x.redirects++
	uri, args, _ := strings.Cut(doc, "?")
	method := r.Method
	if method != http.MethodGet && method != http.MethodHead {
		method = http.MethodGet
	}
	nr := x.newRequest(method, uri, args)
	nr.Hostname = r.Hostname
	for k, v := range r.Env {
		nr.Env["REDIRECT_"+k] = v
	}
	nr.Env["REDIRECT_STATUS"] = strconv.Itoa(code)
	nr.Env["REDIRECT_URL"] = r.URI
	if r.Args != "" {
		nr.Env["REDIRECT_QUERY_STRING"] = r.Args
	}
	nr.Env["REDIRECT_REQUEST_METHOD"] = r.Method
	if en := r.Notes["error-notes"]; en != "" {
		nr.Env["REDIRECT_ERROR_NOTES"] = en
	}
	nr.Status = code
	x.last = nr
	x.track(nr)
	x.errorStatus = code
	st := x.p.processRequest(x, nr, false)
	if st == request.OK {
		nr.Status = code
		st = x.invokeHandler(nr)
	}
	if st != request.OK && st != request.Done {
		// The document failed: the original error's canned page, noting
		// the second failure.
		x.last = r
		x.errorStatus = 0
		x.sendErrorPage(r, code, "", st)
	}
}

// sendErrorPage is ap_send_error_response: headers reset to the error
// headers (Location kept for redirects), text/html, Allow for 405/501.
func (x *exchange) sendErrorPage(r *request.Request, code int, custom string, recursive int) {
	h := x.rw.Header()
	location := r.Out.Get("Location")
	if location == "" {
		location = r.ErrOut.Get("Location")
	}
	keep := map[string]bool{"Server": true, "Connection": true, "Date": true}
	for k := range h {
		if !keep[k] {
			delete(h, k)
		}
	}
	for k, v := range r.ErrOut {
		h[k] = v
	}
	if isRedirect(code) || code == http.StatusCreated {
		if location != "" {
			h.Set("Location", location)
		}
	}
	if code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented {
		allow := allowHeader
		if http1.ParseError(x.hr) != nil {
			// Refused while the request was read (RegisteredMethods):
			// no handler set r->allowed, make_allow gives TRACE alone.
			allow = "TRACE"
		}
		if directives.DirOf(x.srv.Config, coreModule, &CoreServer{}).TraceEnable == traceOff {
			allow = strings.TrimSuffix(strings.TrimSuffix(allow, "TRACE"), ",")
			if r.Method == http.MethodTrace {
				allow = ""
			}
		}
		h["Allow"] = []string{allow}
	}
	h.Set("Content-Type", "text/html; charset=iso-8859-1")
	var body string
	if custom != "" {
		body = custom
	} else {
		body = cannedErrorBody(errorInfo{status: code, method: r.Method, location: location,
			notes: r.Notes, serverAdm: x.admin(), expect: r.Header.Get("Expect"),
			signature: x.signature(r), recursive: recursive})
	}
	r.Status = code
	if x.rw.headerOnly {
		x.rw.WriteHeader(code)
		return
	}
	if code != http.StatusRequestedRangeNotSatisfiable {
		// Apache's 416 page comes out of the byte-range filter chunked.
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	x.rw.WriteHeader(code)
	if code == http.StatusRequestedRangeNotSatisfiable {
		if f, ok := x.rw.w.(http.Flusher); ok {
			f.Flush()
		}
	}
	io.WriteString(x.rw, body)
}

func (x *exchange) admin() string {
	if x.srv.ServerAdmin != "" {
		return x.srv.ServerAdmin
	}
	if x.g.cfg.Main.ServerAdmin != "" {
		return x.g.cfg.Main.ServerAdmin
	}
	return "[no address given]"
}

// trace answers TRACE (TraceEnable On, Apache's default) with the request
// as message/http, sent chunked as Apache does, header fields in arrival
// order (repeated ones merged).
func (x *exchange) trace(r *request.Request) {
	var b strings.Builder
	b.WriteString(requestLine(x.hr) + "\r\n")
	keys := http1.HeaderOrder(x.hr)
	if keys == nil {
		keys = make([]string, 0, len(x.hr.Header))
		for k := range x.hr.Header {
			if k != "Host" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if x.hr.Host != "" {
			b.WriteString("Host: " + x.hr.Host + "\r\n")
		}
	}
	for _, k := range keys {
		for _, v := range x.hr.Header[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	h := x.rw.Header()
	h.Set("Content-Type", "message/http")
	x.rw.WriteHeader(http.StatusOK)
	if f, ok := x.rw.w.(http.Flusher); ok {
		f.Flush()
	}
	io.WriteString(x.rw, b.String())
}

func (x *exchange) track(r *request.Request) {
	x.tracked = append(x.tracked, r)
	x.g.negHost.exchanges.Store(r, x)
}

// untrackAll ends the exchange: it unregisters its requests and closes
// any file the walk opened that no handler consumed (errors, redirects).
func (x *exchange) untrackAll() {
	for _, r := range x.tracked {
		x.g.negHost.exchanges.Delete(r)
		closeSub(r)
	}
}

// checkAccess is the access phase. Before access control proper it refuses
// (500) a request to which an access-restricting directive applies that
// Plume does not implement (RewriteRule, SecRule, ...): ignoring such a
// directive would widen access, so Plume fails closed unless the admin
// opted in with PlumeIgnoreUnsupported On.
func (g *generation) checkAccess(r *request.Request) int {
	if ignored := directives.FailClosed(r.PerDir); len(ignored) > 0 {
		for _, d := range ignored {
			r.LogError("core", "error", "", fmt.Sprintf("%s restricts access and is not supported by Plume: refusing the request (set PlumeIgnoreUnsupported On to serve it anyway)", d))
		}
		return http.StatusInternalServerError
	}
	if g.hooks.Access != nil {
		return g.hooks.Access(r)
	}
	return request.OK
}
