package directives

import (
	"errors"
	"fmt"
	"strings"

	"plume/parser"
)

// Walk applies nodes, in order, to the place described by state (Apache's
// ap_walk_config). Section handlers call it again for their children with
// a state of their own. The first error stops the walk and is returned as a
// *parser.Error positioned at the offending directive.
func Walk(nodes []*parser.Node, state *Cmd) error {
	for _, n := range nodes {
		if err := apply(n, state); err != nil {
			var pe *parser.Error
			if errors.As(err, &pe) {
				return err
			}
			return &parser.Error{Pos: n.Pos, Msg: err.Error(), Includes: n.Includes}
		}
	}
	return nil
}

// Options tunes Process.
type Options struct {
	// Strict turns every "not supported by Plume" warning into an error
	// (plume configtest --strict).
	Strict bool
}

// Process applies a whole configuration tree as ap_process_config_tree
// does: it creates the main server and walks the top-level nodes with
// Override = (RSRC_CONF|OR_ALL) &^ (OR_AUTHCFG|OR_LIMIT). Config.Loaded
// holds the modules the tree loaded, Apache's compiled-in modules and every
// module Plume implements. On error the partial Config is returned too (its
// warnings are still worth printing).
func Process(tree *parser.Tree) (*Config, error) { return ProcessWith(tree, Options{}) }

// ProcessWith is Process with options.
func ProcessWith(tree *parser.Tree, opts Options) (*Config, error) {
	if tree == nil || tree.Root == nil {
		return nil, errors.New("directives: empty configuration tree")
	}
	cfg := &Config{Loaded: map[string]bool{}, Ignored: map[string]int{}, Strict: opts.Strict}
	for k, v := range tree.Loaded {
		if v {
			cfg.Loaded[k] = true
		}
	}
	for _, m := range StaticModules {
		cfg.Loaded[m.Name] = true
		cfg.Loaded[m.Source] = true
	}
	for _, m := range Modules() {
		cfg.Loaded[m.Name] = true
		if m.Source != "" {
			cfg.Loaded[m.Source] = true
		}
	}
	cfg.Main = &Server{Config: NewVector(), Defaults: NewVector()}
	state := &Cmd{
		Override: (RsrcConf | OrAll) &^ (OrAuthCfg | OrLimit),
		Limited:  LimitAll,
		Server:   cfg.Main,
		Dir:      cfg.Main.Defaults,
		Global:   cfg,
	}
	return cfg, Walk(tree.Root.Children, state)
}

func invalidCommand(name string) error {
	return fmt.Errorf("Invalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", name)
}

// resolve finds the spec that handles a directive here: Plume's own, else
// the table row of a loaded module (a module Plume does not implement). A
// name only defined by modules the configuration does not load is unknown,
// as in Apache.
func resolve(state *Cmd, name string) (*Spec, bool) {
	if s, ok := Registered(name); ok {
		return s, true
	}
	for _, s := range ApacheSpecs(name) {
		if moduleLoaded(state, s.Module) {
			return s, true
		}
	}
	return nil, false
}

func apply(n *parser.Node, state *Cmd) error {
	name := displayName(n)
	spec, ok := resolve(state, name)
	if !ok {
		if state.Htaccess && state.Override&NonfatalUnknown != 0 {
			state.warnAt(n, "core", "AH02296", "Unknown directive %s perhaps misspelled or defined by a module not included in the server configuration", strings.ToLower(name))
			return nil
		}
		err := &parser.Error{Pos: n.Pos, Msg: invalidCommand(name).Error(), Includes: n.Includes}
		if parser.HasBOM(n.Name) {
			err.Hint = parser.BOMHint
		}
		return err
	}
	c := *state
	c.Spec = spec
	c.Node = n
	allowed := state.Override&spec.ReqOverride != 0 ||
		(state.Htaccess && state.OverrideList[strings.ToLower(spec.Name)])
	if !allowed {
		if state.Override&NonfatalOverride != 0 {
			state.warnAt(n, "core", "AH02295", "%s in .htaccess forbidden by AllowOverride", spec.Name)
			return nil
		}
		if p := n.Parent; p != nil && p.Section {
			return fmt.Errorf("%s not allowed in <%s> context", spec.Name, p.Name)
		}
		return fmt.Errorf("%s not allowed here", spec.Name)
	}
	if spec.Func == nil && spec.ReqOverride&ExecOnRead != 0 {
		// Run by package parser while reading (Include, Define, LoadModule,
		// <IfModule>, <Macro>, ...); nothing is left to do here. The
		// context check above still applies: in an .htaccess file they are
		// ordinary nodes ("Include not allowed here").
		return nil
	}
	if spec.Func == nil {
		return ignore(&c, n, spec)
	}
	return invoke(&c, spec, n)
}

