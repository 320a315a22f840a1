package negotiation

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
)

// variant is one candidate representation (Apache's var_rec). The fields
// down to handler are fixed properties; the rest are computed per request
// on a copy.
type variant struct {
	fileName    string
	mimeType    string
	charset     string
	languages   []string
	encoding    string
	description string
	body        []byte // inline Body: content of a type map
	hasBody     bool
	bytes       int64 // -1: unknown
	sourceQ     float32
	level       float32
	pseudoHTML  bool
	info        *VariantInfo // the variant's sub-request, once looked up
	fromDir     bool         // discovered by MultiViews (not from a map)

	langQ, encodingQ, charsetQ, mimeTypeQ float32
	langIndex                             int
	levelMatched                          float32
	mimeStars                             int
	definite                              bool
}

// newVariant is clean_var_rec.
func newVariant() variant {
	return variant{bytes: -1, langIndex: -1, definite: true,
		langQ: 1, encodingQ: 1, charsetQ: 1, mimeTypeQ: 1}
}

// setMimeFields is set_mime_fields.
func (v *variant) setMimeFields(a acceptRec) {
	v.mimeType = a.name
	v.sourceQ = a.quality
	v.level = a.level
	v.charset = a.charset
	v.pseudoHTML = a.name == "text/html" || a.name == includesMagicType || a.name == includesMagicType3
}

// logEntry is an error-log line produced while reading a map; parsed maps
// are cached, so the lines are kept and replayed for every request.
type logEntry struct {
	code string
	// format renders the message for the request's file name (Apache
	// names the negotiating request's r->filename, which for MultiViews is
	// not the map's own path).
	format func(name string) string
}

// typeMap is a parsed .var file.
type typeMap struct {
	variants []variant
	logs     []logEntry
	// status is non-zero when the map is unusable (500 for AH00681/AH00682).
	status int
}

// maxStringLen is Apache's MAX_STRING_LEN: the line buffer of the map
// reader, which also bounds an inline body.
const maxStringLen = 8192

// mapReader reproduces the buffered-file primitives read_type_map uses.
type mapReader struct {
	data []byte
	pos  int
}

func (m *mapReader) getc() (byte, bool) {
	if m.pos >= len(m.data) {
		return 0, false
	}
	c := m.data[m.pos]
	m.pos++
	return c, true
}

func (m *mapReader) ungetc() {
	if m.pos > 0 {
		m.pos--
	}
}

// gets is apr_file_gets with a buffer of n bytes: up to and including a
// newline, at most n-1 bytes; false at end of file.
func (m *mapReader) gets(n int) ([]byte, bool) {
	if m.pos >= len(m.data) {
		return nil, false
	}
	start := m.pos
	for m.pos < len(m.data) && m.pos-start < n-1 {
		c := m.data[m.pos]
		m.pos++
		if c == '\n' {
			break
		}
	}
	return m.data[start:m.pos], true
}

type headerState int

const (
	headerEOF headerState = iota
	headerSeen
	headerSep
)

// headerLine is get_header_line: the next non-comment header with its
// continuation lines (each kept with its newline), a blank separator, or
// the end of the file.
func (m *mapReader) headerLine() (headerState, []byte) {
	var line []byte
	for {
		l, ok := m.gets(maxStringLen)
		if !ok {
			return headerEOF, nil
		}
		if len(l) == 0 || l[0] != '#' {
			line = l
			break
		}
	}
	blank := true
	for _, c := range line {
		if !isSpace(c) {
			blank = false
			break
		}
	}
	if blank {
		return headerSep, nil
	}
	buf := append([]byte(nil), line...)
	if len(buf) >= 5 && strings.EqualFold(string(buf[:5]), "Body:") {
		return headerSeen, buf
	}
	for {
		c, ok := m.getc()
		if !ok {
			break
		}
		switch {
		case c == '#':
			for {
				c2, ok := m.getc()
				if !ok || c2 == '\n' {
					break
				}
			}
		case isSpace(c):
			for c != '\n' && isSpace(c) {
				c2, ok := m.getc()
				if !ok {
					break
				}
				c = c2
			}
			m.ungetc()
			if c == '\n' {
				return headerSeen, buf
			}
			for len(buf) < maxStringLen-2 {
				c2, ok := m.getc()
				if !ok || c2 == '\n' {
					break
				}
				buf = append(buf, c2)
			}
			buf = append(buf, '\n')
		default:
			m.ungetc()
			return headerSeen, buf
		}
	}
	return headerSeen, buf
}

