package directives

import (
	"fmt"

	"plume/parser"
)

// IgnoredDirective is a directive of an access-restricting module that
// Plume does not implement and therefore ignored. A request whose merged
// per-directory config holds one must fail closed (500) unless the admin
// opted in with PlumeIgnoreUnsupported On.
type IgnoredDirective struct {
	Name     string // canonical name, "RewriteRule"
	Module   string // "rewrite_module"
	Pos      parser.Pos
	Htaccess bool
}

// Label names the directive and its module: "RewriteRule (rewrite_module)".
func (d IgnoredDirective) Label() string {
	return fmt.Sprintf("%s (%s)", sectionName(d.Name), d.Module)
}

func (d IgnoredDirective) String() string {
	return fmt.Sprintf("%s at %s:%d", d.Label(), d.Pos.File, d.Pos.Line)
}

// failClosedConfig is the per-directory slot of FailClosedModule.
type failClosedConfig struct {
	Ignored []IgnoredDirective
	// IgnoreUnsupported is PlumeIgnoreUnsupported: nil when not set here.
	IgnoreUnsupported *bool
}

// FailClosedModule holds, per directory, the restricting directives Plume
// ignored there. Its merge accumulates them (a child section cannot undo a
// parent's restriction by omission), and PlumeIgnoreUnsupported merges as
// usual: the innermost setting wins.
var FailClosedModule = RegisterModule(&Module{
	Name:      "plume_failclosed",
	Source:    "plume_failclosed.c",
	CreateDir: func(string) any { return &failClosedConfig{} },
	MergeDir: func(base, add any) any {
		b, a := base.(*failClosedConfig), add.(*failClosedConfig)
		out := &failClosedConfig{IgnoreUnsupported: b.IgnoreUnsupported}
		if a.IgnoreUnsupported != nil {
			out.IgnoreUnsupported = a.IgnoreUnsupported
		}
		out.Ignored = append(append(make([]IgnoredDirective, 0, len(b.Ignored)+len(a.Ignored)), b.Ignored...), a.Ignored...)
		return out
	},
})

func init() {
	Register(&Spec{
		Name:   "PlumeIgnoreUnsupported",
		Module: FailClosedModule.Name,
		Syntax: Flag,
		// Not in .htaccess: a user file must not be able to switch off the
		// fail-closed protection of restrictions the admin wrote.
		ReqOverride: RsrcConf | AccessConf,
		Help:        "On to serve requests even when an access-restricting directive Plume does not implement applies to them (it is ignored); Off (default) answers them with 500",
		Func: func(c *Cmd, args []string) error {
			cfg := c.DirConfig(FailClosedModule).(*failClosedConfig)
			on := args[0] == "On"
			cfg.IgnoreUnsupported = &on
			return nil
		},
	})
}

// recordFailClosed notes an ignored restricting directive in the current
// per-directory vector.
func (c *Cmd) recordFailClosed(n *parser.Node, spec *Spec) {
	if c.Dir == nil {
		return
	}
	cfg := c.DirConfig(FailClosedModule).(*failClosedConfig)
	cfg.Ignored = append(cfg.Ignored, IgnoredDirective{Name: spec.Name, Module: spec.Module, Pos: n.Pos, Htaccess: c.Htaccess})
}

// FailClosed returns the ignored access-restricting directives that apply
// to a request whose merged per-directory config is v, or nil when there
// are none or the admin set PlumeIgnoreUnsupported On. The serving core
// answers 500 and logs each directive with its file:line when it is not
// empty.
func FailClosed(v Vector) []IgnoredDirective {
	cfg, ok := v.Get(FailClosedModule).(*failClosedConfig)
	if !ok || len(cfg.Ignored) == 0 {
		return nil
	}
	if cfg.IgnoreUnsupported != nil && *cfg.IgnoreUnsupported {
		return nil
	}
	return cfg.Ignored
}
