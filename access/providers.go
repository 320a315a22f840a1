package access

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"plume/directives"
	"plume/parser"
)

// authzProvider is an authorization provider Require can name.
type authzProvider struct {
	module string // short module name for log lines
	// parse checks and pre-parses the arguments at load time (nil: none).
	parse func(c *directives.Cmd, args string) (any, error)
	check func(ev *evaluation, s *authzSection) authzResult
}

// Provider names are looked up exactly as spelt (ap_lookup_provider is
// case-sensitive).
var authzProviders = map[string]*authzProvider{
	"all":         {module: "authz_core", parse: parseAll, check: checkAll},
	"env":         {module: "authz_core", check: checkEnv},
	"method":      {module: "authz_core", parse: parseMethod, check: checkMethod},
	"expr":        {module: "authz_core", parse: parseExpr, check: checkExpr},
	"ip":          {module: "authz_host", parse: parseRequireIP, check: checkRequireIP},
	"host":        {module: "authz_host", parse: parseExpanded, check: checkRequireHost},
	"forward-dns": {module: "authz_host", parse: parseExpanded, check: checkForwardDNS},
	"local":       {module: "authz_host", check: checkLocal},
	"user":        {module: "authz_user", parse: parseExpanded, check: checkUser},
	"valid-user":  {module: "authz_user", check: checkValidUser},
	"group":       {module: "authz_groupfile", parse: parseExpanded, check: checkGroup},
}

func words(s string) []string { return parser.SplitWords(s) }

func parseAll(c *directives.Cmd, args string) (any, error) {
	w, rest, _ := parser.NextWord(args)
	switch {
	case rest != "":
	case strings.EqualFold(w, "granted"):
		return authzGranted, nil
	case strings.EqualFold(w, "denied"):
		return authzDenied, nil
	}
	return nil, errors.New("Argument for 'Require all' must be 'granted' or 'denied'")
}

func checkAll(ev *evaluation, s *authzSection) authzResult { return s.parsed.(authzResult) }

func checkEnv(ev *evaluation, s *authzSection) authzResult {
	for _, w := range words(s.providerArgs) {
		if envHas(ev.r.Env, w) {
			return authzGranted
		}
	}
	return authzDenied
}

func parseMethod(c *directives.Cmd, args string) (any, error) {
	var mask uint64
	for _, w := range words(args) {
		n, ok := knownMethod(w)
		if !ok {
			return nil, fmt.Errorf("Invalid Method '%s'", w)
		}
		mask |= 1 << uint(n)
	}
	return mask, nil
}

func checkMethod(ev *evaluation, s *authzSection) authzResult {
	if s.parsed.(uint64)&(uint64(1)<<uint(ev.method)) != 0 {
		return authzGranted
	}
	return authzDenied
}

// Require expr needs Apache's ap_expr language, which Plume does not
// implement: the line is accepted with a warning and fails closed.
func parseExpr(c *directives.Cmd, args string) (any, error) {
	c.Warn("authz_core", "", "Require expr is not supported by Plume: requests reaching %q get 500", strings.TrimSpace(args))
	return nil, nil
}

func checkExpr(ev *evaluation, s *authzSection) authzResult {
	ev.r.LogError("authz_core", "error", "", fmt.Sprintf("'Require expr %s' is not supported by Plume: denying with 500", s.providerArgs))
	return authzGeneralError
}

// parseExpanded handles providers whose argument is an ap_expr string.
// Plume takes it literally; a %{...} reference cannot be evaluated, so such
// a line fails closed at request time (see checkUnexpanded).
func parseExpanded(c *directives.Cmd, args string) (any, error) {
	return nil, nil
}

// unexpandable reports (and logs) a Require line whose argument uses
// ap_expr variables Plume does not evaluate.
func (ev *evaluation) unexpandable(s *authzSection) bool {
	if !strings.Contains(s.providerArgs, "%{") {
		return false
	}
	ev.r.LogError(s.provider.module, "error", "", fmt.Sprintf("'%s' uses an expression Plume does not evaluate: denying with 500", formatAuthzCommand(s)))
	return true
}

func parseRequireIP(c *directives.Cmd, args string) (any, error) {
	var subs []subnet
	for _, w := range words(args) {
		ip, mask, hasMask := strings.Cut(w, "/")
		sn, err := parseSubnet(ip, mask, hasMask)
		if errors.Is(err, errNotIP) {
			return nil, fmt.Errorf("ip address '%s' appears to be invalid", w)
		} else if err != nil {
			return nil, fmt.Errorf("ip address '%s' appears to be invalid: %s", w, err)
		}
		subs = append(subs, sn)
	}
	if len(subs) == 0 {
		return nil, errors.New("'require ip' requires an argument")
	}
	return subs, nil
}

