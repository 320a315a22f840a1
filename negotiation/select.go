package negotiation

import (
	"net/http"
	"strings"
	"time"
)

// state is one negotiation (Apache's negotiation_state).
type state struct {
	conf *DirConfig
	env  map[string]string
	// memo is the Memo of the type map in use (nil for MultiViews
	// listings, which pass theirs directly).
	memo *Memo
	// dirMtime is the listed directory's modification time (MultiViews).
	dirMtime time.Time

	accepts         []acceptRec
	hasAccepts      bool
	acceptQ         bool // some Accept item has q < 1
	acceptEncodings []acceptRec
	hasEncodings    bool
	acceptCharsets  []acceptRec
	hasCharsets     bool
	acceptLangs     []acceptRec
	hasLangs        bool
	defaultLangQ    float32
	vars            []variant
	countMultiviews int
	isTransparent   bool
	dontFiddle      bool
	uaSupportsTrans bool
	sendAlternates  bool
	mayChoose       bool
	useRVSA         bool
	dirName         string // directory of the negotiated resource, with '/'
	// pure: every variant's answer was Pure (outcome.go); noted: the
	// variant list note was set (a 300/406 list): no outcome memo then.
	pure, noted bool
	statSize    func(name string) int64
}

// newState is parse_accept_headers.
func newState(h http.Header, conf *DirConfig, env map[string]string) *state {
	s := &state{conf: conf, env: env}
	s.accepts, s.hasAccepts = parseHeaderLine(h.Values("Accept"))
	for _, a := range s.accepts {
		if a.quality < 1 {
			s.acceptQ = true
		}
	}
	s.acceptEncodings, s.hasEncodings = parseHeaderLine(h.Values("Accept-Encoding"))
	s.acceptLangs, s.hasLangs = parseHeaderLine(h.Values("Accept-Language"))
	s.acceptCharsets, s.hasCharsets = parseHeaderLine(h.Values("Accept-Charset"))
	return s
}

// parseNegotiate is parse_negotiate_header.
func (s *state) parseNegotiate(h http.Header) {
	s.uaSupportsTrans, s.sendAlternates, s.mayChoose, s.useRVSA, s.dontFiddle = false, false, true, false, false
	vals := h.Values("Negotiate")
	if len(vals) == 0 {
		return
	}
	neg := strings.Join(vals, ", ")
	if neg == "trans" {
		// Lynx 2.7/2.8 send "Negotiate: trans" without supporting TCN.
		if strings.HasPrefix(h.Get("User-Agent"), "Lynx") {
			return
		}
	}
	s.mayChoose = false
	for _, tok := range listItems(neg) {
		if tok == "trans" || tok == "vlist" || tok == "guess-small" || (tok[0] >= '0' && tok[0] <= '9') || tok == "*" {
			s.uaSupportsTrans = true
			s.sendAlternates = true
			if tok == "1.0" {
				s.mayChoose, s.useRVSA, s.dontFiddle = true, true, true
			} else if tok[0] == '*' {
				s.mayChoose, s.dontFiddle = true, true
			}
		}
	}
}

