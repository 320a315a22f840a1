package server

import "strings"

// normalizePath is ap_normalize_path with Apache's request flags
// (NOT_ABOVE_ROOT, DECODE_UNRESERVED, and MERGE_SLASHES unless
// MergeSlashes Off): it removes "." segments, resolves ".." (failing above
// the root), merges slashes and decodes %XX of unreserved characters. It
// returns false for an invalid path (Apache answers 400, AH10244).
func normalizePath(p string, mergeSlashes bool) (string, bool) {
	if p == "" || p[0] != '/' {
		return p, false
	}
	// Decode unreserved characters first, and validate %XX.
	var b []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return p, false
			}
			d := unhex(p[i+1])<<4 | unhex(p[i+2])
			if isUnreserved(d) {
				if b == nil {
					b = append(make([]byte, 0, len(p)), p[:i]...)
				}
				b = append(b, d)
				i += 2
				continue
			}
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if b != nil {
		p = string(b)
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) == 0 {
				return p, false
			}
			out = out[:len(out)-1]
			if last {
				out = append(out, "")
			}
		case "":
			if mergeSlashes && !last {
				continue
			}
			out = append(out, s)
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/"), true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// unescapeURL is ap_unescape_url (with ap_unescape_url_keep2f for
// AllowEncodedSlashes): %2F (unless allowed) and %00 make the path
// unusable (404); a bad escape is 400. status is 0 on success.
func unescapeURL(p string, allowSlash, keepSlashEncoded bool) (string, int) {
	if strings.IndexByte(p, '%') < 0 {
		return p, 0
	}
	b := make([]byte, 0, len(p))
	badPath := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return p, 400
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		switch {
		case d == 0:
			badPath = true
		case d == '/' && !allowSlash:
			badPath = true
		case d == '/' && keepSlashEncoded:
			b = append(b, p[i:i+3]...)
			i += 2
			continue
		}
		b = append(b, d)
		i += 2
	}
	if badPath {
		return p, 404
	}
	return string(b), 0
}

// escapePath is ap_escape_path_segment/ap_os_escape_path(partial): what
// Apache escapes when it puts a path into a URL (Location headers).
func escapePath(s string) string {
	const hexdigits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("$-_.+!*'(),:@&=~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}
