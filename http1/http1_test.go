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
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadHead(t *testing.T) {
	long := "/" + strings.Repeat("a", 8200)
	many := ""
	for i := 0; i < 101; i++ {
		many += fmt.Sprintf("X%d: a\r\n", i)
	}
	tests := []struct {
		name, in string
		status   int    // 0: well-formed
		code     string // AH code of the refusal
		check    func(t *testing.T, p *parsed)
	}{
		{name: "simple", in: "GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n", check: func(t *testing.T, p *parsed) {
			if p.method != "GET" || p.target != "/a?b" || p.major != 1 || p.minor != 1 || p.header.Get("Host") != "x" {
				t.Errorf("got %+v", p)
			}
		}},
		{name: "blank lines first", in: "\r\n\r\nGET / HTTP/1.0\r\n\r\n"},
		{name: "repeated fields merged", in: "GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\n\r\n", check: func(t *testing.T, p *parsed) {
			if v := p.header["X-A"]; len(v) != 1 || v[0] != "1, 2" {
				t.Errorf("X-A = %q", v)
			}
		}},
		{name: "obs-fold", in: "GET / HTTP/1.1\r\nFoo: a\r\n  b\r\n\r\n", check: func(t *testing.T, p *parsed) {
			if v := p.header.Get("Foo"); v != "a b" {
				t.Errorf("Foo = %q", v)
			}
		}},
		{name: "HTTP/0.9", in: "GET /x\r\n", check: func(t *testing.T, p *parsed) {
			if !p.http09 {
				t.Error("not 0.9")
			}
		}},
		{name: "HTTP/2.0 accepted", in: "GET / HTTP/2.0\r\n\r\n"},
		{name: "absolute form", in: "GET http://h/x HTTP/1.1\r\n\r\n"},
		{name: "asterisk", in: "OPTIONS * HTTP/1.1\r\n\r\n"},
		{name: "line too long", in: "GET " + long + " HTTP/1.1\r\n\r\n", status: 414, code: "AH00565"},
		{name: "field too long", in: "GET / HTTP/1.1\r\nA: " + long + "\r\n\r\n", status: 400, code: "AH00561"},
		{name: "too many fields", in: "GET / HTTP/1.1\r\n" + many + "\r\n", status: 400, code: "AH00563"},
		{name: "no colon", in: "GET / HTTP/1.1\r\nFoo\r\n\r\n", status: 400, code: "AH02426"},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nFoo : a\r\n\r\n", status: 400, code: "AH02426"},
		{name: "empty name", in: "GET / HTTP/1.1\r\n: a\r\n\r\n", status: 400, code: "AH02426"},
		{name: "fold first", in: "GET / HTTP/1.1\r\n  b\r\n\r\n", status: 400, code: "AH03442"},
		{name: "NUL in field", in: "GET / HTTP/1.1\r\nFoo: a\x00b\r\n\r\n", status: 400, code: "AH00567"},
		{name: "CTL in value", in: "GET / HTTP/1.1\r\nFoo: a\x01b\r\n\r\n", status: 400, code: "AH02427"},
		{name: "bare LF", in: "GET / HTTP/1.1\nHost: x\n\n", status: 400, code: "AH00566"},
		{name: "double space", in: "GET  / HTTP/1.1\r\n\r\n", status: 400, code: "AH03448"},
		{name: "trailing space", in: "GET / HTTP/1.1 \r\n\r\n", status: 400, code: "AH03448"},
		{name: "tab", in: "GET\t/ HTTP/1.1\r\n\r\n", status: 400, code: "AH03447"},
		{name: "bad method", in: "G@T / HTTP/1.1\r\n\r\n", status: 400, code: "AH03445"},
		{name: "lower-case protocol", in: "GET / http/1.1\r\n\r\n", status: 400, code: "AH02418"},
		{name: "bad version", in: "GET / HTTP/0.9x\r\n\r\n", status: 400, code: "AH02418"},
		{name: "CTL in URI", in: "GET /a\x01b HTTP/1.1\r\n\r\n", status: 400, code: "AH03454"},
		{name: "relative URI", in: "GET a.html HTTP/1.1\r\n\r\n", status: 400, code: "AH03450"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
			p, perr, err := readHead(br, DefaultLimits, nil)
			if err != nil {
				t.Fatalf("err %v", err)
			}
			if tt.status == 0 {
				if perr != nil {
					t.Fatalf("refused: %v", perr)
				}
				if tt.check != nil {
					tt.check(t, p)
				}
				return
			}
			if perr == nil || perr.Status != tt.status || perr.Code != tt.code {
				t.Fatalf("got %+v, want %d %s", perr, tt.status, tt.code)
			}
		})
	}
}

