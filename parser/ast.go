// Package parser reads Apache httpd's configuration language into a tree of
// positioned nodes, exactly as Apache's ap_build_config does: line
// continuation, comments, quoting, ${VAR} expansion, Include/IncludeOptional,
// Define/UnDefine, ServerRoot, LoadModule and the conditional sections
// (<IfModule>, <IfDefine>, <IfVersion>, <IfFile>, <IfDirective>, <IfSection>),
// which Apache executes while reading ("EXEC_ON_READ").
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

// SectionArgs returns the argument text of a section opener with the
// closing '>' removed, or Apache's error for a missing '>' / missing
// arguments ("<Directory> directive missing closing '>'",
// "<Directory> directive requires additional arguments").
func (n *Node) SectionArgs() (string, error) {
	a := strings.TrimRight(n.Args, " \t")
	if !strings.HasSuffix(a, ">") {
		return "", fmt.Errorf("<%s> directive missing closing '>'", n.Name)
	}
	a = strings.TrimSpace(a[:len(a)-1])
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
}

func (e *Error) Error() string { return e.Format("plume") }

// Format renders the error in Apache's words; argv0 is the program name
// Apache would print before structural errors ("apache2", "httpd").
func (e *Error) Format(argv0 string) string {
	var b strings.Builder
	if e.Structural {
		b.WriteString(argv0)
		b.WriteString(": ")
		for _, inc := range e.Includes {
			fmt.Fprintf(&b, "Syntax error on line %d of %s: ", inc.Line, inc.File)
		}
		fmt.Fprintf(&b, "Syntax error on line %d of %s: %s", e.Pos.Line, e.Pos.File, e.Msg)
	} else {
		fmt.Fprintf(&b, "AH00526: Syntax error on line %d of %s:\n%s", e.Pos.Line, e.Pos.File, e.Msg)
	}
	if e.Hint != "" {
		b.WriteString("\n(hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Warning is a non-fatal diagnostic (AH00111 for an undefined ${VAR},
// directives Plume ignores, ...). Code is Apache's AH code when there is one.
type Warning struct {
	Pos    Pos
	Module string // Apache's module name for the log prefix, e.g. "core"
	Code   string // "AH00111"
	Msg    string
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
