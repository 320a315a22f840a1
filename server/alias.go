package server

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"plume/directives"
	"plume/request"
)

var aliasModule = directives.RegisterModule(&directives.Module{
	Name:         "alias_module",
	Source:       "mod_alias.c",
	CreateDir:    func(string) any { return &AliasDir{} },
	MergeDir:     func(b, a any) any { return mergeAliasDir(b.(*AliasDir), a.(*AliasDir)) },
	CreateServer: func() any { return &AliasServer{} },
	MergeServer:  func(b, a any) any { return mergeAliasServer(b.(*AliasServer), a.(*AliasServer)) },
})

// aliasEntry is one Alias/ScriptAlias/AliasMatch or Redirect/RedirectMatch.
type aliasEntry struct {
	fake    string // URL path prefix, or the regex source
	real    string // filesystem path or target URL ("" for gone/4xx)
	re      *regexp.Regexp
	handler string // "cgi-script" for ScriptAlias
	status  int    // redirects
}

// AliasServer holds the server-level aliases and redirects.
type AliasServer struct {
	Aliases   []aliasEntry
	Redirects []aliasEntry
}

// AliasDir holds Redirect* in directory context (and .htaccess), and the
// one-argument Alias/ScriptAlias of a <Location>.
type AliasDir struct {
	Redirects []aliasEntry
	set       bool
	// LocAlias is the file a <Location> maps to (the whole URI), with
	// LocHandler "cgi-script" for ScriptAlias.
	LocAlias   string
	LocHandler string
}

func mergeAliasServer(b, a *AliasServer) *AliasServer {
	// mod_alias: the vhost's entries first, then the main server's.
	return &AliasServer{
		Aliases:   append(append([]aliasEntry(nil), a.Aliases...), b.Aliases...),
		Redirects: append(append([]aliasEntry(nil), a.Redirects...), b.Redirects...),
	}
}

func mergeAliasDir(b, a *AliasDir) *AliasDir {
	n := &AliasDir{Redirects: append(append([]aliasEntry(nil), a.Redirects...), b.Redirects...), set: true,
		LocAlias: b.LocAlias, LocHandler: b.LocHandler}
	if a.LocAlias != "" {
		n.LocAlias, n.LocHandler = a.LocAlias, a.LocHandler
	}
	return n
}

func compileAliasRegex(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, errors.New("Regular expression could not be compiled.")
	}
	return re, nil
}

func addAlias(handler string, isRegex bool) directives.Handler {
	return func(c *directives.Cmd, a []string) error {
		if !isRegex {
			for p := c.Node.Parent; p != nil; p = p.Parent {
				if p.Section && (strings.EqualFold(p.Name, "Directory") || strings.EqualFold(p.Name, "DirectoryMatch") || strings.EqualFold(p.Name, "Files") || strings.EqualFold(p.Name, "FilesMatch")) {
					if len(a) == 1 {
						return fmt.Errorf("%s cannot occur within <%s> section", c.Spec.Name, p.Name)
					}
					return fmt.Errorf("%s cannot occur within directory context", c.Spec.Name)
				}
			}
		}
		if len(a) == 1 {
			// The one-argument form maps a whole <Location> to one path.
			if c.Path == "" {
				return fmt.Errorf("%s must have two arguments when used globally", c.Spec.Name)
			}
			if strings.Contains(a[0], "%{") {
				return fmt.Errorf("Plume does not evaluate expressions in %s yet: %s", c.Spec.Name, a[0])
			}
			d := c.DirConfig(aliasModule).(*AliasDir)
			d.LocAlias, d.LocHandler = a[0], handler
			return nil
		}
		if c.Path != "" {
			return fmt.Errorf("%s cannot occur within directory context", c.Spec.Name)
		}
		s := c.ServerConfig(aliasModule).(*AliasServer)
		e := aliasEntry{fake: a[0], real: a[1], handler: handler}
		if isRegex {
			re, err := compileAliasRegex(a[0])
			if err != nil {
				return err
			}
			e.re = re
		} else {
			for _, o := range s.Aliases {
				if o.re == nil && aliasMatches(e.fake, o.fake) > 0 {
					c.Warn("alias", "AH00671", "The %s directive in %s at line %d will probably never match because it overlaps an earlier %sAlias%s.",
						c.Spec.Name, c.Node.Pos.File, c.Node.Pos.Line, map[bool]string{true: "Script", false: ""}[o.handler != ""], map[bool]string{true: "Match", false: ""}[o.re != nil])
				}
			}
		}
		s.Aliases = append(s.Aliases, e)
		return nil
	}
}

