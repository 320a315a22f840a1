package access

import (
	"errors"
	"strings"

	"plume/directives"
)

// mod_access_compat: Order, Allow, Deny and Satisfy, kept per method.

type order uint8

const (
	denyThenAllow order = iota // Apache's default
	allowThenDeny
	mutualFailure
)

type satisfy uint8

const (
	satisfyNoSpec satisfy = iota // unset: behaves as All
	satisfyAll
	satisfyAny
)

type ruleKind uint8

const (
	ruleEnv ruleKind = iota
	ruleNotEnv
	ruleAll
	ruleIP
	ruleHost
)

// allowDeny is one item of an Allow or Deny line.
type allowDeny struct {
	kind    ruleKind
	from    string // env variable or host name
	ip      subnet
	limited uint64 // methods it applies to (the enclosing <Limit>)
}

// compatConf is mod_access_compat's per-directory config. The module has
// no merger: a section that uses any of its directives replaces the
// parent's config wholesale.
type compatConf struct {
	order   [methodCount]order
	satisfy [methodCount]satisfy
	allows  []allowDeny
	denys   []allowDeny
}

func newCompatConf(string) any { return &compatConf{} }

var defaultCompat = &compatConf{}

var compatModule = directives.RegisterModule(&directives.Module{
	Name:      "access_compat_module",
	Source:    "mod_access_compat.c",
	CreateDir: newCompatConf,
	Restricts: true,
})

func init() {
	const fromHelp = "'from' followed by hostnames or IP-address wildcards"
	directives.Register(
		&directives.Spec{Name: "order", Module: compatModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrLimit, Help: "'allow,deny', 'deny,allow', or 'mutual-failure'", Func: setOrder},
		&directives.Spec{Name: "allow", Module: compatModule.Name, Syntax: directives.Iterate2,
			ReqOverride: directives.OrLimit, Help: fromHelp, Func: addAllowDeny(true)},
		&directives.Spec{Name: "deny", Module: compatModule.Name, Syntax: directives.Iterate2,
			ReqOverride: directives.OrLimit, Help: fromHelp, Func: addAllowDeny(false)},
		&directives.Spec{Name: "Satisfy", Module: compatModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrAuthCfg, Help: "access policy if both allow and require used ('all' or 'any')", Func: setSatisfy},
	)
}

func setOrder(c *directives.Cmd, args []string) error {
	d := c.DirConfig(compatModule).(*compatConf)
	var o order
	switch strings.ToLower(args[0]) {
	case "allow,deny":
		o = allowThenDeny
	case "deny,allow":
		o = denyThenAllow
	case "mutual-failure":
		o = mutualFailure
	default:
		return errors.New("unknown order")
	}
	for i := range d.order {
		if c.Limited&(1<<uint(i)) != 0 {
			d.order[i] = o
		}
	}
	return nil
}

func setSatisfy(c *directives.Cmd, args []string) error {
	d := c.DirConfig(compatModule).(*compatConf)
	var s satisfy
	switch strings.ToLower(args[0]) {
	case "all":
		s = satisfyAll
	case "any":
		s = satisfyAny
	default:
		return errors.New("Satisfy either 'any' or 'all'.")
	}
	for i := range d.satisfy {
		if c.Limited&(1<<uint(i)) != 0 {
			d.satisfy[i] = s
		}
	}
	return nil
}

// addAllowDeny is allow_cmd: the item forms are tried in Apache's order.
func addAllowDeny(allow bool) directives.Handler {
	return func(c *directives.Cmd, args []string) error {
		if !strings.EqualFold(args[0], "from") {
			return errors.New("allow and deny must be followed by 'from'")
		}
		d := c.DirConfig(compatModule).(*compatConf)
		item, err := parseAllowItem(args[1])
		if err != nil {
			return err
		}
		item.limited = c.Limited
		if allow {
			d.allows = append(d.allows, item)
		} else {
			d.denys = append(d.denys, item)
		}
		return nil
	}
}

