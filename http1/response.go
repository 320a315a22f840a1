package http1

import (
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// response is the http.ResponseWriter of one request. Headers are
// serialised into the connection's buffer when the response is committed
// and leave with the first body bytes (or at the end of the handler), so
// a small response is one write(2).
type response struct {
	c      *conn
	req    *http.Request
	header http.Header
	status int

	wroteHeader bool
	committed   bool
	chunked     bool
	closeDelim  bool
	noBody      bool  // HEAD, 1xx, 204, 304: headers only
	length      int64 // declared Content-Length, -1 unknown
	written     int64
	// pending holds body bytes of a response without Content-Length until
	// the handler ends (then they get one) or they outgrow the buffer.
	pending []byte
	// mustClose: the request was refused or its framing forbids reuse.
	mustClose bool
	// silent: nothing is sent (ParseError with Silent).
	silent    bool
	keepAlive bool
	err       error
	keys      []string
}

// maxPending bounds the body buffered to compute a Content-Length.
const maxPending = 8 << 10

func (w *response) reset(c *conn, req *http.Request) {
	keys, pending, h := w.keys[:0], w.pending[:0], w.header
	if h == nil {
		h = make(http.Header, 12)
	} else {
		clear(h)
	}
	*w = response{c: c, req: req, header: h, keys: keys, pending: pending, length: -1}
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != 101 {
		// Interim responses are not sent by Plume's handlers; ignore.
		return
	}
	w.wroteHeader = true
	w.status = code
}

// bodyAllowed: no body for HEAD (but an HTTP/0.9 HEAD, possible under
// HttpProtocolOptions Unsafe, gets one: Apache's header filter, which drops
// HEAD bodies, does not run for 0.9), 1xx, 204 and 304.
func (w *response) bodyAllowed() bool {
	return !(w.req.Method == http.MethodHead && w.req.ProtoMajor != 0 || w.status < 200 || w.status == 204 || w.status == 304)
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.bodyAllowed() {
		return len(p), nil
	}
	if !w.committed {
		if w.declaredLength() < 0 && len(w.pending)+len(p) <= maxPending {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		w.commit(false)
		if w.err != nil {
			return 0, w.err
		}
	}
	return w.writeBody(p)
}

func (w *response) writeBody(p []byte) (int, error) {
	if len(p) == 0 || w.silent {
		return len(p), nil
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		// More than the declared Content-Length would corrupt the next
		// response on the connection.
		p = p[:w.length-w.written]
		n, _ := w.writeBody(p)
		return n, http.ErrContentLength
	}
	bw := w.c.bw
	if w.chunked {
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunked && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	w.written += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush commits the headers (chunked for HTTP/1.1 when the length is
// unknown) and sends what is buffered.
func (w *response) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(false)
	}
	if w.err == nil {
		if err := w.c.bw.Flush(); err != nil {
			w.err = err
		}
	}
}

// ReadFrom sends src: a file that fits the buffer is read into it, to
// leave with the headers in one write; a larger one goes out with
// sendfile(2) after the headers.
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.bodyAllowed() {
		return 0, nil
	}
	if !w.committed {
		if w.declaredLength() < 0 {
			return io.Copy(writerOnly{w}, src)
		}
		w.commit(false)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.silent {
		return 0, nil
	}
	if w.chunked {
		return io.Copy(writerOnly{w}, src)
	}
	bw := w.c.bw
	if sr, ok := src.(*io.SectionReader); ok {
		// A section of a file: pread(2) into the buffer when it fits,
		// else position the file and send it with sendfile(2).
		f, off, n := sr.Outer()
		file, isFile := f.(*os.File)
		fdFile, isFD := f.(osFiler)
		if isFile || isFD {
			if n <= int64(bw.Available()) {
				buf := bw.AvailableBuffer()[:n]
				m, err := f.ReadAt(buf, off)
				bw.Write(buf[:m])
				w.written += int64(m)
				if err == io.EOF {
					err = nil
				}
				return int64(m), err
			}
			if isFD {
				var err error
				if file, err = fdFile.OS(); err != nil {
					return 0, err
				}
			}
			if _, err := file.Seek(off, io.SeekStart); err != nil {
				return 0, err
			}
			src = io.LimitReader(file, n)
		}
	}
	if lr, ok := src.(*io.LimitedReader); ok {
		if _, isFile := lr.R.(*os.File); isFile && lr.N <= int64(bw.Available()) {
			buf := bw.AvailableBuffer()[:lr.N]
			n, err := io.ReadFull(lr.R, buf)
			lr.N -= int64(n)
			bw.Write(buf[:n])
			w.written += int64(n)
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				err = nil
			}
			return int64(n), err
		}
	}
	if err := bw.Flush(); err != nil {
		w.err = err
		return 0, err
	}
	var total int64
	for {
		// Timeout applies to each send, as Apache's: the file goes out in
		// slices, each with its own deadline.
		w.c.rwc.SetWriteDeadline(time.Now().Add(w.c.cfg.Timeout))
		rf, ok := w.c.rwc.(io.ReaderFrom)
		if !ok {
			n, err := io.Copy(writerOnly{bw}, src)
			w.written += n
			return n, err
		}
		var n int64
		var err error
		if lr, ok := src.(*io.LimitedReader); ok && lr.N > sendfileSlice {
			n, err = rf.ReadFrom(&io.LimitedReader{R: lr.R, N: sendfileSlice})
			lr.N -= n
			if err == nil && n == sendfileSlice {
				total += n
				w.written += n
				continue
			}
		} else {
			n, err = rf.ReadFrom(src)
		}
		total += n
		w.written += n
		if err != nil {
			w.err = err
		}
		return total, err
	}
}

// osFiler is a file that reads without an *os.File (request.File) but
// can hand its descriptor to one: net's sendfile(2) path knows only
// *os.File, and a body larger than the buffer is worth the conversion.
type osFiler interface {
	OS() (*os.File, error)
}

// sendfileSlice is how much one sendfile deadline covers.
const sendfileSlice = 4 << 20

type writerOnly struct{ io.Writer }

func (w *response) declaredLength() int64 {
	if v := w.header["Content-Length"]; len(v) == 1 {
		if n, ok := parseLength(v[0]); ok {
			return n
		}
	}
	return -1
}

// finish ends the response after the handler returned.
func (w *response) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(true)
	}
	if w.chunked && w.err == nil && !w.silent {
		w.c.bw.WriteString("0\r\n\r\n")
	}
	if w.err == nil {
		if err := w.c.bw.Flush(); err != nil {
			w.err = err
		}
	}
	if w.length >= 0 && w.written != w.length && w.bodyAllowed() {
		// A short body: the client cannot find the next response.
		w.keepAlive = false
	}
}