// addRedirect is add_redirect_internal.
func addRedirect(fixedStatus int, isRegex bool) directives.Handler {
	return func(c *directives.Cmd, a []string) error {
		status := fixedStatus
		args := a
		if status == 0 {
			status = http.StatusFound
			if len(a) >= 2 || isRegex && len(a) == 3 {
				grok := true
				switch strings.ToLower(a[0]) {
				case "gone":
					status = http.StatusGone
				case "permanent":
					status = http.StatusMovedPermanently
				case "temp":
					status = http.StatusFound
				case "seeother":
					status = http.StatusSeeOther
				default:
					if n, err := strconv.Atoi(a[0]); err == nil && len(a[0]) == 3 {
						status = n
					} else {
						grok = false
					}
				}
				if grok {
					args = a[1:]
				}
			}
		}
		if len(args) == 0 {
			return errors.New("Redirect to non-URL")
		}
		e := aliasEntry{fake: args[0], status: status}
		if len(args) > 1 {
			e.real = args[1]
		}
		if len(args) > 2 {
			return errors.New("Redirect URL not valid for this status")
		}
		if isRedirect(status) {
			if e.real == "" {
				return errors.New("URL to redirect to is missing")
			}
			if !isAbsoluteURL(e.real) && !strings.HasPrefix(e.real, "/") {
				return errors.New("Redirect to non-URL")
			}
		} else if e.real != "" {
			return errors.New("Redirect URL not valid for this status")
		}
		if isRegex {
			re, err := compileAliasRegex(e.fake)
			if err != nil {
				return err
			}
			e.re = re
		}
		if c.Path != "" || c.Htaccess {
			d := c.DirConfig(aliasModule).(*AliasDir)
			d.Redirects = append(d.Redirects, e)
			d.set = true
			return nil
		}
		s := c.ServerConfig(aliasModule).(*AliasServer)
		s.Redirects = append(s.Redirects, e)
		return nil
	}
}

func init() {
	m := "alias_module"
	rsrcAccess := directives.RsrcConf | directives.AccessConf
	fi := directives.OrFileInfo
	directives.Register(
		&directives.Spec{Name: "Alias", Module: m, Syntax: directives.Take12, ReqOverride: rsrcAccess,
			Help: "a fakename and a realname, or a realname in a Location", Func: addAlias("", false)},
		&directives.Spec{Name: "ScriptAlias", Module: m, Syntax: directives.Take12, ReqOverride: rsrcAccess,
			Help: "a fakename and a realname, or a realname in a Location", Func: addAlias("cgi-script", false)},
		&directives.Spec{Name: "AliasMatch", Module: m, Syntax: directives.Take2, ReqOverride: directives.RsrcConf,
			Help: "a regular expression and a filename", Func: addAlias("", true)},
		&directives.Spec{Name: "ScriptAliasMatch", Module: m, Syntax: directives.Take2, ReqOverride: directives.RsrcConf,
			Help: "a regular expression and a filename", Func: addAlias("cgi-script", true)},
		&directives.Spec{Name: "Redirect", Module: m, Syntax: directives.Take123, ReqOverride: fi,
			Help: "an optional status, then document to be redirected and destination URL", Func: addRedirect(0, false)},
		&directives.Spec{Name: "RedirectMatch", Module: m, Syntax: directives.Take23, ReqOverride: fi,
			Help: "an optional status, then a regular expression and destination URL", Func: addRedirect(0, true)},
		&directives.Spec{Name: "RedirectTemp", Module: m, Syntax: directives.Take2, ReqOverride: fi,
			Help: "a document to be redirected, then the destination URL", Func: addRedirect(http.StatusFound, false)},
		&directives.Spec{Name: "RedirectPermanent", Module: m, Syntax: directives.Take2, ReqOverride: fi,
			Help: "a document to be redirected, then the destination URL", Func: addRedirect(http.StatusMovedPermanently, false)},
	)
}

