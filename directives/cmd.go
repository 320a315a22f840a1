package directives

import (
	"errors"
	"fmt"
	"strings"

	"plume/parser"
)

// Server is one server: the main server or a <VirtualHost> (Apache's
// server_rec as far as configuration goes).
type Server struct {
	IsVirtual bool
	Pos       parser.Pos // of the <VirtualHost> opener
	Addrs     []string   // <VirtualHost> arguments
	// Config holds each module's per-server config (module_config).
	Config Vector
	// Defaults is the server-level per-directory config (lookup_defaults):
	// what directives outside any section set.
	Defaults Vector
}

// Config is the result of applying a configuration tree.
type Config struct {
	Main   *Server
	VHosts []*Server
	// Loaded is the set of module identifiers named by LoadModule, plus
	// Plume's own modules (see parser.Tree).
	Loaded map[string]bool
	// Warnings are non-fatal diagnostics in file order.
	Warnings []parser.Warning
	// Ignored counts directives of modules Plume does not implement that
	// the config uses, by module identifier.
	Ignored map[string]int
	// Unsupported lists those directives in file order.
	Unsupported []IgnoredDirective
	// Strict makes every directive Plume does not implement an error.
	Strict bool
}

// LimitAll is Cmd.Limited outside <Limit>/<LimitExcept> (Apache's -1).
const LimitAll = ^uint64(0)

// Cmd is the state a directive handler sees (Apache's cmd_parms).
type Cmd struct {
	Spec *Spec
	Node *parser.Node
	// Override is what the current place allows (parms->override): the
	// directive runs only if Override & Spec.ReqOverride != 0.
	Override int
	// OverrideOpts are the Options an .htaccess may set (AllowOverride
	// Options=...), Apache's override_opts bits (package config defines them).
	OverrideOpts int
	// OverrideList is AllowOverrideList: directive names (lowercase)
	// allowed in .htaccess regardless of Override.
	OverrideList map[string]bool
	// Path is the section's path or pattern (cmd->path); "" at server level.
	Path string
	// Limited is the method bitmask of an enclosing <Limit>; LimitAll
	// outside one.
	Limited uint64
	// Htaccess is true while parsing an .htaccess file.
	Htaccess bool
	Server   *Server
	// Dir is the per-directory vector being filled (the section's, or the
	// server's Defaults).
	Dir    Vector
	Global *Config
}

// DirConfig returns module m's per-directory config in the current
// section, creating it on first use (ap_set_config_vectors).
func (c *Cmd) DirConfig(m *Module) any {
	if v := c.Dir.Get(m); v != nil {
		return v
	}
	var v any
	if m.CreateDir != nil {
		v = m.CreateDir(c.Path)
	}
	c.Dir.Set(m, v)
	return v
}

// ServerConfig returns module m's per-server config, creating it on first
// use.
func (c *Cmd) ServerConfig(m *Module) any {
	if v := c.Server.Config.Get(m); v != nil {
		return v
	}
	var v any
	if m.CreateServer != nil {
		v = m.CreateServer()
	}
	c.Server.Config.Set(m, v)
	return v
}

// Warn records a warning at the current directive.
func (c *Cmd) Warn(module, code, format string, args ...any) {
	w := parser.Warning{Module: module, Code: code, Msg: fmt.Sprintf(format, args...)}
	if c.Node != nil {
		w.Pos = c.Node.Pos
	}
	if c.Global != nil {
		c.Global.Warnings = append(c.Global.Warnings, w)
	}
}

// Context restrictions for CheckContext (Apache's ap_check_cmd_context).
const (
	NotInVirtualHost = 1 << iota
	NotInLimit
	NotInDirectory
	NotInLocation
	NotInFiles
	NotInHtaccess
	NotInDirLocFile = NotInDirectory | NotInLocation | NotInFiles
	NotInDirContext = NotInLimit | NotInDirLocFile | NotInHtaccess
	GlobalOnly      = NotInVirtualHost | NotInDirContext
)

// CheckContext returns Apache's error when the directive appears where
// forbidden says it may not (ap_check_cmd_context, server/core.c).
func (c *Cmd) CheckContext(forbidden int) error {
	name := c.Spec.Name
	gt := ""
	if strings.HasPrefix(name, "<") && !strings.HasSuffix(name, ">") {
		gt = ">"
	}
	if forbidden&NotInVirtualHost != 0 && c.Server != nil && c.Server.IsVirtual {
		return fmt.Errorf("%s%s cannot occur within <VirtualHost> section", name, gt)
	}
	if forbidden&NotInLimit != 0 && c.Limited != LimitAll {
		return fmt.Errorf("%s%s cannot occur within <Limit> or <LimitExcept> section", name, gt)
	}
	if forbidden&NotInHtaccess != 0 && c.Htaccess {
		return fmt.Errorf("%s%s cannot occur within htaccess files", name, gt)
	}
	if forbidden&NotInDirLocFile == NotInDirLocFile && c.Path != "" {
		return fmt.Errorf("%s%s cannot occur within directory context", name, gt)
	}
	find := func(names ...string) string {
		for p := c.Node.Parent; p != nil; p = p.Parent {
			for _, n := range names {
				if p.Section && strings.EqualFold(p.Name, n) {
					return p.Name
				}
			}
		}
		return ""
	}
	var found string
	if forbidden&NotInDirectory != 0 {
		found = find("Directory", "DirectoryMatch")
	}
	if found == "" && forbidden&NotInLocation != 0 {
		found = find("Location", "LocationMatch")
	}
	if found == "" && forbidden&NotInFiles != 0 {
		found = find("Files", "FilesMatch", "If", "ElseIf", "Else")
	}
	if found != "" {
		return fmt.Errorf("%s%s cannot occur within <%s> section", name, gt, found)
	}
	return nil
}

// ErrSkip may be returned by a handler to ignore the directive silently.
var ErrSkip = errors.New("skip")
