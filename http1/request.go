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
// LimitRequestFields (0 fields: unlimited).
type Limits struct {
	RequestLine int
	FieldSize   int
	Fields      int
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
// with HttpProtocolOptions Strict LenientMethods Allow0.9. A nil *Error
// and nil error is a well-formed head. err is returned only when the
// connection ended before a request line was read.
func readHead(br *bufio.Reader, lim Limits, scratch []byte) (*parsed, *Error, error) {
	p := &parsed{}
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
		if len(l) == 0 && crlf && blank < maxBlankLines {
			continue
		}
		if !crlf || bytes.IndexByte(l, 0) >= 0 {
			p.requestLine = string(l)
			return p, &Error{Status: 400, Code: "AH00566", Level: "info", Msg: "request failed: malformed request line"}, nil
		}
		line = l
		break
	}
	p.requestLine = string(line)
	if e := p.parseRequestLine(); e != nil {
		if e.Code == "AH03447" || e.Code == "AH03448" {
			p.normaliseLine()
		}
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

// normaliseLine is the_request as Apache rebuilds it after a request
// line with stray whitespace: its first three words, single-spaced.
func (p *parsed) normaliseLine() {
	f := strings.Fields(p.requestLine)
	if len(f) > 3 {
		f = f[:3]
	}
	p.requestLine = strings.Join(f, " ")
}

func badLine(code, msg string) *Error {
	return &Error{Status: 400, Code: code, Level: "debug", Msg: "HTTP Request Line; " + msg}
}

// parseRequestLine is ap_parse_request_line (Strict).
func (p *parsed) parseRequestLine() *Error {
	s := p.requestLine
	i := 0
	for i < len(s) && isToken(s[i]) {
		i++
	}
	p.method = s[:i]
	if i == 0 || (i < len(s) && s[i] != ' ' && s[i] != '\t' && isVcharObs(s[i])) {
		tok := s
		if j := strings.IndexAny(s, " \t"); j >= 0 {
			tok = s[:j]
		}
		p.method = tok
		return badLine("AH03445", "Invalid method token: '"+tok+"'")
	}
	if i == len(s) {
		return badLine("AH03446", "Missing URI")
	}
	if s[i] != ' ' {
		return badLine("AH03447", "Invalid whitespace")
	}
	i++
	if i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		return badLine("AH03448", "Excess whitespace (disallowed by HttpProtocolOptions Strict)")
	}
	start := i
	for i < len(s) && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	p.target = s[start:i]
	for j := 0; j < len(p.target); j++ {
		if !isVcharObs(p.target[j]) {
			return badLine("AH03454", "URI incorrectly encoded: '"+p.target+"'")
		}
	}
	if p.target == "" {
		return badLine("AH03446", "Missing URI")
	}
	if i == len(s) {
		// No protocol: HTTP/0.9 (Allow0.9 is Apache's default), GET only.
		p.http09 = true
		p.proto, p.major, p.minor = "HTTP/0.9", 0, 9
		if p.method != "GET" {
			return badLine("AH00567", "Invalid HTTP/0.9 method")
		}
		return p.checkTarget()
	}
	if s[i] != ' ' {
		return badLine("AH03447", "Invalid whitespace")
	}
	p.proto = s[i+1:]
	if p.proto == "" || strings.ContainsAny(p.proto, " \t") {
		return badLine("AH03448", "Excess whitespace (disallowed by HttpProtocolOptions Strict)")
	}
	pr := p.proto
	if len(pr) != 8 || pr[:5] != "HTTP/" || pr[5] < '0' || pr[5] > '9' || pr[6] != '.' || pr[7] < '0' || pr[7] > '9' {
		return badLine("AH02418", "Unrecognized protocol '"+pr+"' (perhaps whitespace was injected?)")
	}
	p.major, p.minor = int(pr[5]-'0'), int(pr[7]-'0')
	if p.major < 1 {
		return badLine("AH02401", "Rejected HTTP/0.9 request")
	}
	return p.checkTarget()
}

// checkTarget accepts origin-form, absolute-form and "*" (ap_parse_uri).
func (p *parsed) checkTarget() *Error {
	t := p.target
	if t[0] == '/' || t == "*" {
		return nil
	}
	if i := strings.Index(t, "://"); i > 0 {
		ok := true
		for j := 0; j < i; j++ {
			c := t[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	return &Error{Status: 400, Code: "AH10388", Level: "debug", Msg: "HTTP Request Line; URI malformed: '" + t + "'"}
}

// readFields is ap_get_mime_headers_core (Strict): repeated fields are
// merged with ", " as Apache's table merge does.
func (p *parsed) readFields(br *bufio.Reader, lim Limits, scratch []byte) *Error {
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
		if !crlf || bytes.IndexByte(l, 0) >= 0 {
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
			v := p.header[last]
			cont := strings.Trim(string(l), " \t")
			if e := checkValue(cont); e != nil {
				return e
			}
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
		if colon <= 0 {
			return &Error{Status: 400, Code: "AH02426", Level: "debug", Msg: "Request header field name is malformed: " + string(l)}
		}
		for _, c := range l[:colon] {
			if !isToken(c) {
				return &Error{Status: 400, Code: "AH02426", Level: "debug", Msg: "Request header field name is malformed: " + string(l)}
			}
		}
		name := textproto.CanonicalMIMEHeaderKey(string(l[:colon]))
		value := string(bytes.Trim(l[colon+1:], " \t"))
		if e := checkValue(value); e != nil {
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

func checkValue(v string) *Error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return &Error{Status: 400, Code: "AH02427", Level: "debug", Msg: "Request header value is malformed: " + strconv.Quote(v)}
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
