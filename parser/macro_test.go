package parser

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubstituteMacroArgs(t *testing.T) {
	tests := []struct {
		name        string
		line        string
		names, repl []string
		want, err   string
	}{
		{"plain", "ServerName $host\n", []string{"$host"}, []string{"a.example"}, "ServerName a.example\n", ""},
		{"longest at the same place", "$a $ab\n", []string{"$a", "$ab"}, []string{"1", "2"}, "1 2\n", ""},
		{"earliest first", "%b $a\n", []string{"$a", "%b"}, []string{"x", "y"}, "y x\n", ""},
		{"@ is quoted and escaped", "Header @v\n", []string{"@v"}, []string{`a "b" \c`}, `Header "a \"b\" \\c"` + "\n", ""},
		{"value holding the name is not rescanned", "$a\n", []string{"$a"}, []string{"$a$a"}, "$a$a\n", ""},
		{"every occurrence", "$x-$x\n", []string{"$x"}, []string{"ab"}, "ab-ab\n", ""},
		{"too long", "$x\n", []string{"$x"}, []string{strings.Repeat("y", macroMaxLineLen)}, "", "cannot substitute, buffer size too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := substituteMacroArgs(tt.line, tt.names, tt.repl, nil)
			if got != tt.want || err != tt.err {
				t.Errorf("got %q, %q; want %q, %q", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestMacroExpansionLimit: macros using macros multiply their lines; the
// read stops with an error instead of building them all.
func TestMacroExpansionLimit(t *testing.T) {
	defer func(n int) { maxMacroLines = n }(maxMacroLines)
	maxMacroLines = 1000
	var b strings.Builder
	b.WriteString("<Macro a0>\nServerAdmin x\n</Macro>\n")
	for i := 1; i <= 4; i++ {
		b.WriteString("<Macro a" + string(rune('0'+i)) + ">\n")
		for j := 0; j < 10; j++ {
			b.WriteString("Use a" + string(rune('0'+i-1)) + "\n")
		}
		b.WriteString("</Macro>\n")
	}
	b.WriteString("Use a4\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "httpd.conf"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load("httpd.conf", Options{ServerRoot: dir, Pre: []string{"LoadModule macro_module modules/mod_macro.so"}})
	if err == nil || !strings.Contains(err.Error(), "Plume's limit") {
		t.Fatalf("err = %v, want the expansion limit", err)
	}
}

// FuzzMacro reads arbitrary bytes with macro_module loaded: no panic, no
// hang, and every node and error positioned in the input or in a macro
// expansion (whose "file" is the expansion's name).
func FuzzMacro(f *testing.F) {
	f.Add([]byte("<Macro m $a @b>\n<Directory $a>\nOptions @b\n</Macro>\nUse m /x y\n</Directory>\n"))
	f.Add([]byte("<Macro a>\nUse b\n</Macro>\n<Macro b>\nUse a\n</Macro>\nUse a\n"))
	f.Add([]byte("<Macro x /IgnoreEmptyArgs/IgnoreBadNesting/zz $p>\n</x>\n</Macro> junk\nUse x \"\"\nUndefMacro x\nUse x 1\n"))
	f.Add([]byte("<Macro>\n<Macro m\n</Macro>\nMacroIgnoreEmptyArgs\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(dir, "fuzz.conf")
		opts := Options{ServerRoot: dir, Builtin: func(m string) bool { return m == macroModule }}
		nodes, err := parseBytes(name, data, opts)
		lines := physicalLines(data)
		inInput := func(p Pos) bool {
			if p.File == name {
				return p.Line >= 0 && p.Line <= lines+1
			}
			return strings.HasPrefix(p.File, "macro '") && p.Line >= 0
		}
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !inInput(pe.Pos) {
				t.Fatalf("error position %+v outside the input: %s", pe.Pos, pe.Msg)
			}
			_ = pe.Format("apache2")
			return
		}
		var walk func([]*Node)
		walk = func(ns []*Node) {
			for _, n := range ns {
				if !inInput(n.Pos) {
					t.Fatalf("node %q at %+v outside the input", n.Name, n.Pos)
				}
				walk(n.Children)
			}
		}
		walk(nodes)
	})
}
