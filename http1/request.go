package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Limits are Apache's LimitRequestLine, LimitRequestFieldsize and
// LimitRequestFields (0 fields: unlimited), and the HttpProtocolOptions
// the request is read with: everything ap_read_request takes from the
// server before it has chosen a virtual host.
type Limits struct {
	RequestLine int
	FieldSize   int
	Fields      int
	Protocol    ProtocolOptions
}

// ProtocolOptions are Apache's HttpProtocolOptions; the zero value is
// Apache's default (Strict LenientMethods Allow0.9).
type ProtocolOptions struct {
	// Unsafe relaxes the request line and header field grammar (any
	// visible character in a method, extra whitespace, "http/1.1",
	// bare LF line ends, field names and values with control
	// characters) as Apache's legacy parser did.
	Unsafe bool
	// RegisteredMethods refuses a method the server does not know with
	// 501 while reading the request line (AH02423).
	RegisteredMethods bool
	// Require10 refuses HTTP/0.9 requests (AH02401).
	Require10 bool
	// Registered reports whether a method is registered (known to the
	// core or registered by the configuration, such as <Limit FOO>);
	// nil: Apache's built-in methods.
	Registered func(method string) bool
}

func (o *ProtocolOptions) registered(method string) bool {
	if o.Registered != nil {
		return o.Registered(method)
	}
	return builtinMethods[method]
}

// builtinMethods are the methods Apache's core registers (HEAD counts as
// GET).
var builtinMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "POST": true, "DELETE": true, "CONNECT": true,
	"OPTIONS": true, "TRACE": true, "PATCH": true, "PROPFIND": true, "PROPPATCH": true,
	"MKCOL": true, "COPY": true, "MOVE": true, "LOCK": true, "UNLOCK": true,
	"VERSION-CONTROL": true, "CHECKOUT": true, "UNCHECKOUT": true, "CHECKIN": true,
	"UPDATE": true, "LABEL": true, "REPORT": true, "MKWORKSPACE": true, "MKACTIVITY": true,
	"BASELINE-CONTROL": true, "MERGE": true,
}

// DefaultLimits are Apache's compiled-in defaults.
var DefaultLimits = Limits{RequestLine: 8190, FieldSize: 8190, Fields: 100}

// Error is a request Apache's core refuses while reading it
// (ap_read_request): the handler answers it with Status through its own
// error path, logging Code and Msg at Level.
type Error struct {
	Status int
	// Code is the AH code of Apache's log line ("" for lines without one).
	Code string
	// Level is the level Apache logs the line at ("info", "debug", ...).
	Level string
	// Msg is the log message, without the AH code.
	Msg string
	// Note is the error-notes text Apache puts in the error page ("" for
	// the plain page).
	Note string
	// Silent: Apache sends nothing and only logs the request (408 while
	// reading the request line); the connection closes.
	Silent bool
}

func (e *Error) Error() string {
	if e.Code != "" {
		return e.Code + ": " + e.Msg
	}
	return e.Msg
}

// errClosed is a connection that ended (or timed out) before a request
// began: it is closed without an answer, as Apache does.
var errClosed = errors.New("http1: connection closed before a request")

// maxBlankLines is Apache's DEFAULT_LIMIT_BLANK_LINES: empty lines
// skipped before a request line.
const maxBlankLines = 10

