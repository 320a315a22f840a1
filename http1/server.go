package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the core configuration of the connection layer (Apache's
// Timeout, KeepAlive, KeepAliveTimeout, MaxKeepAliveRequests and the
// LimitRequest* directives). It is read again for every request, so a
// reload applies to open connections from their next request on.
type Config struct {
	Timeout              time.Duration // default 60s
	KeepAlive            bool
	KeepAliveTimeout     time.Duration // default 5s
	MaxKeepAliveRequests int           // 0: unlimited
	Limits               Limits        // with the HttpProtocolOptions
}

// DefaultConfig is Apache's defaults.
var DefaultConfig = Config{Timeout: 60 * time.Second, KeepAlive: true,
	KeepAliveTimeout: 5 * time.Second, MaxKeepAliveRequests: 100, Limits: DefaultLimits}

// Server serves HTTP/1.x on listeners, one goroutine per connection.
type Server struct {
	// Handler answers every request, malformed ones included (see
	// ParseError).
	Handler http.Handler
	// ConnContext, if set, derives the context of a connection's requests.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// Config returns the current configuration for a connection accepted
	// on the local address (nil: DefaultConfig): Apache reads a request
	// with the settings of the connection's base server, the one its
	// address selects before any Host is read.
	Config func(local net.Addr) Config

	mu         sync.Mutex
	listeners  map[net.Listener]struct{}
	conns      map[*conn]struct{}
	inShutdown atomic.Bool
	wg         sync.WaitGroup
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("http1: Server closed")

func (s *Server) config(local net.Addr) Config {
	if s.Config == nil {
		return DefaultConfig
	}
	c := s.Config(local)
	if c.Timeout <= 0 {
		c.Timeout = DefaultConfig.Timeout
	}
	if c.Limits.RequestLine <= 0 {
		c.Limits.RequestLine = DefaultLimits.RequestLine
	}
	if c.Limits.FieldSize <= 0 {
		c.Limits.FieldSize = DefaultLimits.FieldSize
	}
	if c.Limits.Fields < 0 {
		c.Limits.Fields = DefaultLimits.Fields
	}
	return c
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		rwc, err := ln.Accept()
		if err != nil {
			if s.inShutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// EMFILE and friends: back off, as net/http does.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := s.newConn(rwc)
		if c == nil {
			rwc.Close()
			continue
		}
		go c.serve()
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) newConn(rwc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown.Load() {
		return nil
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	c := &conn{srv: s, rwc: rwc}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, closes idle connections and waits for the
// requests in flight to finish, at most until ctx is done (then it closes
// every connection and returns ctx's error).
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.closeListeners()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			s.closeAll()
			<-done
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	s.closeListeners()
	s.closeAll()
	s.wg.Wait()
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ln := range s.listeners {
		ln.Close()
	}
	s.listeners = nil
}

func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() {
			c.rwc.Close()
		}
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.rwc.Close()
	}
}

type connCtxKey struct{}

// conn is one client connection.
type conn struct {
	srv    *Server
	rwc    net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	ctx    context.Context
	base   *http.Request // carries ctx; copied for each request
	idle   atomic.Bool
	limits Limits
	cfg    Config
	// nreq counts requests read on the connection.
	nreq int
	// per request
	perr      *Error
	line      string // the request line as received
	order     []string
	expect100 bool
	resp      response
	scratch   []byte
}

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}
)

// ParseError returns the protocol error of a request the connection layer
// refused while reading it (nil for a well-formed request). The handler
// answers it with e.Status through its own error path; the connection is
// closed afterwards.
func ParseError(r *http.Request) *Error {
	if c, ok := r.Context().Value(connCtxKey{}).(*conn); ok {
		return c.perr
	}
	return nil
}

// RequestLine returns the request line as the client sent it (Apache's
// the_request, logged as %r); ok is false for a request that did not come
// from this package.
func RequestLine(r *http.Request) (line string, ok bool) {
	if c, ok := r.Context().Value(connCtxKey{}).(*conn); ok {
		return c.line, true
	}
	return "", false
}

// HeaderOrder returns the canonical names of r's header fields in the
// order they first arrived (TRACE echoes them so); nil when unknown.
func HeaderOrder(r *http.Request) []string {
	if c, ok := r.Context().Value(connCtxKey{}).(*conn); ok {
		return c.order
	}
	return nil
}

// MustClose reports whether the connection of r closes after the response
// whatever it says (a refused request, or Transfer-Encoding together with
// Content-Length): Apache's AP_CONN_CLOSE, under which
// ap_discard_request_body reads nothing.
func MustClose(r *http.Request) bool {
	if c, ok := r.Context().Value(connCtxKey{}).(*conn); ok {
		return c.resp.mustClose
	}
	return false
}

// HTTP09 reports whether r is an HTTP/0.9 request (answered with a bare
// body, no status line or headers).
func HTTP09(r *http.Request) bool { return r.ProtoMajor == 0 }

func (c *conn) readDeadline() {
	c.rwc.SetReadDeadline(time.Now().Add(c.cfg.Timeout))
}