// aliasMatches is mod_alias alias_matches: the length of uri matched by
// the alias prefix (runs of '/' in either count as one), 0 if none; the
// match must end on a segment boundary.
func aliasMatches(uri, alias string) int {
	u, a := 0, 0
	for a < len(alias) {
		if alias[a] == '/' {
			if u >= len(uri) || uri[u] != '/' {
				return 0
			}
			for a < len(alias) && alias[a] == '/' {
				a++
			}
			for u < len(uri) && uri[u] == '/' {
				u++
			}
		} else {
			if u >= len(uri) || uri[u] != alias[a] {
				return 0
			}
			u++
			a++
		}
	}
	if alias[len(alias)-1] != '/' && u < len(uri) && uri[u] != '/' {
		return 0
	}
	return u
}

// expandRegex is ap_pregsub: $0-$9 and \$ escapes.
func expandRegex(tmpl, src string, m []int) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '$' || tmpl[i+1] == '&') {
			b.WriteByte(tmpl[i+1])
			i++
			continue
		}
		if (c == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9') || c == '&' {
			n := 0
			if c == '$' {
				n = int(tmpl[i+1] - '0')
				i++
			}
			if 2*n+1 < len(m) && m[2*n] >= 0 {
				b.WriteString(src[m[2*n]:m[2*n+1]])
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// tryAliasList is try_alias_list: the first matching entry's result.
func tryAliasList(r *request.Request, list []aliasEntry, isRedir bool) (string, *aliasEntry) {
	for i := range list {
		e := &list[i]
		if e.re != nil {
			m := e.re.FindStringSubmatchIndex(r.URI)
			if m == nil {
				continue
			}
			if e.real == "" {
				return "", e
			}
			found := expandRegex(e.real, r.URI, m)
			if isRedir {
				// The substituted URL is escaped as a whole.
				found = escapeURLKeepQuery(found)
			}
			return found, e
		}
		l := aliasMatches(r.URI, e.fake)
		if l == 0 {
			continue
		}
		if e.real == "" {
			return "", e
		}
		rest := r.URI[l:]
		if isRedir {
			return e.real + escapePath(rest), e
		}
		return e.real + rest, e
	}
	return "", nil
}

// escapeURLKeepQuery escapes a RedirectMatch result as mod_alias does
// (ap_escape_uri on everything but the query string and fragment).
func escapeURLKeepQuery(s string) string {
	cut := len(s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		cut = i
	}
	return escapePath(s[:cut]) + s[cut:]
}

// translate is the translate_name phase: mod_alias's redirects and
// aliases, then core's DocumentRoot.
func translate(r *request.Request, x *exchange) int {
	if r.URI == "" || r.URI[0] != '/' {
		return http.StatusBadRequest
	}
	s := directives.DirOf(x.srv.Config, aliasModule, &AliasServer{})
	if st := applyRedirect(r, x, s.Redirects); st != request.Declined {
		return st
	}
	// try_alias: a <Location>'s one-argument Alias, from the Location walk
	// Apache runs before translation.
	if lw, ok := x.g.walker.(LocationWalker); ok {
		v := lw.LocationWalk(r)
		if d := directives.DirOf(v, aliasModule, &AliasDir{}); d.LocAlias != "" {
			r.Filename = serverRootRelative(x.g.cfg, d.LocAlias)
			if d.LocHandler != "" {
				r.Handler = d.LocHandler
			}
			return request.OK
		}
	}
	if found, e := tryAliasList(r, s.Aliases, false); e != nil {
		r.Filename = found
		if e.handler != "" {
			r.Handler = e.handler
		}
		return request.OK
	}
	root := x.srv.DocumentRoot
	if root == "" {
		root = "/usr/local/apache2/htdocs"
	}
	r.Filename = strings.TrimSuffix(root, "/") + r.URI
	return request.OK
}

func applyRedirect(r *request.Request, x *exchange, list []aliasEntry) int {
	found, e := tryAliasList(r, list, true)
	if e == nil {
		return request.Declined
	}
	if isRedirect(e.status) {
		if strings.HasPrefix(found, "/") {
			found = x.constructURL(r, found)
		}
		if r.Args != "" && !strings.Contains(found, "?") {
			found += "?" + r.Args
		}
		r.Out.Set("Location", found)
	}
	return e.status
}

// aliasFixup is fixup_redir: Redirect in directory context.
func aliasFixup(r *request.Request, x *exchange) int {
	d := directives.DirOf(r.PerDir, aliasModule, &AliasDir{})
	if len(d.Redirects) == 0 {
		return request.Declined
	}
	return applyRedirect(r, x, d.Redirects)
}
