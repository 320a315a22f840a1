package config

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"plume/access"
	"strings"
	"time"

	"plume/directives"
	"plume/parser"
)

func init() {
	section := func(name, help string, req int, fn directives.Handler) *directives.Spec {
		return &directives.Spec{Name: name, Module: "core", Syntax: directives.RawArgs, ReqOverride: req, Help: help, Func: fn}
	}
	directives.Register(
		section("<Directory", "Container for directives affecting resources located in the specified directories", directives.RsrcConf, dirSection(false)),
		section("<DirectoryMatch", "Container for directives affecting resources located in the specified directories", directives.RsrcConf, dirSection(true)),
		section("<Location", "Container for directives affecting resources accessed through the specified URL paths", directives.RsrcConf, urlSection(false)),
		section("<LocationMatch", "Container for directives affecting resources accessed through the specified URL paths", directives.RsrcConf, urlSection(true)),
		section("<Files", "Container for directives affecting files matching specified patterns", directives.OrAll, fileSection(false)),
		section("<FilesMatch", "Container for directives affecting files matching specified patterns", directives.OrAll, fileSection(true)),
		section("<VirtualHost", "Container to map directives to a particular virtual host, takes one or more host addresses", directives.RsrcConf, virtualHostSection),
		section("<Limit", "Container for authentication directives when accessed using specified HTTP methods", directives.OrLimit|directives.OrAuthCfg, limitSection(false)),
		section("<LimitExcept", "Container for authentication directives to be applied when any HTTP method other than those specified is used to access the resource", directives.OrLimit|directives.OrAuthCfg, limitSection(true)),
		section("<If", "Container for directives to be conditionally applied", directives.OrAll, ifSection("If")),
		section("<ElseIf", "Container for directives to be conditionally applied", directives.OrAll, ifSection("ElseIf")),
		section("<Else", "Container for directives to be conditionally applied", directives.OrAll, ifSection("Else")),
	)
}

// sectionWords returns the words of a section opener (the text before the
// last '>'), with Apache's errors for a missing '>' or no arguments.
func sectionWords(c *directives.Cmd) ([]string, error) {
	arg, err := c.Node.SectionArgs()
	if err != nil {
		return nil, err
	}
	words := parser.SplitWords(arg)
	if len(words) == 0 {
		return nil, fmt.Errorf("%s> directive requires additional arguments", c.Spec.Name)
	}
	return words, nil
}

func multipleArgs(c *directives.Cmd) error {
	return fmt.Errorf("Multiple %s> arguments not (yet) supported.", c.Spec.Name)
}

// walkSection applies a section's children into a fresh per-dir vector
// whose core config exists (ap_set_config_vectors).
func walkSection(c *directives.Cmd, path string, override int) (directives.Vector, error) {
	child := *c
	child.Path = path
	child.Override = override
	child.Dir = directives.NewVector()
	child.DirConfig(CoreModule)
	err := directives.Walk(c.Node.Children, &child)
	return child.Dir, err
}

// sectionPattern reads a section's path: a regex for the *Match forms and
// for "~ pattern", else the literal path. Apache's dirsection tests "~"
// before the Match form (tildeFirst), urlsection and filesection the other
// way round, which matters for `<LocationMatch ~ x>`: there "~" is the regex.
func sectionPattern(words []string, match, tildeFirst bool) (path string, rest []string, re Matcher, err error) {
	path, rest = words[0], words[1:]
	tilde := path == "~"
	if tilde && (tildeFirst || !match) {
		path = ""
		if len(rest) > 0 {
			path, rest = rest[0], rest[1:]
		}
	} else if !match {
		return path, rest, nil, nil
	}
	re, err = CompileRegex(path)
	return path, rest, re, err
}

// dirSection is dirsection(): <Directory>, <Directory ~> and <DirectoryMatch>.
func dirSection(match bool) directives.Handler {
	return func(c *directives.Cmd, _ []string) error {
		if err := c.CheckContext(directives.NotInDirContext); err != nil {
			return err
		}
		words, err := sectionWords(c)
		if err != nil {
			return err
		}
		path, rest, re, err := sectionPattern(words, match, true)
		if err != nil {
			return err
		}
		if re == nil && path != "/" {
			path = canonicalDir(path)
			if !strings.HasSuffix(path, "/") {
				path += "/"
			}
		}
		vec, err := walkSection(c, path, directives.OrAll|directives.AccessConf)
		if err != nil {
			return err
		}
		sec := &Section{Kind: DirectorySection, Path: path, Regex: re, Config: vec, Pos: c.Node.Pos}
		if re == nil {
			sec.Wildcard = IsWildcard(path)
			if path != "/" {
				sec.Components = strings.Count(path, "/")
			}
		}
		s := coreServer(c)
		sec.Order = len(s.Dirs)
		s.Dirs = append(s.Dirs, sec)
		if len(rest) > 0 {
			return multipleArgs(c)
		}
		return nil
	}
}

