package parser

import (
	"fmt"
	"strings"
)

// mod_macro (modules/core/mod_macro.c): <Macro>, Use, UndefMacro and the
// two global flags run while the configuration is read, as in Apache,
// when the configuration loads macro_module. A <Macro> section stores its
// body's raw lines (comments dropped, ${VAR} not yet expanded); Use
// substitutes the arguments and reads the result in place, as a stream
// named `macro 'name' (defined on line N of "F") used on line M of "G"`
// that then continues with the rest of the enclosing file (so a section
// may open in a macro and close after it, as Apache allows).

const (
	macroModule     = "macro_module"
	macroArgPrefix  = "$%@"
	macroEscapeArg  = '@'
	macroMaxLineLen = 8192 // MAX_STRING_LEN: process_content's line buffer
)

// macroDef is ap_macro_t.
type macroDef struct {
	name        string   // lower case
	args        []string // parameter names
	body        []string // stored lines, each with its "\n"
	location    string   // `defined on line N of "F"`
	ignoreEmpty bool
	ignoreNest  bool
}

func (m *macroDef) where() string { return fmt.Sprintf("macro '%s' (%s)", m.name, m.location) }

// macroState is mod_macro's global state for one configuration read.
type macroState struct {
	defs        map[string]*macroDef // nil until the first <Macro> (ap_macros)
	ignoreEmpty bool                 // MacroIgnoreEmptyArgs
	ignoreNest  bool                 // MacroIgnoreBadNesting
	expanded    int                  // lines produced by Use so far
	bytes       int                  // and their bytes, with the expansions' names
}

// maxMacroLines bounds the lines all Use expansions of one configuration
// may produce: macros using macros multiply, and Apache would read (or
// hang on) whatever they produce; Plume refuses instead. (A variable so
// tests can lower it.)
var maxMacroLines = 1 << 18

// maxMacroBytes bounds the text those expansions produce, names included
// (a nested expansion's name holds its whole chain of uses).
var maxMacroBytes = 1 << 26

func init() {
	for _, c := range []*execCmd{
		{name: "<Macro", module: macroModule, help: "Beginning of a macro definition section.", run: runMacro},
		{name: "Use", module: macroModule, help: "Use of a macro.", run: runUse},
		{name: "UndefMacro", module: macroModule, help: "Remove a macro definition.", run: runUndefMacro},
		{name: "MacroIgnoreEmptyArgs", module: macroModule, help: "Globally ignore warnings about empty arguments.",
			run: func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
				ld.macros.ignoreEmpty = true
				return nil, nil
			}},
		{name: "MacroIgnoreBadNesting", module: macroModule, help: "Globally ignore warnings about bad nesting.",
			run: func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
				ld.macros.ignoreNest = true
				return nil, nil
			}},
	} {
		execCmds[strings.ToLower(c.name)] = c
	}
}

func (ld *loader) macroWarn(code, format string, args ...any) {
	ld.warn(Warning{Module: "macro", Code: code, Msg: fmt.Sprintf(format, args...)})
}

// macroArguments is get_arguments: the words of line, ap_getword_conf
// style (quotes removed).
func macroArguments(line string) []string {
	var out []string
	rest := trimLeft(line)
	for rest != "" {
		w, r, _ := NextWord(rest)
		out = append(out, w)
		rest = trimLeft(r)
	}
	return out
}

// warnIfNonBlank is warn_if_non_blank: text after a closing '>' other
// than blanks (up to a '#') is reported, and ignored.
func (ld *loader) warnIfNonBlank(what, rest string, line int, file string) {
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '#':
			return
		case ' ', '\t':
			continue
		}
		ld.macroWarn("AH02989", "%s on line %d of %s: %s", what, line, file, rest)
		return
	}
}