// TestProtocolOptions checks each HttpProtocolOptions choice against the
// answers apache2 2.4 gives for the same bytes (status and AH code of the
// debug line; "" for a well-formed request).
func TestProtocolOptions(t *testing.T) {
	strict := ProtocolOptions{}
	unsafe := ProtocolOptions{Unsafe: true}
	registered := ProtocolOptions{RegisteredMethods: true}
	require10 := ProtocolOptions{Require10: true}
	tests := []struct {
		name string
		opts ProtocolOptions
		in   string
		// status 0: well-formed
		status int
		code   string
		// line is the_request as Apache logs it ("" not checked).
		line string
	}{
		{"strict double space", strict, "GET  /i HTTP/1.1\r\n\r\n", 400, "AH03448", "GET /i HTTP/1.1"},
		{"unsafe double space", unsafe, "GET  /i HTTP/1.1\r\n\r\n", 0, "", "GET /i HTTP/1.1"},
		{"unsafe space before protocol", unsafe, "GET /i  HTTP/1.1\r\n\r\n", 0, "", "GET /i HTTP/1.1"},
		{"strict trailing space", strict, "GET /i HTTP/1.1 \r\n\r\n", 400, "AH03448", ""},
		{"unsafe trailing space", unsafe, "GET /i HTTP/1.1 \r\n\r\n", 0, "", "GET /i HTTP/1.1"},
		{"strict trailing text", strict, "GET /i HTTP/1.1 junk\r\n\r\n", 400, "AH03448", ""},
		{"unsafe trailing text", unsafe, "GET /i HTTP/1.1 junk\r\n\r\n", 400, "AH03449", "GET /i HTTP/1.1"},
		{"unsafe tab", unsafe, "GET\t/i HTTP/1.1\r\n\r\n", 400, "AH03447", ""},
		{"strict leading space", strict, " GET /i HTTP/1.1\r\n\r\n", 400, "AH03447", ""},
		{"unsafe leading space", unsafe, " GET /i HTTP/1.1\r\n\r\n", 400, "AH03447", ""},
		{"strict space tab", strict, "GET /i \tHTTP/1.1\r\n\r\n", 400, "AH03448", ""},
		{"unsafe space tab", unsafe, "GET /i \tHTTP/1.1\r\n\r\n", 400, "AH03447", ""},
		{"strict lower-case protocol", strict, "GET /i http/1.1\r\n\r\n", 400, "AH02418", ""},
		{"unsafe lower-case protocol", unsafe, "GET /i http/1.1\r\n\r\n", 0, "", "GET /i http/1.1"},
		{"unsafe HTTP/1.1x", unsafe, "GET /i HTTP/1.1x\r\n\r\n", 400, "AH02418", ""},
		{"HTTP/0.9 named", strict, "GET /i HTTP/0.9\r\n\r\n", 400, "AH02418", ""},
		{"strict HEAD 0.9", strict, "HEAD /i\r\n", 400, "AH03444", ""},
		{"strict FOO 0.9", strict, "FOO /i\r\n", 400, "AH03444", ""},
		{"unsafe FOO 0.9", unsafe, "FOO /i\r\n", 0, "", "FOO /i"},
		{"unsafe 0.9 trailing space", unsafe, "GET /i \r\n", 0, "", "GET /i"},
		{"strict bare LF", strict, "GET /i HTTP/1.1\nHost: x\n\n", 400, "AH00566", ""},
		{"unsafe bare LF", unsafe, "GET /i HTTP/1.1\nHost: x\n\n", 0, "", ""},
		{"unsafe bare LF 0.9", unsafe, "GET /i\n", 0, "", ""},
		{"strict bare LF field", strict, "GET /i HTTP/1.1\r\nHost: x\nA: b\r\n\r\n", 400, "AH00567", ""},
		{"unsafe bare LF field", unsafe, "GET /i HTTP/1.1\r\nHost: x\nA: b\r\n\r\n", 0, "", ""},
		{"strict method", strict, "G@T /i HTTP/1.1\r\n\r\n", 400, "AH03445", ""},
		{"unsafe method", unsafe, "G@T /i HTTP/1.1\r\n\r\n", 0, "", ""},
		{"unsafe obs-text method", unsafe, "G\x80T /i HTTP/1.1\r\n\r\n", 0, "", ""},
		{"no URI", strict, "GET\r\n", 400, "AH03454", "GET"},
		{"unsafe no URI", unsafe, "GET \r\n", 400, "AH03454", "GET"},
		{"strict fragment", strict, "GET /i#f HTTP/1.1\r\n\r\n", 400, "AH02421", ""},
		{"unsafe fragment", unsafe, "GET /i#f HTTP/1.1\r\n\r\n", 0, "", ""},
		{"strict user info", strict, "GET http://u:p@x/i HTTP/1.1\r\n\r\n", 400, "AH02422", ""},
		{"unsafe user info", unsafe, "GET http://u:p@x/i HTTP/1.1\r\n\r\n", 0, "", ""},
		{"bad port", strict, "GET http://x:8a/i HTTP/1.1\r\n\r\n", 400, "AH03450", ""},
		{"scheme without authority", strict, "GET mailto:x HTTP/1.1\r\n\r\n", 400, "AH03450", ""},
		{"asterisk GET", strict, "GET * HTTP/1.1\r\n\r\n", 400, "AH03450", ""},
		{"CONNECT", strict, "CONNECT x:443 HTTP/1.1\r\n\r\n", 0, "", ""},
		{"CONNECT path", strict, "CONNECT /x HTTP/1.1\r\n\r\n", 400, "AH03450", ""},
		{"strict field name", strict, "GET /i HTTP/1.1\r\nFo@o: x\r\n\r\n", 400, "AH02426", ""},
		{"unsafe field name", unsafe, "GET /i HTTP/1.1\r\nFo@o: x\r\nF\x01o: y\r\n\r\n", 0, "", ""},
		{"unsafe space in name", unsafe, "GET /i HTTP/1.1\r\nFoo : x\r\n\r\n", 400, "AH03452", ""},
		{"unsafe no colon", unsafe, "GET /i HTTP/1.1\r\nFoo\r\n\r\n", 400, "AH00564", ""},
		{"unsafe empty name", unsafe, "GET /i HTTP/1.1\r\n: x\r\n\r\n", 400, "AH03453", ""},
		{"strict CTL value", strict, "GET /i HTTP/1.1\r\nFoo: a\x01b\r\n\r\n", 400, "AH02427", ""},
		{"unsafe CTL value", unsafe, "GET /i HTTP/1.1\r\nFoo: a\x01b\r\n\r\n", 0, "", ""},
		{"unsafe VT value", unsafe, "GET /i HTTP/1.1\r\nFoo: a\vb\r\n\r\n", 400, "AH03451", ""},
		{"unsafe CR value", unsafe, "GET /i HTTP/1.1\r\nFoo: a\rb\r\n\r\n", 400, "AH03451", ""},
		{"empty fold", strict, "GET /i HTTP/1.1\r\nFoo: a\r\n \r\n\r\n", 400, "AH03443", ""},
		{"unsafe empty fold", unsafe, "GET /i HTTP/1.1\r\nFoo: a\r\n\t\r\n\r\n", 400, "AH03443", ""},
		{"registered GET", registered, "GET /i HTTP/1.1\r\n\r\n", 0, "", ""},
		{"registered HEAD", registered, "HEAD /i HTTP/1.1\r\n\r\n", 0, "", ""},
		{"registered FOO", registered, "FOO /i HTTP/1.1\r\n\r\n", 501, "AH02423", ""},
		{"registered lower-case get", registered, "get /i HTTP/1.1\r\n\r\n", 501, "AH02423", ""},
		{"registered bad method first", registered, "G@T /i HTTP/1.1\r\n\r\n", 400, "AH03445", ""},
		{"registered before URI", registered, "FOO i HTTP/1.1\r\n\r\n", 501, "AH02423", ""},
		{"registered by config", ProtocolOptions{RegisteredMethods: true, Registered: func(m string) bool { return m == "FOO" }}, "FOO /i HTTP/1.1\r\n\r\n", 0, "", ""},
		{"require1.0 0.9", require10, "GET /i\r\n", 400, "AH02401", ""},
		{"require1.0 1.0", require10, "GET /i HTTP/1.0\r\n\r\n", 0, "", ""},
		{"require1.0 bad method first", ProtocolOptions{Require10: true}, "HEAD /i\r\n", 400, "AH02401", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
			lim := DefaultLimits
			lim.Protocol = tt.opts
			p, perr, err := readHead(br, lim, nil)
			if err != nil {
				t.Fatalf("err %v", err)
			}
			switch {
			case tt.status == 0 && perr != nil:
				t.Fatalf("refused: %v", perr)
			case tt.status != 0 && (perr == nil || perr.Status != tt.status || perr.Code != tt.code):
				t.Fatalf("got %+v, want %d %s", perr, tt.status, tt.code)
			}
			if tt.line != "" && p.requestLine != tt.line {
				t.Errorf("the_request %q, want %q", p.requestLine, tt.line)
			}
			if perr != nil && perr.Status == 400 && p.http09 {
				t.Errorf("a refused HTTP/0.9 request must be answered as HTTP/1.0")
			}
		})
	}
}