// commit decides the framing and the connection's fate (ap_set_keepalive)
// and serialises the status line and headers into the buffer; final is
// set when the handler has ended, so a buffered body's length is known.
func (w *response) commit(final bool) {
	w.committed = true
	c := w.c
	h := w.header
	req := w.req
	if w.silent {
		w.keepAlive = false
		w.pending = w.pending[:0]
		return
	}
	if HTTP09(req) {
		// HTTP/0.9: the body alone.
		w.keepAlive = false
		w.closeDelim = true
		w.flushPending()
		return
	}
	w.noBody = !w.bodyAllowed()
	w.length = w.declaredLength()
	if w.length < 0 && !w.noBody {
		if final && h["Transfer-Encoding"] == nil {
			w.length = int64(len(w.pending))
			h["Content-Length"] = []string{strconv.Itoa(len(w.pending))}
		} else if req.ProtoAtLeast(1, 1) {
			w.chunked = true
		} else {
			w.closeDelim = true
		}
	}
	if w.noBody && req.Method != http.MethodHead {
		delete(h, "Content-Length")
		w.length = -1
	}
	delete(h, "Transfer-Encoding")
	cfg := &c.cfg
	left := cfg.MaxKeepAliveRequests - c.nreq + 1
	ka := !w.mustClose && !req.Close && cfg.KeepAlive && cfg.KeepAliveTimeout > 0 &&
		!w.closeDelim && !dropsConnection(w.status) && !c.srv.inShutdown.Load() &&
		(cfg.MaxKeepAliveRequests == 0 || left > 0) && !hasToken(h["Connection"], "close")
	w.keepAlive = ka
	bw := c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(statusLine(w.status))
	bw.WriteString("\r\nDate: ")
	bw.WriteString(httpDate())
	bw.WriteString("\r\n")
	if v := h["Server"]; len(v) > 0 {
		writeField(bw, "Server", v[0])
	}
	keys := w.keys[:0]
	for k := range h {
		switch k {
		case "Server", "Date", "Connection", "Keep-Alive", "Content-Type":
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.keys = keys
	for _, k := range keys {
		for _, v := range h[k] {
			writeField(bw, k, v)
		}
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if ka {
		// Apache answers Keep-Alive/Connection only to a client that
		// asked with "Connection: keep-alive" (any version).
		if hasToken(req.Header["Connection"], "keep-alive") {
			bw.WriteString("Keep-Alive: timeout=")
			bw.WriteString(strconv.Itoa(int(cfg.KeepAliveTimeout / time.Second)))
			if cfg.MaxKeepAliveRequests > 0 {
				bw.WriteString(", max=")
				bw.WriteString(strconv.Itoa(left))
			}
			bw.WriteString("\r\nConnection: Keep-Alive\r\n")
		}
	} else {
		bw.WriteString("Connection: close\r\n")
	}
	if v := h["Content-Type"]; len(v) > 0 {
		writeField(bw, "Content-Type", v[0])
	}
	bw.WriteString("\r\n")
	w.flushPending()
}

func (w *response) flushPending() {
	if len(w.pending) > 0 {
		p := w.pending
		w.pending = w.pending[:0]
		if !w.noBody {
			w.writeBody(p)
		}
	}
}

type stringWriter interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}

// writeField writes "Name: value\r\n", with CR and LF in the value
// replaced by spaces so no handler can split the response.
func writeField(bw stringWriter, k, v string) {
	if s, ok := wireNames[k]; ok {
		k = s
	}
	bw.WriteString(k)
	bw.WriteString(": ")
	if strings.ContainsAny(v, "\r\n") {
		v = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, v)
	}
	bw.WriteString(v)
	bw.WriteString("\r\n")
}

// wireNames spell the fields whose canonical Go form differs from
// Apache's spelling.
var wireNames = map[string]string{"Etag": "ETag", "Www-Authenticate": "WWW-Authenticate",
	"Content-Md5": "Content-MD5", "Tcn": "TCN"}

func hasToken(vs []string, tok string) bool {
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			if equalFoldTrim(t, tok) {
				return true
			}
		}
	}
	return false
}