func parseAllowItem(where string) (allowDeny, error) {
	var a allowDeny
	lw := strings.ToLower(where)
	switch {
	case strings.HasPrefix(lw, "env=!"):
		a.kind, a.from = ruleNotEnv, where[5:]
	case strings.HasPrefix(lw, "env="):
		a.kind, a.from = ruleEnv, where[4:]
	case lw == "all":
		a.kind = ruleAll
	case strings.Contains(where, "/"):
		ip, mask, _ := strings.Cut(where, "/")
		sn, err := parseSubnet(ip, mask, true)
		if errors.Is(err, errNotIP) {
			return a, errors.New("An IP address was expected")
		} else if err != nil {
			return a, err
		}
		a.kind, a.ip = ruleIP, sn
	default:
		sn, err := parseSubnet(where, "", false)
		switch {
		case err == nil:
			a.kind, a.ip = ruleIP, sn
		case !errors.Is(err, errNotIP):
			return a, err
		case strings.Contains(where, "#"):
			return a, errors.New("No comments are allowed here")
		default:
			a.kind, a.from = ruleHost, where
		}
	}
	return a, nil
}

// inDomain is Apache's in_domain: a case-insensitive suffix match on whole
// labels; a domain with a leading dot matches only names below it.
func inDomain(domain, what string) bool {
	dl, wl := len(domain), len(what)
	if wl < dl || !strings.EqualFold(domain, what[wl-dl:]) {
		return false
	}
	if wl == dl {
		return true
	}
	return (dl > 0 && domain[0] == '.') || what[wl-dl-1] == '.'
}

// findAllowDeny is find_allowdeny: true as soon as one item applying to
// the method matches. Host items resolve the client's name (double
// reverse) only when reached.
func (ev *evaluation) findAllowDeny(items []allowDeny, method int) bool {
	mask := uint64(1) << uint(method)
	for i := range items {
		it := &items[i]
		if it.limited&mask == 0 {
			continue
		}
		switch it.kind {
		case ruleEnv:
			if envHas(ev.r.Env, it.from) {
				return true
			}
		case ruleNotEnv:
			if !envHas(ev.r.Env, it.from) {
				return true
			}
		case ruleAll:
			return true
		case ruleIP:
			if it.ip.match(ev.r.RemoteAddr) {
				return true
			}
		case ruleHost:
			if host, ok := ev.remoteHostDouble(); ok && inDomain(it.from, host) {
				return true
			}
		}
	}
	return false
}

// checkDirAccess is check_dir_access, mod_access_compat's access checker.
func (ev *evaluation) checkDirAccess() int {
	a := directives.DirOf(ev.r.PerDir, compatModule, defaultCompat)
	m := ev.method
	status := 0
	switch a.order[m] {
	case allowThenDeny:
		status = 403
		if ev.findAllowDeny(a.allows, m) {
			status = 0
		}
		if ev.findAllowDeny(a.denys, m) {
			status = 403
		}
	case denyThenAllow:
		if ev.findAllowDeny(a.denys, m) {
			status = 403
		}
		if ev.findAllowDeny(a.allows, m) {
			status = 0
		}
	default:
		if !(ev.findAllowDeny(a.allows, m) && !ev.findAllowDeny(a.denys, m)) {
			status = 403
		}
	}
	if status == 403 {
		ev.r.LogError("access_compat", "error", "AH01797", "client denied by server configuration: "+ev.filenameOrURI())
	}
	return status
}

// satisfies is ap_satisfies: Satisfy for the request's method.
func (ev *evaluation) satisfies() satisfy {
	return directives.DirOf(ev.r.PerDir, compatModule, defaultCompat).satisfy[ev.method]
}

// envHas looks a variable up as apr_table_get does: case-insensitively.
func envHas(env map[string]string, name string) bool {
	if _, ok := env[name]; ok {
		return true
	}
	for k := range env {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
