package access

import (
	"fmt"
	"strings"
	"testing"

	"plume/directives"
	"plume/parser"
)

// This file builds per-directory vectors from config text for the tests,
// without packages parser.Load and config (other packages, built in
// parallel): a minimal line reader and a test <Limit> section.

// parseTestConf reads one directive per line, <Section args> ... </Section>
// nesting, '#' comment lines. It is enough for the access directives.
func parseTestConf(t testing.TB, file, text string) []*parser.Node {
	t.Helper()
	root := &parser.Node{}
	cur := root
	for i, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || l[0] == '#' {
			continue
		}
		pos := parser.Pos{File: file, Line: i + 1, FirstLine: i + 1, Col: 1}
		if strings.HasPrefix(l, "</") {
			if cur == root {
				t.Fatalf("%s:%d: unexpected %s", file, i+1, l)
			}
			cur = cur.Parent
			continue
		}
		if l[0] == '<' {
			name, args, _ := strings.Cut(l[1:], " ")
			if strings.HasSuffix(name, ">") {
				name, args = strings.TrimSuffix(name, ">"), ">"
			}
			n := &parser.Node{Name: name, Args: args, Section: true, Parent: cur, Pos: pos}
			cur.Children = append(cur.Children, n)
			cur = n
			continue
		}
		name, args, _ := strings.Cut(l, " ")
		cur.Children = append(cur.Children, &parser.Node{Name: name, Args: strings.TrimSpace(args), Parent: cur, Pos: pos})
	}
	if cur != root {
		t.Fatalf("%s: unclosed <%s>", file, cur.Name)
	}
	for _, c := range root.Children {
		c.Parent = nil
	}
	return root.Children
}

// testLimit stands in for core's <Limit>/<LimitExcept> (package config).
func testLimit(except bool) directives.Handler {
	return func(c *directives.Cmd, args []string) error {
		a, err := c.Node.SectionArgs()
		if err != nil {
			return err
		}
		var mask uint64
		for _, m := range parser.SplitWords(a) {
			mask |= 1 << uint(RegisterMethod(m))
		}
		if except {
			mask = ^mask
		}
		child := *c
		child.Limited = mask
		return directives.Walk(c.Node.Children, &child)
	}
}

func init() {
	if s, ok := directives.Registered("<Limit"); !ok || s.Func == nil {
		directives.Register(
			&directives.Spec{Name: "<Limit", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.OrAll | directives.AccessConf | directives.RsrcConf, Func: testLimit(false)},
			&directives.Spec{Name: "<LimitExcept", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.OrAll | directives.AccessConf | directives.RsrcConf, Func: testLimit(true)},
		)
	}
}

// testServer is a server whose per-server config the tests fill.
func newTestServer(t testing.TB, serverConf string) *directives.Server {
	t.Helper()
	srv := &directives.Server{Config: directives.NewVector(), Defaults: directives.NewVector()}
	if serverConf != "" {
		st := &directives.Cmd{Override: directives.OrAll | directives.RsrcConf | directives.AccessConf,
			Limited: directives.LimitAll, Server: srv, Dir: srv.Defaults, Global: &directives.Config{}}
		if err := directives.Walk(parseTestConf(t, "server.conf", serverConf), st); err != nil {
			t.Fatalf("server config: %v", err)
		}
	}
	return srv
}

// layer is one section's config text; htaccess layers get .htaccess rules
// (AllowOverride All) and the others <Directory> rules.
type layer struct {
	text     string
	htaccess bool
}

// walkLayer applies one section and returns its vector and warnings.
func walkLayer(srv *directives.Server, l layer) (directives.Vector, []parser.Warning, error) {
	nodes, err := parseTestConfErr("layer.conf", l.text)
	if err != nil {
		return nil, nil, err
	}
	g := &directives.Config{}
	st := &directives.Cmd{Override: directives.OrAll | directives.AccessConf, Limited: directives.LimitAll,
		Path: "/srv/x/", Server: srv, Dir: directives.NewVector(), Global: g, Htaccess: l.htaccess}
	if l.htaccess {
		st.Override = directives.OrAll
	}
	if err := directives.Walk(nodes, st); err != nil {
		return nil, g.Warnings, err
	}
	return st.Dir, g.Warnings, nil
}

// mergedVector merges layers in order over the server defaults.
func mergedVector(t testing.TB, srv *directives.Server, layers ...layer) directives.Vector {
	t.Helper()
	v := srv.Defaults
	for i, l := range layers {
		lv, _, err := walkLayer(srv, l)
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		v = directives.MergeDirs(v, lv)
	}
	return v
}

type fatalRecorder struct {
	testing.TB
	err error
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.err = fmt.Errorf(format, args...)
	panic(f)
}
func (f *fatalRecorder) Helper() {}

func parseTestConfErr(file, text string) (nodes []*parser.Node, err error) {
	rec := &fatalRecorder{}
	defer func() {
		if p := recover(); p != nil {
			if p == rec {
				err = rec.err
				return
			}
			panic(p)
		}
	}()
	return parseTestConf(rec, file, text), nil
}
