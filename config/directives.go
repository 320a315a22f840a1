package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"plume/directives"
	"plume/parser"
)

func init() {
	directives.Register(
		&directives.Spec{Name: "Options", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.OrOptions,
			Help: "Set a number of attributes for a given directory", Func: setOptions},
		&directives.Spec{Name: "AllowOverride", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.AccessConf,
			Help: "Controls what groups of directives can be configured by per-directory config files", Func: setOverride},
		&directives.Spec{Name: "AllowOverrideList", Module: "core", Syntax: directives.TakeArgv, ReqOverride: directives.AccessConf,
			Help: "Controls what individual directives can be configured by per-directory config files", Func: setOverrideList},
		&directives.Spec{Name: "AccessFileName", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.RsrcConf,
			Help: "Name(s) of per-directory config files (default: .htaccess)", Func: setAccessName},
		&directives.Spec{Name: "Error", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.OrAll,
			Help: "Generate error message from within configuration", Func: generateError},
		&directives.Spec{Name: "DocumentRoot", Module: "core", Syntax: directives.Take1, ReqOverride: directives.RsrcConf,
			Help: "Root directory of the document tree", Func: setDocumentRoot},
		&directives.Spec{Name: "ServerName", Module: "core", Syntax: directives.Take1, ReqOverride: directives.RsrcConf,
			Help: "The hostname and port of the server", Func: setServerName},
		&directives.Spec{Name: "ServerAlias", Module: "core", Syntax: directives.RawArgs, ReqOverride: directives.RsrcConf,
			Help: "A name or names alternately used to access the server", Func: setServerAlias},
		&directives.Spec{Name: "ServerAdmin", Module: "core", Syntax: directives.Take1, ReqOverride: directives.RsrcConf,
			Help: "The email address of the server administrator", Func: setServerAdmin},
		&directives.Spec{Name: "HostnameLookups", Module: "core", Syntax: directives.Take1, ReqOverride: directives.AccessConf | directives.RsrcConf,
			Help: `"on" to enable, "off" to disable reverse DNS lookups, or "double" to enable double-reverse DNS lookups`, Func: setHostnameLookups},
		&directives.Spec{Name: "NameVirtualHost", Module: "core", Syntax: directives.Take1, ReqOverride: directives.RsrcConf,
			Help: "A numeric IP address:port, or the name of a host", Func: setNameVirtualHost},
		&directives.Spec{Name: "Listen", Module: "core", Syntax: directives.TakeArgv, ReqOverride: directives.RsrcConf,
			Help: "A port number or a numeric IP address and a port number, and an optional protocol", Func: setListen},
	)
}

// overrideOptsFor is the Options an Options directive may set here: in the
// main configuration everything (parms.override_opts is
// OPT_ALL|OPT_SYM_OWNER|OPT_MULTI there), in .htaccess what AllowOverride
// Options=... allowed.
func overrideOptsFor(c *directives.Cmd) int {
	if !c.Htaccess {
		return OptAll | OptSymOwner | OptMulti
	}
	return c.OverrideOpts
}

// optionBits maps an Options keyword to its bits (set_options).
func optionBits(w string) (int, bool) {
	switch strings.ToLower(w) {
	case "indexes":
		return OptIndexes, true
	case "includes":
		return OptIncludes | OptIncWithExec, true
	case "includesnoexec":
		return OptIncludes, true
	case "followsymlinks":
		return OptSymLinks, true
	case "symlinksifownermatch":
		return OptSymOwner, true
	case "execcgi":
		return OptExecCGI, true
	case "multiviews":
		return OptMulti, true
	case "runscripts":
		return OptMulti | OptExecCGI, true
	case "none":
		return OptNone, true
	case "all":
		return OptAll, true
	}
	return 0, false
}

