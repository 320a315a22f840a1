package directives

import (
	"errors"
	"strings"
	"testing"

	"plume/parser"
)

// Hand-built trees: d is a directive, sec a section (its Args carry the
// closing '>' as the parser leaves them). Lines are numbered in order.
type tnode struct {
	name, args string
	section    bool
	children   []tnode
}

func d(name, args string) tnode { return tnode{name: name, args: args} }
func sec(name, args string, children ...tnode) tnode {
	return tnode{name: name, args: args + ">", section: true, children: children}
}

func build(nodes []tnode) *parser.Tree {
	root := &parser.Node{}
	line := 0
	var add func(parent *parser.Node, list []tnode)
	add = func(parent *parser.Node, list []tnode) {
		for _, t := range list {
			line++
			n := &parser.Node{Name: t.name, Args: t.args, Section: t.section, Parent: parent,
				Pos: parser.Pos{File: "/t.conf", Line: line, FirstLine: line, Col: 1}}
			parent.Children = append(parent.Children, n)
			add(n, t.children)
			if t.section {
				line++ // the closing tag
			}
		}
	}
	add(root, nodes)
	return &parser.Tree{Root: root, Loaded: map[string]bool{}}
}

// A test-only section that walks its children like <Directory> does
// (ACCESS_CONF|OR_ALL, a per-directory vector of its own), so context
// rules can be tested without package config.
// testDirs and testCalls record what the test handlers saw (tests in this
// package run sequentially).
var (
	testDirs  []Vector
	testCalls []string
)

var testSectionModule = RegisterModule(&Module{Name: "plumetest_module", Source: "plumetest.c"})

func init() {
	Register(&Spec{Name: "<PlumeTestDir", Module: "plumetest_module", Syntax: RawArgs, ReqOverride: RsrcConf,
		Func: func(c *Cmd, args []string) error {
			path, err := c.Node.SectionArgs()
			if err != nil {
				return err
			}
			sub := *c
			sub.Override = AccessConf | OrAll
			sub.Path = path
			sub.Dir = NewVector()
			testDirs = append(testDirs, sub.Dir)
			return Walk(c.Node.Children, &sub)
		}},
		&Spec{Name: "PlumeTestTake1", Module: "plumetest_module", Syntax: Take1, ReqOverride: RsrcConf | OrAll},
		&Spec{Name: "PlumeTestIter2", Module: "plumetest_module", Syntax: Iterate2, ReqOverride: RsrcConf | OrAll},
	)
	for _, name := range []string{"PlumeTestTake1", "PlumeTestIter2"} {
		s, _ := Registered(name)
		s.Func = func(c *Cmd, args []string) error {
			testCalls = append(testCalls, c.Spec.Name+"("+strings.Join(args, ",")+")")
			return nil
		}
	}
}

