package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Response is a parsed raw HTTP response.
type Response struct {
	Status     int
	StatusLine string
	Header     map[string][]string // canonical names
	Body       []byte
	Head       bool // the answer to a HEAD request
}

// maxResponse bounds how much of a response the client reads.
const maxResponse = 8 << 20

// RawRequest is the exact bytes sent for r to a server on port: Host
// (unless the case gives its own, or "Host: -" for none) and Connection:
// close, so the response ends at EOF and nothing is hidden by a client
// library. "{{PORT}}" is expanded in the target and header values.
func RawRequest(r Request, port int) []byte {
	var b bytes.Buffer
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	p := strconv.Itoa(port)
	if proto == "HTTP/0.9" {
		// A simple request: the request line without a protocol, and
		// nothing after it.
		fmt.Fprintf(&b, "%s %s\r\n", r.Method, strings.ReplaceAll(r.Target, "{{PORT}}", p))
		return b.Bytes()
	}
	fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, strings.ReplaceAll(r.Target, "{{PORT}}", p), proto)
	hasHost, hasLen := false, false
	for _, h := range r.Headers {
		switch strings.ToLower(h.Name) {
		case "host":
			hasHost = true
		case "content-length":
			hasLen = true
		}
	}
	if !hasHost {
		fmt.Fprintf(&b, "Host: 127.0.0.1:%d\r\n", port)
	}
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, "host") && h.Value == "-" {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, strings.ReplaceAll(h.Value, "{{PORT}}", p))
	}
	if !hasLen && (r.Method == "POST" || r.Method == "PUT") {
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(r.Body)
	return b.Bytes()
}

// Do sends r to 127.0.0.1:port from r.From and reads the whole response,
// giving up after timeout.
func Do(r Request, port int, timeout time.Duration) (*Response, error) {
	from := net.ParseIP(r.From)
	if from == nil {
		return nil, fmt.Errorf("bad client address %q", r.From)
	}
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: from}}
	conn, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(RawRequest(r, port)); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(conn, maxResponse))
	if err != nil && len(raw) == 0 {
		return nil, err
	}
	if r.Proto == "HTTP/0.9" && !bytes.HasPrefix(raw, []byte("HTTP/")) {
		// An HTTP/0.9 answer: the body alone (status 0).
		return &Response{StatusLine: "HTTP/0.9", Header: map[string][]string{}, Body: raw}, nil
	}
	return ParseResponse(raw, r.Method == "HEAD")
}

// ParseResponse parses a complete HTTP/1.x response read to EOF.
func ParseResponse(raw []byte, head bool) (*Response, error) {
	br := bufio.NewReader(bytes.NewReader(raw))
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("no status line (got %d bytes)", len(raw))
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/") {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("bad headers: %w", err)
	}
	resp := &Response{Status: code, StatusLine: line, Header: map[string][]string(hdr), Head: head}
	rest, _ := io.ReadAll(br)
	if head || code == 204 || code == 304 || code/100 == 1 {
		return resp, nil
	}
	if strings.EqualFold(resp.get("Transfer-Encoding"), "chunked") {
		body, err := dechunk(rest)
		if err != nil {
			return nil, err
		}
		resp.Body = body
		return resp, nil
	}
	if cl := resp.get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err == nil && n >= 0 && n < len(rest) {
			rest = rest[:n]
		}
	}
	resp.Body = rest
	return resp, nil
}

func (r *Response) get(name string) string {
	v := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	return strings.Join(v, ", ")
}

func dechunk(b []byte) ([]byte, error) {
	var out bytes.Buffer
	br := bufio.NewReader(bytes.NewReader(b))
	for i := 0; i < 1<<20; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("truncated chunked body")
		}
		sizeText, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || n < 0 || n > maxResponse {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			return out.Bytes(), nil
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, fmt.Errorf("truncated chunk")
		}
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("truncated chunk")
		}
	}
	return nil, fmt.Errorf("too many chunks")
}
