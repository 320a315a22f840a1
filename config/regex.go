package config

import (
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// RegexMatchTimeout bounds one match of a PCRE-only pattern (regexp2
// backtracks; RE2 patterns cannot blow up).
const RegexMatchTimeout = 50 * time.Millisecond

// CompileRegex compiles a section pattern as Apache's ap_pregcomp would
// accept it: Go's RE2 first, then a backtracking engine for PCRE-only
// syntax (lookaround, backreferences, possessive quantifiers). The error
// text is Apache's.
func CompileRegex(pattern string) (Matcher, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return &re2Matcher{re: re}, nil
	}
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, errRegex
	}
	re.MatchTimeout = RegexMatchTimeout
	return &pcreMatcher{re: re}, nil
}

type regexError struct{}

func (regexError) Error() string { return "Regex could not be compiled" }

var errRegex error = regexError{}

type re2Matcher struct{ re *regexp.Regexp }

func (m *re2Matcher) MatchString(s string) bool { return m.re.MatchString(s) }
func (m *re2Matcher) String() string            { return m.re.String() }

func (m *re2Matcher) NamedMatches(s string) map[string]string {
	names := m.re.SubexpNames()
	hasNames := false
	for _, n := range names {
		if n != "" {
			hasNames = true
			break
		}
	}
	if !hasNames {
		if m.re.MatchString(s) {
			return map[string]string{}
		}
		return nil
	}
	sub := m.re.FindStringSubmatch(s)
	if sub == nil {
		return nil
	}
	out := map[string]string{}
	for i, n := range names {
		if n != "" {
			out[strings.ToUpper(n)] = sub[i]
		}
	}
	return out
}

type pcreMatcher struct{ re *regexp2.Regexp }

func (m *pcreMatcher) String() string { return m.re.String() }

// MatchString reports a match; a match that exceeds RegexMatchTimeout
// counts as no match.
func (m *pcreMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	return err == nil && ok
}

func (m *pcreMatcher) NamedMatches(s string) map[string]string {
	match, err := m.re.FindStringMatch(s)
	if err != nil || match == nil {
		return nil
	}
	out := map[string]string{}
	for _, g := range match.Groups() {
		if g.Name == "" || (g.Name[0] >= '0' && g.Name[0] <= '9') {
			continue
		}
		out[strings.ToUpper(g.Name)] = g.String()
	}
	return out
}

// IsWildcard is apr_fnmatch_test: true when pattern holds an unescaped '*'
// or '?', or a '[' with a later ']'.
func IsWildcard(pattern string) bool {
	open := false
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '?', '*':
			return true
		case '\\':
			i++
		case '[':
			open = true
		case ']':
			if open {
				return true
			}
		}
	}
	return false
}

// FnMatch is apr_fnmatch(pattern, s, APR_FNM_PATHNAME): a full match in
// which wildcards never match '/'. '[!...]' negates like '[^...]'.
func FnMatch(pattern, s string) bool {
	if strings.Contains(pattern, "[!") {
		pattern = strings.ReplaceAll(pattern, "[!", "[^")
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}
