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

func invalidCommand(name string) error {
	return fmt.Errorf("Invalid command '%s', perhaps misspelled or defined by a module not included in the server configuration", name)
}

func apply(n *parser.Node, state *Cmd) error {
	name := n.Name
	if n.Section {
		name = "<" + name
	}
	spec, ok := Lookup(name)
	if !ok || (spec.Func == nil && !moduleLoaded(state, spec.Module)) {
		if state.Htaccess && state.Override&NonfatalUnknown != 0 {
			state.warnAt(n, "core", "AH02296", "Unknown directive %s perhaps misspelled or defined by a module not included in the server configuration", strings.ToLower(name))
			return nil
		}
		return invalidCommand(displayName(n))
	}
	c := *state
	c.Spec = spec
	c.Node = n
	allowed := state.Override&spec.ReqOverride != 0 ||
		(state.Htaccess && state.OverrideList[strings.ToLower(spec.Name)])
	if !allowed {
		if state.Htaccess && state.Override&NonfatalOverride != 0 {
			state.warnAt(n, "core", "AH02295", "%s in .htaccess forbidden by AllowOverride", spec.Name)
			return nil
		}
		if p := n.Parent; p != nil {
			return fmt.Errorf("%s not allowed in <%s> context", spec.Name, p.Name)
		}
		return fmt.Errorf("%s not allowed here", spec.Name)
	}
	if spec.Func == nil {
		if err := checkArity(spec, n); err != nil {
			return err
		}
		c.Global.noteIgnored(n, spec)
		return nil
	}
	return invoke(&c, spec, n)
}

func displayName(n *parser.Node) string {
	if n.Section {
		return "<" + n.Name
	}
	return n.Name
}

func moduleLoaded(state *Cmd, module string) bool {
	return state.Global != nil && state.Global.Loaded[module]
}

func (c *Cmd) warnAt(n *parser.Node, module, code, format string, args ...any) {
	if c.Global == nil {
		return
	}
	c.Global.Warnings = append(c.Global.Warnings, parser.Warning{Pos: n.Pos, Module: module, Code: code, Msg: fmt.Sprintf(format, args...)})
}

func (g *Config) noteIgnored(n *parser.Node, spec *Spec) {
	if g == nil {
		return
	}
	if g.Ignored == nil {
		g.Ignored = map[string]int{}
	}
	g.Ignored[spec.Module]++
	g.Warnings = append(g.Warnings, parser.Warning{Pos: n.Pos, Module: spec.Module,
		Msg: fmt.Sprintf("%s (%s) is not supported by Plume: ignored", spec.Name, spec.Module)})
}

// arityMessage is invoke_cmd's wording for each syntax.
func arityError(spec *Spec, what string) error {
	msg := spec.Name + " " + what
	if spec.Help != "" {
		msg += ", " + spec.Help
	}
	return errors.New(msg)
}

func checkArity(spec *Spec, n *parser.Node) error {
	_, err := splitArgs(spec, n)
	return err
}

// splitArgs splits a node's arguments per the spec's syntax, returning
// Apache's arity errors.
func splitArgs(spec *Spec, n *parser.Node) ([]string, error) {
	if spec.Syntax == RawArgs {
		return []string{n.Args}, nil
	}
	args := n.Args
	if n.Section {
		// Section handlers get the raw text; they check the '>' themselves.
		return []string{args}, nil
	}
	w := parser.SplitWords(args)
	count := len(w)
	switch spec.Syntax {
	case NoArgs:
		if count != 0 {
			return nil, arityError(spec, "takes no arguments")
		}
	case Take1:
		if count != 1 {
			return nil, arityError(spec, "takes one argument")
		}
	case Take2:
		if count != 2 {
			return nil, arityError(spec, "takes two arguments")
		}
	case Take3:
		if count != 3 {
			return nil, arityError(spec, "takes three arguments")
		}
	case Take12:
		if count < 1 || count > 2 {
			return nil, arityError(spec, "takes 1-2 arguments")
		}
	case Take23:
		if count < 2 || count > 3 {
			return nil, arityError(spec, "takes two or three arguments")
		}
	case Take123:
		if count < 1 || count > 3 {
			return nil, arityError(spec, "takes one, two or three arguments")
		}
	case Take13:
		if count != 1 && count != 3 {
			return nil, arityError(spec, "takes one or three arguments")
		}
	case Iterate:
		if count < 1 {
			return nil, arityError(spec, "requires at least one argument")
		}
	case Iterate2:
		if count < 2 {
			return nil, arityError(spec, "requires at least two arguments")
		}
	case Flag:
		if count != 1 || (!strings.EqualFold(w[0], "on") && !strings.EqualFold(w[0], "off")) {
			return nil, errors.New(spec.Name + " must be On or Off")
		}
		if strings.EqualFold(w[0], "on") {
			w[0] = "On"
		} else {
			w[0] = "Off"
		}
	case TakeArgv:
		if count > 64 {
			return nil, errors.New("Too many arguments to directive")
		}
	}
	return w, nil
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