func (c *conn) serve() {
	defer c.srv.forget(c)
	defer func() {
		// A bug costs this connection, never the server (as net/http).
		if v := recover(); v != nil {
			c.rwc.Close()
			if v != http.ErrAbortHandler {
				fmt.Fprintf(os.Stderr, "http1: panic serving %v: %v\n%s", c.rwc.RemoteAddr(), v, debug.Stack())
			}
		}
	}()
	ctx := context.Background()
	if c.srv.ConnContext != nil {
		ctx = c.srv.ConnContext(ctx, c.rwc)
	}
	c.ctx = context.WithValue(ctx, connCtxKey{}, c)
	c.base = (&http.Request{}).WithContext(c.ctx)
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(c.rwc)
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(deadlineWriter{c})
	c.scratch = make([]byte, 0, 256)
	defer func() {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
	}()
	for {
		c.cfg = c.srv.config(c.rwc.LocalAddr())
		c.limits = c.cfg.Limits
		if c.nreq > 0 {
			c.idle.Store(true)
			if c.srv.inShutdown.Load() {
				c.rwc.Close()
				return
			}
			c.rwc.SetReadDeadline(time.Now().Add(c.cfg.KeepAliveTimeout))
			if _, err := c.br.Peek(1); err != nil {
				c.rwc.Close()
				return
			}
			c.idle.Store(false)
		}
		c.readDeadline()
		keep := c.serveOne()
		if !keep {
			c.lingeringClose()
			return
		}
	}
}

// serveOne reads and answers one request; it reports whether the
// connection may carry another.
func (c *conn) serveOne() bool {
	p, perr, err := readHead(c.br, c.limits, c.scratch)
	if err != nil {
		return false
	}
	c.nreq++
	c.perr = perr
	c.line = p.requestLine
	if perr != nil && perr.Silent {
		c.line = ""
	}
	c.order = p.order
	c.expect100 = false
	req := new(http.Request)
	*req = *c.base
	req.Method = p.method
	req.RequestURI = p.target
	req.Proto = p.proto
	req.ProtoMajor, req.ProtoMinor = p.major, p.minor
	if req.Proto == "" || perr != nil && !p.http09 {
		// A request line too malformed to name a protocol: Apache's
		// default for r->protocol.
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.0", 1, 0
	}
	req.Header = p.header
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.RemoteAddr = c.rwc.RemoteAddr().String()
	req.Body = http.NoBody
	req.URL = requestURL(p.target)
	req.Host = hostOf(p.target, req.Header)
	fr := framing{length: -1}
	if perr == nil && !p.http09 {
		fr, perr = p.bodyFraming(req.URL.Path)
		c.perr = perr
	}
	if perr == nil {
		switch {
		case fr.chunked:
			req.TransferEncoding = []string{"chunked"}
			req.ContentLength = -1
			req.Body = &bodyReader{c: c, r: &chunkedReader{br: c.br}, trailer: true}
		case fr.length > 0:
			req.ContentLength = fr.length
			req.Body = &bodyReader{c: c, r: io.LimitReader(c.br, fr.length)}
		}
		if req.Body != http.NoBody {
			if e, ok := req.Header["Expect"]; ok && req.ProtoAtLeast(1, 1) && len(e) > 0 && equalFoldTrim(e[0], "100-continue") {
				c.expect100 = true
			}
		}
	}
	refused := perr != nil && perr.Status != http.StatusExpectationFailed
	req.Close = refused || fr.closeAfter || p.http09 || !wantsKeepAlive(req)
	w := &c.resp
	w.reset(c, req)
	if refused || fr.closeAfter {
		w.mustClose = true
	}
	w.silent = perr != nil && perr.Silent
	c.srv.Handler.ServeHTTP(w, req)
	w.finish()
	if w.err != nil || !w.keepAlive {
		return false
	}
	// Whatever body the handler left unread is read and discarded
	// (ap_discard_request_body) so the next request starts in place.
	if req.Body != http.NoBody {
		if b, ok := req.Body.(*bodyReader); ok && !b.eof {
			if c.expect100 {
				// The client waits for 100 before sending: never sent,
				// so the body never comes. Close instead.
				return false
			}
			n, err := io.CopyN(io.Discard, b, 1<<20)
			if err != io.EOF && (err != nil || n == 1<<20) {
				return false
			}
		}
	}
	return true
}

// wantsKeepAlive reads the client's side of ap_set_keepalive: HTTP/1.1
// unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
func wantsKeepAlive(r *http.Request) bool {
	conn := r.Header["Connection"]
	has := func(tok string) bool {
		for _, v := range conn {
			for len(v) > 0 {
				var t string
				if i := indexComma(v); i >= 0 {
					t, v = v[:i], v[i+1:]
				} else {
					t, v = v, ""
				}
				if equalFoldTrim(t, tok) {
					return true
				}
			}
		}
		return false
	}
	if r.ProtoAtLeast(1, 1) {
		return !has("close")
	}
	return r.ProtoMajor == 1 && has("keep-alive")
}

func indexComma(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return i
		}
	}
	return -1
}

func equalFoldTrim(s, tok string) bool {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	if len(s) != len(tok) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a := s[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != tok[i] {
			return false
		}
	}
	return true
}

// sendContinue answers Expect: 100-continue before the body is read.
func (c *conn) sendContinue() {
	c.expect100 = false
	if c.resp.committed {
		return
	}
	c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	c.bw.Flush()
}

// lingeringClose is ap_lingering_close: stop sending, then read and
// discard what the client still sends for a short while, so a reset does
// not destroy the response in flight.
func (c *conn) lingeringClose() {
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			deadline := time.Now().Add(2 * time.Second)
			c.rwc.SetReadDeadline(deadline)
			buf := c.scratch[:cap(c.scratch)]
			for total := 0; total < 1<<20; {
				// Drain what bufio already holds first.
				n, err := c.br.Read(buf)
				total += n
				if err != nil {
					break
				}
			}
		}
	}
	c.rwc.Close()
}

// deadlineWriter applies Timeout to every write to the connection (Apache
// applies it to each send).
type deadlineWriter struct{ c *conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.c.rwc.SetWriteDeadline(time.Now().Add(d.c.cfg.Timeout))
	return d.c.rwc.Write(p)
}