func TestBodyFraming(t *testing.T) {
	tests := []struct {
		name, fields string
		status       int
		chunked      bool
		length       int64
		closeAfter   bool
	}{
		{name: "none", length: -1},
		{name: "length", fields: "Content-Length: 12\r\n", length: 12},
		{name: "negative length", fields: "Content-Length: -1\r\n", status: 400},
		{name: "bad length", fields: "Content-Length: abc\r\n", status: 400},
		{name: "two lengths", fields: "Content-Length: 1\r\nContent-Length: 1\r\n", status: 400},
		{name: "chunked", fields: "Transfer-Encoding: chunked\r\n", chunked: true, length: -1},
		{name: "chunked and length", fields: "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", chunked: true, length: -1, closeAfter: true},
		{name: "gzip", fields: "Transfer-Encoding: gzip\r\n", status: 400},
		{name: "expect other", fields: "Expect: foo\r\n", status: 417, length: -1},
		{name: "expect continue", fields: "Expect: 100-Continue\r\n", length: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\n" + tt.fields + "\r\n"))
			p, perr, err := readHead(br, DefaultLimits, nil)
			if err != nil || perr != nil {
				t.Fatalf("head: %v %v", err, perr)
			}
			f, e := p.bodyFraming("/")
			if tt.status != 0 {
				if e == nil || e.Status != tt.status {
					t.Fatalf("got %+v, want %d", e, tt.status)
				}
				return
			}
			if e != nil || f.chunked != tt.chunked || f.length != tt.length || f.closeAfter != tt.closeAfter {
				t.Fatalf("got %+v %v", f, e)
			}
		})
	}
}

