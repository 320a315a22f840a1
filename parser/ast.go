// Package parser reads Apache httpd's configuration language into a tree of
// positioned nodes, exactly as Apache's ap_build_config does: line
// continuation, comments, quoting, ${VAR} expansion, Include/IncludeOptional,
// Define/UnDefine, ServerRoot, DefaultRuntimeDir, LoadModule/LoadFile and
// the conditional sections (<IfModule>, <IfDefine>, <IfVersion>, <IfFile>,
// <IfDirective>, <IfSection>), and, when the configuration loads
// macro_module, mod_macro's <Macro>/Use/UndefMacro (expanded in place), which
// Apache executes while reading ("EXEC_ON_READ") and which leave no node of
// their own.
//
// It does not know what a directive means: the directives package checks
// names, contexts and arguments and turns nodes into typed settings.
// The entry points are Load (a main config file and everything it includes)
// and ParseHtaccess (one .htaccess file).
package parser

import (
	"fmt"
	"strings"
)

// Pos is a position in a config file. Line is the line Apache reports for a
// directive: the last physical line of a logical (continued) line. FirstLine
// is where the logical line starts. Col is the 1-based column of the
// directive name on FirstLine.
type Pos struct {
	File      string
	Line      int
	FirstLine int
	Col       int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Node is one directive or section of the evaluated configuration.
//
// A directive `Options +Indexes` has Name "Options", Args "+Indexes".
// A section `<Directory "/srv/www">` has Name "Directory", Section true and
// Args `"/srv/www">` — the raw text after the name, closing '>' included,
// exactly what Apache hands to a section's handler (see SectionArgs).
// Conditional sections whose condition held are not in the tree: their
// children are spliced into the parent; false ones are dropped.
type Node struct {
	Name     string
	Args     string // raw argument text after ${VAR} expansion; unquoting is per directive syntax
	Section  bool
	Children []*Node
	Parent   *Node
	Pos      Pos
	// Includes is the chain of Include directives that led to this node's
	// file, outermost first; empty for nodes of the main file.
	Includes []Pos
}

// Words splits Args as Apache's ap_getword_conf does.
func (n *Node) Words() []string { return SplitWords(n.Args) }

// SectionArgs returns the argument text of a section opener up to its
// last '>' (text after it is ignored, as Apache's section handlers do:
// `<Directory /x> junk` is /x), or Apache's error for a missing '>' or
// nothing before it ("<Directory> directive missing closing '>'",
// "<Directory> directive requires additional arguments").
func (n *Node) SectionArgs() (string, error) {
	end := strings.LastIndexByte(n.Args, '>')
	if end < 0 {
		return "", fmt.Errorf("<%s> directive missing closing '>'", n.Name)
	}
	a := n.Args[:end]
	if a == "" {
		return "", fmt.Errorf("<%s> directive requires additional arguments", n.Name)
	}
	return a, nil
}

// Error is a configuration error with its position, printed the way Apache
// prints it. Structural errors (tag mismatch, unclosed sections, failures of
// Include and the other directives Apache runs while reading) are one line:
//
//	apache2: Syntax error on line 3 of /etc/x.conf: Expected </Directory> but saw </Files>
//
// Directive errors found while walking the tree are two lines:
//
//	AH00526: Syntax error on line 12 of /etc/x.conf:
//	Invalid command 'Foo', perhaps misspelled or defined by a module not included in the server configuration
//
// Every error the parser returns is Structural. Its Pos is Apache's
// err_directive: the last directive executed while reading that file or the
// offending tag, so an error found later (a soaked section reaching the end
// of the file) names the conditional's line. Pos.Line 0 means Apache prints
// no position (a main file that cannot be opened); a link in -C/-c
// directives (File CmdLineFile) prints "Syntax error in -C/-c directive: ".
type Error struct {
	Pos        Pos
	Msg        string
	Structural bool
	// Includes is the chain of Include directives (outermost first) that
	// led to Pos.File; structural errors print one "Syntax error on line N
	// of F:" prefix per link, as Apache does.
	Includes []Pos
	// Hint is Plume's own advice (for example naming a UTF-8 BOM); it is
	// printed after Apache's text, never instead of it.
	Hint string
	// Warnings are those Load gave before it failed (Apache has already
	// printed them when it stops): AH00111, mod_macro's, ...
	Warnings []Warning
}

func (e *Error) Error() string { return e.Format("plume") }

// Format renders the error exactly as Apache prints it; argv0 is the
// program name Apache puts before structural errors ("apache2", "httpd").
// Like Apache's error log, it escapes control bytes, bytes >= 0x80 and
// backslashes (\n, \xef, \\), so a multi-line message prints on one line.
func (e *Error) Format(argv0 string) string {
	var s string
	if e.Structural {
		var b strings.Builder
		for _, inc := range e.Includes {
			writeLink(&b, inc)
		}
		if e.Pos.Line > 0 || e.Pos.File == CmdLineFile {
			writeLink(&b, e.Pos)
		}
		b.WriteString(e.Msg)
		s = escapeLogLimit(argv0+": "+b.String(), maxLogLine)
	} else {
		s = escapeLogLimit(fmt.Sprintf("AH00526: Syntax error on line %d of %s:", e.Pos.Line, e.Pos.File), maxLogLine) +
			"\n" + escapeLogLimit(e.Msg, maxLogLine)
	}
	if e.Hint != "" {
		s += "\n(hint: " + e.Hint + ")"
	}
	return s
}

// HtaccessFormat is the alert Apache logs for an .htaccess error:
// "<path>: <message>".
func (e *Error) HtaccessFormat() string {
	return EscapeLog(e.Pos.File + ": " + e.Msg)
}

// writeLink writes one "Syntax error on line N of F: " prefix; -C/-c
// directives have no line in Apache's message.
func writeLink(b *strings.Builder, p Pos) {
	if p.File == CmdLineFile {
		b.WriteString("Syntax error in -C/-c directive: ")
		return
	}
	fmt.Fprintf(b, "Syntax error on line %d of %s: ", p.Line, p.File)
}

// EscapeLog escapes text as Apache's ap_escape_errorlog_item does before
// writing an error-log line: \b \n \r \t \v by name, a backslash doubled,
// other control bytes and bytes outside printable ASCII as \xhh; '"' stays.
func EscapeLog(s string) string { return escapeLogLimit(s, -1) }

// maxLogLine is how much of a message Apache's error log writes: its
// buffer is MAX_STRING_LEN (8192) bytes with the NUL, and the last byte
// is kept free; an escape sequence is never cut.
const maxLogLine = 8190

func escapeLogLimit(s string, limit int) string {
	clean := limit < 0 || len(s) <= limit
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		need := 1
		if c < 0x20 || c >= 0x7f {
			need = 4
			switch c {
			case '\b', '\n', '\r', '\t', '\v':
				need = 2
			}
		} else if c == '\\' {
			need = 2
		}
		if limit >= 0 && b.Len()+need > limit {
			break
		}
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\v':
			b.WriteString(`\v`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// utf8BOM is the UTF-8 byte order mark. Apache does not strip it: it
// becomes part of the first directive name of the file, and the walker
// then reports "Invalid command '\xef\xbb\xbfServerRoot', ...".
const utf8BOM = "\xef\xbb\xbf"

// HasBOM reports whether a directive name starts with a UTF-8 byte order
// mark (the parser keeps it, as Apache does).
func HasBOM(name string) bool { return strings.HasPrefix(name, utf8BOM) }

// BOMHint is the Error.Hint for an invalid command whose name carries a
// UTF-8 byte order mark.
const BOMHint = "the file starts with a UTF-8 byte order mark (bytes EF BB BF), which Apache reads as part of the first directive name; save the file without it"

// Warning is a non-fatal diagnostic (AH00111 for an undefined ${VAR},
// directives Plume ignores, ...). Code is Apache's AH code when there is one.
type Warning struct {
	Pos    Pos
	Module string // Apache's module name for the log prefix, e.g. "core"
	Code   string // "AH00111"
	Msg    string
	// Level is the log level Apache prints ("" is warn); Errno is APR's
	// "(N)text" prefix some messages carry, e.g. "(EAI 2)Name or service
	// not known".
	Level string
	Errno string
}

func (w Warning) String() string {
	s := w.Msg
	if w.Code != "" {
		s = w.Code + ": " + s
	}
	if w.Pos.File != "" {
		s = fmt.Sprintf("%s:%d: %s", w.Pos.File, w.Pos.Line, s)
	}
	return s
}