// runMacro is macro_section.
func runMacro(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	m := &ld.macros
	if m.defs == nil {
		m.defs = map[string]*macroDef{}
	}
	end := strings.LastIndexByte(args, '>')
	if end < 0 {
		return nil, msgError("<Macro> directive missing closing '>'")
	}
	if end == 0 {
		return nil, msgError("<Macro macro definition: empty name")
	}
	ld.warnIfNonBlank("AH02801: non blank chars found after <Macro closing '>'", args[end+1:], pos.Line, st.file)
	arg := args[:end]
	name, rest, _ := NextWord(arg)
	if name == "" {
		return nil, msgError("<Macro macro definition: name not found")
	}
	name = strings.ToLower(name)
	def := m.defs[name]
	if def != nil {
		ld.macroWarn("AH02802", "macro '%s' multiply defined: %s, redefined on line %d of \"%s\"",
			def.name, def.location, pos.Line, st.file)
		// Apache keeps the same record and overwrites it.
	} else {
		def = &macroDef{name: name}
	}
	def.location = fmt.Sprintf("defined on line %d of \"%s\"", pos.Line, st.file)
	where := def.where()
	if strings.IndexByte(macroArgPrefix, name[0]) >= 0 {
		ld.macroWarn("AH02803", "%s better prefix a macro name with any of '%s'", where, macroArgPrefix)
	}
	// Apache's ap_getword_conf leaves rest at the next word: modifiers
	// are read from there.
	rest = trimLeft(rest)
	for strings.HasPrefix(rest, "/") {
		// CHECK_MACRO_FLAG for each flag in turn, on what is left.
		done := false
		for _, f := range []struct {
			flag string
			set  *bool
		}{{"/IgnoreEmptyArgs", &def.ignoreEmpty}, {"/IgnoreBadNesting", &def.ignoreNest}} {
			if len(rest) >= len(f.flag) && asciiEqualFold(rest[:len(f.flag)], f.flag) {
				*f.set = true
				rest = rest[len(f.flag):]
				if rest == "" {
					done = true
					break
				}
			}
		}
		if done {
			break
		}
		if rest[0] != ' ' {
			word := rest
			i := strings.IndexByte(rest, ' ')
			if i >= 0 {
				word = rest[:i]
			}
			ld.macroWarn("AH03483", "%s: unknown flag '%s'", where, word)
			if i >= 0 {
				rest = rest[i:]
			}
		}
		rest = rest[1:]
	}
	def.args = macroArguments(rest)
	if err := ld.checkMacroArguments(def); err != nil {
		return nil, err
	}
	body, err := ld.macroBody(st, pos.Line, where, m.ignoreNest || def.ignoreNest)
	if err != "" {
		return nil, msgError(where + "\n\tcontents error: " + err)
	}
	def.body = body
	if err := ld.checkMacroContents(def); err != "" {
		return nil, msgError(where + "\n\tcontents checking error: " + err)
	}
	m.defs[name] = def
	return nil, nil
}

// checkMacroArguments is check_macro_arguments.
func (ld *loader) checkMacroArguments(def *macroDef) error {
	for i, a := range def.args {
		if a == "" {
			return errorf("macro '%s' (%s): empty argument #%d name", def.name, def.location, i+1)
		}
		if strings.IndexByte(macroArgPrefix, a[0]) < 0 {
			ld.macroWarn("AH02796", "macro '%s' (%s) argument name '%s' (#%d) without expected prefix, better prefix argument names with one of '%s'.",
				def.name, def.location, a, i+1, macroArgPrefix)
		}
		if strings.HasPrefix(a, "${") {
			ld.macroWarn("AH03484", "macro '%s' (%s) argument name '%s' (#%d) clashes with 'Define' syntax '${...}', better use '$(...)'.",
				def.name, def.location, a, i+1)
		}
		for j := i + 1; j < len(def.args); j++ {
			b := def.args[j]
			if a == b {
				return errorf("argument name conflict in macro '%s' (%s): argument '%s': #%d and #%d, change argument names!",
					def.name, def.location, a, i+1, j+1)
			}
			n := min(len(a), len(b))
			if b != "" && a[:n] == b[:n] {
				ld.macroWarn("AH02797", "macro '%s' (%s): argument name prefix conflict (%s #%d and %s #%d), be careful about your macro definition!",
					def.name, def.location, a, i+1, b, j+1)
			}
		}
	}
	return nil
}

// macroBody is get_lines_till_end_token for </Macro>: the raw lines up to
// the matching </Macro>, counting nested <Macro> sections, with Apache's
// nesting warnings. start is the <Macro> line's number.
func (ld *loader) macroBody(st *stream, start int, where string, ignoreNest bool) ([]string, string) {
	var lines []string
	macroNesting, anyNesting := 1, 1
	for {
		l, ok, err := st.next()
		if err != nil {
			return nil, err.Error()
		}
		if !ok {
			return nil, "expected token not found: </Macro>"
		}
		if strings.HasPrefix(l.text, "#") {
			continue
		}
		first, _, _ := NextWord(l.text)
		if first != "" {
			if strings.HasPrefix(first, "</") {
				anyNesting--
				if !ignoreNest && anyNesting < 0 {
					ld.macroWarn("AH02793", "bad (negative) nesting on line %d of %s", l.lastLine-start, where)
				}
			} else if strings.HasPrefix(first, "<") {
				anyNesting++
			}
			if asciiEqualFold(first, "</Macro>") {
				endp := strings.LastIndexByte(l.text, '>')
				ld.warnIfNonBlank("AH02794: non blank chars found after directive closing", l.text[endp+1:], l.lastLine, st.file)
				macroNesting--
				if macroNesting == 0 {
					if !ignoreNest && anyNesting != 0 {
						ld.macroWarn("AH02795", "bad cumulated nesting (%+d) in %s", anyNesting, where)
					}
					return lines, ""
				}
			} else if asciiEqualFold(first, "<Macro") {
				macroNesting++
			}
		}
		lines = append(lines, l.text+"\n")
	}
}

// checkMacroContents is check_macro_contents.
func (ld *loader) checkMacroContents(def *macroDef) string {
	if len(def.body) == 0 {
		ld.macroWarn("AH02799", "macro '%s' (%s): empty contents!", def.name, def.location)
		return ""
	}
	used := make([]bool, len(def.args))
	if _, err := processMacro(def, def.args, used); err != "" {
		return err
	}
	for i, u := range used {
		if !u {
			ld.macroWarn("AH02800", "macro '%s' (%s): argument '%s' (#%d) never used", def.name, def.location, def.args[i], i+1)
		}
	}
	return ""
}

