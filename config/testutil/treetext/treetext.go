// Package treetext builds parser trees from config text for tests of
// packages config and walk, so they do not depend on the full parser: one
// directive per line, "<Name args>" opens a section, "</Name>" closes it,
// '#' starts a comment line. No continuation, Include or conditionals.
package treetext

import (
	"fmt"
	"strings"

	"plume/parser"
)

// Parse builds the nodes of text as read from file.
func Parse(file, text string) ([]*parser.Node, error) {
	root := &parser.Node{}
	cur := root
	var stack []*parser.Node
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pos := parser.Pos{File: file, Line: i + 1, FirstLine: i + 1, Col: 1}
		if strings.HasPrefix(line, "</") {
			name := strings.TrimSuffix(strings.TrimPrefix(line, "</"), ">")
			if cur == root || !strings.EqualFold(cur.Name, name) {
				return nil, fmt.Errorf("%s:%d: unexpected %s", file, i+1, line)
			}
			cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
			continue
		}
		section := strings.HasPrefix(line, "<")
		if section {
			line = line[1:]
		}
		name, args, _ := strings.Cut(line, " ")
		if section && strings.HasSuffix(name, ">") && args == "" {
			name, args = strings.TrimSuffix(name, ">"), ">"
		}
		n := &parser.Node{Name: name, Args: strings.TrimSpace(args), Section: section, Pos: pos}
		if cur != root {
			n.Parent = cur
		}
		cur.Children = append(cur.Children, n)
		if section {
			stack = append(stack, cur)
			cur = n
		}
	}
	if cur != root {
		return nil, fmt.Errorf("%s: unclosed <%s>", file, cur.Name)
	}
	return root.Children, nil
}

// Tree wraps Parse into a parser.Tree with the given ServerRoot.
func Tree(file, text, serverRoot string) (*parser.Tree, error) {
	nodes, err := Parse(file, text)
	if err != nil {
		return nil, err
	}
	return &parser.Tree{Root: &parser.Node{Children: nodes}, ServerRoot: serverRoot,
		Loaded: map[string]bool{}, Defines: map[string]string{}, Files: []string{file}}, nil
}
