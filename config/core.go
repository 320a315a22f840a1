package config

import (
	"strings"

	"plume/directives"
	"plume/parser"
)

// Options bits, with Apache's values (include/http_core.h allow_options_t).
const (
	OptNone        = 0
	OptIndexes     = 1
	OptIncludes    = 2
	OptSymLinks    = 4
	OptExecCGI     = 8
	OptUnset       = 16
	OptIncWithExec = 32
	OptSymOwner    = 64
	OptMulti       = 128
	// OptAll is what "Options All" sets: it excludes MultiViews and
	// SymLinksIfOwnerMatch.
	OptAll = OptIndexes | OptIncludes | OptIncWithExec | OptSymLinks | OptExecCGI
)

// orUnset marks an AllowOverride never set in a section (Apache's OR_UNSET).
const orUnset = directives.OrUnset

// HostnameLookups values.
const (
	HostnameLookupUnset = iota
	HostnameLookupOff
	HostnameLookupOn
	HostnameLookupDouble
)

// CoreDir is the core module's per-directory config (Apache's
// core_dir_config, the parts Plume implements).
type CoreDir struct {
	// Opts is the effective Options; OptsAdd/OptsRemove are the pending
	// +/- changes (Opts has OptUnset while only +/- were used here).
	Opts, OptsAdd, OptsRemove int
	// Override is AllowOverride (directives.Or* bits, orUnset when not set).
	Override int
	// OverrideOpts is the Options an .htaccess may set (AllowOverride
	// Options=...), OptUnset when not set.
	OverrideOpts int
	// OverrideList is AllowOverrideList (lowercase names); nil when unset.
	OverrideList map[string]bool
	// HostnameLookups is one of the HostnameLookup* values.
	HostnameLookups int
	// Files is sec_file: <Files> sections of this context, concatenated
	// across merges in merge order.
	Files []*Section
	// Ifs are the <If>/<ElseIf>/<Else> sections of this context,
	// concatenated across merges.
	Ifs []*IfSection
}

// IfSection is an <If>, <ElseIf> or <Else> section. Plume does not evaluate
// ap_expr expressions: the section is kept so that the walk can fail closed
// when it holds directives that restrict access.
type IfSection struct {
	Kind      string // "If", "ElseIf", "Else"
	Condition string
	Config    directives.Vector
	Pos       parser.Pos
	// Restricts is true when the section holds directives of a module
	// that can deny access (Module.Restricts).
	Restricts bool
}

// CoreModule is Apache's core module as registered with package directives.
var CoreModule = directives.RegisterModule(&directives.Module{
	Name:         "core",
	Source:       "core.c",
	CreateDir:    createCoreDir,
	MergeDir:     mergeCoreDir,
	CreateServer: func() any { return &CoreServer{} },
	MergeServer:  mergeCoreServer,
})

// createCoreDir is create_core_dir_config: the server level (path "")
// defaults to Options FollowSymLinks; sections start unset.
func createCoreDir(path string) any {
	d := &CoreDir{
		Opts:         OptUnset,
		Override:     orUnset | directives.OrNone,
		OverrideOpts: OptUnset | OptAll | OptSymOwner | OptMulti,
	}
	if path == "" {
		d.Opts = OptUnset | OptSymLinks
	}
	return d
}

// DefaultCoreDir is the core config of a server whose directives never
// touched it (what create_core_dir_config(NULL) returns).
var DefaultCoreDir = createCoreDir("").(*CoreDir)

// mergeCoreDir is merge_core_dir_configs for the fields Plume implements.
func mergeCoreDir(basev, addv any) any {
	base, add := basev.(*CoreDir), addv.(*CoreDir)
	out := *base
	if add.Opts&OptUnset != 0 {
		out.OptsAdd = (out.OptsAdd &^ add.OptsRemove) | add.OptsAdd
		out.OptsRemove = (out.OptsRemove &^ add.OptsAdd) | add.OptsRemove
		out.Opts = (out.Opts &^ out.OptsRemove) | out.OptsAdd
		// +IncludesNOEXEC over an inherited Includes drops exec.
		if base.Opts&OptIncWithExec != 0 && add.OptsAdd&OptIncludes != 0 && add.OptsAdd&OptIncWithExec == 0 {
			out.Opts &^= OptIncWithExec
		}
	} else {
		out.Opts, out.OptsAdd, out.OptsRemove = add.Opts, add.OptsAdd, add.OptsRemove
	}
	if add.Override&orUnset == 0 {
		out.Override = add.Override
	}
	if add.OverrideOpts&OptUnset == 0 {
		out.OverrideOpts = add.OverrideOpts
	}
	if add.OverrideList != nil {
		out.OverrideList = add.OverrideList
	}
	if add.HostnameLookups != HostnameLookupUnset {
		out.HostnameLookups = add.HostnameLookups
	}
	if len(add.Files) > 0 {
		out.Files = append(append(make([]*Section, 0, len(base.Files)+len(add.Files)), base.Files...), add.Files...)
	}
	if len(add.Ifs) > 0 {
		out.Ifs = append(append(make([]*IfSection, 0, len(base.Ifs)+len(add.Ifs)), base.Ifs...), add.Ifs...)
	}
	return &out
}