// setOptions is set_options (core.c): every rule and message of §1.10.
func setOptions(c *directives.Cmd, args []string) error {
	d := coreDir(c)
	allowed := overrideOptsFor(c)
	first, merge, allNone := true, false, false
	for _, w := range parser.SplitWords(args[0]) {
		action := byte(0)
		if w != "" && (w[0] == '+' || w[0] == '-') {
			action = w[0]
			w = w[1:]
			if !merge && !first && !allNone {
				return fmt.Errorf("Either all Options must start with + or -, or no Option may.")
			}
			merge = true
		} else if first {
			d.Opts = OptNone
		} else if merge {
			return fmt.Errorf("Either all Options must start with + or -, or no Option may.")
		}
		opt, ok := optionBits(w)
		if !ok {
			return fmt.Errorf("Illegal option %s", w)
		}
		switch strings.ToLower(w) {
		case "none":
			if !first {
				return fmt.Errorf("'Options None' must be the first Option given.")
			} else if merge {
				return fmt.Errorf("You may not use 'Options +None' or 'Options -None'.")
			}
			allNone = true
		case "all":
			if !first {
				return fmt.Errorf("'Options All' must be the first option given.")
			} else if merge {
				return fmt.Errorf("You may not use 'Options +All' or 'Options -All'.")
			}
			allNone = true
		}
		if allowed&opt != opt {
			return fmt.Errorf("Option %s not allowed here", w)
		}
		switch action {
		case '-':
			d.OptsRemove |= opt
			d.OptsAdd &^= opt
			d.Opts &^= opt
		case '+':
			d.OptsAdd |= opt
			d.OptsRemove &^= opt
			d.Opts |= opt
		default:
			d.Opts |= opt
		}
		first = false
	}
	return nil
}

// setAllowOpts parses AllowOverride Options=a,b,c (set_allow_opts).
func setAllowOpts(list string) (int, error) {
	opts := OptUnset
	first := true
	for _, w := range strings.Split(list, ",") {
		if w == "" {
			continue // apr_strtok skips empty tokens
		}
		if first {
			opts = OptNone
			first = false
		}
		opt, ok := optionBits(w)
		if !ok {
			return 0, fmt.Errorf("Illegal option %s", w)
		}
		opts |= opt
	}
	return opts &^ OptUnset, nil
}

// setOverride is set_override (AllowOverride).
func setOverride(c *directives.Cmd, args []string) error {
	if c.CheckContext(directives.NotInLocation|directives.NotInFiles) != nil {
		c.Warn("core", "AH00114", "Useless use of AllowOverride in line %d of %s.", c.Node.Pos.Line, c.Node.Pos.File)
	}
	if err := c.CheckContext(directives.NotInHtaccess); err != nil {
		return err
	}
	d := coreDir(c)
	d.Override = directives.OrNone
	for _, w := range parser.SplitWords(args[0]) {
		k, v, hasV := strings.Cut(w, "=")
		switch {
		case strings.EqualFold(w, "Limit"):
			d.Override |= directives.OrLimit
		case strings.EqualFold(k, "Options"):
			d.Override |= directives.OrOptions
			if hasV {
				opts, err := setAllowOpts(v)
				if err != nil {
					return err
				}
				d.OverrideOpts = opts
			} else {
				d.OverrideOpts = OptAll
			}
		case strings.EqualFold(w, "FileInfo"):
			d.Override |= directives.OrFileInfo
		case strings.EqualFold(w, "AuthConfig"):
			d.Override |= directives.OrAuthCfg
		case strings.EqualFold(w, "Indexes"):
			d.Override |= directives.OrIndexes
		case strings.EqualFold(k, "Nonfatal"):
			switch {
			case !hasV:
				return fmt.Errorf("=Override, =Unknown or =All expected after %s", k)
			case strings.EqualFold(v, "Override"):
				d.Override |= directives.NonfatalOverride
			case strings.EqualFold(v, "Unknown"):
				d.Override |= directives.NonfatalUnknown
			case strings.EqualFold(v, "All"):
				d.Override |= directives.NonfatalAll
			}
		case strings.EqualFold(w, "None"):
			d.Override = directives.OrNone
		case strings.EqualFold(w, "All"):
			d.Override = directives.OrAll
		default:
			return fmt.Errorf("Illegal override option %s", w)
		}
		d.Override &^= orUnset
	}
	return nil
}