// processMacro is process_content: every body line with the arguments
// substituted.
func processMacro(def *macroDef, repl []string, used []bool) ([]string, string) {
	out := make([]string, 0, len(def.body))
	for i, line := range def.body {
		if len(line) > macroMaxLineLen-1 {
			line = line[:macroMaxLineLen-1]
		}
		s, err := substituteMacroArgs(line, def.args, repl, used)
		if err != "" {
			return nil, fmt.Sprintf("while processing line %d of %s %s", i+1, def.where(), err)
		}
		out = append(out, s)
	}
	return out, ""
}

// substituteMacroArgs is substitute_macro_args over a MAX_STRING_LEN
// buffer: repeatedly the earliest (then longest) argument name from the
// scan position is replaced, @-arguments double-quoted with '"' and '\'
// escaped, and the scan goes on strlen(value) bytes later, as Apache's
// does (so it may rescan part of an escaped value).
func substituteMacroArgs(line string, names, repl []string, used []bool) (string, string) {
	buf := []byte(line)
	ptr := 0
	for {
		which, at := -1, -1
		for i, n := range names {
			k := strings.Index(string(buf[ptr:]), n)
			if k < 0 {
				continue
			}
			if at < 0 || ptr+k < at || (ptr+k == at && len(n) > len(names[which])) {
				at, which = ptr+k, i
			}
		}
		if which < 0 {
			return string(buf), ""
		}
		name, value := names[which], repl[which]
		if name != value {
			sub := value
			if name[0] == macroEscapeArg {
				var b strings.Builder
				b.WriteByte('"')
				for i := 0; i < len(value); i++ {
					if value[i] == '"' || value[i] == '\\' {
						b.WriteByte('\\')
					}
					b.WriteByte(value[i])
				}
				b.WriteByte('"')
				sub = b.String()
			}
			if len(buf)+len(sub)-len(name) >= macroMaxLineLen {
				return "", "cannot substitute, buffer size too small"
			}
			nb := make([]byte, 0, len(buf)+len(sub)-len(name))
			nb = append(append(append(nb, buf[:at]...), sub...), buf[at+len(name):]...)
			buf = nb
		}
		ptr = at + len(value)
		if ptr > len(buf) {
			ptr = len(buf)
		}
		if used != nil {
			used[which] = true
		}
	}
}

// runUse is use_macro.
func runUse(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	m := &ld.macros
	if m.defs == nil {
		return nil, msgError("no macro defined before Use")
	}
	name, rest, _ := NextWord(args)
	name = strings.ToLower(name)
	if name == "" {
		return nil, msgError("no macro name specified with Use")
	}
	def := m.defs[name]
	if def == nil {
		return nil, errorf("macro '%s' undefined", name)
	}
	if strings.Contains(st.file, "macro '"+def.name+"'") {
		return nil, errorf("recursive use of macro '%s' is invalid", def.name)
	}
	repl := macroArguments(rest)
	if len(repl) != len(def.args) {
		return nil, errorf("macro '%s' (%s) used with %d arguments instead of %d", def.name, def.location, len(repl), len(def.args))
	}
	where := fmt.Sprintf("macro '%s' (%s) used on line %d of \"%s\"", def.name, def.location, pos.Line, st.file)
	if !m.ignoreEmpty && !def.ignoreEmpty {
		for i, r := range repl {
			if r == "" {
				ld.macroWarn("AH02798", "%s: empty argument #%d", where, i+1)
			}
		}
	}
	if m.expanded += len(def.body); m.expanded > maxMacroLines {
		return nil, errorf("%s: macro expansions produce more than %d lines (Plume's limit)", where, maxMacroLines)
	}
	lines, err := processMacro(def, repl, nil)
	if err != "" {
		return nil, errorf("%s error while substituting: %s", where, err)
	}
	m.bytes += len(where)
	for _, l := range lines {
		m.bytes += len(l)
	}
	if m.bytes > maxMacroBytes {
		return nil, errorf("%s: macro expansions produce more than %d bytes (Plume's limit)", where, maxMacroBytes)
	}
	// The stored lines end with "\n"; array_getstr hands them back one
	// at a time, so a line is never joined with the next.
	elems := make([]string, len(lines))
	for i, l := range lines {
		elems[i] = strings.TrimSuffix(l, "\n")
	}
	st.push(&lineReader{name: where, elems: elems, limit: ld.limit}, where)
	return nil, nil
}

// runUndefMacro is undef_macro.
func runUndefMacro(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, more := take(args, 1)
	if w[0] == "" || more {
		return nil, execCmds["undefmacro"].arity("takes one argument")
	}
	m := &ld.macros
	if m.defs == nil {
		return nil, msgError("no macro defined before UndefMacro")
	}
	name := strings.ToLower(w[0])
	if m.defs[name] == nil {
		return nil, errorf("cannot remove undefined macro '%s'", name)
	}
	delete(m.defs, name)
	return nil, nil
}
