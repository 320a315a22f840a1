package access

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"plume/directives"
	"plume/request"
)

// evaluation is the state of one access check: the request, its method
// number and the client's host name, resolved at most once and only when
// a rule needs it.
type evaluation struct {
	r        *request.Request
	method   int
	hostDone bool
	host     string
	hostOK   bool
}

func (ev *evaluation) filenameOrURI() string {
	if ev.r.Filename != "" {
		return ev.r.Filename
	}
	return "uri " + ev.r.URI
}

// remoteHostDouble is ap_get_useragent_host(r, REMOTE_DOUBLE_REV): the
// double-reverse-confirmed name, whatever HostnameLookups says.
func (ev *evaluation) remoteHostDouble() (string, bool) {
	if !ev.hostDone {
		ev.hostDone = true
		if ev.r.RemoteAddr.IsValid() {
			ev.host, ev.hostOK = ev.resolver().DoubleReverse(ev.r.RemoteAddr)
		}
	}
	return ev.host, ev.hostOK
}

func (ev *evaluation) resolver() *Resolver { return ResolverFor(ev.r.Server) }

// Check runs Apache's access phases for a request (request.c: the
// access_checker, access_checker_ex, check_user_id and auth_checker hooks
// combined under Satisfy) and returns 0 when the request may proceed, or
// 401, 403 or 500. It logs through r.LogError in Apache's words and sets
// WWW-Authenticate in r.ErrOut on 401.
//
// A sub-request whose merged config is the main request's (the same
// vector) is not checked again and inherits the main request's user, as
// in Apache's ap_process_request_internal.
func Check(r *request.Request) int {
	if r.Main != nil && sameVector(r.Main.PerDir, r.PerDir) {
		r.User = r.Main.User
		return phaseOK
	}
	ev := &evaluation{r: r, method: MethodNumber(r.Method)}
	if ev.satisfies() == satisfyAny {
		if ev.checkDirAccess() == phaseOK {
			return phaseOK
		}
	} else if st := ev.checkDirAccess(); st != phaseOK {
		return st
	}
	st := ev.authorizeUserCore(false)
	switch st {
	case phaseOK:
		return phaseOK
	case phaseDeclined:
	default:
		return st
	}
	if st := ev.checkUserID(); st != phaseOK {
		return ev.declDie(st, "check user")
	}
	if r.User == "" {
		r.LogError("core", "error", "AH00027", fmt.Sprintf("No authentication done but request not allowed without authentication for %s. Authentication not configured?", r.URI))
		return 500
	}
	return ev.declDie(ev.authorizeUserCore(true), "check authorization")
}

// declDie is request.c's decl_die: DECLINED from a phase is a
// configuration error.
func (ev *evaluation) declDie(st int, phase string) int {
	if st == phaseDeclined {
		ev.r.LogError("core", "crit", "AH00025", fmt.Sprintf("configuration error:  couldn't %s: %s", phase, ev.r.URI))
		return 500
	}
	return st
}

// CheckIsCheap reports whether Check for this per-directory config can
// never block on DNS, read a password file or depend on anything but the
// method and client address — that is, whether its result may be cached
// per (config, method, address). It is false when a host rule, Require
// host/forward-dns/user/group/valid-user/env/expr, env= item or AuthType
// is in scope. (Require local is excluded too: it also depends on the
// server address.)
func CheckIsCheap(v directives.Vector) bool {
	a := directives.DirOf(v, compatModule, defaultCompat)
	for _, list := range [][]allowDeny{a.allows, a.denys} {
		for _, it := range list {
			if it.kind != ruleAll && it.kind != ruleIP {
				return false
			}
		}
	}
	if directives.DirOf(v, authnCoreModule, &authnCoreConf{}).authType != "" {
		return false
	}
	conf := directives.DirOf(v, authzCoreModule, defaultAuthzCore)
	var cheap func(s *authzSection) bool
	cheap = func(s *authzSection) bool {
		if s == nil {
			return true
		}
		if s.provider != nil {
			switch s.providerName {
			case "all", "ip", "method":
				return true
			}
			return false
		}
		for _, ch := range s.children {
			if !cheap(ch) {
				return false
			}
		}
		return true
	}
	return cheap(conf.section)
}

