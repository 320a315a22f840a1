package negotiation

import "strings"

// acceptRec is one item of an Accept* header, or the media type of a
// variant (Apache's accept_rec). Qualities are float32 as in Apache, so
// that ties and products compare exactly as there.
type acceptRec struct {
	name    string // lowercased
	quality float32
	level   float32
	charset string
}

// The magic types of mod_include and the CGI pseudo type (httpd.h).
const (
	includesMagicType  = "text/x-server-parsed-html"
	includesMagicType3 = "text/x-server-parsed-html3"
	cgiMagicType       = "application/x-httpd-cgi"
	mapFileMagicType   = "application/x-type-map"
)

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// atoq parses a quality value as Apache's atoq: at most three decimals,
// anything not starting with 0 or '.' counts as 1, and the third digit is
// taken only when it is 1-9.
func atoq(s string) float32 {
	if s == "" {
		return 1
	}
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	at := func(k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	if at(i) != '.' {
		if at(i) != '0' {
			return 1
		}
		i++
	}
	if at(i) != '.' {
		return 0
	}
	i++
	n := 0
	if c := at(i); c >= '0' && c <= '9' {
		n += int(c-'0') * 100
		i++
		if c := at(i); c >= '0' && c <= '9' {
			n += int(c-'0') * 10
			i++
			if c := at(i); c > '0' && c <= '9' {
				n += int(c - '0')
			}
		}
	}
	return float32(n) / 1000
}

// getToken is ap_get_token: skip white space, take bytes up to white space
// (unless acceptWhite), ';' or ',' (skipping quoted strings), then skip
// white space after it.
func getToken(s string, acceptWhite bool) (tok, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	for i < len(s) && (acceptWhite || !isSpace(s[i])) && s[i] != ';' && s[i] != ',' {
		c := s[i]
		i++
		if c == '"' {
			for i < len(s) {
				c2 := s[i]
				i++
				if c2 == '"' {
					break
				}
			}
		}
	}
	tok = s[start:i]
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return tok, s[i:]
}

// getEntry parses one media range (or language, charset, encoding) with its
// parameters, as Apache's get_entry, and returns the rest of the line.
func getEntry(line string) (acceptRec, string) {
	r := acceptRec{quality: 1}
	var name string
	name, line = getToken(line, false)
	r.name = strings.ToLower(name)
	switch r.name {
	case "text/html", includesMagicType:
		r.level = 2
	case includesMagicType3:
		r.level = 3
	}
	for len(line) > 0 && line[0] == ';' {
		var parm string
		parm, line = getToken(line[1:], true)
		// Lowercase the parameter name up to white space or '='.
		cp := 0
		for cp < len(parm) && !isSpace(parm[cp]) && parm[cp] != '=' {
			cp++
		}
		if cp == len(parm) {
			continue // no '=': ignored
		}
		pname := strings.ToLower(parm[:cp])
		v := parm[cp+1:]
		// Apache writes NUL at cp, so a name ending in white space loses it.
		k := 0
		for k < len(v) && (isSpace(v[k]) || v[k] == '=') {
			k++
		}
		v = v[k:]
		if len(v) > 0 && v[0] == '"' {
			v = v[1:]
			e := 0
			for e < len(v) && v[e] != '\n' && v[e] != '\r' && v[e] != '"' {
				e++
			}
			v = v[:e]
		} else {
			e := 0
			for e < len(v) && !isSpace(v[e]) {
				e++
			}
			v = v[:e]
		}
		v = strings.ToLower(v)
		switch {
		case pname == "q" || pname == "qs":
			r.quality = atoq(v)
		case pname == "level":
			r.level = float32(atoi(v))
		case pname == "charset":
			r.charset = v
		}
	}
	if len(line) > 0 && line[0] == ',' {
		line = line[1:]
	}
	return r, line
}

// atoi is C's atoi: optional white space and sign, then digits; 0 if none.
func atoi(s string) int {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<30 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if neg {
		return -n
	}
	return n
}

// maxHeaderItems bounds how many items one Accept* header may contribute,
// so a hostile header cannot make selection quadratic without bound.
// Apache has no such limit; real clients send a handful.
const maxHeaderItems = 512

// parseHeaderLine is do_header_line. present=false means no header; an
// empty header gives present=true with no items (which makes every variant
// unacceptable on that dimension).
func parseHeaderLine(h []string) (recs []acceptRec, present bool) {
	if len(h) == 0 {
		return nil, false
	}
	// Apache merges repeated request header fields with ", " when it reads
	// them.
	line := strings.Join(h, ", ")
	recs = []acceptRec{}
	for len(line) > 0 && len(recs) < maxHeaderItems {
		var r acceptRec
		r, line = getEntry(line)
		recs = append(recs, r)
	}
	return recs, true
}

// languagesLine is do_languages_line: a comma/semicolon separated,
// lowercased list.
func languagesLine(line string) []string {
	out := []string{}
	for len(line) > 0 {
		var t string
		t, line = getToken(line, false)
		out = append(out, strings.ToLower(t))
		if len(line) > 0 && (line[0] == ',' || line[0] == ';') {
			line = line[1:]
		}
	}
	return out
}
