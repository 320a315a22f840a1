package access

import (
	"errors"
	"fmt"
	"strings"

	"plume/directives"
	"plume/parser"
)

// mod_authz_core: Require, the <RequireAll|Any|None|NotAll> containers,
// AuthMerging and AuthzSendForbiddenOnFailure, and the result algebra of
// apply_authz_sections.

type logicOp uint8

const (
	logicUnset logicOp = iota
	logicOff
	logicAnd
	logicOr
)

// authzResult is authz_status.
type authzResult uint8

const (
	authzDenied authzResult = iota
	authzGranted
	authzNeutral
	authzGeneralError
	authzDeniedNoUser
)

// authzSection is authz_section_conf: either one Require line (provider
// set) or a container of children.
type authzSection struct {
	providerName string
	providerArgs string
	provider     *authzProvider
	parsed       any
	limited      uint64
	op           logicOp
	negate       bool
	isMerged     bool
	children     []*authzSection
}

// authzCoreConf is authz_core_dir_conf.
type authzCoreConf struct {
	section         *authzSection
	op              logicOp
	forbiddenOnFail int8 // -1 unset
}

var authzCoreModule = directives.RegisterModule(&directives.Module{
	Name:   "authz_core_module",
	Source: "mod_authz_core.c",
	CreateDir: func(string) any {
		return &authzCoreConf{forbiddenOnFail: -1}
	},
	MergeDir:  mergeAuthzCore,
	Restricts: true,
})

var defaultAuthzCore = &authzCoreConf{forbiddenOnFail: -1}

// mergeAuthzCore is merge_authz_core_dir_config.
func mergeAuthzCore(basev, addv any) any {
	base, add := basev.(*authzCoreConf), addv.(*authzCoreConf)
	var conf *authzCoreConf
	switch {
	case add.op == logicUnset && add.section == nil && base.section != nil:
		// Only AuthzSendForbiddenOnFailure was set: not a new authz
		// config as far as AuthMerging goes.
		c := *base
		conf = &c
	case add.op == logicOff || add.op == logicUnset || !(base.section != nil || base.op == logicOff):
		c := *add
		conf = &c
	default:
		var section *authzSection
		switch {
		case base.section != nil && add.section != nil:
			section = &authzSection{
				limited:  base.section.limited | add.section.limited,
				op:       add.op,
				isMerged: true,
				children: []*authzSection{base.section, add.section},
			}
		case base.section != nil:
			section = base.section
		default:
			section = add.section
		}
		conf = &authzCoreConf{section: section, op: add.op}
	}
	if add.forbiddenOnFail == -1 {
		conf.forbiddenOnFail = base.forbiddenOnFail
	} else {
		conf.forbiddenOnFail = add.forbiddenOnFail
	}
	return conf
}

func init() {
	cs := func(name, help string) *directives.Spec {
		return &directives.Spec{Name: name, Module: authzCoreModule.Name, Syntax: directives.RawArgs,
			ReqOverride: directives.OrAuthCfg, Help: help, Func: addAuthzSection}
	}
	directives.Register(
		&directives.Spec{Name: "Require", Module: authzCoreModule.Name, Syntax: directives.RawArgs,
			ReqOverride: directives.OrAuthCfg, Help: "specifies authorization directives which one must pass (or not) for a request to suceeed", Func: addAuthzProvider},
		cs("<RequireAll", "container for grouping authorization directives of which none must fail and at least one must pass for a request to succeed"),
		cs("<RequireAny", "container for grouping authorization directives of which one must pass for a request to succeed"),
		cs("<RequireNone", "container for grouping authorization directives of which none must pass for a request to succeed"),
		&directives.Spec{Name: "AuthMerging", Module: authzCoreModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrAuthCfg, Help: "controls how a <Directory>, <Location>, or similar directive's authorization directives are combined with those of its predecessor", Func: setAuthMerging},
		&directives.Spec{Name: "AuthzSendForbiddenOnFailure", Module: authzCoreModule.Name, Syntax: directives.Flag,
			ReqOverride: directives.OrAuthCfg, Help: "Controls if an authorization failure should result in a '403 FORBIDDEN' response instead of the HTTP-conforming '401 UNAUTHORIZED'", Func: setForbiddenOnFailure},
	)
}