// listItems is ap_get_list_item applied repeatedly: comma-separated items,
// white space collapsed outside quotes and tokens lowercased outside
// quoted strings; empty items are skipped.
func listItems(s string) []string {
	var out []string
	for _, raw := range splitOutsideQuotes(s) {
		var b strings.Builder
		inQuote, addSpace := false, false
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			if inQuote {
				b.WriteByte(c)
				if c == '"' {
					inQuote = false
				}
				continue
			}
			if isSpace(c) {
				if b.Len() > 0 {
					addSpace = true
				}
				continue
			}
			if addSpace && c != ';' && c != '=' {
				b.WriteByte(' ')
			}
			addSpace = false
			if c == '"' {
				inQuote = true
				b.WriteByte(c)
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
		if b.Len() > 0 {
			out = append(out, b.String())
		}
		if len(out) > maxHeaderItems {
			break
		}
	}
	return out
}

func splitOutsideQuotes(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// maybeAddDefaultAccepts is maybe_add_default_accepts.
func (s *state) maybeAddDefaultAccepts(preferScripts bool) {
	if !s.hasAccepts {
		s.accepts = []acceptRec{{name: "*/*", quality: 1}}
		s.hasAccepts = true
	}
	q := float32(0.001)
	if s.useRVSA {
		q = 0
	} else if preferScripts {
		q = 2
	}
	s.accepts = append(s.accepts, acceptRec{name: cgiMagicType, quality: q})
}

// mimeMatch is mime_match of Apache 2.4 (with the strict "*", "*/*" and
// "type/*" forms, so "*bad", "/*", "*/" and "te/*" match nothing).
func mimeMatch(a *acceptRec, v *variant) bool {
	at, vt := a.name, v.mimeType
	n := len(at)
	if at == "*" || at == "*/*" {
		if v.mimeStars < 1 {
			v.mimeStars = 1
		}
		return true
	}
	if n > 2 && at[n-2] == '/' && at[n-1] == '*' && len(vt) > n-2 && vt[:n-2] == at[:n-2] && vt[n-2] == '/' {
		if v.mimeStars < 2 {
			v.mimeStars = 2
		}
		return true
	}
	if at == vt || (at == "text/html" && (vt == includesMagicType || vt == includesMagicType3)) {
		if a.level >= v.level {
			v.levelMatched = v.level
			v.mimeStars = 3
			return true
		}
	}
	return false
}

// levelCmp is level_cmp.
func levelCmp(v1, v2 *variant) int {
	if v1.pseudoHTML && !v2.pseudoHTML {
		return 0
	}
	if !v1.pseudoHTML && v1.mimeType != v2.mimeType {
		return 0
	}
	switch {
	case v1.levelMatched > v2.levelMatched:
		return 1
	case v1.levelMatched < v2.levelMatched:
		return -1
	case v1.level < v2.level:
		return 1
	case v1.level > v2.level:
		return -1
	}
	return 0
}

// findLangIndex is find_lang_index: the first list entry that is a prefix
// of lang (plain prefix, as Apache: "en" also matches "english").
func findLangIndex(list []string, lang string) int {
	for i, l := range list {
		if strings.HasPrefix(lang, l) {
			return i
		}
	}
	return -1
}

// setDefaultLangQuality is set_default_lang_quality.
func (s *state) setDefaultLangQuality() {
	if !s.dontFiddle {
		for i := range s.vars {
			if len(s.vars[i].languages) > 0 {
				s.defaultLangQ = 0.0001
				return
			}
		}
	}
	s.defaultLangQ = 1
}

// setLanguageQuality is set_language_quality, ForceLanguagePriority
// included.
func (s *state) setLanguageQuality(v *variant) {
	force := s.conf.ForceLanguagePriority
	if force == ForceUnset {
		force = ForcePrefer
	}
	if len(v.languages) == 0 {
		if !s.dontFiddle {
			v.langQ = s.defaultLangQ
		}
		return
	} else if !s.hasLangs {
		v.definite = false
	} else {
		var best, star *acceptRec
		fiddleQ := float32(0)
		anyMatchOnStar := false
		for _, lang := range v.languages {
			var bestThisTag *acceptRec
			longest := 0
			for i := range s.acceptLangs {
				a := &s.acceptLangs[i]
				if a.name == "*" {
					if star == nil {
						star = a
					}
					continue
				}
				alen := len(a.name)
				if len(lang) >= alen && lang[:alen] == a.name && (len(lang) == alen || lang[alen] == '-') {
					if alen > longest {
						longest = alen
						bestThisTag = a
					}
				}
				if bestThisTag == nil && !s.dontFiddle {
					// en-US asked, en or en-GB offered: accept at 0.001.
					if p := strings.IndexByte(a.name, '-'); p >= 0 {
						if strings.HasPrefix(lang, a.name[:p]) {
							fiddleQ = 0.001
						}
					}
				}
			}
			if best == nil || (bestThisTag != nil && bestThisTag.quality > best.quality) {
				best = bestThisTag
			}
			if bestThisTag == nil && star != nil {
				anyMatchOnStar = true
			}
		}
		if anyMatchOnStar && ((best != nil && star.quality > best.quality) || best == nil) {
			best = star
			v.definite = false
		}
		if best != nil {
			v.langQ = best.quality
		} else {
			v.langQ = fiddleQ
		}
	}

	if (force&ForcePrefer != 0 && v.langIndex < 0) || (force&ForceFallback != 0 && v.langQ == 0) {
		bestIdx := -1
		for _, lang := range v.languages {
			idx := findLangIndex(s.conf.LanguagePriority, lang)
			if idx >= 0 && (bestIdx == -1 || idx < bestIdx) {
				bestIdx = idx
			}
		}
		if bestIdx >= 0 {
			if v.langQ != 0 {
				if force&ForcePrefer != 0 {
					v.langIndex = bestIdx
				}
			} else if force&ForceFallback != 0 {
				v.langIndex = bestIdx
				v.langQ = 0.0001
				v.definite = false
			}
		}
	}
}

// contentLength is find_content_length.
func (s *state) contentLength(v *variant) int64 {
	if v.bytes < 0 {
		if v.info != nil && v.info.Regular {
			v.bytes = v.info.Size
		} else if s.statSize != nil {
			v.bytes = s.statSize(v.fileName)
		}
	}
	return v.bytes
}

// setAcceptQuality is set_accept_quality.
func (s *state) setAcceptQuality(v *variant) {
	q := float32(0)
	qDefinite := true
	if !s.hasAccepts {
		if v.mimeType != "" {
			v.definite = false
		}
		return
	}
	for i := range s.accepts {
		a := &s.accepts[i]
		prev := v.mimeStars
		if !mimeMatch(a, v) {
			continue
		}
		if prev == v.mimeStars {
			continue
		}
		switch {
		case !s.dontFiddle && !s.acceptQ && v.mimeStars == 1:
			q = 0.01
		case !s.dontFiddle && !s.acceptQ && v.mimeStars == 2:
			q = 0.02
		default:
			q = a.quality
		}
		qDefinite = v.mimeStars == 3
	}
	v.mimeTypeQ = q
	v.definite = v.definite && qDefinite
}

// setCharsetQuality is set_charset_quality.
func (s *state) setCharsetQuality(v *variant) {
	charset := v.charset
	if !s.hasCharsets {
		if charset != "" {
			v.definite = false
		}
		return
	}
	if charset == "" {
		if !(strings.HasPrefix(v.mimeType, "text/") || v.mimeType == includesMagicType || v.mimeType == includesMagicType3) {
			return
		}
		if s.dontFiddle {
			return
		}
		charset = "iso-8859-1"
	}
	var star *acceptRec
	for i := range s.acceptCharsets {
		a := &s.acceptCharsets[i]
		if a.name == charset {
			v.charsetQ = a.quality
			return
		}
		if a.name == "*" {
			star = a
		}
	}
	if star != nil {
		v.charsetQ = star.quality
		v.definite = false
		return
	}
	if charset == "iso-8859-1" {
		v.charsetQ = 1
	} else {
		v.charsetQ = 0
	}
}

func isIdentityEncoding(enc string) bool {
	return enc == "" || enc == "7bit" || enc == "8bit" || enc == "binary"
}

// setEncodingQuality is set_encoding_quality.
func (s *state) setEncodingQuality(v *variant) {
	enc := v.encoding
	if !s.hasEncodings {
		if isIdentityEncoding(enc) {
			v.encodingQ = 1
		} else {
			v.encodingQ = 0.5
		}
		return
	}
	notFound := float32(0)
	if isIdentityEncoding(enc) {
		enc = "identity"
		notFound = 0.0001
	}
	enc = strings.TrimPrefix(enc, "x-")
	var star *acceptRec
	for i := range s.acceptEncodings {
		name := strings.TrimPrefix(s.acceptEncodings[i].name, "x-")
		if name == enc {
			v.encodingQ = s.acceptEncodings[i].quality
			return
		}
		if name == "*" {
			star = &s.acceptEncodings[i]
		}
	}
	if star != nil {
		v.encodingQ = star.quality
		return
	}
	v.encodingQ = notFound
}

// isBetterRVSA is is_variant_better_rvsa (RFC 2296).
func (s *state) isBetterRVSA(v, best *variant, bestq *float32) bool {
	if v.encodingQ == 0 {
		return false
	}
	q := v.mimeTypeQ * v.sourceQ * v.charsetQ * v.langQ
	if q <= 0 {
		return false
	}
	if q > *bestq {
		*bestq = q
		return true
	}
	if q == *bestq && best != nil && v.encodingQ > best.encodingQ {
		*bestq = q
		return true
	}
	return false
}

// isBetter is is_variant_better, Apache's own algorithm.
func (s *state) isBetter(v, best *variant, bestq *float32) bool {
	if v.encodingQ == 0 || v.langQ == 0 || v.sourceQ == 0 || v.charsetQ == 0 || v.mimeTypeQ == 0 {
		return false
	}
	q := v.mimeTypeQ * v.sourceQ
	if q == 0 || q < *bestq {
		return false
	}
	if q > *bestq || best == nil {
		*bestq = q
		return true
	}
	if v.langQ < best.langQ {
		return false
	}
	if v.langQ > best.langQ {
		*bestq = q
		return true
	}
	if best.langIndex != -1 && (v.langIndex == -1 || v.langIndex > best.langIndex) {
		return false
	}
	if v.langIndex != -1 && (best.langIndex == -1 || v.langIndex < best.langIndex) {
		*bestq = q
		return true
	}
	switch levelCmp(v, best) {
	case -1:
		return false
	case 1:
		*bestq = q
		return true
	}
	if v.charsetQ < best.charsetQ {
		return false
	}
	if v.charsetQ > best.charsetQ ||
		(v.charset != "" && v.charset != "iso-8859-1" && (best.charset == "" || best.charset == "iso-8859-1")) {
		*bestq = q
		return true
	}
	if v.encodingQ < best.encodingQ {
		return false
	}
	if v.encodingQ > best.encodingQ {
		*bestq = q
		return true
	}
	if s.contentLength(v) >= s.contentLength(best) {
		return false
	}
	*bestq = q
	return true
}

func hasLanguage(v *variant, lang string) bool {
	for _, l := range v.languages {
		if l == lang {
			return true
		}
	}
	return false
}

// discardByEnv is discard_variant_by_env (no-gzip, gzip-only-text/html).
func discardByEnv(v *variant, discard int) bool {
	if isIdentityEncoding(v.encoding) || v.encoding == "identity" {
		return false
	}
	return discard == 1 || (discard == 2 && !strings.HasPrefix(v.mimeType, "text/html"))
}

// bestMatch is best_match: it computes every variant's qualities (needed
// for Vary and Alternates too) and returns the chosen variant's index (-1
// for none) and whether the result is a choice (true) or a list.
func (s *state) bestMatch() (int, bool) {
	preferred, hasPreferred := s.env["prefer-language"]
	discard := 0
	if _, ok := s.env["no-gzip"]; ok {
		discard = 1
	} else if s.env["gzip-only-text/html"] == "1" {
		discard = 2
	}
	s.setDefaultLangQuality()
	for {
		best := -1
		bestq := float32(0)
		for j := range s.vars {
			v := &s.vars[j]
			if discard != 0 && discardByEnv(v, discard) {
				continue
			}
			if hasPreferred && !hasLanguage(v, preferred) {
				continue
			}
			s.setAcceptQuality(v)
			if hasPreferred {
				v.langQ = 1
				v.definite = true
			} else {
				s.setLanguageQuality(v)
			}
			s.setEncodingQuality(v)
			s.setCharsetQuality(v)
			if s.mayChoose {
				var bp *variant
				if best >= 0 {
					bp = &s.vars[best]
				}
				var better bool
				if s.useRVSA {
					better = s.isBetterRVSA(v, bp, &bestq)
				} else {
					better = s.isBetter(v, bp, &bestq)
				}
				if better {
					best = j
				}
			}
		}
		var choice bool
		if s.useRVSA {
			choice = best >= 0 && s.vars[best].definite && bestq > 0
		} else {
			choice = bestq > 0
		}
		if hasPreferred && (best < 0 || !choice) {
			hasPreferred = false
			continue
		}
		return best, choice
	}
}
