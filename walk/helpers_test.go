package walk

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"plume/config"
	"plume/config/testutil/apachetest"
	"plume/config/testutil/treetext"
	"plume/directives"
	"plume/parser"
)

// The tests observe which sections applied the way the Apache side does:
// with mod_headers' "Header set|append NAME VALUE". Plume does not
// implement mod_headers in this package, so the test binary registers a
// minimal stand-in with the same override class (FileInfo) and merge
// (actions concatenated in merge order).
type headerAction struct{ op, name, value string }

type headerConf struct{ actions []headerAction }

var headerModule *directives.Module

func init() {
	if _, ok := directives.Implemented("headers_module"); ok {
		return // a real implementation exists; use it
	}
	headerModule = directives.RegisterModule(&directives.Module{
		Name: "headers_module", Source: "mod_headers.c",
		CreateDir: func(string) any { return &headerConf{} },
		MergeDir: func(b, a any) any {
			base, add := b.(*headerConf), a.(*headerConf)
			return &headerConf{actions: append(append([]headerAction{}, base.actions...), add.actions...)}
		},
	})
	directives.Register(&directives.Spec{Name: "Header", Module: "headers_module", Syntax: directives.TakeArgv,
		ReqOverride: directives.OrFileInfo, Help: "an optional condition, an action, header and value followed by optional env clause",
		Func: func(c *directives.Cmd, args []string) error {
			if len(args) == 4 && strings.EqualFold(args[0], "always") {
				args = args[1:] // the "always" table; these tests merge both alike
			}
			if len(args) != 3 || (!strings.EqualFold(args[0], "set") && !strings.EqualFold(args[0], "append")) {
				return nil // other mod_headers forms: accepted, not modelled
			}
			hc := c.DirConfig(headerModule).(*headerConf)
			hc.actions = append(hc.actions, headerAction{strings.ToLower(args[0]), http.CanonicalHeaderKey(args[1]), args[2]})
			return nil
		}})
}

// headersOf evaluates the Header actions of a merged vector.
func headersOf(v directives.Vector) http.Header {
	h := http.Header{}
	if headerModule == nil {
		return h
	}
	hc, ok := v.Get(headerModule).(*headerConf)
	if !ok {
		return h
	}
	for _, a := range hc.actions {
		switch a.op {
		case "set":
			h.Set(a.name, a.value)
		case "append":
			if old := h.Get(a.name); old != "" {
				h.Set(a.name, old+", "+a.value)
			} else {
				h.Set(a.name, a.value)
			}
		}
	}
	return h
}

// tree describes a test filesystem: "dir/" makes a directory, "->target"
// content makes a symlink, anything else a file with that content.
type tree map[string]string

// owners maps a path to the uid that must own it (lchown).
type owners map[string]int

const nobodyUID = 65534

// makeTree builds a world-readable temp tree (apache2 serves it as
// nobody) and returns its root.
func makeTree(t testing.TB, files tree, own owners) string {
	t.Helper()
	root, err := os.MkdirTemp("", "plume-walk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := files[k]
		p := filepath.Join(root, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(k, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "->"):
			target := strings.ReplaceAll(v[2:], "@ROOT@", root)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(v, "@ROOT@", root)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k, uid := range own {
		if err := os.Lchown(filepath.Join(root, k), uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// loadConfig applies body (ROOT replaced) with the test tree parser.
func loadConfig(t testing.TB, root, body string) *config.Config {
	t.Helper()
	body = strings.ReplaceAll(body, "@ROOT@", root)
	tr, err := treetext.Tree(filepath.Join(root, "plume.conf"), body, root)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromTree(tr)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func newTestWalker(t testing.TB, cfg *config.Config) *Walker {
	t.Helper()
	w := NewWithOptions(cfg, Options{ParseHtaccess: func(p string, data []byte) ([]*parser.Node, error) {
		return treetext.Parse(p, string(data))
	}})
	t.Cleanup(func() { w.Close() })
	return w
}

// outcome is what a client sees, as far as the walk decides it.
type outcome struct {
	status  int
	headers http.Header
}

// plumeOutcome walks uri (mapped under DocumentRoot) and derives the status
// a static-file server would answer.
func plumeOutcome(t testing.TB, w *Walker, srv *config.Server, uri string) (outcome, *Result) {
	t.Helper()
	res := w.Walk(srv, uri, srv.DocumentRoot+uri)
	defer res.Close()
	o := outcome{headers: headersOf(res.PerDir)}
	switch {
	case res.Status != 0:
		o.status = res.Status
	case res.Info == nil || res.PathInfo != "":
		o.status = 404
	default:
		o.status = 200
	}
	return o, res
}

// apacheBody is the Apache side of a case: header plus body.
func startApache(t testing.TB, root, body string) *apachetest.Server {
	t.Helper()
	port := apachetest.FreePort(t)
	conf := apachetest.Header(root, port, "headers") + strings.ReplaceAll(body, "@ROOT@", root)
	return apachetest.Start(t, root, port, conf)
}
