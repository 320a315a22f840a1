package parser

import (
	"bufio"
	"encoding/json"
	"io"
)

// Dump prints the evaluated tree under root, one node per line with its
// file:line, children indented by two spaces and sections closed by
// </Name>:
//
//	/etc/apache2/apache2.conf:12: <Directory />
//	  /etc/apache2/apache2.conf:13: Options FollowSymLinks
//	</Directory>
//
// root itself is printed only when it has a name (Tree.Root has none).
func Dump(w io.Writer, root *Node) error {
	bw := bufio.NewWriter(w)
	if root != nil {
		if root.Name != "" || root.Section {
			dumpNode(bw, root, 0)
		} else {
			for _, c := range root.Children {
				dumpNode(bw, c, 0)
			}
		}
	}
	return bw.Flush()
}

func dumpNode(w *bufio.Writer, n *Node, depth int) {
	for i := 0; i < depth; i++ {
		w.WriteString("  ")
	}
	w.WriteString(n.Pos.String())
	w.WriteString(": ")
	if n.Section {
		w.WriteByte('<')
	}
	w.WriteString(n.Name)
	if n.Args != "" {
		w.WriteByte(' ')
		w.WriteString(n.Args)
	}
	w.WriteByte('\n')
	if !n.Section {
		return
	}
	for _, c := range n.Children {
		dumpNode(w, c, depth+1)
	}
	for i := 0; i < depth; i++ {
		w.WriteString("  ")
	}
	w.WriteString("</")
	w.WriteString(n.Name)
	w.WriteString(">\n")
}

// JSONNode is the JSON form of a Node written by DumpJSON.
type JSONNode struct {
	Name      string      `json:"name"`
	Args      string      `json:"args,omitempty"`
	Section   bool        `json:"section,omitempty"`
	File      string      `json:"file"`
	Line      int         `json:"line"`
	FirstLine int         `json:"first_line,omitempty"`
	Col       int         `json:"col,omitempty"`
	Includes  []string    `json:"includes,omitempty"` // "file:line" of each Include, outermost first
	Children  []*JSONNode `json:"children,omitempty"`
}

// ToJSON converts a node and its children.
func ToJSON(n *Node) *JSONNode {
	j := &JSONNode{Name: n.Name, Args: n.Args, Section: n.Section, File: n.Pos.File,
		Line: n.Pos.Line, FirstLine: n.Pos.FirstLine, Col: n.Pos.Col}
	for _, inc := range n.Includes {
		j.Includes = append(j.Includes, inc.String())
	}
	for _, c := range n.Children {
		j.Children = append(j.Children, ToJSON(c))
	}
	return j
}

// DumpJSON writes the tree under root as indented JSON: an array of the
// top-level nodes when root is a Tree.Root, else the node itself.
func DumpJSON(w io.Writer, root *Node) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if root == nil {
		return enc.Encode([]*JSONNode{})
	}
	if root.Name == "" && !root.Section {
		out := make([]*JSONNode, 0, len(root.Children))
		for _, c := range root.Children {
			out = append(out, ToJSON(c))
		}
		return enc.Encode(out)
	}
	return enc.Encode(ToJSON(root))
}