// urlSection is urlsection(): <Location>, <Location ~>, <LocationMatch>.
func urlSection(match bool) directives.Handler {
	return func(c *directives.Cmd, _ []string) error {
		if err := c.CheckContext(directives.NotInDirContext); err != nil {
			return err
		}
		words, err := sectionWords(c)
		if err != nil {
			return err
		}
		path, rest, re, err := sectionPattern(words, match, false)
		if err != nil {
			return err
		}
		vec, err := walkSection(c, path, directives.OrAll|directives.AccessConf)
		if err != nil {
			return err
		}
		sec := &Section{Kind: LocationSection, Path: path, Regex: re, Config: vec, Pos: c.Node.Pos}
		sec.Wildcard = re == nil && IsWildcard(path)
		s := coreServer(c)
		sec.Order = len(s.Locations)
		s.Locations = append(s.Locations, sec)
		if len(rest) > 0 {
			return multipleArgs(c)
		}
		return nil
	}
}

// fileSection is filesection(): <Files>, <Files ~>, <FilesMatch>. The
// section joins the enclosing context's sec_file list.
func fileSection(match bool) directives.Handler {
	return func(c *directives.Cmd, _ []string) error {
		if err := c.CheckContext(directives.NotInLocation | directives.NotInLimit); err != nil {
			return err
		}
		words, err := sectionWords(c)
		if err != nil {
			return err
		}
		path, rest, re, err := sectionPattern(words, match, false)
		if err != nil {
			return err
		}
		override := c.Override
		if c.Path == "" { // not inside a section or .htaccess
			override = directives.OrAll | directives.AccessConf
		}
		vec, err := walkSection(c, path, override)
		if err != nil {
			return err
		}
		sec := &Section{Kind: FilesSection, Path: path, Regex: re, Config: vec, Pos: c.Node.Pos}
		sec.Wildcard = re == nil && IsWildcard(path)
		d := coreDir(c)
		sec.Order = len(d.Files)
		d.Files = append(d.Files, sec)
		if len(rest) > 0 {
			return multipleArgs(c)
		}
		return nil
	}
}

// virtualHostSection is virtualhost_section().
func virtualHostSection(c *directives.Cmd, _ []string) error {
	if err := c.CheckContext(directives.GlobalOnly); err != nil {
		return err
	}
	words, err := sectionWords(c)
	if err != nil {
		return err
	}
	if c.Server != nil && c.Server.IsVirtual {
		return fmt.Errorf("<VirtualHost> doesn't nest!")
	}
	s := &directives.Server{
		IsVirtual: true,
		Pos:       c.Node.Pos,
		Addrs:     words,
		Config:    directives.NewVector(),
		Defaults:  directives.NewVector(),
	}
	vcs := &CoreServer{}
	s.Config.Set(CoreModule, vcs)
	for _, w := range words {
		addr, ok := parseVHostAddr(w)
		if !ok {
			// ap_log_error(APLOG_ERR, rv = EAI_NONAME) in get_addresses.
			if c.Global != nil {
				c.Global.Warnings = append(c.Global.Warnings, parser.Warning{Pos: c.Node.Pos, Module: "core", Level: "error",
					Errno: "(EAI 2)Name or service not known", Code: "AH00547",
					Msg: fmt.Sprintf("Could not resolve host name %s -- ignoring!", vhostHostPart(w))})
			}
			continue
		}
		vcs.addrs = append(vcs.addrs, addr...)
	}
	if c.Global != nil {
		c.Global.VHosts = append(c.Global.VHosts, s)
	}
	child := *c
	child.Server = s
	child.Dir = s.Defaults
	return directives.Walk(c.Node.Children, &child)
}

func vhostHostPart(w string) string {
	host, _, err := parseAddrPort(w)
	if err != nil || host == "" {
		return w
	}
	return host
}

// resolveTimeout bounds the DNS lookup of a <VirtualHost> name so a dead
// resolver cannot hang configuration loading.
const resolveTimeout = 3 * time.Second