// setOverrideList is set_override_list (AllowOverrideList).
func setOverrideList(c *directives.Cmd, args []string) error {
	if c.CheckContext(directives.NotInLocation|directives.NotInFiles) != nil {
		c.Warn("core", "AH00115", "Useless use of AllowOverrideList at %s:%d", c.Node.Pos.File, c.Node.Pos.Line)
	}
	if err := c.CheckContext(directives.NotInHtaccess); err != nil {
		return err
	}
	d := coreDir(c)
	d.OverrideList = map[string]bool{}
	for _, name := range args {
		if strings.EqualFold(name, "None") {
			if len(args) != 1 {
				return fmt.Errorf("'None' not allowed with other directives in AllowOverrideList")
			}
			return nil
		}
		spec, ok := directives.Lookup(name)
		if ok && spec.Func == nil && (c.Global == nil || !c.Global.Loaded[spec.Module]) {
			ok = false // a module that is not loaded has no commands
		}
		if !ok {
			c.Warn("core", "AH00116", "Discarding unrecognized directive `%s' in AllowOverrideList at %s:%d", name, c.Node.Pos.File, c.Node.Pos.Line)
			continue
		}
		if spec.ReqOverride&(directives.OrAll|directives.AccessConf) == 0 {
			c.Warn("core", "AH02304", "Discarding directive `%s' not allowed in AllowOverrideList at %s:%d", name, c.Node.Pos.File, c.Node.Pos.Line)
			continue
		}
		d.OverrideList[strings.ToLower(name)] = true
	}
	return nil
}

func setAccessName(c *directives.Cmd, args []string) error {
	coreServer(c).AccessFileNames = append([]string{}, parser.SplitWords(args[0])...)
	return nil
}

// serverRootRelative is ap_server_root_relative.
func serverRootRelative(c *directives.Cmd, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	root := loadingServerRoot
	if c.Global != nil {
		if c.Global.Main != nil {
			if cs, ok := c.Global.Main.Config.Get(CoreModule).(*CoreServer); ok && cs.serverRoot != "" {
				root = cs.serverRoot
			}
		}
	}
	return filepath.Join(root, p)
}

// canonicalDir cleans an absolute or cwd-relative directory path the way
// apr_filepath_merge(APR_FILEPATH_TRUENAME) does on Unix: empty and "."
// segments go, ".." removes its parent; symlinks are not resolved.
func canonicalDir(p string) string {
	if !strings.HasPrefix(p, "/") {
		wd, err := os.Getwd()
		if err != nil {
			wd = "/"
		}
		p = wd + "/" + p
	}
	return filepath.Clean(p)
}

func setDocumentRoot(c *directives.Cmd, args []string) error {
	arg := serverRootRelative(c, args[0])
	canon := canonicalDir(arg)
	if fi, err := os.Stat(arg); err != nil || !fi.IsDir() {
		if c.Server != nil && c.Server.IsVirtual {
			c.Warn("core", "AH00112", "Warning: DocumentRoot [%s] does not exist", arg)
		} else {
			return fmt.Errorf("DocumentRoot '%s' is not a directory, or is not readable", arg)
		}
	}
	coreServer(c).DocumentRoot = canon
	return nil
}

// setServerName is server_hostname_port.
func setServerName(c *directives.Cmd, args []string) error {
	arg := args[0]
	if IsWildcard(arg) {
		return fmt.Errorf("Invalid ServerName \"%s\" use ServerAlias to set multiple server names.", arg)
	}
	s := coreServer(c)
	s.Scheme = ""
	if i := strings.Index(arg, "://"); i >= 0 {
		s.Scheme = arg[:i]
		arg = arg[i+3:]
	}
	host, portStr, hasPort := strings.Cut(arg, ":")
	s.Port = 0
	if hasPort {
		port := atoi(portStr)
		if port <= 0 || port >= 65536 {
			return fmt.Errorf("The port number \"%s\" is outside the appropriate range (i.e., 1..65535).", arg)
		}
		s.Port = port
	}
	s.Name = host
	s.NameSet = true
	return nil
}

// atoi is C's atoi: leading digits, 0 when there are none.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<20 {
			return n
		}
	}
	return n
}

func setServerAlias(c *directives.Cmd, args []string) error {
	if c.Server == nil || !c.Server.IsVirtual {
		return fmt.Errorf("ServerAlias only used in <VirtualHost>")
	}
	s := coreServer(c)
	s.Aliases = append(s.Aliases, parser.SplitWords(args[0])...)
	return nil
}

func setServerAdmin(c *directives.Cmd, args []string) error {
	coreServer(c).Admin = args[0]
	return nil
}

