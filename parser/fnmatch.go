package parser

// hasWildcard is apr_fnmatch_test: true when pattern holds an unescaped
// '*' or '?', or a '[' followed later by a ']'.
func hasWildcard(pattern string) bool {
	nesting := 0
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '?', '*':
			return true
		case '\\':
			i++
			if i >= len(pattern) {
				return false
			}
		case '[':
			nesting++
		case ']':
			if nesting > 0 {
				return true
			}
		}
	}
	return false
}

// fnmatchPeriod matches one file name against a pattern as
// apr_fnmatch(pattern, name, APR_FNM_PERIOD) does: '*' any run of bytes,
// '?' one byte, '[...]' a set with '!' or '^' negation, ranges, and ']'
// allowed first; '\' escapes the next byte; a '[' without its ']' is a
// literal. A leading '.' in name matches only a literal '.'.
func fnmatchPeriod(pattern, name string) bool {
	if len(name) > 0 && name[0] == '.' {
		if len(pattern) >= 1 && pattern[0] == '.' {
			return globMatch(pattern[1:], name[1:])
		}
		if len(pattern) >= 2 && pattern[0] == '\\' && pattern[1] == '.' {
			return globMatch(pattern[2:], name[1:])
		}
		return false
	}
	return globMatch(pattern, name)
}

// globMatch is the iterative star-backtracking matcher; it runs in
// O(len(pattern)*len(name)) at worst.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) || pi < len(p) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '*':
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				starP, starS = pi, si
				continue
			case '?':
				if si < len(s) {
					pi++
					si++
					continue
				}
			case '[':
				if si < len(s) {
					if ok, n, valid := matchBracket(p[pi:], s[si]); valid {
						if ok {
							pi += n
							si++
							continue
						}
						break
					}
				}
				// An unbalanced '[' is a literal.
				if si < len(s) && s[si] == '[' {
					pi++
					si++
					continue
				}
			case '\\':
				lit := byte('\\')
				step := 1
				if pi+1 < len(p) {
					lit = p[pi+1]
					step = 2
				}
				if si < len(s) && s[si] == lit {
					pi += step
					si++
					continue
				}
			default:
				if si < len(s) && s[si] == c {
					pi++
					si++
					continue
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			starS++
			pi, si = starP, starS
			continue
		}
		return false
	}
	return true
}

// matchBracket matches byte c against the set at the start of p (p[0] is
// '['). It returns whether c is in the set, the pattern length of the set,
// and valid=false when the set has no closing ']' (then '[' is literal).
func matchBracket(p string, c byte) (match bool, n int, valid bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	found := false
	if i < len(p) && p[i] == ']' {
		if c == ']' {
			found = true
		}
		i++
	}
	for i < len(p) {
		if p[i] == ']' {
			return found != negate, i + 1, true
		}
		if p[i] == '\\' {
			i++
			if i >= len(p) {
				break
			}
		}
		start := p[i]
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			j := i + 2
			if p[j] == '\\' {
				j++
				if j >= len(p) {
					break
				}
			}
			if c >= start && c <= p[j] {
				found = true
			}
			i = j + 1
			continue
		}
		if c == start {
			found = true
		}
		i++
	}
	return false, 0, false
}
