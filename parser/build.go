package parser

import (
	"errors"
	"fmt"
	"strings"
)

// stream is one source of lines being read: a file, the -C/-c list or an
// .htaccess file (Apache's cmd_parms->config_file).
type stream struct {
	r        *lineReader
	file     string
	includes []Pos
	// errPos is Apache's parms->err_directive for this file: set by every
	// directive executed while reading and by tag errors, never cleared.
	// The one-line error names its line.
	errPos *Pos
	// outer holds the readers a macro expansion (Use) interrupted,
	// innermost last: next resumes them when the current one ends.
	outer []streamFrame
}

type streamFrame struct {
	r    *lineReader
	file string
}

// push makes r (named file) the stream's reader until it ends, as
// mod_macro's array config replaces cmd->config_file.
func (st *stream) push(r *lineReader, file string) {
	st.outer = append(st.outer, streamFrame{st.r, st.file})
	st.r, st.file = r, file
}

// next is the next logical line of the stream, across macro expansions.
func (st *stream) next() (logicalLine, bool, error) {
	for {
		l, ok, err := st.r.next()
		if ok || err != nil || len(st.outer) == 0 {
			return l, ok, err
		}
		f := st.outer[len(st.outer)-1]
		st.outer = st.outer[:len(st.outer)-1]
		st.r, st.file = f.r, f.file
	}
}

// buildCtx is one build pass's output and open-section stack (Apache's
// curr_parent chain inside one ap_build_config or ap_build_cont_config
// call): top collects the pass's top-level nodes, parent is the innermost
// open section.
type buildCtx struct {
	top    []*Node
	parent *Node
}

func (c *buildCtx) add(n *Node) {
	if c.parent != nil {
		n.Parent = c.parent
		c.parent.Children = append(c.parent.Children, n)
		return
	}
	c.top = append(c.top, n)
}

// msgError is an error message in Apache's words, not yet positioned; the
// file-level reader positions it at the stream's errPos.
type msgError string

func (e msgError) Error() string { return string(e) }

func errorf(format string, args ...any) error { return msgError(fmt.Sprintf(format, args...)) }

// contFrame is the body of a true conditional being read
// (ap_build_cont_config): its own section stack, ended by a line that is
// exactly </Name> while nothing opened inside it is still open. Frames are
// kept on a stack rather than by recursion, so nesting depth costs no Go
// stack.
type contFrame struct {
	ctx    *buildCtx
	closer string // "IfModule>", compared case-insensitively; "" for the file itself
}

// MaxNesting bounds how deeply sections and conditionals may nest in one
// file. Apache has no limit but recurses per level when it applies the
// tree, so absurd depths crash it; Plume refuses them instead.
const MaxNesting = 4096

// buildConfig reads a whole stream (ap_build_config) and returns its
// top-level nodes. Sections still open at the end are an error listing
// every one, innermost first; true conditionals still open at the end are
// accepted, as Apache does.
func (ld *loader) buildConfig(st *stream) ([]*Node, error) {
	frames := []*contFrame{{ctx: &buildCtx{}}}
	depth := 0 // open sections and conditionals, all frames together
	for {
		l, ok, err := st.next()
		if err != nil {
			return nil, msgError(err.Error())
		}
		if !ok {
			break
		}
		top := frames[len(frames)-1]
		if top.closer != "" && top.ctx.parent == nil && strings.HasPrefix(l.text, "</") && asciiEqualFold(l.text[2:], top.closer) {
			frames = frames[:len(frames)-1]
			depth--
			outer := frames[len(frames)-1].ctx
			for _, n := range top.ctx.top {
				outer.add(n)
			}
			continue
		}
		before := top.ctx.parent
		cond, err := ld.buildLine(st, l, top.ctx)
		if err != nil {
			return nil, err
		}
		if cond != "" || (top.ctx.parent != before && top.ctx.parent != nil && top.ctx.parent.Parent == before) {
			depth++
		} else if top.ctx.parent != before {
			depth--
		}
		if depth > MaxNesting {
			pos := Pos{File: st.file, Line: l.lastLine, FirstLine: l.firstLine, Col: l.col}
			st.errPos = &pos
			return nil, errorf("sections nested more than %d deep (Plume's limit; Apache would crash)", MaxNesting)
		}
		if cond != "" {
			frames = append(frames, &contFrame{ctx: &buildCtx{}, closer: cond[1:] + ">"})
		}
	}
	for len(frames) > 1 {
		top := frames[len(frames)-1]
		frames = frames[:len(frames)-1]
		outer := frames[len(frames)-1].ctx
		for _, n := range top.ctx.top {
			outer.add(n)
		}
	}
	ctx := frames[0].ctx
	if ctx.parent != nil {
		var msg strings.Builder
		for p := ctx.parent; p != nil; p = p.Parent {
			if msg.Len() > 0 {
				msg.WriteByte('\n')
			}
			fmt.Fprintf(&msg, "%s:%d: <%s> was not closed.", p.Pos.File, p.Pos.Line, p.Name)
			pos := p.Pos
			st.errPos = &pos
		}
		return nil, msgError(msg.String())
	}
	return ctx.top, nil
}