func setHostnameLookups(c *directives.Cmd, args []string) error {
	d := coreDir(c)
	switch strings.ToLower(args[0]) {
	case "on":
		d.HostnameLookups = HostnameLookupOn
	case "off":
		d.HostnameLookups = HostnameLookupOff
	case "double":
		d.HostnameLookups = HostnameLookupDouble
	default:
		return fmt.Errorf("parameter must be 'on', 'off', or 'double'")
	}
	return nil
}

// setListen is ap_set_listener (server/listen.c).
func setListen(c *directives.Cmd, args []string) error {
	if err := c.CheckContext(directives.GlobalOnly); err != nil {
		return err
	}
	if len(args) < 1 || len(args) > 2 {
		return fmt.Errorf("Listen requires 1 or 2 arguments.")
	}
	host, port, err := parseAddrPort(args[0])
	if err != nil {
		return fmt.Errorf("Invalid address or port")
	}
	if host == "*" {
		host = ""
	}
	if strings.Contains(host, "%") {
		return fmt.Errorf("Scope id is not supported")
	}
	if port == 0 {
		return fmt.Errorf("Port must be specified")
	}
	proto := ""
	if len(args) == 2 {
		proto = strings.ToLower(args[1])
	}
	addr := ":" + strconv.Itoa(port)
	if host != "" {
		if strings.Contains(host, ":") {
			addr = "[" + host + "]" + addr
		} else {
			addr = host + addr
		}
	}
	s := coreServer(c)
	for _, l := range s.Listen {
		if l.Addr == addr {
			return fmt.Errorf("Cannot define multiple Listeners on the same IP:port")
		}
	}
	s.Listen = append(s.Listen, Listen{Addr: addr, Proto: proto, Pos: c.Node.Pos})
	return nil
}

// parseAddrPort is apr_parse_addr_port: a trailing run of digits after ':'
// (or a string of only digits) is the port; "[v6]" brackets are removed.
func parseAddrPort(s string) (host string, port int, err error) {
	errInvalid := fmt.Errorf("invalid")
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	addr := s
	switch {
	case i == len(s): // no trailing digits: all host
	case i == 0: // all digits: a port
		port = atoi(s)
		if port < 1 || port > 65535 {
			return "", 0, errInvalid
		}
		return "", port, nil
	case s[i-1] == ':':
		port = atoi(s[i:])
		if port < 1 || port > 65535 {
			return "", 0, errInvalid
		}
		addr = s[:i-1]
	}
	if addr == "" {
		return "", port, errInvalid
	}
	if addr[0] == '[' {
		if !strings.HasSuffix(addr, "]") || len(addr) < 3 {
			return "", 0, errInvalid
		}
		return addr[1 : len(addr)-1], port, nil
	}
	return addr, port, nil
}

// ServerRootRelative resolves p against the ServerRoot of the
// configuration being loaded (ap_server_root_relative), for other modules'
// directives that name files (AuthUserFile, ...).
func ServerRootRelative(c *directives.Cmd, p string) string { return serverRootRelative(c, p) }

// generateError is the Error directive (core.c generate_message): the
// configuration (or .htaccess) fails with the whole raw argument as the
// message, without its surrounding quotes when it starts and ends with the
// same quote (`Error should not reach this point.` prints all of it;
// `Error "a" b` prints `"a" b`).
func generateError(_ *directives.Cmd, args []string) error {
	msg := strings.TrimSpace(args[0])
	if n := len(msg); n >= 1 && (msg[0] == '"' || msg[0] == '\'') && msg[n-1] == msg[0] {
		msg = msg[1:max(n-1, 1)]
	}
	return errors.New(msg)
}

// setNameVirtualHost is core.c set_name_virtual_host: obsolete since 2.3.11,
// it only logs AH00548, once per configuration read.
func setNameVirtualHost(c *directives.Cmd, _ []string) error {
	if c.Global == nil || c.Node == nil {
		return nil
	}
	for _, w := range c.Global.Warnings {
		if w.Code == "AH00548" {
			return nil
		}
	}
	c.Global.Warnings = append(c.Global.Warnings, parser.Warning{Pos: c.Node.Pos, Module: "core", Level: "notice", Code: "AH00548",
		Msg: fmt.Sprintf("NameVirtualHost has no effect and will be removed in the next release %s:%d", c.Node.Pos.File, c.Node.Pos.Line)})
	return nil
}