// readLine reads one line ending in LF, up to max bytes before the line
// end. It returns the line without its terminator, whether it ended in
// CRLF, and tooLong when the line exceeded max (the rest is not read).
func readLine(br *bufio.Reader, max int, scratch []byte) (line []byte, crlf, tooLong bool, err error) {
	buf := scratch[:0]
	for {
		frag, e := br.ReadSlice('\n')
		if e == nil {
			if len(buf) == 0 {
				line = frag
			} else {
				buf = append(buf, frag...)
				line = buf
			}
			break
		}
		if e != bufio.ErrBufferFull {
			if len(buf)+len(frag) > 0 && isTimeout(e) {
				return nil, false, false, partialTimeout{}
			}
			return nil, false, false, e
		}
		buf = append(buf, frag...)
		if len(buf) > max+2 {
			return nil, false, true, nil
		}
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line, crlf = line[:n-1], true
	}
	if len(line) > max {
		return nil, crlf, true, nil
	}
	return line, crlf, false, nil
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// partialTimeout is a read timeout after part of a line arrived.
type partialTimeout struct{}

func (partialTimeout) Error() string { return "i/o timeout in the middle of a line" }
func (partialTimeout) Timeout() bool { return true }

// isToken is tchar of RFC 7230.
func isToken(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return
}()

// isVcharObs is a visible character or obs-text (Apache's
// ap_scan_vchar_obstext).
func isVcharObs(c byte) bool { return c > 0x20 && c != 0x7f }

// parsed is the result of reading one request's head.
type parsed struct {
	method, target, proto string
	major, minor          int
	http09                bool
	header                http.Header
	// order keeps the field names in arrival order (TRACE echoes them).
	order []string
	// requestLine is the_request as Apache logs it (%r).
	requestLine string
}

// readHead reads a request line and header fields as ap_read_request
// does with lim.Protocol (HttpProtocolOptions). A nil *Error and nil
// error is a well-formed head. err is returned only when the connection
// ended before a request line was read.
func readHead(br *bufio.Reader, lim Limits, scratch []byte) (*parsed, *Error, error) {
	p := &parsed{}
	opts := &lim.Protocol
	var line []byte
	for blank := 0; ; blank++ {
		// Apache's line buffer is the limit plus two, and a line of
		// limit+1 bytes before CRLF still fits (checked with apache2).
		l, crlf, tooLong, err := readLine(br, lim.RequestLine+1, scratch)
		if err != nil {
			if _, mid := err.(partialTimeout); mid || blank > 0 && isTimeout(err) {
				// Part of a request line, then silence: Apache logs
				// "-" 408 and closes without an answer.
				return p, &Error{Status: 408, Silent: true}, nil
			}
			return nil, nil, errClosed
		}
		if tooLong {
			return p, &Error{Status: 414, Code: "AH00565", Level: "info",
				Msg: "request failed: client's request-line exceeds LimitRequestLine (longer than " + strconv.Itoa(lim.RequestLine) + ")"}, nil
		}
		// Strict reads lines with AP_GETLINE_CRLF: a bare LF ends
		// nothing, it is APR_EINVAL.
		badEnd := !crlf && !opts.Unsafe
		if len(l) == 0 && !badEnd && blank < maxBlankLines {
			continue
		}
		if badEnd || bytes.IndexByte(l, 0) >= 0 {
			p.requestLine = string(l)
			return p, &Error{Status: 400, Code: "AH00566", Level: "info", Msg: "request failed: malformed request line"}, nil
		}
		line = l
		break
	}
	p.requestLine = string(line)
	if e := p.parseRequestLine(opts); e != nil {
		return p, e, nil
	}
	if p.http09 {
		return p, nil, nil
	}
	if e := p.readFields(br, lim, scratch); e != nil {
		return p, e, nil
	}
	return p, nil, nil
}

func badLine(code, msg string) *Error {
	return &Error{Status: 400, Code: code, Level: "debug", Msg: "HTTP Request Line; " + msg}
}

// isSpace is apr_isspace: SP, HT, LF, VT, FF, CR.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// nextSpace is strpbrk(s+i, "\t\n\v\f\r "): the index of the next
// whitespace at or after i, or -1 (C's NULL).
func nextSpace(s string, i int) int {
	for ; i < len(s); i++ {
		if isSpace(s[i]) {
			return i
		}
	}
	return -1
}

// logName is Apache's "%.*s" with field_name_len: the text up to its
// first colon, at most 80 bytes (LOG_NAME_MAX_LEN).
func logName(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 && i <= 80 {
		return s[:i]
	}
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

// lineError is ap_parse_request_line's deferred_error: the first problem
// seen is reported only once the whole line is understood.
type lineError int

const (
	rrlNone lineError = iota
	rrlBadMethod
	rrlBadWhitespace
	rrlExcessWhitespace
	rrlMissingURI
	rrlBadURI
	rrlBadProtocol
	rrlTrailingText
	rrlBadMethod09
	rrlReject09
)

// parseRequestLine is ap_parse_request_line under opts (Apache 2.4's
// algorithm step by step, so every malformed line gets Apache's status,
// log line and the_request): the method, URI and protocol are split on
// whitespace, the first problem is remembered, and it is reported after
// the protocol and URI have been parsed.
func (p *parsed) parseRequestLine(opts *ProtocolOptions) *Error {
	strict := !opts.Unsafe
	s := p.requestLine
	deferred := rrlNone
	var method, uri, proto, trailing string
	i := 0
	if i < len(s) && isSpace(s[i]) {
		deferred = rrlBadWhitespace
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	mstart := i
	scan := func(j int, ok func(byte) bool) int {
		for j < len(s) && ok(s[j]) {
			j++
		}
		return j
	}
	var ll int
	if strict {
		ll = scan(i, isToken)
	} else {
		ll = scan(i, isVcharObs)
	}
	if (ll == mstart || ll < len(s) && !isSpace(s[ll])) && deferred == rrlNone {
		deferred = rrlBadMethod
		ll = nextSpace(s, ll)
	}
	// Each step below may end the line early, as the C code's goto
	// rrl_done does.
	func() {
		if ll < 0 {
			if deferred == rrlNone {
				deferred = rrlMissingURI
			}
			method = s[mstart:]
			return
		}
		if strict && ll+1 < len(s) && isSpace(s[ll+1]) && deferred == rrlNone {
			deferred = rrlExcessWhitespace
		}
		method = s[mstart:ll]
		u := ll
		for ; u < len(s) && isSpace(s[u]); u++ {
			if s[u] != ' ' && deferred == rrlNone {
				deferred = rrlBadWhitespace
			}
		}
		if u == len(s) && deferred == rrlNone {
			deferred = rrlMissingURI
		}
		ll = scan(u, isVcharObs)
		if ll == u || ll < len(s) && !isSpace(s[ll]) {
			deferred = rrlBadURI
			ll = nextSpace(s, ll)
		}
		if ll < 0 {
			uri = s[u:]
			return
		}
		if strict && ll+1 < len(s) && isSpace(s[ll+1]) && deferred == rrlNone {
			deferred = rrlExcessWhitespace
		}
		uri = s[u:ll]
		ps := ll
		for ; ps < len(s) && isSpace(s[ps]); ps++ {
			if s[ps] != ' ' && deferred == rrlNone {
				deferred = rrlBadWhitespace
			}
		}
		ll = scan(ps, isVcharObs)
		proto = s[ps:ll]
		switch {
		case ll < len(s) && !isSpace(s[ll]):
			deferred = rrlBadProtocol
		case strict && ll < len(s):
			deferred = rrlExcessWhitespace
		default:
			for ; ll < len(s) && isSpace(s[ll]); ll++ {
				if s[ll] != ' ' && deferred == rrlNone {
					deferred = rrlBadWhitespace
				}
			}
			if ll < len(s) && deferred == rrlNone {
				deferred = rrlTrailingText
				trailing = s[ll:]
			}
		}
	}()
	// the_request is rebuilt single-spaced from the three words (an
	// empty URI ends it, as apr_pstrcat stops at its NULL).
	// A line already in that form (the common case) is kept as is.
	switch {
	case uri == "":
		p.requestLine = method
	case proto == "":
		if len(s) != len(method)+1+len(uri) || mstart != 0 || s[len(method)] != ' ' {
			p.requestLine = method + " " + uri
		}
	default:
		if len(s) != len(method)+len(uri)+len(proto)+2 || mstart != 0 || s[len(method)] != ' ' || s[len(method)+1+len(uri)] != ' ' {
			p.requestLine = method + " " + uri + " " + proto
		}
	}
	p.method, p.target = method, uri
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	versionForm := len(proto) == 8 && proto[4] == '/' && digit(proto[5]) && proto[6] == '.' && digit(proto[7]) && proto[5] != '0'
	switch {
	case versionForm && proto[:4] == "HTTP":
		p.proto, p.major, p.minor = proto, int(proto[5]-'0'), int(proto[7]-'0')
	case versionForm && strings.EqualFold(proto[:4], "HTTP"):
		p.proto, p.major, p.minor = proto, int(proto[5]-'0'), int(proto[7]-'0')
		if strict && deferred == rrlNone {
			deferred = rrlBadProtocol
		} else {
			p.proto = "HTTP" + proto[4:]
		}
	case proto != "":
		p.proto, p.major, p.minor = proto, 0, 9
		if deferred == rrlNone {
			deferred = rrlBadProtocol
		}
	default:
		p.http09 = true
		p.proto, p.major, p.minor = "HTTP/0.9", 0, 9
	}
	uriErr := p.parseURI(strict)
	if p.major == 0 && p.minor == 9 && deferred == rrlNone {
		if opts.Require10 {
			deferred = rrlReject09
		} else if strict && method != "GET" {
			// M_GET without header_only: HEAD is refused too.
			deferred = rrlBadMethod09
		}
	}
	var e *Error
	switch deferred {
	case rrlNone:
	case rrlBadMethod:
		e = badLine("AH03445", "Invalid method token: '"+logName(method)+"'")
	case rrlBadMethod09:
		e = badLine("AH03444", "Invalid method token: '"+logName(method)+"' (only GET is allowed for HTTP/0.9 requests)")
	case rrlMissingURI:
		e = badLine("AH03446", "Missing URI")
	case rrlBadURI:
		e = badLine("AH03454", "URI incorrectly encoded: '"+logName(uri)+"'")
	case rrlBadWhitespace:
		e = badLine("AH03447", "Invalid whitespace")
	case rrlExcessWhitespace:
		e = badLine("AH03448", "Excess whitespace (disallowed by HttpProtocolOptions Strict)")
	case rrlTrailingText:
		e = badLine("AH03449", "Extraneous text found '"+logName(trailing)+"' (perhaps whitespace was injected?)")
	case rrlReject09:
		e = badLine("AH02401", "Rejected HTTP/0.9 request")
	case rrlBadProtocol:
		e = badLine("AH02418", "Unrecognized protocol '"+logName(p.proto)+"' (perhaps whitespace was injected?)")
	}
	if e != nil {
		return p.failed(e)
	}
	if opts.RegisteredMethods && !opts.registered(method) {
		// Not through rrl_failed: an HTTP/0.9 request keeps its protocol.
		return &Error{Status: 501, Code: "AH02423", Level: "debug",
			Msg: "HTTP Request Line; Unrecognized HTTP method: '" + logName(method) + "' (disallowed by RegisteredMethods)"}
	}
	if uriErr != nil {
		return p.failed(uriErr)
	}
	return nil
}

// failed is rrl_failed: a refused HTTP/0.9 request is answered as
// HTTP/1.0, with a status line.
func (p *parsed) failed(e *Error) *Error {
	if p.major == 0 && p.minor == 9 {
		p.http09 = false
		p.proto, p.major, p.minor = "HTTP/1.0", 1, 0
	}
	return e
}

// parseURI is ap_parse_uri with apr_uri_parse (apr_uri_parse_hostinfo
// for CONNECT) and the checks ap_parse_request_line makes of its result:
// a request-target that is neither a path, an absolute URI, nor OPTIONS's
// "*" is AH03450; in Strict mode a fragment (AH02421) or user info
// (AH02422) is refused.
func (p *parsed) parseURI(strict bool) *Error {
	uri := p.target
	for len(uri) > 1 && uri[0] == '/' && uri[1] == '/' {
		uri = uri[1:]
	}
	bad := func(shown string) *Error {
		return badLine("AH03450", "Unable to parse URI: '"+logName(shown)+"'")
	}
	if p.method == "CONNECT" {
		// host:port, the port required and numeric.
		host := uri
		if strings.HasPrefix(host, "[") {
			j := strings.IndexByte(host, ']')
			if j < 0 {
				return bad(uri)
			}
			host = host[j+1:]
		}
		c := strings.IndexByte(host, ':')
		if c < 0 || !allDigits(host[c+1:]) {
			return bad(uri)
		}
		return nil
	}
	rest, userinfo := uri, false
	if scheme := schemeLen(uri); scheme > 0 {
		rest = uri[scheme+1:]
		if strings.HasPrefix(rest, "//") {
			auth := rest[2:]
			end := strings.IndexAny(auth, "/?#")
			if end < 0 {
				end = len(auth)
			}
			hostinfo := auth[:end]
			rest = auth[end:]
			if at := strings.LastIndexByte(hostinfo, '@'); at >= 0 {
				userinfo = true
				hostinfo = hostinfo[at+1:]
			}
			if strings.HasPrefix(hostinfo, "[") {
				j := strings.IndexByte(hostinfo, ']')
				if j < 0 {
					return bad(uri)
				}
				hostinfo = hostinfo[j+1:]
				if !strings.HasPrefix(hostinfo, ":") {
					hostinfo = ""
				}
			}
			if c := strings.IndexByte(hostinfo, ':'); c >= 0 && !allDigits(hostinfo[c+1:]) {
				return bad(uri)
			}
		}
	}
	path, hasFrag := rest, false
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		path = rest[:i]
		hasFrag = strings.IndexByte(rest[i:], '#') >= 0
	}
	if path != "" && path[0] != '/' && (p.method != "OPTIONS" || path != "*") {
		return bad(path)
	}
	if strict && hasFrag {
		return badLine("AH02421", "URI must not contain a fragment")
	}
	if strict && userinfo {
		return badLine("AH02422", "URI must not contain a username/password")
	}
	return nil
}

// schemeLen is the length of the scheme apr_uri_parse finds at the
// start of s: a letter, then anything up to a ':' that comes before any
// '/', '?' or '#'; 0 when s has none (it is then all path).
func schemeLen(s string) int {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return 0
	}
	if i := strings.IndexAny(s, ":/?#"); i > 0 && s[i] == ':' {
		return i
	}
	return 0
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readFields is ap_get_mime_headers_core: repeated fields are merged with
// ", " as Apache's table merge does. Strict checks names as tokens and
// values for control characters (RFC 7230); Unsafe is Apache's legacy
// parser, which only refuses whitespace in names and line-breaking
// whitespace in values, and takes bare LF line ends.
func (p *parsed) readFields(br *bufio.Reader, lim Limits, scratch []byte) *Error {
	unsafe := lim.Protocol.Unsafe
	p.header = make(http.Header, 8)
	var last string // canonical name of the previous field
	count := 0
	for {
		l, crlf, tooLong, err := readLine(br, lim.FieldSize+1, scratch)
		if err != nil {
			status := 400
			if isTimeout(err) {
				status = 408
			}
			return &Error{Status: status, Code: "AH00567", Level: "debug", Msg: "request failed: error reading the headers"}
		}
		if tooLong {
			return &Error{Status: 400, Code: "AH00561", Level: "info",
				Msg:  "Request header exceeds LimitRequestFieldSize",
				Note: "Size of a request header field exceeds server limit."}
		}
		if !crlf && !unsafe || bytes.IndexByte(l, 0) >= 0 {
			return &Error{Status: 400, Code: "AH00567", Level: "debug", Msg: "request failed: error reading the headers"}
		}
		if len(l) == 0 {
			return nil
		}
		if l[0] == ' ' || l[0] == '\t' {
			// obs-fold: appended to the previous field with one space.
			if last == "" {
				return &Error{Status: 400, Code: "AH03442", Level: "debug", Msg: "Line folding encountered before first header line"}
			}
			cont := strings.Trim(string(l), " \t")
			if cont == "" {
				return &Error{Status: 400, Code: "AH03443", Level: "debug", Msg: "Empty folded line encountered"}
			}
			if e := checkValue(cont, unsafe); e != nil {
				return e
			}
			v := p.header[last]
			v[len(v)-1] += " " + cont
			if len(v[len(v)-1]) > lim.FieldSize {
				return &Error{Status: 400, Code: "AH00561", Level: "info",
					Msg:  "Request header exceeds LimitRequestFieldSize after merging",
					Note: "Size of a request header field exceeds server limit."}
			}
			continue
		}
		count++
		if lim.Fields > 0 && count > lim.Fields {
			return &Error{Status: 400, Code: "AH00563", Level: "info",
				Msg:  "Number of request headers exceeds LimitRequestFields",
				Note: "The number of request header fields exceeds this server's limit."}
		}
		colon := bytes.IndexByte(l, ':')
		if e := checkName(l, colon, unsafe); e != nil {
			return e
		}
		name := textproto.CanonicalMIMEHeaderKey(string(l[:colon]))
		value := string(bytes.Trim(l[colon+1:], " \t"))
		if e := checkValue(value, unsafe); e != nil {
			return e
		}
		if v, ok := p.header[name]; ok {
			v[0] += ", " + value
		} else {
			p.header[name] = []string{value}
			p.order = append(p.order, name)
		}
		last = name
	}
}

// checkName checks a field's name (the line up to colon, -1 for none).
func checkName(l []byte, colon int, unsafe bool) *Error {
	if !unsafe {
		if colon > 0 && allToken(l[:colon]) {
			return nil
		}
		return &Error{Status: 400, Code: "AH02426", Level: "debug", Msg: "Request header field name is malformed: " + clip(string(l))}
	}
	switch {
	case colon < 0:
		return &Error{Status: 400, Code: "AH00564", Level: "debug", Msg: "Request header field is missing ':' separator: " + clip(string(l))}
	case colon == 0:
		return &Error{Status: 400, Code: "AH03453", Level: "debug", Msg: "Request header field name was empty"}
	case bytes.ContainsAny(l[:colon], "\t\n\v\f\r "):
		return &Error{Status: 400, Code: "AH03452", Level: "debug", Msg: "Request header field name presented invalid whitespace"}
	}
	return nil
}

func allToken(b []byte) bool {
	for _, c := range b {
		if !isToken(c) {
			return false
		}
	}
	return true
}

// clip is Apache's "%.*s" with LOG_NAME_MAX_LEN (80).
func clip(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

// checkValue checks a field value (or an obs-fold continuation): Strict
// takes HT, SP, visible characters and obs-text (ap_scan_http_field_content);
// Unsafe refuses only LF, VT, FF and CR.
func checkValue(v string, unsafe bool) *Error {
	if unsafe {
		if strings.ContainsAny(v, "\n\v\f\r") {
			return &Error{Status: 400, Code: "AH03451", Level: "debug", Msg: "Request header field value presented bad whitespace"}
		}
		return nil
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return &Error{Status: 400, Code: "AH02427", Level: "debug", Msg: "Request header value is malformed: " + clip(v)}
		}
	}
	return nil
}

// framing is how the request body is delimited.
type framing struct {
	chunked bool
	length  int64 // -1 none (no body)
	// closeAfter: the connection cannot be reused (Transfer-Encoding with
	// Content-Length, as Apache sets AP_CONN_CLOSE).
	closeAfter bool
}

// bodyFraming checks Transfer-Encoding, Content-Length and Expect as
// ap_read_request does after the header fields.
func (p *parsed) bodyFraming(path string) (framing, *Error) {
	f := framing{length: -1}
	te := p.header.Get("Transfer-Encoding")
	cl, hasCL := p.header["Content-Length"]
	if te != "" {
		last := te
		if i := strings.LastIndexByte(te, ','); i >= 0 {
			last = te[i+1:]
		}
		if !strings.EqualFold(strings.Trim(last, " \t"), "chunked") {
			return f, &Error{Status: 400, Code: "AH02539", Level: "debug", Msg: "client sent unknown Transfer-Encoding (" + te + "): " + path}
		}
		f.chunked = true
		if hasCL {
			delete(p.header, "Content-Length")
			f.closeAfter = true
		}
	} else if hasCL {
		n, ok := parseLength(cl[0])
		if !ok {
			return f, &Error{Status: 400, Code: "AH10242", Level: "debug", Msg: "client sent invalid Content-Length (" + cl[0] + "): " + path}
		}
		f.length = n
	}
	if exp, ok := p.header["Expect"]; ok && p.major*10+p.minor >= 11 && exp[0] != "" && !strings.EqualFold(exp[0], "100-continue") {
		return f, &Error{Status: 417, Code: "AH00570", Level: "info", Msg: "client sent an unrecognized expectation value of Expect: " + exp[0],
			Note: "</p><p>Only the 100-continue expectation is supported."}
	}
	return f, nil
}

// parseLength is ap_parse_strict_length: digits only, no overflow.
func parseLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// requestURL parses the target for http.Request.URL. A target Go's parser
// refuses (bad escapes, which Apache reports later as AH10244) is kept
// raw, so the handler sees the request and answers it.
func requestURL(target string) *url.URL {
	if u, err := url.ParseRequestURI(target); err == nil {
		return u
	}
	path, query, _ := strings.Cut(target, "?")
	return &url.URL{Path: path, RawPath: path, RawQuery: query}
}

// hostOf is the Host Apache uses: the authority of an absolute-form
// target, else the Host field.
func hostOf(target string, h http.Header) string {
	if i := strings.Index(target, "://"); i > 0 && target[0] != '/' {
		rest := target[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			rest = rest[:j]
		}
		if k := strings.LastIndexByte(rest, '@'); k >= 0 {
			rest = rest[k+1:]
		}
		return rest
	}
	return h.Get("Host")
}

// bodyReader is a request body: Content-Length or chunked, with the
// Expect: 100-continue answer sent on the first read.
type bodyReader struct {
	c       *conn
	r       io.Reader
	trailer bool // chunked: read the trailer at EOF
	eof     bool
	err     error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.c.expect100 {
		b.c.sendContinue()
	}
	b.c.readDeadline()
	n, err := b.r.Read(p)
	if err == io.EOF {
		if b.trailer {
			if e := skipTrailer(b.c.br, b.c.limits.FieldSize); e != nil {
				b.err = e
				return n, e
			}
		}
		b.eof = true
	} else if err != nil {
		b.err = err
	}
	return n, err
}

func (b *bodyReader) Close() error { return nil }

// ErrBadChunk is a malformed chunked body (Apache: APR_EINVAL from
// parse_chunk_size, answered 400); ErrChunkOverflow a chunk size that does
// not fit an apr_off_t (APR_ENOSPC, answered 413).
var (
	ErrBadChunk      = errors.New("http1: malformed chunked encoding")
	ErrChunkOverflow = errors.New("http1: chunk size overflow")
)

// skipTrailer reads trailer fields up to the empty line.
func skipTrailer(br *bufio.Reader, max int) error {
	for i := 0; i < 100; i++ {
		l, _, tooLong, err := readLine(br, max, nil)
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if tooLong {
			return ErrBadChunk
		}
		if len(l) == 0 {
			return nil
		}
	}
	return ErrBadChunk
}

// chunkedReader decodes a chunked body strictly (hex size, optional
// extensions, CRLF after the data).
type chunkedReader struct {
	br   *bufio.Reader
	n    int64 // left in the current chunk
	done bool
	err  error
}

func (cr *chunkedReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	if cr.done {
		return 0, io.EOF
	}
	if cr.n == 0 {
		l, _, tooLong, err := readLine(cr.br, 8190, nil)
		if err != nil {
			cr.err = io.ErrUnexpectedEOF
			return 0, cr.err
		}
		if tooLong {
			cr.err = ErrBadChunk
			return 0, cr.err
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		l = bytes.TrimRight(l, " \t")
		if len(l) == 0 {
			cr.err = ErrBadChunk
			return 0, cr.err
		}
		// Leading zeros are free; a size past apr_off_t's range is
		// APR_ENOSPC in parse_chunk_size as soon as the digit that
		// overflows is read (whatever follows it).
		var n int64
		for _, c := range l {
			var d int64
			switch {
			case c >= '0' && c <= '9':
				d = int64(c - '0')
			case c >= 'a' && c <= 'f':
				d = int64(c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				d = int64(c - 'A' + 10)
			default:
				cr.err = ErrBadChunk
				return 0, cr.err
			}
			if n > (math.MaxInt64-d)>>4 {
				cr.err = ErrChunkOverflow
				return 0, cr.err
			}
			n = n<<4 | d
		}
		if n == 0 {
			cr.done = true
			return 0, io.EOF
		}
		cr.n = n
	}
	if int64(len(p)) > cr.n {
		p = p[:cr.n]
	}
	n, err := cr.br.Read(p)
	cr.n -= int64(n)
	if cr.n == 0 && err == nil {
		l, crlf, tooLong, e := readLine(cr.br, 0, nil)
		if e != nil || tooLong || len(l) != 0 || !crlf {
			cr.err = ErrBadChunk
			return n, nil
		}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		cr.err = err
	}
	return n, err
}

// Protocol returns the HttpProtocolOptions r was read with (the zero
// value, Apache's default, for a request that did not come from this
// package). Apache's later checks of the request that depend on them,
// such as the Host name's syntax, use the same server's options.
func Protocol(r *http.Request) ProtocolOptions {
	if c, ok := r.Context().Value(connCtxKey{}).(*conn); ok {
		return c.limits.Protocol
	}
	return ProtocolOptions{}
}
