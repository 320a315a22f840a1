package parser

import (
	"bytes"
	"fmt"
)

// Line-length limits of ap_varbuf_cfg_getline: VARBUF_MAX_LEN for the main
// configuration, HUGE_STRING_LEN for .htaccess files. What counts is the
// logical line as read, before trimming: the bytes kept from each physical
// line plus the final newline (observed on Apache 2.4.71: an .htaccess
// line of 8191 bytes and its LF is accepted, 8192 and LF is "Line too
// long"; a last line without LF may be 8192 bytes).
const (
	MaxConfigLine   = 16 * 1024 * 1024
	MaxHtaccessLine = 8192
)

// logicalLine is one line as ap_cfg_getline returns it: continuation lines
// joined, leading and trailing whitespace removed.
type logicalLine struct {
	text      string
	firstLine int // physical line where it starts
	lastLine  int // physical line where it ends (the line Apache reports)
	col       int // 1-based column of the first non-blank byte on firstLine
}

// lineReader splits a file into logical lines exactly like
// ap_varbuf_cfg_getline over cfg_getstr (server/util.c):
//
//   - a line ends at LF; a backslash right before the LF (or before CR LF)
//     is removed and the next physical line is appended as is, leading
//     whitespace included;
//   - a NUL byte ends the line (Apache measures with strlen); the rest of
//     that physical line is lost and no continuation is possible;
//   - the joined line is trimmed of isspace bytes at both ends;
//   - a line longer than limit bytes (counting its LF) is an error.
//
// For -C/-c directives (lines given one per element) there is no
// continuation: each element is a line.
type lineReader struct {
	name  string
	data  []byte
	pos   int
	line  int // physical lines consumed so far
	limit int
	// elems, when non-nil, replaces data: one logical line per element.
	elems []string
}

// errLineTooLong carries ap_pcfg_strerror's text for APR_ENOSPC.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// next returns the next logical line; ok is false at EOF.
func (r *lineReader) next() (l logicalLine, ok bool, err error) {
	if r.elems != nil {
		if r.line >= len(r.elems) {
			return l, false, nil
		}
		s := r.elems[r.line]
		r.line++
		if i := indexNUL(s); i >= 0 {
			s = s[:i]
		}
		t, lead := trimConf(s)
		return logicalLine{text: t, firstLine: r.line, lastLine: r.line, col: lead + 1}, true, nil
	}
	if r.pos >= len(r.data) {
		return l, false, nil
	}
	var buf []byte
	first := r.line + 1
	col := 0
	joined := false
	for {
		if r.pos >= len(r.data) {
			// EOF right after a continuation: what we have is the line.
			// Apache counted the attempt to read one more line.
			r.line++
			break
		}
		r.line++
		rest := r.data[r.pos:]
		end := bytes.IndexByte(rest, '\n')
		var piece []byte
		hasLF := end >= 0
		if hasLF {
			piece = rest[:end]
			r.pos += end + 1
		} else {
			piece = rest
			r.pos = len(r.data)
		}
		truncated := false
		if i := bytes.IndexByte(piece, 0); i >= 0 {
			piece = piece[:i]
			truncated = true
		}
		lf := 0
		if hasLF {
			lf = 1
		}
		if len(buf)+len(piece)+lf > r.limit {
			return l, false, &lineError{line: r.line,
				msg: fmt.Sprintf("Error reading %s at line %d: Line too long", r.name, r.line)}
		}
		if !joined {
			col = leadingSpace(piece) + 1
		}
		if hasLF && !truncated {
			p := piece
			if n := len(p); n > 0 && p[n-1] == '\r' {
				p = p[:n-1]
			}
			// A backslash anywhere in the buffer before the newline counts,
			// even when the piece itself is empty (the previous piece's
			// backslash was already removed, so only this piece matters).
			if n := len(p); n > 0 && p[n-1] == '\\' {
				buf = append(buf, p[:n-1]...)
				joined = true
				continue
			} else if n == 0 && len(buf) > 0 && buf[len(buf)-1] == '\\' {
				// "cp > buf && cp[-1] == '\\'" looks at the buffer, which
				// may end in a backslash from an earlier piece.
				buf = buf[:len(buf)-1]
				joined = true
				continue
			}
		}
		buf = append(buf, piece...)
		break
	}
	t, _ := trimConf(string(buf))
	return logicalLine{text: t, firstLine: first, lastLine: r.line, col: col}, true, nil
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

func leadingSpace(b []byte) int {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimConf is cfg_trim_line: apr_isspace bytes removed at both ends. It
// also returns how many bytes were removed at the front.
func trimConf(s string) (string, int) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := len(s)
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j], i
}
