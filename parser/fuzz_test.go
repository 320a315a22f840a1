package parser

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// parseBytes reads data as a main configuration file named name, with
// Include refused (for fuzzing).
func parseBytes(name string, data []byte, opts Options) ([]*Node, error) {
	ld := newLoader(opts)
	ld.noInclude = true
	st := &stream{r: &lineReader{name: name, data: data, limit: ld.limit}, file: name}
	nodes, err := ld.buildConfig(st)
	if err != nil {
		return nil, positioned(st, err)
	}
	return nodes, nil
}

func physicalLines(data []byte) int { return bytes.Count(data, []byte("\n")) + 1 }

func checkFuzzResult(t *testing.T, name string, data []byte, nodes []*Node, err error) {
	lines := physicalLines(data)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %T is not *Error: %v", err, err)
		}
		if pe.Pos.File != name || pe.Pos.Line < 0 || pe.Pos.Line > lines+1 {
			t.Fatalf("error position %+v outside the input (%d lines): %s", pe.Pos, lines, pe.Msg)
		}
		_ = pe.Format("apache2")
		_ = pe.HtaccessFormat()
		return
	}
	var walk func([]*Node, int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			if n.Pos.File != name || n.Pos.Line < 1 || n.Pos.Line > lines+1 || n.Pos.FirstLine < 1 || n.Pos.FirstLine > n.Pos.Line || n.Pos.Col < 1 {
				t.Fatalf("node %q at %+v outside the input (%d lines)", n.Name, n.Pos, lines)
			}
			walk(n.Children, depth+1)
		}
	}
	walk(nodes, 0)
	var b bytes.Buffer
	Dump(&b, &Node{Children: nodes})
}

func fuzzSeeds(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/parse/*.txtar")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, file := range parseArchive(data).files {
			if file.name != "args" && file.name != "want.dump" && file.name != "want.err" {
				f.Add(file.data)
			}
		}
	}
	f.Add([]byte("<IfModule mod_so.c>\n<IfModule !x>\n<Directory /x>\n"))
	f.Add([]byte("<IfVersion ~ (a|b>\n</IfVersion>\n"))
	f.Add([]byte("\xef\xbb\xbf<\x00\\\r\n>"))
}

// FuzzParse feeds arbitrary bytes to the main-file reader and to the
// .htaccess reader: no panic, no hang, every error and node positioned
// inside the input.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(dir, "fuzz.conf")
		opts := Options{ServerRoot: dir, Getenv: func(k string) (string, bool) {
			if k == "X" {
				return "<Directory /x>", true
			}
			return "", false
		}}
		nodes, err := parseBytes(name, data, opts)
		checkFuzzResult(t, name, data, nodes, err)
		hnodes, herr := ParseHtaccess(name, data, nil, opts)
		checkFuzzResult(t, name, data, hnodes, herr)
	})
}