func TestWalkErrors(t *testing.T) {
	tests := []struct {
		name   string
		tree   []tnode
		loaded []string
		want   string // error message, "" for success
		line   int
	}{
		{"unknown directive", []tnode{d("Bogus", "x")}, nil,
			"Invalid command 'Bogus', perhaps misspelled or defined by a module not included in the server configuration", 1},
		{"module not loaded", []tnode{d("RewriteEngine", "on")}, nil,
			"Invalid command 'RewriteEngine', perhaps misspelled or defined by a module not included in the server configuration", 1},
		{"unknown section", []tnode{sec("Bogus", "x")}, nil,
			"Invalid command '<Bogus', perhaps misspelled or defined by a module not included in the server configuration", 1},
		{"loaded but unsupported is accepted", []tnode{d("RewriteEngine", "on")}, []string{"rewrite_module"}, "", 0},
		{"loaded by source name", []tnode{d("RewriteEngine", "on")}, []string{"mod_rewrite.c"}, "", 0},
		{"static module needs no LoadModule", []tnode{d("LogFormat", `"%h" x`)}, nil, "", 0},
		{"TAKE1 too many", []tnode{d("ServerAdmin", "a b")}, nil,
			"ServerAdmin takes one argument, The email address of the server administrator", 1},
		{"TAKE1 empty quoted", []tnode{d("ServerName", `""`)}, nil,
			"ServerName takes one argument, The hostname and port of the server", 1},
		{"TAKE1 missing", []tnode{d("ServerName", "")}, nil,
			"ServerName takes one argument, The hostname and port of the server", 1},
		{"TAKE2", []tnode{d("ErrorDocument", "404")}, nil,
			"ErrorDocument takes two arguments, Change responses for HTTP errors", 1},
		{"TAKE12", []tnode{d("ErrorLogFormat", "a b c")}, nil,
			"ErrorLogFormat takes 1-2 arguments, Format string for the ErrorLog", 1},
		{"TAKE3", []tnode{d("FilterProvider", "a b")}, []string{"filter_module"},
			"FilterProvider takes three arguments, filter-name provider-name match-expression", 1},
		{"TAKE23", []tnode{d("CustomLog", "x")}, nil,
			`CustomLog takes two or three arguments, a file name, a custom log format string or format name, and an optional "env=" or "expr=" clause (see docs)`, 1},
		{"TAKE123", []tnode{d("Redirect", "a b c d")}, []string{"alias_module"},
			"Redirect takes one, two or three arguments, an optional status, then document to be redirected and destination URL", 1},
		{"ITERATE", []tnode{d("LogLevel", "")}, nil,
			"LogLevel requires at least one argument, Level of verbosity in error logging", 1},
		{"ITERATE2", []tnode{d("AddType", "text/html")}, []string{"mime_module"},
			"AddType requires at least two arguments, a mime type followed by one or more file extensions", 1},
		{"FLAG", []tnode{d("KeepAlive", "yes")}, nil, "KeepAlive must be On or Off", 1},
		{"FLAG ignores extra words", []tnode{d("KeepAlive", "On extra")}, nil, "", 0},
		{"NO_ARGS", []tnode{d("SecResponseBodyMimeTypesClear", "x")}, []string{"security2_module"},
			"SecResponseBodyMimeTypesClear takes no arguments, clears the list of MIME types that will be buffered on output", 1},
		{"canonical lowercase name", []tnode{sec("PlumeTestDir", "/x", d("Order", "a b"))}, []string{"access_compat_module"},
			"order takes one argument, 'allow,deny', 'deny,allow', or 'mutual-failure'", 2},
		{"server level forbids AuthConfig", []tnode{d("Require", "all granted")}, []string{"authz_core_module"},
			"Require not allowed here", 1},
		{"server level forbids Limit", []tnode{d("Order", "deny,allow")}, []string{"access_compat_module"},
			"order not allowed here", 1},
		{"RSRC_CONF in a section", []tnode{sec("PlumeTestDir", "/x", d("ServerName", "x"))}, nil,
			"ServerName not allowed in <PlumeTestDir> context", 2},
		{"ACCESS_CONF at server level", []tnode{d("AllowOverride", "None")}, nil, "AllowOverride not allowed here", 1},
		{"section missing >", []tnode{{name: "PlumeTestDir", args: "/x", section: true}}, nil,
			"<PlumeTestDir> directive missing closing '>'", 1},
		{"error inside a section stops there", []tnode{sec("PlumeTestDir", "/x", d("AcceptPathInfo", "on"), d("Nope", ""))}, nil,
			"Invalid command 'Nope', perhaps misspelled or defined by a module not included in the server configuration", 3},
		{"unknown inside an ignored section", []tnode{sec("Proxy", "*", d("Nope", ""))}, []string{"proxy_module"},
			"Invalid command 'Nope', perhaps misspelled or defined by a module not included in the server configuration", 2},
		{"arity inside an ignored section", []tnode{sec("Proxy", "*", d("ProxyPreserveHost", "maybe"))}, []string{"proxy_module"},
			"ProxyPreserveHost must be On or Off", 2},
		{"exec-on-read leftovers are skipped", []tnode{d("Define", "X"), d("Include", "/nonexistent")}, nil, "", 0},
		{"BOM", []tnode{d("\xef\xbb\xbfServerRoot", "/x")}, nil,
			"Invalid command '\xef\xbb\xbfServerRoot', perhaps misspelled or defined by a module not included in the server configuration", 1},
		{"plume directive", []tnode{d("PlumeIgnoreUnsupported", "maybe")}, nil, "PlumeIgnoreUnsupported must be On or Off", 1},
		{"plume directive ok", []tnode{d("PlumeIgnoreUnsupported", "on")}, nil, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := build(tc.tree)
			for _, m := range tc.loaded {
				tree.Loaded[m] = true
			}
			_, err := Process(tree)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var pe *parser.Error
			if !errors.As(err, &pe) {
				t.Fatalf("want *parser.Error %q, got %v", tc.want, err)
			}
			if pe.Msg != tc.want || pe.Pos.Line != tc.line {
				t.Fatalf("got line %d %q\nwant line %d %q", pe.Pos.Line, pe.Msg, tc.line, tc.want)
			}
			if parser.HasBOM(tc.tree[0].name) && !strings.Contains(pe.Hint, "byte order mark") {
				t.Errorf("BOM error without hint: %+v", pe)
			}
		})
	}
}

func TestWalkHandlerArgs(t *testing.T) {
	tests := []struct {
		node tnode
		want []string
	}{
		{d("PlumeTestTake1", `"a b"`), []string{"PlumeTestTake1(a b)"}},
		{d("PlumeTestIter2", `from a b`), []string{"PlumeTestIter2(from,a)", "PlumeTestIter2(from,b)"}},
		// ITERATE2 stops at an empty word, as Apache's loop does.
		{d("PlumeTestIter2", `from a "" b`), []string{"PlumeTestIter2(from,a)"}},
	}
	for _, tc := range tests {
		testCalls = nil
		if _, err := Process(build([]tnode{tc.node})); err != nil {
			t.Fatal(err)
		}
		if strings.Join(testCalls, ";") != strings.Join(tc.want, ";") {
			t.Errorf("%s %s: calls %v, want %v", tc.node.name, tc.node.args, testCalls, tc.want)
		}
	}
}

