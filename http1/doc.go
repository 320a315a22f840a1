// Package http1 implements HTTP/1.x connections as Apache's core protocol
// handles them.
//
// It replaces net/http's server for Plume: the request line and header
// fields are read and checked as ap_read_request does under the
// HttpProtocolOptions of the server the connection was accepted for
// (Config, asked per local address; Apache's default is Strict, LenientMethods and
// Allow0.9, HTTP/0.9 answered with a bare body), following
// ap_parse_request_line step by step, so a malformed request reaches the
// handler carrying the status Apache answers (see ParseError) instead of
// being answered by the protocol layer with texts Apache never sends. Responses are framed as
// Apache frames them (Content-Length when known, chunked for HTTP/1.1,
// close-delimited for HTTP/1.0; Keep-Alive/Connection headers as
// ap_set_keepalive writes them), and headers plus a small body leave in one
// write(2); large files go out with sendfile(2) through the connection's
// ReadFrom. No goroutine runs per request besides the connection's own.
package http1
