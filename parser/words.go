package parser

// SplitWords splits a directive's argument text into words exactly as
// Apache's ap_getword_conf (server/util.c) does: whitespace separates words;
// a word that starts with ' or " runs to the matching quote, and inside it
// only \\ and \<quote> are escapes; an unterminated quote runs to the end;
// outside quotes only \\ becomes \ (a backslash does not escape a space);
// quotes count only at the start of a word.
func SplitWords(s string) []string {
	var words []string
	for {
		w, rest, ok := NextWord(s)
		if !ok {
			return words
		}
		words = append(words, w)
		s = rest
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// NextWord returns the first word of s (ap_getword_conf) and the rest.
// ok is false when s holds only whitespace.
func NextWord(s string) (word, rest string, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return "", "", false
	}
	s = s[i:]
	if q := s[0]; q == '"' || q == '\'' {
		buf := make([]byte, 0, len(s))
		j := 1
		for ; j < len(s); j++ {
			c := s[j]
			if c == '\\' && j+1 < len(s) && (s[j+1] == q || s[j+1] == '\\') {
				buf = append(buf, s[j+1])
				j++
				continue
			}
			if c == q {
				j++
				break
			}
			buf = append(buf, c)
		}
		rest = s[j:]
		for len(rest) > 0 && isSpace(rest[0]) {
			rest = rest[1:]
		}
		return string(buf), rest, true
	}
	j := 0
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	raw := s[:j]
	rest = s[j:]
	for len(rest) > 0 && isSpace(rest[0]) {
		rest = rest[1:]
	}
	// substring_conf: only "\\" collapses to "\" outside quotes.
	buf := make([]byte, 0, len(raw))
	for k := 0; k < len(raw); k++ {
		if raw[k] == '\\' && k+1 < len(raw) && raw[k+1] == '\\' {
			buf = append(buf, '\\')
			k++
			continue
		}
		buf = append(buf, raw[k])
	}
	return string(buf), rest, true
}