// Resolve finds the spec that handles a directive in c's configuration:
// the one Plume registered, else the row of Apache's table for a module the
// configuration loads. It is what the walker uses, for callers that must
// agree with it (AllowOverrideList).
func Resolve(c *Cmd, name string) (*Spec, bool) { return resolve(c, name) }

// ignore accepts a directive of a loaded module Plume does not implement:
// its arguments are checked as Apache would, it is counted and reported,
// and a restricting one is recorded so that requests fail closed.
func ignore(c *Cmd, n *parser.Node, spec *Spec) error {
	if !n.Section {
		if _, err := splitArgs(spec, n); err != nil {
			return err
		}
	}
	if c.Global != nil && c.Global.Strict {
		return fmt.Errorf("%s (%s) is not supported by Plume", sectionName(spec.Name), spec.Module)
	}
	c.Global.noteIgnored(n, spec, c.Htaccess)
	if spec.Restricts {
		c.recordFailClosed(n, spec)
	}
	if n.Section {
		return checkIgnoredChildren(c, n.Children, 0)
	}
	return nil
}

// checkIgnoredChildren looks inside a section Plume ignores: the names must
// still exist (an unknown one is Apache's "Invalid command") and their
// argument counts must be right. Context rules inside a foreign section are
// the foreign module's, so they are not checked.
func checkIgnoredChildren(c *Cmd, nodes []*parser.Node, depth int) error {
	if depth > 64 {
		return nil
	}
	for _, n := range nodes {
		name := displayName(n)
		spec, ok := resolve(c, name)
		if !ok {
			return &parser.Error{Pos: n.Pos, Msg: invalidCommand(name).Error(), Includes: n.Includes}
		}
		if spec.ReqOverride&ExecOnRead != 0 {
			continue
		}
		if !n.Section {
			if _, err := splitArgs(spec, n); err != nil {
				return &parser.Error{Pos: n.Pos, Msg: err.Error(), Includes: n.Includes}
			}
		}
		if spec.Func == nil {
			c.Global.noteIgnored(n, spec, c.Htaccess)
		}
		if err := checkIgnoredChildren(c, n.Children, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// sectionName closes a section opener's name for messages: "<Proxy>".
func sectionName(name string) string {
	if strings.HasPrefix(name, "<") && !strings.HasSuffix(name, ">") {
		return name + ">"
	}
	return name
}

func displayName(n *parser.Node) string {
	if n.Section {
		return "<" + n.Name
	}
	return n.Name
}

// moduleLoaded reports whether the configuration has the module: Apache's
// compiled-in modules and Plume's own always count (whoever built
// Config.Loaded), others when LoadModule named them by identifier or
// source name.
func moduleLoaded(state *Cmd, module string) bool {
	if IsStatic(module) {
		return true
	}
	if _, ok := Implemented(module); ok {
		return true
	}
	if state.Global == nil {
		return false
	}
	if state.Global.Loaded[module] {
		return true
	}
	src, ok := ModuleSource(module)
	return ok && state.Global.Loaded[src]
}

func (c *Cmd) warnAt(n *parser.Node, module, code, format string, args ...any) {
	if c.Global == nil {
		return
	}
	c.Global.Warnings = append(c.Global.Warnings, parser.Warning{Pos: n.Pos, Module: module, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// UnsupportedMessage is the warning text for a directive Plume ignores.
func UnsupportedMessage(spec *Spec) string {
	msg := fmt.Sprintf("%s (%s) is not supported by Plume: ignored", sectionName(spec.Name), spec.Module)
	if spec.Restricts {
		msg += "; it restricts access, so requests it applies to fail with 500 unless PlumeIgnoreUnsupported On"
	}
	return msg
}

func (g *Config) noteIgnored(n *parser.Node, spec *Spec, htaccess bool) {
	if g == nil {
		return
	}
	if g.Ignored == nil {
		g.Ignored = map[string]int{}
	}
	g.Ignored[spec.Module]++
	g.Unsupported = append(g.Unsupported, IgnoredDirective{Name: spec.Name, Module: spec.Module, Pos: n.Pos, Htaccess: htaccess})
	g.Warnings = append(g.Warnings, parser.Warning{Pos: n.Pos, Module: "plume", Msg: UnsupportedMessage(spec)})
}

func arityError(spec *Spec, what string) error {
	msg := spec.Name + " " + what
	if spec.Help != "" {
		msg += ", " + spec.Help
	}
	return errors.New(msg)
}

// getword is ap_getword_conf on *s: "" when nothing is left.
func getword(s *string) string {
	w, rest, ok := parser.NextWord(*s)
	if !ok {
		*s = ""
		return ""
	}
	*s = rest
	return w
}

// maxArgc is Apache's MAX_ARGC for TAKE_ARGV.
const maxArgc = 64

// splitArgs splits a node's arguments per the spec's syntax, with the
// exact tests and messages of Apache's invoke_cmd (server/config.c). For
// Iterate it returns every word up to the first empty one; for Iterate2,
// the first word followed by the others.
func splitArgs(spec *Spec, n *parser.Node) ([]string, error) {
	if spec.Syntax == RawArgs || n.Section {
		// Section handlers get the raw text; they check the '>' themselves.
		return []string{n.Args}, nil
	}
	args := strings.TrimLeft(n.Args, " \t\r\n\f\v")
	more := func() bool { return args != "" }
	switch spec.Syntax {
	case NoArgs:
		if more() {
			return nil, arityError(spec, "takes no arguments")
		}
		return nil, nil
	case Take1:
		w := getword(&args)
		if w == "" || more() {
			return nil, arityError(spec, "takes one argument")
		}
		return []string{w}, nil
	case Take2:
		w, w2 := getword(&args), getword(&args)
		if w == "" || w2 == "" || more() {
			return nil, arityError(spec, "takes two arguments")
		}
		return []string{w, w2}, nil
	case Take12:
		w := getword(&args)
		out := []string{w}
		if more() {
			out = append(out, getword(&args))
		}
		if w == "" || more() {
			return nil, arityError(spec, "takes 1-2 arguments")
		}
		return out, nil
	case Take3:
		w, w2, w3 := getword(&args), getword(&args), getword(&args)
		if w == "" || w2 == "" || w3 == "" || more() {
			return nil, arityError(spec, "takes three arguments")
		}
		return []string{w, w2, w3}, nil
	case Take23:
		w, w2 := getword(&args), getword(&args)
		out := []string{w, w2}
		if more() {
			out = append(out, getword(&args))
		}
		if w == "" || w2 == "" || more() {
			return nil, arityError(spec, "takes two or three arguments")
		}
		return out, nil
	case Take123:
		w := getword(&args)
		out := []string{w}
		for i := 0; i < 2 && more(); i++ {
			out = append(out, getword(&args))
		}
		if w == "" || more() {
			return nil, arityError(spec, "takes one, two or three arguments")
		}
		return out, nil
	case Take13:
		w := getword(&args)
		out := []string{w}
		for i := 0; i < 2 && more(); i++ {
			out = append(out, getword(&args))
		}
		if w == "" || (len(out) == 2 && out[1] != "") || more() {
			return nil, arityError(spec, "takes one or three arguments")
		}
		return out, nil
	case Iterate:
		w := getword(&args)
		if w == "" {
			return nil, arityError(spec, "requires at least one argument")
		}
		var out []string
		for i := 0; w != "" && i < 1<<16; i++ {
			out = append(out, w)
			w = getword(&args)
		}
		return out, nil
	case Iterate2:
		w := getword(&args)
		if w == "" || !more() {
			return nil, arityError(spec, "requires at least two arguments")
		}
		out := []string{w}
		for i := 0; i < 1<<16; i++ {
			w2 := getword(&args)
			if w2 == "" {
				break
			}
			out = append(out, w2)
		}
		return out, nil
	case Flag:
		w := getword(&args)
		switch {
		case strings.EqualFold(w, "on"):
			return []string{"On"}, nil
		case strings.EqualFold(w, "off"):
			return []string{"Off"}, nil
		}
		return nil, errors.New(spec.Name + " must be On or Off")
	case TakeArgv:
		var out []string
		for len(out) < maxArgc {
			w := getword(&args)
			if w == "" && args == "" {
				break
			}
			out = append(out, w)
			if args == "" {
				break
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: unknown syntax %v", spec.Name, spec.Syntax)
}

func invoke(c *Cmd, spec *Spec, n *parser.Node) error {
	w, err := splitArgs(spec, n)
	if err != nil {
		return err
	}
	call := func(args []string) error {
		err := spec.Func(c, args)
		if errors.Is(err, ErrSkip) {
			return nil
		}
		return err
	}
	switch spec.Syntax {
	case Iterate:
		for _, a := range w {
			if err := call([]string{a}); err != nil {
				return err
			}
		}
		return nil
	case Iterate2:
		for _, a := range w[1:] {
			if err := call([]string{w[0], a}); err != nil {
				return err
			}
		}
		return nil
	}
	return call(w)
}