func TestChunkedReader(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
		err      error // when bad and the kind matters (400 vs 413)
	}{
		{in: "3\r\nabc\r\n0\r\n\r\n", want: "abc"},
		{in: "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", want: "abc0123456789"},
		{in: "0000000000000000000003\r\nabc\r\n0\r\n\r\n", want: "abc"}, // leading zeros are free
		{in: "zz\r\n", bad: true, err: ErrBadChunk},
		{in: "3\r\nabcd\r\n0\r\n\r\n", bad: true},
		{in: "3\r\nab", bad: true},
		{in: "-1\r\n", bad: true, err: ErrBadChunk},
		{in: "7fffffffffffffff\r\n", bad: true, err: io.ErrUnexpectedEOF}, // fits: waits for data
		{in: "8000000000000000\r\n", bad: true, err: ErrChunkOverflow},
		{in: "fffffffffffffffffffff\r\n", bad: true, err: ErrChunkOverflow},
		{in: "fffffffffffffffffffffz\r\n", bad: true, err: ErrChunkOverflow}, // apache2: 413, overflow seen first
	}
	for _, tt := range tests {
		cr := &chunkedReader{br: bufio.NewReader(strings.NewReader(tt.in))}
		got, err := io.ReadAll(cr)
		if tt.bad != (err != nil) || !tt.bad && string(got) != tt.want || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("%q: got %q, %v", tt.in, got, err)
		}
	}
}