// dnsConf is the per-server Plume DNS settings.
type dnsConf struct {
	servers []string
	timeout time.Duration
}

var dnsModule = directives.RegisterModule(&directives.Module{
	Name:         "plume_dns_module",
	Source:       "plume_dns",
	CreateServer: func() any { return &dnsConf{} },
	MergeServer: func(basev, addv any) any {
		base, add := basev.(*dnsConf), addv.(*dnsConf)
		out := *base
		if add.servers != nil {
			out.servers = add.servers
		}
		if add.timeout != 0 {
			out.timeout = add.timeout
		}
		return &out
	},
})

func init() {
	directives.Register(
		&directives.Spec{Name: "PlumeDNSServer", Module: dnsModule.Name, Syntax: directives.Iterate,
			ReqOverride: directives.RsrcConf, Help: "DNS servers (host:port) for reverse look-ups; default: /etc/resolv.conf",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				host, port, err := net.SplitHostPort(a[0])
				if err != nil {
					host, port = a[0], "53"
				}
				if net.ParseIP(host) == nil {
					return fmt.Errorf("PlumeDNSServer: '%s' is not an IP address or IP:port", a[0])
				}
				if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
					return fmt.Errorf("PlumeDNSServer: bad port in '%s'", a[0])
				}
				conf := c.ServerConfig(dnsModule).(*dnsConf)
				conf.servers = append(conf.servers, net.JoinHostPort(host, port))
				return nil
			}},
		&directives.Spec{Name: "PlumeDNSTimeout", Module: dnsModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.RsrcConf, Help: "time limit for one DNS look-up, e.g. 2s or 500ms (default 3s)",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				d, err := parseTimeout(a[0])
				if err != nil {
					return err
				}
				c.ServerConfig(dnsModule).(*dnsConf).timeout = d
				return nil
			}},
	)
}

func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, err2 := strconv.Atoi(s)
		if err2 != nil {
			return 0, errors.New("PlumeDNSTimeout takes a duration such as 2s or 500ms")
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 || d > time.Minute {
		return 0, errors.New("PlumeDNSTimeout must be between 1ms and 1m")
	}
	return d, nil
}

// ResolverFor returns the shared resolver for a server's DNS settings
// (PlumeDNSServer, PlumeDNSTimeout); a nil server gets the defaults. The
// serving core uses it for HostnameLookups (ResolveAsync for logging,
// Reverse/DoubleReverse where the name is needed now).
func ResolverFor(s *directives.Server) *Resolver {
	var conf *dnsConf
	if s != nil {
		conf, _ = s.Config.Get(dnsModule).(*dnsConf)
	}
	if conf == nil {
		return SharedResolver(nil, 0)
	}
	return SharedResolver(conf.servers, conf.timeout)
}

// RemoteHostForLog is what HostnameLookups On or Double gives logs and
// REMOTE_HOST, without ever delaying the response: the cached name if the
// shared cache has one (for Double only a confirmed one), otherwise ""
// while a background look-up fills the cache for later requests. The
// caller falls back to the IP address when it gets "".
func RemoteHostForLog(r *request.Request, double bool) string {
	if !r.RemoteAddr.IsValid() {
		return ""
	}
	rv := ResolverFor(r.Server)
	name, ok := rv.ResolveAsync(r.RemoteAddr)
	if !ok {
		return ""
	}
	if double {
		if _, confirmed, _ := rv.Cached(r.RemoteAddr); !confirmed {
			return ""
		}
	}
	return name
}

// sameVector reports whether two vectors are the same merge result (the
// same backing array), which is how Apache compares per_dir_config.
func sameVector(a, b directives.Vector) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}
