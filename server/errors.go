package server

import (
	"strconv"
	"strings"
)

// statusLines are Apache's status_lines (http_protocol.c): the codes Apache
// knows, with the reason phrase it prints. ErrorDocument accepts only these.
var statusLines = map[int]string{
	100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
	200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
	204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
	208: "Already Reported", 226: "IM Used",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
	304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
	411: "Length Required", 412: "Precondition Failed", 413: "Request Entity Too Large",
	414: "Request-URI Too Long", 415: "Unsupported Media Type",
	416: "Requested Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a teapot",
	421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked",
	424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required",
	428: "Precondition Required", 429: "Too Many Requests",
	431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
	506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
	510: "Not Extended", 511: "Network Authentication Required",
}

// StatusText is Apache's reason phrase for code ("Internal Server Error"
// for codes Apache does not know, as ap_index_of_response does).
func StatusText(code int) string {
	if s, ok := statusLines[code]; ok {
		return s
	}
	return statusLines[500]
}

func isRedirect(code int) bool { return code >= 300 && code < 400 }

const docTypeHTML = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"

// escapeHTML is ap_escape_html: & < > and " only.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, "&<>\"") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// errorInfo is what a canned error page needs from the request.
type errorInfo struct {
	status    int
	method    string
	location  string
	notes     map[string]string
	serverAdm string
	expect    string
	signature string // ap_psignature("<hr>\n", r) result, "" when off
	recursive int    // status of a failed ErrorDocument, 0 if none
}

// cannedErrorBody is ap_send_error_response's page as Debian's Apache
// 2.4.71 sends it (newer texts no longer echo the URI).
func cannedErrorBody(e errorInfo) string {
	title := strconv.Itoa(e.status) + " " + StatusText(e.status)
	var b strings.Builder
	b.Grow(512)
	b.WriteString(docTypeHTML)
	b.WriteString("<html><head>\n<title>")
	b.WriteString(title)
	b.WriteString("</title>\n</head><body>\n<h1>")
	b.WriteString(title[4:])
	b.WriteString("</h1>\n")
	b.WriteString(cannedErrorString(e))
	if e.recursive != 0 {
		b.WriteString("<p>Additionally, a ")
		b.WriteString(strconv.Itoa(e.recursive) + " " + StatusText(e.recursive))
		b.WriteString("\nerror was encountered while trying to use an ErrorDocument to handle the request.</p>\n")
	}
	b.WriteString(e.signature)
	b.WriteString("</body></html>\n")
	return b.String()
}

func optionalNote(e errorInfo, prefix, key, suffix string) string {
	return prefix + e.notes[key] + suffix
}

// cannedErrorString is get_canned_error_string.
func cannedErrorString(e errorInfo) string {
	switch e.status {
	case 301, 302, 307, 308:
		return "<p>The document has moved <a href=\"" + escapeHTML(e.location) + "\">here</a>.</p>\n"
	case 303:
		return "<p>The answer to your request is located <a href=\"" + escapeHTML(e.location) + "\">here</a>.</p>\n"
	case 305:
		return "<p>This resource is only accessible through the proxy\n" + escapeHTML(e.location) +
			"<br />\nYou will need to configure your client to use that proxy.</p>\n"
	case 407, 401:
		return "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n"
	case 400:
		return optionalNote(e, "<p>Your browser sent a request that this server could not understand.<br />\n", "error-notes", "</p>\n")
	case 403:
		return optionalNote(e, "<p>You don't have permission to access this resource.", "error-notes", "</p>\n")
	case 404:
		return "<p>The requested URL was not found on this server.</p>\n"
	case 405:
		return "<p>The requested method " + escapeHTML(e.method) + " is not allowed for this URL.</p>\n"
	case 406:
		return optionalNote(e, "<p>An appropriate representation of the requested resource could not be found on this server.</p>\n", "variant-list", "")
	case 300:
		return optionalNote(e, "", "variant-list", "")
	case 411:
		return optionalNote(e, "<p>A request of the requested method "+escapeHTML(e.method)+" requires a valid Content-length.<br />\n", "error-notes", "</p>\n")
	case 412:
		return "<p>The precondition on the request for this URL evaluated to false.</p>\n"
	case 501:
		return optionalNote(e, "<p>"+escapeHTML(e.method)+" not supported for current URL.<br />\n", "error-notes", "</p>\n")
	case 502:
		return optionalNote(e, "<p>The proxy server received an invalid\r\nresponse from an upstream server.<br />\r\n", "error-notes", "</p>\n")
	case 506:
		return "<p>A variant for the requested resource\n<pre>\n\n</pre>\nis itself a negotiable resource. This indicates a configuration error.</p>\n"
	case 408:
		return "<p>Server timeout waiting for the HTTP request from the client.</p>\n"
	case 410:
		return "<p>The requested resource is no longer available on this server and there is no forwarding address.\nPlease remove all references to this resource.</p>\n"
	case 413:
		return "The requested resource does not allow request data with " + escapeHTML(e.method) +
			" requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n"
	case 414:
		return optionalNote(e, "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n", "error-notes", "</p>\n")
	case 415:
		return "<p>The supplied request data is not in a format\nacceptable for processing by this resource.</p>\n"
	case 416:
		return "<p>None of the range-specifier values in the Range\nrequest-header field overlap the current extent\nof the selected resource.</p>\n"
	case 417:
		return optionalNote(e, "<p>The expectation given in the Expect request-header\nfield could not be met by this server.\nThe client sent<pre>\n    Expect: "+
			escapeHTML(e.expect)+"\n</pre>\n", "error-notes", "</p>\n")
	case 422:
		return "<p>The server understands the media type of the\nrequest entity, but was unable to process the\ncontained instructions.</p>\n"
	case 423:
		return "<p>The requested resource is currently locked.\nThe lock must be released or proper identification\ngiven before the method can be applied.</p>\n"
	case 424:
		return "<p>The method could not be performed on the resource\nbecause the requested action depended on another\naction and that other action failed.</p>\n"
	case 426:
		return "<p>The requested resource can only be retrieved\nusing SSL.  The server is willing to upgrade the current\nconnection to SSL, but your client doesn't support it.\nEither upgrade your client, or try requesting the page\nusing https://\n"
	case 507:
		return "<p>The method could not be performed on the resource\nbecause the server is unable to store the\nrepresentation needed to successfully complete the\nrequest.  There is insufficient free space left in\nyour storage allocation.</p>\n"
	case 503:
		return "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n"
	case 504:
		return "<p>The gateway did not receive a timely response\nfrom the upstream server or application.</p>\n"
	case 510:
		return "<p>A mandatory extension policy in the request is not\naccepted by the server for this resource.</p>\n"
	case 421:
		return "<p>The client needs a new connection for this\nrequest as the requested host name does not match\nthe Server Name Indication (SNI) in use for this\nconnection.</p>\n"
	case 429:
		return "<p>The user has sent too many\nrequests in a given amount of time.</p>\n"
	case 428:
		return "<p>The request is required to be conditional.</p>\n"
	case 431:
		return "<p>The server refused this request because\nthe request header fields are too large.</p>\n"
	case 451:
		return "<p>Access to the requested resource has been denied\nfor legal reasons.</p>\n"
	case 511:
		return "<p>The client needs to authenticate to gain\nnetwork access.</p>\n"
	}
	if isRedirect(e.status) {
		return "<p>The document has moved <a href=\"" + escapeHTML(e.location) + "\">here</a>.</p>\n"
	}
	return "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n " +
		escapeHTML(e.serverAdm) + " to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>\n"
}
