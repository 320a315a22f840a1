package directives

import (
	"testing"

	"plume/parser"
)

// FuzzWalk applies arbitrary directive lines through every syntax: the
// walker must return an error or accept, never panic. Seeds run in the
// normal test run; go test -fuzz=FuzzWalk explores further.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{"", `""`, `"a b" c`, `'x`, `a\\ b`, "On extra", "\xef\xbb\xbf", "a \"\" b c"} {
		f.Add("ServerAdmin", s, false)
		f.Add("<Proxy", s, true)
	}
	syntaxes := []Syntax{RawArgs, Take1, Take2, Take3, Take12, Take23, Take123, Take13, Iterate, Iterate2, Flag, NoArgs, TakeArgv}
	f.Fuzz(func(t *testing.T, name, args string, section bool) {
		n := &parser.Node{Name: name, Args: args, Section: section, Pos: parser.Pos{File: "/f", Line: 1}}
		for _, syn := range syntaxes {
			_, _ = splitArgs(&Spec{Name: "X", Syntax: syn, Help: "h"}, n)
		}
		tree := &parser.Tree{Root: &parser.Node{Children: []*parser.Node{n}}, Loaded: map[string]bool{"proxy_module": true}}
		_, _ = Process(tree)
	})
}
