package parser

import (
	"io"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The config language is line-oriented, and what a line is depends on state
// that changes while reading (Define changes ${VAR} expansion of the next
// lines, a false <IfModule> stops lexing altogether). So the reader hands
// one logical, already-expanded line at a time to a participle parser with a
// flat grammar:
//
//	line = CloseTag [Args] | OpenTag [Args] | Name [Args] | (empty)
//
// Blank lines and comments never get here: Apache drops them before ${VAR}
// expansion (ap_build_config_sub), so the line reader does too. The stack
// pass that turns lines into a tree is in build.go.

// Token types of the line lexer.
const (
	tokCloseTag lexer.TokenType = iota + 1 // first word starting with "</"
	tokOpenTag                             // first word starting with "<"
	tokName                                // any other first word
	tokArgs                                // the raw rest of the line
)

var lineSymbols = map[string]lexer.TokenType{
	"EOF":      lexer.EOF,
	"CloseTag": tokCloseTag,
	"OpenTag":  tokOpenTag,
	"Name":     tokName,
	"Args":     tokArgs,
}

// lineLexerDef lexes one logical line the way ap_build_config_sub reads it:
// the first word with ap_getword_conf (so a quoted name is unquoted), then
// the rest of the line, untouched, after the whitespace that follows the
// first word. It never fails: every byte sequence is a line.
type lineLexerDef struct{}

func (lineLexerDef) Symbols() map[string]lexer.TokenType { return lineSymbols }

func (d lineLexerDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (lineLexerDef) LexString(filename string, s string) (lexer.Lexer, error) {
	l := &lineLexer{}
	word, rest, ok := NextWord(s)
	end := lexer.Position{Filename: filename, Offset: len(s), Line: 1, Column: len(s) + 1}
	if !ok || word == "" {
		// ap_build_config_sub ignores a line whose first word is empty
		// (for example `"" x` or a ${VAR} that expanded to nothing).
		l.toks = []lexer.Token{lexer.EOFToken(end)}
		return l, nil
	}
	typ := tokName
	if word[0] == '<' {
		typ = tokOpenTag
		if len(word) > 1 && word[1] == '/' {
			typ = tokCloseTag
		}
	}
	lead := len(s) - len(trimLeft(s))
	l.toks = append(l.toks, lexer.Token{Type: typ, Value: word,
		Pos: lexer.Position{Filename: filename, Offset: lead, Line: 1, Column: lead + 1}})
	if rest != "" {
		off := len(s) - len(rest)
		l.toks = append(l.toks, lexer.Token{Type: tokArgs, Value: rest,
			Pos: lexer.Position{Filename: filename, Offset: off, Line: 1, Column: off + 1}})
	}
	l.toks = append(l.toks, lexer.EOFToken(end))
	return l, nil
}

func trimLeft(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

type lineLexer struct {
	toks []lexer.Token
	i    int
}

func (l *lineLexer) Next() (lexer.Token, error) {
	t := l.toks[l.i]
	if l.i < len(l.toks)-1 {
		l.i++
	}
	return t, nil
}

// lineAST is the flat grammar. Exactly one of Close, Open and Name is set,
// or none for an ignored line.
type lineAST struct {
	Close string `parser:"( ( @CloseTag"`
	Open  string `parser:"  | @OpenTag"`
	Name  string `parser:"  | @Name )"`
	Args  string `parser:"  @Args? )?"`
}

var lineParser = participle.MustBuild[lineAST](
	participle.Lexer(lineLexerDef{}),
	participle.UseLookahead(1),
)

// parseLine classifies one expanded logical line.
func parseLine(file, text string) (*lineAST, error) {
	return lineParser.ParseString(file, text)
}

// ParseLine exposes the per-line grammar (for tools and tests): it returns
// the first word as Apache reads it, whether it is an opening or closing
// tag, and the raw argument text.
func ParseLine(text string) (word string, kind string, args string, err error) {
	ast, err := parseLine("", text)
	if err != nil {
		return "", "", "", err
	}
	switch {
	case ast.Close != "":
		return ast.Close, "close", ast.Args, nil
	case ast.Open != "":
		return ast.Open, "open", ast.Args, nil
	case ast.Name != "":
		return ast.Name, "directive", ast.Args, nil
	}
	return "", "empty", "", nil
}