func setAuthMerging(c *directives.Cmd, args []string) error {
	conf := c.DirConfig(authzCoreModule).(*authzCoreConf)
	switch strings.ToLower(args[0]) {
	case "off":
		conf.op = logicOff
	case "and":
		conf.op = logicAnd
	case "or":
		conf.op = logicOr
	default:
		return errors.New(c.Spec.Name + " must be one of: Off | And | Or")
	}
	return nil
}

func setForbiddenOnFailure(c *directives.Cmd, args []string) error {
	conf := c.DirConfig(authzCoreModule).(*authzCoreConf)
	conf.forbiddenOnFail = 0
	if args[0] == "On" {
		conf.forbiddenOnFail = 1
	}
	return nil
}

func newDefaultSection() *authzSection {
	return &authzSection{op: logicOr, limited: 0}
}

// formatAuthzCommand names a section as Apache's messages do.
func formatAuthzCommand(s *authzSection) string {
	if s.provider != nil {
		neg := ""
		if s.negate {
			neg = "not "
		}
		return "Require " + neg + s.providerName + " " + s.providerArgs
	}
	if s.isMerged {
		return "AuthMerging logic"
	}
	switch {
	case s.op == logicAnd && !s.negate:
		return "<RequireAll>"
	case s.op == logicAnd:
		return "<RequireNotAll>"
	case s.negate:
		return "<RequireNone>"
	}
	return "<RequireAny>"
}

// addAuthzProvider is the Require directive.
func addAuthzProvider(c *directives.Cmd, args []string) error {
	conf := c.DirConfig(authzCoreModule).(*authzCoreConf)
	rest := args[0]
	name, rest, _ := parser.NextWord(rest)
	s := &authzSection{}
	if strings.EqualFold(name, "not") {
		name, rest, _ = parser.NextWord(rest)
		s.negate = true
	}
	s.providerName = name
	s.providerArgs = rest
	p, ok := authzProviders[name]
	if !ok {
		return fmt.Errorf("Unknown Authz provider: %s", name)
	}
	s.provider = p
	s.limited = c.Limited
	if p.parse != nil {
		parsed, err := p.parse(c, rest)
		if err != nil {
			return err
		}
		s.parsed = parsed
	}
	if conf.section == nil {
		conf.section = newDefaultSection()
	}
	if s.negate && conf.section.op == logicOr {
		return fmt.Errorf("negative %s directive has no effect in %s directive", c.Spec.Name, formatAuthzCommand(conf.section))
	}
	conf.section.limited |= s.limited
	conf.section.children = append(conf.section.children, s)
	return nil
}

// addAuthzSection is add_authz_section: <RequireAll>, <RequireAny> and
// <RequireNone>. (Apache 2.4 has no <RequireNotAll>, whatever some
// documentation says: apache2 -t rejects it as an invalid command.)
func addAuthzSection(c *directives.Cmd, args []string) error {
	conf := c.DirConfig(authzCoreModule).(*authzCoreConf)
	name := c.Spec.Name
	raw := args[0]
	end := strings.LastIndexByte(raw, '>')
	if end < 0 {
		return errors.New(name + "> directive missing closing '>'")
	}
	if strings.TrimSpace(raw[:end]) != "" {
		return errors.New(name + "> directive doesn't take additional arguments")
	}
	s := &authzSection{}
	switch strings.ToLower(name) {
	case "<requireall":
		s.op = logicAnd
	case "<requireany":
		s.op = logicOr
	default:
		s.op, s.negate = logicOr, true
	}
	old := conf.section
	conf.section = s
	child := *c
	// Inside the container, directives that may not appear in <Limit>
	// refuse as they would there (Apache clears the reserved method bit).
	child.Limited &^= 1 << (methodCount - 1)
	child.Override = directives.OrAuthCfg | (c.Override & directives.NonfatalAll)
	err := directives.Walk(c.Node.Children, &child)
	conf.section = old
	if err != nil {
		return err
	}
	if len(s.children) == 0 {
		return errors.New(formatAuthzCommand(s) + " directive contains no authorization directives")
	}
	if !c.Htaccess {
		if err := checkNegativeOnly(s); err != nil {
			return err
		}
	}
	if old == nil {
		old = newDefaultSection()
		conf.section = old
	}
	if s.negate && old.op == logicOr {
		return fmt.Errorf("%s directive has no effect in %s directive", formatAuthzCommand(s), formatAuthzCommand(old))
	}
	old.limited |= s.limited
	if !s.negate && s.op == old.op {
		// Associative: splice the children in.
		old.children = append(old.children, s.children...)
	} else {
		old.children = append(old.children, s)
	}
	return nil
}