func TestWalkHtaccessNonfatal(t *testing.T) {
	tests := []struct {
		name     string
		override int
		node     tnode
		wantErr  string
		wantWarn string
	}{
		{"unknown fatal", OrAll, d("Bogus", ""), "Invalid command 'Bogus', perhaps misspelled or defined by a module not included in the server configuration", ""},
		{"unknown nonfatal", OrAll | NonfatalUnknown, d("Bogus", ""), "",
			"AH02296: Unknown directive bogus perhaps misspelled or defined by a module not included in the server configuration"},
		{"override fatal", OrFileInfo, d("Options", "None"), "Options not allowed here", ""},
		{"override nonfatal", OrFileInfo | NonfatalOverride, d("Options", "None"), "",
			"AH02295: Options in .htaccess forbidden by AllowOverride"},
		{"override in section names the parent", OrLimit, sec("PlumeTestDir", "/x"), "<PlumeTestDir not allowed here", ""},
		{"read-time directive left in .htaccess", OrAll, d("Include", "/etc/passwd"), "Include not allowed here", ""},
		{"read-time directive left in .htaccess nonfatal", OrAll | NonfatalOverride, d("Define", "X"), "",
			"AH02295: Define in .htaccess forbidden by AllowOverride"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := build([]tnode{tc.node})
			cfg := &Config{Loaded: map[string]bool{"core_module": true}}
			state := &Cmd{Override: tc.override, Htaccess: true, Limited: LimitAll, Path: "/srv/",
				Server: &Server{Config: NewVector()}, Dir: NewVector(), Global: cfg}
			err := Walk(tree.Root.Children, state)
			got := ""
			if err != nil {
				got = err.(*parser.Error).Msg
			}
			if got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			warn := ""
			if len(cfg.Warnings) > 0 {
				warn = cfg.Warnings[0].Code + ": " + cfg.Warnings[0].Msg
			}
			if warn != tc.wantWarn {
				t.Fatalf("warning %q, want %q", warn, tc.wantWarn)
			}
		})
	}
}

func TestUnsupportedWarningsAndStrict(t *testing.T) {
	tree := build([]tnode{d("RewriteEngine", "on"), d("RewriteRule", "^ - [F]"), d("ExpiresActive", "On")})
	tree.Loaded["rewrite_module"] = true
	tree.Loaded["expires_module"] = true
	cfg, err := Process(tree)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ignored["rewrite_module"] != 2 || cfg.Ignored["expires_module"] != 1 || len(cfg.Unsupported) != 3 {
		t.Fatalf("ignored %v / %v", cfg.Ignored, cfg.Unsupported)
	}
	if w := cfg.Warnings[2]; w.Pos.Line != 3 || w.Msg != "ExpiresActive (expires_module) is not supported by Plume: ignored" {
		t.Errorf("warning %+v", w)
	}
	if !strings.Contains(cfg.Warnings[0].Msg, "fail with 500") {
		t.Errorf("restricting warning does not say it fails closed: %q", cfg.Warnings[0].Msg)
	}
	_, err = ProcessWith(tree, Options{Strict: true})
	if err == nil || err.(*parser.Error).Msg != "RewriteEngine (rewrite_module) is not supported by Plume" {
		t.Fatalf("strict: %v", err)
	}
}

func TestFailClosed(t *testing.T) {
	tree := build([]tnode{
		d("SecRuleEngine", "On"), // server level: applies everywhere
		sec("PlumeTestDir", "/a", d("RewriteRule", "^ - [F]")),
		sec("PlumeTestDir", "/b", d("ExpiresActive", "On")),
		sec("PlumeTestDir", "/c", d("PlumeIgnoreUnsupported", "On")),
	})
	for _, m := range []string{"security2_module", "rewrite_module", "expires_module"} {
		tree.Loaded[m] = true
	}
	testDirs = nil
	cfg, err := Process(tree)
	if err != nil {
		t.Fatal(err)
	}
	server := cfg.Main.Defaults
	if got := FailClosed(server); len(got) != 1 || got[0].Name != "SecRuleEngine" || got[0].Pos.Line != 1 {
		t.Fatalf("server level: %v", got)
	}
	a := MergeDirs(server, testDirs[0])
	if got := FailClosed(a); len(got) != 2 || got[1].Name != "RewriteRule" || got[1].Pos.Line != 3 {
		t.Fatalf("/a: %v", got)
	}
	if got := FailClosed(testDirs[1]); got != nil {
		t.Fatalf("/b alone has only a harmless directive: %v", got)
	}
	c := MergeDirs(a, testDirs[2])
	if got := FailClosed(c); got != nil {
		t.Fatalf("PlumeIgnoreUnsupported On must opt out: %v", got)
	}
	if got := FailClosed(NewVector()); got != nil {
		t.Fatalf("empty: %v", got)
	}
}