// dropsConnection is ap_status_drops_connection.
func dropsConnection(code int) bool {
	switch code {
	case 400, 408, 411, 413, 414, 500, 501, 503:
		return true
	}
	return false
}

// statusLine is "code reason" with Apache's reason phrases.
func statusLine(code int) string {
	if s, ok := apacheReasons[code]; ok {
		return s
	}
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code) + " "
}

var apacheReasons = func() map[int]string {
	m := map[int]string{}
	for code, text := range map[int]string{
		200: "OK", 203: "Non-Authoritative Information", 206: "Partial Content",
		301: "Moved Permanently", 302: "Found", 304: "Not Modified",
		400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
		405: "Method Not Allowed", 406: "Not Acceptable", 413: "Request Entity Too Large",
		414: "Request-URI Too Long", 416: "Requested Range Not Satisfiable",
		500: "Internal Server Error", 501: "Not Implemented", 505: "HTTP Version Not Supported",
	} {
		m[code] = strconv.Itoa(code) + " " + text
	}
	return m
}()

// dateCache holds the Date value of the current second.
type dateValue struct {
	sec int64
	s   string
}

var dateCache atomic.Pointer[dateValue]

func httpDate() string {
	now := time.Now()
	sec := now.Unix()
	if d := dateCache.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &dateValue{sec: sec, s: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.s
}