// body is get_body: the inline content after a "Body:tag" line, up to the
// tag, reading at most MAX_STRING_LEN minus the tag's length. The reader
// moves to the line after the end tag. ok=false when no end tag is found.
func (m *mapReader) body(tag string) ([]byte, bool) {
	n := maxStringLen - len(tag)
	if m.pos >= len(m.data) || n <= 0 {
		return nil, false
	}
	start := m.pos
	end := start + n
	if end > len(m.data) {
		end = len(m.data)
	}
	data := m.data[start:end]
	// Apache appends the tag after the data and uses strstr, which stops
	// at a NUL byte.
	hay := append(append([]byte(nil), data...), tag...)
	idx := bytes.Index(hay, []byte(tag))
	if idx < 0 || idx >= len(data) || bytes.IndexByte(hay[:idx], 0) >= 0 {
		return nil, false
	}
	after := idx + len(tag)
	if nl := bytes.IndexByte(data[min(after, len(data)):], '\n'); nl >= 0 {
		after += nl + 1
	} else {
		after = len(data)
	}
	m.pos = start + after
	return data[:idx], true
}

// stripParenComments blanks "(comments)" outside quoted strings.
func stripParenComments(b []byte) {
	for i := 0; i < len(b); {
		switch b[i] {
		case '"':
			// Apache's strchr finds this very quote, so quoted text is
			// not protected: the quote is merely stepped over.
			i++
		case '(':
			for i < len(b) && b[i] != ')' {
				b[i] = ' '
				i++
			}
			if i < len(b) {
				b[i] = ' '
				i++
			}
		default:
			i++
		}
	}
}

// parseTypeMap is read_type_map over the map file's contents. mapPath is
// the map's file name (r->filename of the map request), used in messages
// and as the file name of inline-body variants.
func parseTypeMap(data []byte, mapPath string) *typeMap {
	tm := &typeMap{}
	m := &mapReader{data: data}
	cur := newVariant()
	hasContent := false
	logf := func(code string, format func(name string) string) {
		tm.logs = append(tm.logs, logEntry{code, format})
	}
	for {
		state, hdr := m.headerLine()
		if state == headerSeen {
			colon := bytes.IndexByte(hdr, ':')
			if colon < 0 {
				// Apache lowercases the name in place while looking for
				// the colon, so its message shows the whole line lowercased.
				h := strings.ToLower(string(hdr))
				logf("AH00681", func(name string) string {
					return fmt.Sprintf("Syntax error in type map, no ':' in %s for header %s", name, h)
				})
				tm.status = http.StatusInternalServerError
				return tm
			}
			name := strings.ToLower(string(hdr[:colon+1]))
			k := colon + 1
			for k < len(hdr) && isSpace(hdr[k]) {
				k++
			}
			if k == len(hdr) {
				h := strings.ToLower(string(hdr[:colon])) + string(hdr[colon:])
				logf("AH00682", func(name string) string {
					return fmt.Sprintf("Syntax error in type map --- no header body: %s for %s", name, h)
				})
				tm.status = http.StatusInternalServerError
				return tm
			}
			val := append([]byte(nil), hdr[k:]...)
			stripParenComments(val)
			body := string(val)
			stop := false
			switch {
			case strings.HasPrefix(name, "uri:"):
				cur.fileName, _ = getToken(body, false)
			case strings.HasPrefix(name, "content-type:"):
				a, _ := getEntry(body)
				cur.setMimeFields(a)
				hasContent = true
			case strings.HasPrefix(name, "content-length:"):
				tok, _ := getToken(body, false)
				n, err := int64(0), error(nil)
				if tok != "" { // strtoll accepts an empty string as 0
					n, err = strconv.ParseInt(tok, 10, 64)
				}
				if err != nil || n < 0 {
					logf("AH00684", func(name string) string {
						return fmt.Sprintf("Parse error in type map, Content-Length: '%s' in %s is invalid.", tok, name)
					})
					stop = true
					break
				}
				cur.bytes = n
				hasContent = true
			case strings.HasPrefix(name, "content-language:"):
				cur.languages = languagesLine(body)
				hasContent = true
			case strings.HasPrefix(name, "content-encoding:"):
				cur.encoding, _ = getToken(body, false)
				hasContent = true
			case strings.HasPrefix(name, "description:"):
				d := []byte(strings.ReplaceAll(body, "\n", " "))
				if len(d) > 0 {
					d = d[:len(d)-1]
				}
				cur.description = string(d)
			case strings.HasPrefix(name, "body:"):
				tag := strings.TrimRightFunc(body, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
				b, ok := m.body(tag)
				if !ok {
					logf("AH00685", func(name string) string {
						return fmt.Sprintf("Syntax error in type map, no end tag '%s' found in %s for Body: content.", tag, name)
					})
					stop = true
					break
				}
				cur.body = b
				cur.hasBody = true
				cur.bytes = int64(len(b))
				cur.fileName = filepath.Base(mapPath)
			}
			if stop {
				break
			}
			continue
		}
		if cur.fileName != "" && hasContent {
			tm.variants = append(tm.variants, cur)
		}
		cur = newVariant()
		hasContent = false
		if state == headerEOF {
			break
		}
	}
	return tm
}