// checkNegativeOnly is authz_core_check_section (AH01624), which Apache
// runs over every section at startup: a container needs at least one
// positive child once negated sub-containers are flattened by De Morgan.
func checkNegativeOnly(s *authzSection) error {
	var flat []*authzSection
	for _, ch := range s.children {
		if ch.provider == nil && ch.negate && ch.op != s.op {
			for _, g := range ch.children {
				gc := *g
				gc.negate = !gc.negate
				flat = append(flat, &gc)
			}
			continue
		}
		flat = append(flat, ch)
	}
	s.children = flat
	for _, ch := range flat {
		if !ch.negate {
			return nil
		}
	}
	return fmt.Errorf("AH01624: %s directive contains only negative authorization directives", formatAuthzCommand(s))
}

// applyAuthzSections is apply_authz_sections.
func (ev *evaluation) applyAuthzSections(s *authzSection, parentOp logicOp) authzResult {
	if s.limited&(uint64(1)<<uint(ev.method)) == 0 {
		if parentOp == logicAnd {
			return authzGranted
		}
		return authzNeutral
	}
	var result authzResult
	if s.provider != nil {
		result = s.provider.check(ev, s)
	} else {
		result = authzNeutral
		for _, ch := range s.children {
			cr := ev.applyAuthzSections(ch, s.op)
			if cr == authzGeneralError {
				return authzGeneralError
			}
			if cr == authzNeutral {
				continue
			}
			if s.op == logicAnd {
				if cr == authzDenied {
					result = cr
					break
				}
				if (cr == authzDeniedNoUser && result != authzDenied) || result == authzNeutral {
					result = cr
				}
			} else {
				if cr == authzGranted {
					result = cr
					break
				}
				if (cr == authzDeniedNoUser && result == authzDenied) || result == authzNeutral {
					result = cr
				}
			}
		}
	}
	if s.negate {
		switch result {
		case authzGranted:
			result = authzDenied
		case authzDenied, authzDeniedNoUser:
			result = authzNeutral
		}
	}
	return result
}

// Internal phase results beyond HTTP statuses.
const (
	phaseOK       = 0
	phaseDeclined = -1
)

// authorizeUserCore is authorize_user_core: the userless pass (before
// authentication) and the pass after it.
func (ev *evaluation) authorizeUserCore(afterAuthn bool) int {
	r := ev.r
	conf := directives.DirOf(r.PerDir, authzCoreModule, defaultAuthzCore)
	if conf.section == nil {
		if ev.authType() != "" {
			r.LogError("authz_core", "error", "AH01627", "AuthType configured with no corresponding authorization directives")
			return 500
		}
		return phaseOK
	}
	res := ev.applyAuthzSections(conf.section, logicAnd)
	switch res {
	case authzGranted:
		return phaseOK
	case authzDeniedNoUser:
		if !afterAuthn {
			return phaseDeclined
		}
		r.LogError("authz_core", "error", "AH01629", "authorization failure (no authenticated user): "+r.URI)
		if r.User != "" {
			ev.noteAuthFailure()
		}
		return 401
	case authzDenied, authzNeutral:
		if !afterAuthn || ev.authType() == "" {
			r.LogError("authz_core", "error", "AH01630", "client denied by server configuration: "+ev.filenameOrURI())
			return 403
		}
		r.LogError("authz_core", "error", "AH01631", fmt.Sprintf("user %s: authorization failure for \"%s\": ", r.User, r.URI))
		if conf.forbiddenOnFail > 0 {
			return 403
		}
		if r.User != "" {
			ev.noteAuthFailure()
		}
		return 401
	}
	return 500
}