// parseVHostAddr parses one <VirtualHost> address (get_addresses in
// vhost.c): "*", "_default_", an IP or a host name, each with an optional
// ":port" or ":*". Host names are resolved; failure means "ignore".
func parseVHostAddr(w string) ([]VHostAddr, bool) {
	hostPart, portPart := w, ""
	if strings.HasPrefix(w, "[") {
		if i := strings.Index(w, "]"); i > 0 {
			hostPart, portPart = w[1:i], strings.TrimPrefix(w[i+1:], ":")
		}
	} else if i := strings.LastIndex(w, ":"); i >= 0 && strings.Count(w, ":") == 1 {
		hostPart, portPart = w[:i], w[i+1:]
	}
	port := 0
	if portPart != "" && portPart != "*" {
		p := atoi(portPart)
		if p <= 0 || p > 65535 || fmt.Sprint(p) != portPart {
			return nil, false
		}
		port = p
	}
	switch strings.ToLower(hostPart) {
	case "*", "_default_":
		return []VHostAddr{{Host: strings.ToLower(hostPart), Port: port}}, true
	}
	if ip, err := netip.ParseAddr(hostPart); err == nil {
		return []VHostAddr{{Host: ip.String(), Port: port}}, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupHost(ctx, hostPart)
	if err != nil || len(ips) == 0 {
		return nil, false
	}
	var out []VHostAddr
	for _, ip := range ips {
		out = append(out, VHostAddr{Host: ip, Port: port})
	}
	return out, true
}

const methodTrace = 6

// MethodNumber returns Apache's method number for a method name
// (ap_method_number_of: HEAD counts as GET), or -1 if the method is
// unknown and unregistered. The numbering is package access's, so that a
// <Limit> mask built here and a request's method checked there agree,
// including for extension methods registered by <Limit FOO>.
func MethodNumber(method string) int {
	if n := access.MethodNumber(method); n != access.MInvalid {
		return n
	}
	return -1
}

// MethodBit is the bit a <Limit> mask uses for method (access.MethodBit).
func MethodBit(method string) uint64 { return access.MethodBit(method) }

func registerMethod(method string) int { return access.RegisterMethod(method) }

// limitSection is ap_limit_section: <Limit> and <LimitExcept>.
func limitSection(except bool) directives.Handler {
	return func(c *directives.Cmd, _ []string) error {
		words, err := sectionWords(c)
		if err != nil {
			return err
		}
		var limited uint64
		for _, m := range words {
			n := MethodNumber(m)
			if n == methodTrace && !except {
				return fmt.Errorf("TRACE cannot be controlled by <Limit>, see TraceEnable")
			}
			if n < 0 {
				if c.Htaccess {
					return fmt.Errorf("Could not register method '%s' for %s from .htaccess configuration", m, c.Spec.Name)
				}
				n = registerMethod(m)
			}
			limited |= 1 << uint(n)
		}
		if except {
			limited = ^limited
		}
		old := c.Limited
		if old&limited == 0 {
			return fmt.Errorf("%s> directive excludes all methods", c.Spec.Name)
		} else if old&limited == old {
			return fmt.Errorf("%s> directive specifies methods already excluded", c.Spec.Name)
		}
		child := *c
		child.Limited = old & limited
		return directives.Walk(c.Node.Children, &child)
	}
}

// accessDirectiveNames are directives that can deny a request; an <If>
// holding one makes the walk fail closed, since Plume cannot evaluate it.
var accessDirectiveNames = map[string]bool{
	"require": true, "allow": true, "deny": true, "order": true, "satisfy": true,
	"authtype": true, "authname": true, "authuserfile": true, "authgroupfile": true,
	"requireall": true, "requireany": true, "requirenone": true,
	"rewriterule": true, "rewritecond": true, "redirect": true, "redirectmatch": true,
}

func holdsAccessDirectives(nodes []*parser.Node) bool {
	for _, n := range nodes {
		if accessDirectiveNames[strings.ToLower(n.Name)] || holdsAccessDirectives(n.Children) {
			return true
		}
		if spec, ok := directives.Lookup(displayName(n)); ok {
			if m, ok := directives.Implemented(spec.Module); ok && m.Restricts {
				return true
			}
		}
	}
	return false
}

func displayName(n *parser.Node) string {
	if n.Section {
		return "<" + n.Name
	}
	return n.Name
}

// ifSection is ifsection() for <If>, <ElseIf>, <Else>. Plume accepts the
// syntax but does not evaluate expressions (see IfSection).
func ifSection(kind string) directives.Handler {
	return func(c *directives.Cmd, _ []string) error {
		if err := c.CheckContext(directives.NotInLimit); err != nil {
			return err
		}
		a := strings.TrimRight(c.Node.Args, " \t")
		if !strings.HasSuffix(a, ">") {
			return fmt.Errorf("%s> directive missing closing '>'", c.Spec.Name)
		}
		words := parser.SplitWords(strings.TrimSpace(a[:len(a)-1]))
		cond := ""
		if kind == "Else" {
			if len(words) > 0 {
				return fmt.Errorf("<Else> does not take an argument")
			}
		} else {
			if len(words) == 0 {
				return fmt.Errorf("%s> directive requires additional arguments", c.Spec.Name)
			}
			cond, words = words[0], words[1:]
		}
		override := c.Override
		if c.Path == "" {
			override = directives.OrAll | directives.AccessConf
		}
		vec, err := walkSection(c, "*If", override)
		if err != nil {
			return err
		}
		d := coreDir(c)
		if kind != "If" && (len(d.Ifs) == 0 || d.Ifs[len(d.Ifs)-1].Kind == "Else") {
			return fmt.Errorf("<Else> or <ElseIf> section without previous <If> or <ElseIf> section in same scope")
		}
		sec := &IfSection{Kind: kind, Condition: cond, Config: vec, Pos: c.Node.Pos, Restricts: holdsAccessDirectives(c.Node.Children)}
		d.Ifs = append(d.Ifs, sec)
		if sec.Restricts {
			c.Warn("core", "", "<%s> expressions are not supported by Plume: requests this section could apply to are denied (500), since it holds access directives", kind)
		} else {
			c.Warn("core", "", "<%s> expressions are not supported by Plume: the section is ignored", kind)
		}
		if len(words) > 0 {
			return fmt.Errorf("Multiple %s> arguments not supported.", c.Spec.Name)
		}
		return nil
	}
}