// buildLine handles one logical line (ap_build_config_sub). When the line
// is a true conditional it returns the conditional's canonical name
// ("<IfModule"): the caller reads its body as a frame of its own.
func (ld *loader) buildLine(st *stream, l logicalLine, ctx *buildCtx) (string, error) {
	if l.text == "" || l.text[0] == '#' {
		return "", nil
	}
	text := l.text
	pos := Pos{File: st.file, Line: l.lastLine, FirstLine: l.firstLine, Col: l.col}
	text = ld.vars.expand(text, func(name string) {
		ld.warn(Warning{Pos: pos, Module: "core", Code: "AH00111",
			Msg: fmt.Sprintf("Config variable ${%s} is not defined", name)})
	})
	ast, err := parseLine(st.file, text)
	if err != nil {
		// The line grammar accepts every line; this is a bug, not input.
		return "", msgError("internal error: " + err.Error())
	}
	word := ast.Name + ast.Open + ast.Close
	if word == "" {
		return "", nil
	}
	args := ast.Args
	if !(len(word) > 1 && word[1] == '/') {
		if word[len(word)-1] == '>' {
			word = word[:len(word)-1]
		}
		if len(word) > 0 && word[0] == '<' && args == "" {
			args = ">"
		}
	}
	if cmd, ok := ld.execOnRead(word); ok {
		st.errPos = &pos
		ld.openCond = ""
		nodes, err := cmd.run(ld, st, args, pos)
		for _, n := range nodes {
			ctx.add(n)
		}
		cond := ld.openCond
		ld.openCond = ""
		return cond, err
	}
	if ld.opts.CanonicalName != nil && word != "" && !(len(word) > 1 && word[0] == '<' && word[1] == '/') {
		if c := ld.opts.CanonicalName(word); c != "" && asciiEqualFold(c, word) {
			word = c
		}
	}
	if word != "" && word[0] == '<' {
		if len(word) < 2 || word[1] != '/' {
			n := &Node{Name: word[1:], Args: args, Section: true, Pos: pos, Includes: st.includes}
			ctx.add(n)
			ctx.parent = n
			return "", nil
		}
		if ctx.parent == nil {
			st.errPos = &pos
			return "", errorf("%s without matching <%s section", word, word[2:])
		}
		if word[len(word)-1] != '>' {
			st.errPos = &pos
			return "", errorf("%s> directive missing closing '>'", word)
		}
		closing := word[2 : len(word)-1]
		if !asciiEqualFold(closing, ctx.parent.Name) {
			st.errPos = &pos
			return "", errorf("Expected </%s> but saw %s>", ctx.parent.Name, word[:len(word)-1])
		}
		ctx.parent = ctx.parent.Parent
		return "", nil
	}
	ctx.add(&Node{Name: word, Args: args, Pos: pos, Includes: st.includes})
	return "", nil
}

// soak skips the body of a false conditional (ap_soak_end_container):
// nothing is expanded or checked, but nested sections must balance.
// Apache recurses per nested section; a stack does the same without
// recursion.
func (ld *loader) soak(st *stream, canon string) error {
	stack := []string{canon}
	for {
		l, ok, err := st.next()
		if err != nil {
			return msgError(err.Error())
		}
		if !ok {
			return errorf("Expected </%s> before end of configuration", stack[len(stack)-1][1:])
		}
		word, rest, _ := NextWord(l.text)
		if word == "" || word[0] != '<' {
			continue
		}
		top := stack[len(stack)-1]
		if len(word) > 1 && word[1] == '/' {
			word = word[:len(word)-1] // Apache drops the last byte, '>' or not
			name := ""
			if len(word) > 2 {
				name = word[2:]
			}
			if !asciiEqualFold(name, top[1:]) {
				return errorf("Expected </%s> but saw %s>", top[1:], word)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil
			}
			continue
		}
		if rest == "" && word[len(word)-1] == '>' {
			word = word[:len(word)-1]
		}
		stack = append(stack, word)
	}
}

// asciiEqualFold is strcasecmp equality (ASCII only, unlike
// strings.EqualFold, which also folds non-ASCII letters).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// positioned turns a message from reading st into an *Error at Apache's
// err_directive; errors from included files are already positioned.
func positioned(st *stream, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	e := &Error{Msg: err.Error(), Structural: true, Includes: st.includes}
	if st.errPos != nil {
		e.Pos = *st.errPos
	} else {
		e.Pos = Pos{File: st.file}
	}
	return e
}