// testServer runs a Server on loopback with h; it stops with the test.
func testServer(t *testing.T, cfg Config, h http.HandlerFunc) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, Config: func(net.Addr) Config { return cfg }}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return s, ln.Addr().String()
}

// exchange sends raw and reads until the server closes or 2s pass.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write([]byte(raw))
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestServeFraming(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0123456789abcdefghi", 3450)[:64<<10]
	os.WriteFile(filepath.Join(dir, "big"), []byte(big), 0o644)
	os.WriteFile(filepath.Join(dir, "small"), []byte("small file"), 0o644)
	h := func(w http.ResponseWriter, r *http.Request) {
		if e := ParseError(r); e != nil {
			w.Header().Set("Content-Length", "3")
			w.WriteHeader(e.Status)
			io.WriteString(w, "bad")
			return
		}
		switch r.URL.Path {
		case "/small":
			io.WriteString(w, "hello")
		case "/large":
			io.WriteString(w, strings.Repeat("y", 20000))
		case "/304":
			w.WriteHeader(304)
		case "/body":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b)
		case "/section", "/bigsection":
			f, _ := os.Open(filepath.Join(dir, "big"))
			defer f.Close()
			n := int64(100)
			if r.URL.Path == "/bigsection" {
				n = 40000
			}
			w.Header().Set("Content-Length", fmt.Sprint(n))
			w.(io.ReaderFrom).ReadFrom(io.NewSectionReader(f, 10, n))
		case "/file", "/sfile":
			name := "big"
			if r.URL.Path == "/sfile" {
				name = "small"
			}
			f, _ := os.Open(filepath.Join(dir, name))
			defer f.Close()
			fi, _ := f.Stat()
			w.Header().Set("Content-Length", fmt.Sprint(fi.Size()))
			w.(io.ReaderFrom).ReadFrom(io.LimitReader(f, fi.Size()))
		}
	}
	_, addr := testServer(t, DefaultConfig, h)
	tests := []struct {
		name, raw string
		want      []string // substrings, in order
		not       []string
	}{
		{name: "length computed", raw: "GET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "Connection: close\r\n", "\r\nhello"}},
		{name: "chunked when large", raw: "GET /large HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"Transfer-Encoding: chunked\r\n", "0\r\n\r\n"}, not: []string{"Content-Length"}},
		{name: "close-delimited for 1.0", raw: "GET /large HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			want: []string{"Connection: close\r\n"}, not: []string{"chunked", "Keep-Alive"}},
		{name: "1.0 keep-alive", raw: "GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /small HTTP/1.0\r\n\r\n",
			want: []string{"Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n", "hello", "Connection: close\r\n", "hello"}},
		{name: "1.1 keep-alive asked", raw: "GET /small HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n", "hello", "Connection: close\r\n", "hello"}},
		{name: "1.1 pipelined", raw: "GET /small HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"hello", "HTTP/1.1 200 OK", "Connection: close\r\n", "hello"}},
		{name: "HEAD has no body", raw: "HEAD /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			not: []string{"hello", "Content-Length"}},
		{name: "304 has no body", raw: "GET /304 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"HTTP/1.1 304 Not Modified\r\n"}, not: []string{"Content-Length", "chunked"}},
		{name: "request body", raw: "POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
			want: []string{"Content-Length: 4\r\n", "abcd"}},
		{name: "chunked request body", raw: "POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\nX-T: 1\r\n\r\n",
			want: []string{"Content-Length: 3\r\n", "abc"}},
		{name: "expect 100-continue", raw: "POST /body HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
			want: []string{"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 200 OK", "ab"}},
		{name: "unread body drained", raw: "POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"hello", "HTTP/1.1 200 OK", "hello"}},
		{name: "refused closes", raw: "GET  /small HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\n\r\n",
			want: []string{"HTTP/1.1 400 Bad Request\r\n", "Connection: close\r\n", "bad"}, not: []string{"hello"}},
		{name: "HTTP/0.9 bare body", raw: "GET /small\r\n", want: []string{"hello"}, not: []string{"HTTP/1.1"}},
		{name: "sendfile", raw: "GET /file HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"Content-Length: 65536\r\n", big}},
		{name: "file section", raw: "GET /section HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"Content-Length: 100\r\n", "\r\n\r\n" + big[10:110]}},
		{name: "large file section", raw: "GET /bigsection HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"Content-Length: 40000\r\n", "\r\n\r\n" + big[10:40010]}},
		{name: "small file", raw: "GET /sfile HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			want: []string{"Content-Length: 10\r\n", "\r\n\r\nsmall file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, addr, tt.raw)
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("missing %q in\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Fatalf("unexpected %q in\n%s", n, got)
				}
			}
		})
	}
}

// TestTimeouts checks Apache's answers when the client stops sending:
// nothing at all is closed silently, part of a request line is handed to
// the handler as a silent 408 (logged, not answered), and a timeout in
// the header fields is a 408 the handler answers.
func TestTimeouts(t *testing.T) {
	cfg := DefaultConfig
	cfg.Timeout = 200 * time.Millisecond
	seen := make(chan string, 3)
	_, addr := testServer(t, cfg, func(w http.ResponseWriter, r *http.Request) {
		e := ParseError(r)
		if e == nil {
			seen <- "ok"
			return
		}
		seen <- fmt.Sprintf("%d silent=%v", e.Status, e.Silent)
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(e.Status)
		io.WriteString(w, "page")
	})
	tests := []struct{ raw, handler, answer string }{
		{raw: "", handler: "", answer: ""},
		{raw: "GET /ind", handler: "408 silent=true", answer: ""},
		{raw: "GET / HTTP/1.1\r\nHost: a\r\n", handler: "408 silent=false", answer: "HTTP/1.1 408 Request Timeout"},
	}
	for _, tt := range tests {
		got := exchange(t, addr, tt.raw)
		if !strings.HasPrefix(got, tt.answer) || tt.answer == "" && got != "" {
			t.Errorf("%q: answer %q", tt.raw, got)
		}
		var h string
		select {
		case h = <-seen:
		default:
		}
		if h != tt.handler {
			t.Errorf("%q: handler saw %q, want %q", tt.raw, h, tt.handler)
		}
	}
}

func TestMaxKeepAliveRequests(t *testing.T) {
	cfg := DefaultConfig
	cfg.MaxKeepAliveRequests = 2
	_, addr := testServer(t, cfg, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	req := "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	got := exchange(t, addr, req+req+req+req)
	if n := strings.Count(got, "HTTP/1.1 200"); n != 3 {
		t.Fatalf("%d answers, want 3 (Apache keeps MaxKeepAliveRequests+1):\n%s", n, got)
	}
	for _, w := range []string{"max=2", "max=1", "Connection: close"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
}

func TestKeepAliveOff(t *testing.T) {
	cfg := DefaultConfig
	cfg.KeepAlive = false
	_, addr := testServer(t, cfg, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	got := exchange(t, addr, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if strings.Count(got, "HTTP/1.1 200") != 1 || !strings.Contains(got, "Connection: close") {
		t.Fatalf("got\n%s", got)
	}
}

func TestShutdownWaitsForRequest(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	s, addr := testServer(t, DefaultConfig, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	})
	// An idle keep-alive connection must not hold Shutdown up.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	bufio.NewReader(idle).ReadString('\n')
	result := make(chan string)
	go func() { result <- exchange(t, addr, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n") }()
	<-started
	shut := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	for !s.inShutdown.Load() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if got := <-result; !strings.Contains(got, "done") || !strings.Contains(got, "Connection: close") {
		t.Fatalf("in-flight request: %q", got)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /x\r\n",
		"GET / HTTP/1.0\r\nFoo: a\r\n b\r\nContent-Length: 2\r\n\r\nab",
		"\r\n\r\nGET http://h/ HTTP/2.0\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 64)
		lim := Limits{RequestLine: 200, FieldSize: 100, Fields: 10}
		// Every HttpProtocolOptions combination, chosen by the length.
		lim.Protocol = ProtocolOptions{Unsafe: len(in)&1 != 0, RegisteredMethods: len(in)&2 != 0, Require10: len(in)&4 != 0}
		p, perr, err := readHead(br, lim, nil)
		if err != nil {
			return
		}
		if perr != nil {
			if perr.Status != 400 && perr.Status != 414 && (perr.Status != 501 || !lim.Protocol.RegisteredMethods) {
				t.Fatalf("status %d", perr.Status)
			}
			return
		}
		if len(p.requestLine) > lim.RequestLine+1 {
			t.Fatalf("request line over the limit accepted")
		}
		if p.http09 {
			return
		}
		f, e := p.bodyFraming("/")
		if e != nil {
			return
		}
		var body io.Reader = strings.NewReader("")
		if f.chunked {
			body = &chunkedReader{br: br}
		} else if f.length > 0 {
			body = io.LimitReader(br, f.length)
		}
		io.Copy(io.Discard, body)
	})
}

func BenchmarkReadHead(b *testing.B) {
	raw := "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n"
	r := strings.NewReader(raw)
	br := bufio.NewReaderSize(r, 4096)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		br.Reset(r)
		if _, perr, err := readHead(br, DefaultLimits, nil); err != nil || perr != nil {
			b.Fatal(err, perr)
		}
	}
}

// BenchmarkKeepAlive measures one keep-alive request/response over
// loopback (6 KiB body from a file, as the load benchmark's small file).
func BenchmarkKeepAlive(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "6k")
	os.WriteFile(path, []byte(strings.Repeat("z", 6144)), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _ := os.Open(path)
		defer f.Close()
		w.Header().Set("Content-Length", "6144")
		w.(io.ReaderFrom).ReadFrom(io.LimitReader(f, 6144))
	}), Config: func(net.Addr) Config { c := DefaultConfig; c.MaxKeepAliveRequests = 0; return c }}
	go s.Serve(ln)
	defer s.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /6k HTTP/1.1\r\nHost: a\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		c.Write(req)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// TestConfigForLocalAddress checks that the configuration the Config
// func gives for the connection's local address is the one the request is
// read with (HttpProtocolOptions of the connection's base server).
func TestConfigForLocalAddress(t *testing.T) {
	local := make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Config: func(a net.Addr) Config {
		select {
		case local <- a.String():
		default:
		}
		c := DefaultConfig
		c.Limits.Protocol = ProtocolOptions{Unsafe: true}
		return c
	}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := ParseError(r); e != nil {
			http.Error(w, e.Error(), e.Status)
			return
		}
		line, _ := RequestLine(r)
		io.WriteString(w, line+"|"+r.Proto+"|"+fmt.Sprint(Protocol(r).Unsafe))
	})}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	addr := ln.Addr().String()
	got := exchange(t, addr, "GET  /x http/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.Contains(got, "HTTP/1.1 200") || !strings.HasSuffix(got, "GET /x http/1.1|HTTP/1.1|true") {
		t.Fatalf("got\n%s", got)
	}
	if l := <-local; l != addr {
		t.Errorf("Config called with %s, want %s", l, addr)
	}
}
