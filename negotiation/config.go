package negotiation

import (
	"strings"

	"plume/directives"
)

// ForceLanguagePriority flags (mod_negotiation's FLP_*). The zero value
// means "unset", which behaves as Prefer but lets a parent's setting win
// in a merge.
const (
	ForceUnset    = 0
	ForceNone     = 1 // no LanguagePriority override: 300/406 stand
	ForcePrefer   = 2 // LanguagePriority breaks ties between acceptable languages
	ForceFallback = 4 // LanguagePriority picks a variant when no language is acceptable
)

// DirConfig is mod_negotiation's per-directory configuration.
type DirConfig struct {
	// ForceLanguagePriority is a combination of the Force* flags.
	ForceLanguagePriority int
	// LanguagePriority is the configured order; nil when the section did not
	// set it (a set list replaces the parent's wholesale).
	LanguagePriority []string
}

// ServerConfig is mod_negotiation's per-server configuration. Apache stores
// a non-NULL marker only for "CacheNegotiatedDocs On": Off stores NULL, so
// a virtual host that says Off inherits the main server's On (a quirk kept
// here by leaving the slot nil).
type ServerConfig struct {
	CacheNegotiatedDocs bool
}

// Module is negotiation_module. Its per-directory slot holds *DirConfig and
// its per-server slot *ServerConfig (nil: CacheNegotiatedDocs Off).
var Module = directives.RegisterModule(&directives.Module{
	Name:      "negotiation_module",
	Source:    "mod_negotiation.c",
	CreateDir: func(string) any { return &DirConfig{} },
	MergeDir:  mergeDir,
})

func mergeDir(base, add any) any {
	b, a := base.(*DirConfig), add.(*DirConfig)
	out := &DirConfig{ForceLanguagePriority: b.ForceLanguagePriority, LanguagePriority: b.LanguagePriority}
	if a.ForceLanguagePriority != ForceUnset {
		out.ForceLanguagePriority = a.ForceLanguagePriority
	}
	if a.LanguagePriority != nil {
		out.LanguagePriority = a.LanguagePriority
	}
	return out
}

func init() {
	directives.Register(
		&directives.Spec{
			Name: "CacheNegotiatedDocs", Module: Module.Name, Syntax: directives.Flag,
			ReqOverride: directives.RsrcConf, Help: "Either 'on' or 'off' (default)",
			Func: func(c *directives.Cmd, args []string) error {
				if args[0] == "On" {
					c.Server.Config.Set(Module, &ServerConfig{CacheNegotiatedDocs: true})
				} else {
					c.Server.Config.Set(Module, nil)
				}
				return nil
			},
		},
		&directives.Spec{
			Name: "LanguagePriority", Module: Module.Name, Syntax: directives.Iterate,
			ReqOverride: directives.OrFileInfo, Help: "space-delimited list of MIME language abbreviations",
			Func: func(c *directives.Cmd, args []string) error {
				d := c.DirConfig(Module).(*DirConfig)
				// A fresh slice per section: the merged parent's list must
				// never be appended to in place.
				d.LanguagePriority = append(d.LanguagePriority[:len(d.LanguagePriority):len(d.LanguagePriority)], args[0])
				return nil
			},
		},
		&directives.Spec{
			Name: "ForceLanguagePriority", Module: Module.Name, Syntax: directives.Iterate,
			ReqOverride: directives.OrFileInfo, Help: "Force LanguagePriority elections, either None, or Fallback and/or Prefer",
			Func: func(c *directives.Cmd, args []string) error {
				return setForcePriority(c.DirConfig(Module).(*DirConfig), args[0])
			},
		},
	)
}

// setForcePriority applies one ForceLanguagePriority word with Apache's
// messages (set_force_priority).
func setForcePriority(d *DirConfig, w string) error {
	switch {
	case strings.EqualFold(w, "None"):
		if d.ForceLanguagePriority&^ForceNone != 0 {
			return errorString("Cannot combine ForceLanguagePriority options with None")
		}
		d.ForceLanguagePriority = ForceNone
	case strings.EqualFold(w, "Prefer"):
		if d.ForceLanguagePriority&ForceNone != 0 {
			return errorString("Cannot combine ForceLanguagePriority options None and Prefer")
		}
		d.ForceLanguagePriority |= ForcePrefer
	case strings.EqualFold(w, "Fallback"):
		if d.ForceLanguagePriority&ForceNone != 0 {
			return errorString("Cannot combine ForceLanguagePriority options None and Fallback")
		}
		d.ForceLanguagePriority |= ForceFallback
	default:
		return errorString("Invalid ForceLanguagePriority option " + w)
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// dirConfig returns the request's merged configuration (defaults when the
// module is not configured anywhere on the path).
func dirConfig(v directives.Vector) *DirConfig {
	if v == nil {
		return &defaultDirConfig
	}
	return directives.DirOf(v, Module, &defaultDirConfig)
}

var defaultDirConfig DirConfig

func cacheNegotiatedDocs(s *directives.Server) bool {
	if s == nil || s.Config == nil {
		return false
	}
	c, _ := s.Config.Get(Module).(*ServerConfig)
	return c != nil && c.CacheNegotiatedDocs
}