// Core returns the core per-directory config of a (merged) vector.
func Core(v directives.Vector) *CoreDir {
	return directives.DirOf(v, CoreModule, DefaultCoreDir)
}

// AllowOptions is ap_allow_options: the effective Options bits.
func AllowOptions(v directives.Vector) int { return Core(v).Opts &^ OptUnset }

// AllowOverrides is ap_allow_overrides: the effective AllowOverride bits.
func AllowOverrides(v directives.Vector) int { return Core(v).Override &^ orUnset }

// HostnameLookups returns the effective HostnameLookups setting for a
// merged per-directory vector: HostnameLookupOff (also when unset),
// HostnameLookupOn or HostnameLookupDouble. Package access reads it.
func HostnameLookups(v directives.Vector) int {
	if h := Core(v).HostnameLookups; h != HostnameLookupUnset {
		return h
	}
	return HostnameLookupOff
}

// CoreServer is the core module's per-server config (core_server_config).
type CoreServer struct {
	Name    string
	Port    int
	Scheme  string
	NameSet bool
	Aliases []string
	Admin   string
	// DocumentRoot is canonical, "" when not set in this server.
	DocumentRoot string
	// AccessFileNames is nil when AccessFileName was not used.
	AccessFileNames []string
	// Dirs and Locations are sec_dir and sec_url in config order.
	Dirs      []*Section
	Locations []*Section
	Listen    []Listen

	addrs      []VHostAddr
	serverRoot string // set on the main server by process, for relative paths
}

// mergeCoreServer is merge_core_server_configs: virt's values win; section
// lists are the main server's followed by the vhost's.
func mergeCoreServer(basev, virtv any) any {
	base, virt := basev.(*CoreServer), virtv.(*CoreServer)
	out := *virt
	if out.AccessFileNames == nil {
		out.AccessFileNames = base.AccessFileNames
	}
	if out.DocumentRoot == "" {
		out.DocumentRoot = base.DocumentRoot
	}
	if out.Admin == "" {
		out.Admin = base.Admin
	}
	out.Dirs = append(append([]*Section(nil), base.Dirs...), virt.Dirs...)
	out.Locations = append(append([]*Section(nil), base.Locations...), virt.Locations...)
	return &out
}

func coreServer(c *directives.Cmd) *CoreServer {
	return c.ServerConfig(CoreModule).(*CoreServer)
}

func coreDir(c *directives.Cmd) *CoreDir {
	return c.DirConfig(CoreModule).(*CoreDir)
}

// OptionsString names Options bits in Apache's spelling.
func OptionsString(opts int) string {
	opts &^= OptUnset
	if opts == OptNone {
		return "None"
	}
	var out []string
	for _, o := range []struct {
		bit  int
		name string
	}{{OptIndexes, "Indexes"}, {OptIncludes, "Includes"}, {OptSymLinks, "FollowSymLinks"}, {OptExecCGI, "ExecCGI"},
		{OptSymOwner, "SymLinksIfOwnerMatch"}, {OptMulti, "MultiViews"}} {
		if opts&o.bit != 0 {
			name := o.name
			if o.bit == OptIncludes && opts&OptIncWithExec == 0 {
				name = "IncludesNOEXEC"
			}
			out = append(out, name)
		}
	}
	return strings.Join(out, " ")
}

// OverrideString names AllowOverride bits (and the Options=... list when
// it is not the default).
func OverrideString(override, overrideOpts int) string {
	unset := override&orUnset != 0
	override &^= orUnset
	var out []string
	if override&directives.OrAll == directives.OrAll {
		out = append(out, "All")
	} else {
		for _, o := range []struct {
			bit  int
			name string
		}{{directives.OrLimit, "Limit"}, {directives.OrOptions, "Options"}, {directives.OrFileInfo, "FileInfo"},
			{directives.OrAuthCfg, "AuthConfig"}, {directives.OrIndexes, "Indexes"}} {
			if override&o.bit != 0 {
				name := o.name
				if o.bit == directives.OrOptions && overrideOpts&OptUnset == 0 && overrideOpts != OptAll {
					name += "=" + strings.ReplaceAll(OptionsString(overrideOpts), " ", ",")
				}
				out = append(out, name)
			}
		}
	}
	switch override & directives.NonfatalAll {
	case directives.NonfatalAll:
		out = append(out, "Nonfatal=All")
	case directives.NonfatalOverride:
		out = append(out, "Nonfatal=Override")
	case directives.NonfatalUnknown:
		out = append(out, "Nonfatal=Unknown")
	}
	if len(out) == 0 {
		if unset {
			return "None (never set: .htaccess files are still read and every directive in them is refused, as in Apache)"
		}
		return "None"
	}
	return strings.Join(out, " ")
}
