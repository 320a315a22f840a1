package parser

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want.dump / want.err sections of testdata/parse/*.txtar")

// goldenCase is one testdata/parse/*.txtar file.
//
// Sections: httpd.conf (the main file) and any other files it includes,
// want.dump (Dump of the tree, then "# warning:" lines) or want.err (the
// error as Format("apache2") prints it), and args, one setting a line:
//
//	define NAME        -D NAME
//	env NAME=value     an environment variable for ${NAME}
//	pre DIRECTIVE      -C DIRECTIVE        post DIRECTIVE   -c DIRECTIVE
//	escapes FILE       FILE's text has \xHH and \r escapes
//	noeol FILE         FILE has no newline at the end
//	mkdir DIR          an empty directory
//	symlink T LINK     LINK -> T
//	htaccess FILE      parse FILE with ParseHtaccess instead of Load
//	noapache REASON    do not compare with apache2 (the REASON says why)
//
// Paths under the case's temporary ServerRoot print as $ROOT, and the
// environment variable ROOT holds that directory.
type goldenCase struct {
	name     string
	path     string
	ar       *archive
	defines  []string
	env      map[string]string
	pre      []string
	post     []string
	htaccess string
	noApache string
}

func loadGoldenCases(t *testing.T) []*goldenCase {
	t.Helper()
	paths, err := filepath.Glob("../testdata/parse/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no testdata/parse/*.txtar cases")
	}
	var cases []*goldenCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := &goldenCase{name: strings.TrimSuffix(filepath.Base(p), ".txtar"), path: p,
			ar: parseArchive(data), env: map[string]string{}}
		cases = append(cases, c)
	}
	return cases
}

var hexEscape = regexp.MustCompile(`\\x[0-9a-fA-F]{2}|\\r`)

// materialize writes the case's files under dir and reads its args.
func (c *goldenCase) materialize(t *testing.T, dir string) {
	t.Helper()
	args, _ := c.ar.get("args")
	escapes := map[string]bool{}
	noEOL := map[string]bool{}
	var symlinks [][2]string
	for _, line := range strings.Split(string(args), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		switch verb {
		case "define":
			c.defines = append(c.defines, rest)
		case "env":
			k, v, _ := strings.Cut(rest, "=")
			c.env[k] = v
		case "pre":
			c.pre = append(c.pre, rest)
		case "post":
			c.post = append(c.post, rest)
		case "escapes":
			escapes[rest] = true
		case "noeol":
			noEOL[rest] = true
		case "mkdir":
			if err := os.MkdirAll(filepath.Join(dir, rest), 0o755); err != nil {
				t.Fatal(err)
			}
		case "symlink":
			f := strings.Fields(rest)
			symlinks = append(symlinks, [2]string{f[0], f[1]})
		case "htaccess":
			c.htaccess = rest
		case "noapache":
			c.noApache = rest
		default:
			t.Fatalf("%s: unknown args line %q", c.path, line)
		}
	}
	for _, f := range c.ar.files {
		switch f.name {
		case "args", "want.dump", "want.err":
			continue
		}
		data := f.data
		if escapes[f.name] {
			data = hexEscape.ReplaceAllFunc(data, func(m []byte) []byte {
				if string(m) == `\r` {
					return []byte{'\r'}
				}
				v, _ := strconv.ParseUint(string(m[2:]), 16, 8)
				return []byte{byte(v)}
			})
		}
		if noEOL[f.name] {
			data = bytes.TrimSuffix(data, []byte("\n"))
		}
		p := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range symlinks {
		if err := os.Symlink(s[0], filepath.Join(dir, s[1])); err != nil {
			t.Fatal(err)
		}
	}
}

func (c *goldenCase) options(dir string, pre []string) Options {
	return Options{
		ServerRoot: dir,
		Defines:    c.defines,
		Getenv: func(k string) (string, bool) {
			if k == "ROOT" {
				return dir, true
			}
			v, ok := c.env[k]
			return v, ok
		},
		Pre:            append(append([]string(nil), pre...), c.pre...),
		Post:           c.post,
		KnownDirective: func(name string) bool { return coreDirectives[strings.ToLower(name)] },
		KnownSection:   func(name string) bool { return coreSections[strings.ToLower(name)] },
		CanonicalName:  func(name string) string { return coreCanonical[strings.ToLower(name)] },
	}
}

// A few of Apache's core directives and sections, standing in for the
// directive registry in <IfDirective>/<IfSection> cases.
var (
	coreDirectives = map[string]bool{"servername": true, "serveradmin": true, "options": true, "allowoverride": true}
	coreSections   = map[string]bool{"directory": true, "files": true, "location": true, "virtualhost": true}
	coreCanonical  = map[string]string{}
)

func init() {
	for _, n := range []string{"ServerName", "ServerAdmin", "Options", "AllowOverride", "ErrorLog", "PidFile",
		"Timeout", "<Directory", "<DirectoryMatch", "<Files", "<Location", "<VirtualHost", "<Limit"} {
		coreCanonical[strings.ToLower(n)] = n
	}
}

// run parses the case and returns the dump (with warnings) or the error
// text, with dir replaced by $ROOT.
func (c *goldenCase) run(t *testing.T, dir string, pre []string) (dump string, errText string) {
	t.Helper()
	opts := c.options(dir, pre)
	var b bytes.Buffer
	if c.htaccess != "" {
		p := filepath.Join(dir, c.htaccess)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := Load("httpd.conf", opts)
		if err != nil {
			t.Fatalf("loading httpd.conf for the .htaccess case: %v", err)
		}
		nodes, err := ParseHtaccess(p, data, tree, opts)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, not *Error", err)
			}
			return "", strings.ReplaceAll(pe.HtaccessFormat(), dir, "$ROOT") + "\n"
		}
		Dump(&b, &Node{Children: nodes})
		return strings.ReplaceAll(b.String(), dir, "$ROOT"), ""
	}
	tree, err := Load("httpd.conf", opts)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error is %T, not *Error", err)
		}
		return "", rootRelative(pe, dir).Format("apache2") + "\n"
	}
	checkParents(t, tree.Root.Children, nil)
	Dump(&b, tree.Root)
	for _, w := range tree.Warnings {
		b.WriteString("# warning: " + w.String() + "\n")
	}
	if tree.RuntimeDir != "" {
		b.WriteString("# runtime dir: " + tree.RuntimeDir + "\n")
	}
	if tree.ServerRoot != dir {
		b.WriteString("# server root: " + tree.ServerRoot + "\n")
	}
	var mods []string
	for _, m := range tree.Modules {
		mods = append(mods, m.ID+"="+m.Source)
	}
	if len(mods) > 0 {
		b.WriteString("# modules: " + strings.Join(mods, " ") + "\n")
	}
	var defs []string
	for k, v := range tree.Defines {
		defs = append(defs, k+"="+v)
	}
	sort.Strings(defs)
	if len(defs) > 0 {
		b.WriteString("# defines: " + strings.Join(defs, " ") + "\n")
	}
	return strings.ReplaceAll(b.String(), dir, "$ROOT"), ""
}

func checkParents(t *testing.T, nodes []*Node, parent *Node) {
	t.Helper()
	for _, n := range nodes {
		if n.Parent != parent {
			t.Errorf("%s: %s has parent %p, want %p", n.Pos, n.Name, n.Parent, parent)
		}
		if n.Pos.File == "" || n.Pos.Line < 1 || n.Pos.FirstLine < 1 || n.Pos.FirstLine > n.Pos.Line || n.Pos.Col < 1 {
			t.Errorf("bad position %+v for %s", n.Pos, n.Name)
		}
		checkParents(t, n.Children, n)
	}
}

func TestGolden(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.materialize(t, dir)
			dump, errText := c.run(t, dir, nil)
			wantDump, hasDump := c.ar.get("want.dump")
			wantErr, hasErr := c.ar.get("want.err")
			if *update {
				c.ar.remove("want.dump")
				c.ar.remove("want.err")
				if errText != "" {
					c.ar.set("want.err", []byte(errText))
				} else {
					c.ar.set("want.dump", []byte(dump))
				}
				if err := os.WriteFile(c.path, c.ar.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !hasDump && !hasErr {
				t.Fatalf("%s has neither want.dump nor want.err (run with -update)", c.path)
			}
			if hasErr {
				if errText != string(wantErr) {
					t.Errorf("error:\n got: %q\nwant: %q\n(dump: %s)", errText, wantErr, dump)
				}
				return
			}
			if errText != "" {
				t.Fatalf("unexpected error: %s", errText)
			}
			if dump != string(wantDump) {
				t.Errorf("dump:\n got:\n%s\nwant:\n%s", dump, wantDump)
			}
		})
	}
}

// rootRelative rewrites dir to $ROOT in an error before it is formatted, so
// that Apache's line-length cut falls at the same place whatever the
// temporary directory's name.
func rootRelative(e *Error, dir string) *Error {
	c := *e
	c.Pos.File = strings.ReplaceAll(c.Pos.File, dir, "$ROOT")
	c.Msg = strings.ReplaceAll(c.Msg, dir, "$ROOT")
	c.Includes = nil
	for _, p := range e.Includes {
		p.File = strings.ReplaceAll(p.File, dir, "$ROOT")
		c.Includes = append(c.Includes, p)
	}
	return &c
}