func checkRequireIP(ev *evaluation, s *authzSection) authzResult {
	for i := range s.parsed.([]subnet) {
		if s.parsed.([]subnet)[i].match(ev.r.RemoteAddr) {
			return authzGranted
		}
	}
	return authzDenied
}

func checkRequireHost(ev *evaluation, s *authzSection) authzResult {
	if ev.unexpandable(s) {
		return authzGeneralError
	}
	host, ok := ev.remoteHostDouble()
	if !ok {
		ev.r.LogError("authz_host", "error", "AH01753", fmt.Sprintf("access check of '%s' to %s failed, reason: unable to get the remote host name", s.providerArgs, ev.r.URI))
		return authzDenied
	}
	// '#' is no host-name character: "localhost # example.com later"
	// must not grant example.com.
	t := s.providerArgs
	if i := strings.IndexByte(t, '#'); i >= 0 {
		if i == 0 {
			ev.r.LogError("authz_host", "debug", "AH10120", fmt.Sprintf("authz_host authorize: dubious empty 'Require host %s' with only comment", t))
			return authzDenied
		}
		ev.r.LogError("authz_host", "warn", "AH10121", fmt.Sprintf("authz_host authorize: ignoring comment in 'Require host %s'", t))
		t = t[:i]
	}
	for _, w := range words(t) {
		if inDomain(w, host) {
			return authzGranted
		}
	}
	return authzDenied
}

func checkForwardDNS(ev *evaluation, s *authzSection) authzResult {
	if ev.unexpandable(s) {
		return authzGeneralError
	}
	client := ev.r.RemoteAddr.Unmap().WithZone("")
	for _, w := range words(s.providerArgs) {
		addrs, ok := ev.resolver().forwardAddrs(w)
		if !ok {
			ev.r.LogError("authz_host", "warn", "AH03356", fmt.Sprintf("No sockaddr info for \"%s\"", w))
			continue
		}
		for _, a := range addrs {
			if a == client {
				ev.r.LogError("authz_host", "debug", "AH03355", fmt.Sprintf("access check for %s as '%s': granted", client, w))
				return authzGranted
			}
		}
	}
	return authzDenied
}

var (
	localV4 = netip.MustParsePrefix("127.0.0.0/8")
	localV6 = netip.MustParseAddr("::1")
)

func checkLocal(ev *evaluation, s *authzSection) authzResult {
	a := ev.r.RemoteAddr.WithZone("")
	if (a.Unmap().Is4() && localV4.Contains(a.Unmap())) || a == localV6 ||
		(ev.r.LocalAddr.IsValid() && ev.r.LocalAddr.Addr().Unmap() == a.Unmap()) {
		return authzGranted
	}
	return authzDenied
}

func checkValidUser(ev *evaluation, s *authzSection) authzResult {
	if ev.r.User == "" {
		return authzDeniedNoUser
	}
	return authzGranted
}

func checkUser(ev *evaluation, s *authzSection) authzResult {
	if ev.r.User == "" {
		return authzDeniedNoUser
	}
	if ev.unexpandable(s) {
		return authzGeneralError
	}
	for _, w := range words(s.providerArgs) {
		if w == ev.r.User {
			return authzGranted
		}
	}
	ev.r.LogError("authz_user", "info", "AH01663", fmt.Sprintf("access to %s failed, reason: user '%s' does not meet 'require'ments for user to be allowed access", ev.r.URI, ev.r.User))
	return authzDenied
}

func checkGroup(ev *evaluation, s *authzSection) authzResult {
	r := ev.r
	if r.User == "" {
		return authzDeniedNoUser
	}
	conf := directives.DirOf(r.PerDir, groupFileModule, &groupFileConf{})
	if conf.file == "" {
		r.LogError("authz_groupfile", "error", "AH01664", "No group file was specified in the configuration")
		return authzDenied
	}
	if ev.unexpandable(s) {
		return authzGeneralError
	}
	groups, err := userGroups(conf.file, r.User)
	if err != nil {
		r.LogError("authz_groupfile", "error", "AH01665", "Could not open group file: "+conf.file)
		return authzGeneralError
	}
	if len(groups) == 0 {
		r.LogError("authz_groupfile", "info", "AH01666", fmt.Sprintf("Authorization of user %s to access %s failed, reason: user doesn't appear in group file (%s).", r.User, r.URI, conf.file))
		return authzDenied
	}
	for _, w := range words(s.providerArgs) {
		if groups[w] {
			return authzGranted
		}
	}
	r.LogError("authz_groupfile", "info", "AH01667", fmt.Sprintf("Authorization of user %s to access %s failed, reason: user is not part of the 'require'ed group(s).", r.User, r.URI))
	return authzDenied
}
