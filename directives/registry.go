// Package directives is the registry of every directive Plume knows: its
// module, argument syntax, the contexts it may appear in and its
// AllowOverride class, mirroring Apache's command_rec tables. It also holds
// the per-module configuration vectors (Apache's ap_conf_vector_t) that
// directive handlers fill, and the walker that applies a parsed tree
// (package parser) to them with Apache's context and argument checks and
// Apache's error texts.
//
// Modules Plume implements register themselves (Register, RegisterModule)
// from their own packages. Directives of Apache modules Plume does not
// implement come from the data table apache-modules.tsv: they are valid only
// when the configuration loads their module, and are then ignored with a
// warning (or, for modules that restrict access, fail closed at request
// time).
package directives

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Override and context bits, with Apache's values and meaning
// (include/http_config.h). A Spec's ReqOverride says where the directive
// may appear; a Cmd's Override says what the current place allows. The
// directive is allowed when the two intersect.
const (
	OrNone     = 0
	OrLimit    = 1 << 0 // AllowOverride Limit
	OrOptions  = 1 << 1 // AllowOverride Options
	OrFileInfo = 1 << 2 // AllowOverride FileInfo
	OrAuthCfg  = 1 << 3 // AllowOverride AuthConfig
	OrIndexes  = 1 << 4 // AllowOverride Indexes
	OrUnset    = 1 << 5
	AccessConf = 1 << 6 // <Directory>, <Location>, <Files> (not .htaccess)
	RsrcConf   = 1 << 7 // server config and <VirtualHost>
	ExecOnRead = 1 << 8 // run while reading (handled by package parser)
	// NonfatalOverride/NonfatalUnknown/NonfatalAll are AllowOverride Nonfatal=...
	NonfatalOverride = 1 << 9
	NonfatalUnknown  = 1 << 10
	NonfatalAll      = NonfatalOverride | NonfatalUnknown
	// ProxyConf marks mod_ssl's SSLProxy* directives, also allowed in
	// <Proxy> sections.
	ProxyConf = 1 << 11

	OrAll = OrLimit | OrOptions | OrFileInfo | OrAuthCfg | OrIndexes
)

// Syntax is how a directive's arguments are split (Apache's cmd_how).
type Syntax int

const (
	RawArgs  Syntax = iota // the whole raw argument string, tokenized by the handler
	Take1                  // exactly one word
	Take2                  // exactly two
	Take3                  // exactly three
	Take12                 // one or two
	Take23                 // two or three
	Take123                // one, two or three
	Take13                 // one or three
	Iterate                // handler called once per word
	Iterate2               // handler called with (first word, each later word)
	Flag                   // On or Off
	NoArgs                 // none
	TakeArgv               // any number of words (at most 64)
)

var syntaxNames = map[string]Syntax{
	"RAW_ARGS": RawArgs, "TAKE1": Take1, "TAKE2": Take2, "TAKE3": Take3,
	"TAKE12": Take12, "TAKE23": Take23, "TAKE123": Take123, "TAKE13": Take13,
	"ITERATE": Iterate, "ITERATE2": Iterate2, "FLAG": Flag, "NO_ARGS": NoArgs,
	"TAKE_ARGV": TakeArgv,
}

// ParseSyntax maps Apache's name (TAKE1, RAW_ARGS, ...) to a Syntax.
func ParseSyntax(s string) (Syntax, bool) { v, ok := syntaxNames[strings.ToUpper(s)]; return v, ok }

func (s Syntax) String() string {
	for k, v := range syntaxNames {
		if v == s {
			return k
		}
	}
	return fmt.Sprintf("Syntax(%d)", int(s))
}

// Handler applies one directive occurrence. args holds the words as the
// Syntax splits them (for RawArgs, one element: the raw string; for Flag,
// "On" or "Off"; for Iterate, one word per call; for Iterate2, the first
// word and one later word per call). A returned error is printed verbatim
// as Apache's message for the directive's line.
type Handler func(c *Cmd, args []string) error

// Spec declares one directive.
type Spec struct {
	// Name is the canonical command name as Apache's module table spells
	// it (it appears in messages, e.g. "order takes one argument, ...").
	// Section openers are named with their '<' ("<Directory").
	Name string
	// Module is Apache's module identifier, e.g. "core", "dir_module".
	Module      string
	Syntax      Syntax
	ReqOverride int
	// Help is the command's errmsg: appended to arity errors after ", ".
	Help string
	// Func is nil for directives of modules Plume does not implement.
	Func Handler
	// Restricts says the directive can deny or restrict a request (set in
	// Apache's table for access-control modules): when Plume ignores it,
	// requests it applies to fail closed.
	Restricts bool
}

// Module is one unit of per-directory and per-server configuration, as an
// Apache module: it creates its config structs and merges them. A Vector
// slot stays nil until a directive of the module appears in that section,
// and merging a nil slot keeps the base (ap_merge_per_dir_configs).
type Module struct {
	Name   string // Apache identifier, "dir_module"
	Source string // Apache source file, "mod_dir.c" (IfModule accepts either)
	// CreateDir makes an empty per-directory config; path is the section's
	// path ("" for server level).
	CreateDir func(path string) any
	// MergeDir merges add over base; nil means add replaces base wholesale
	// (Apache's behaviour for modules without a merger, such as
	// mod_access_compat).
	MergeDir     func(base, add any) any
	CreateServer func() any
	MergeServer  func(base, add any) any
	// Restricts says the module's directives can deny or restrict a request;
	// if Plume ignores them it must fail closed.
	Restricts bool

	index int
}

var (
	mu      sync.RWMutex
	specs   = map[string]*Spec{} // key: lowercased name
	modules []*Module
	modIdx  = map[string]*Module{}
)

// RegisterModule adds a module Plume implements. It panics on a duplicate:
// registration happens from init and a duplicate is a programming error.
func RegisterModule(m *Module) *Module {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := modIdx[m.Name]; dup {
		panic("directives: duplicate module " + m.Name)
	}
	m.index = len(modules)
	modules = append(modules, m)
	modIdx[m.Name] = m
	if m.Source != "" {
		modIdx[m.Source] = m
	}
	return m
}

// Register adds directives implemented by Plume. It panics on duplicates.
func Register(list ...*Spec) {
	mu.Lock()
	defer mu.Unlock()
	for _, s := range list {
		fillHelp(s)
		k := strings.ToLower(s.Name)
		if old, dup := specs[k]; dup && old.Func != nil {
			panic("directives: duplicate directive " + s.Name)
		}
		specs[k] = s
	}
}

// Lookup finds a directive by name, case-insensitively: the spec Plume
// registered, else the first row of Apache's table (Func nil).
func Lookup(name string) (*Spec, bool) {
	mu.RLock()
	s, ok := specs[strings.ToLower(name)]
	mu.RUnlock()
	if ok {
		return s, true
	}
	if rows := ApacheSpecs(name); len(rows) > 0 {
		return rows[0], true
	}
	return nil, false
}

// Registered finds a directive Plume registered (never a table row).
func Registered(name string) (*Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := specs[strings.ToLower(name)]
	return s, ok
}

// Implemented reports whether Plume implements the module (by identifier
// "dir_module" or source name "mod_dir.c").
func Implemented(name string) (*Module, bool) {
	mu.RLock()
	defer mu.RUnlock()
	m, ok := modIdx[name]
	return m, ok
}

// Modules lists the modules Plume implements, in registration order.
func Modules() []*Module {
	mu.RLock()
	defer mu.RUnlock()
	return append([]*Module(nil), modules...)
}

// Specs lists every directive Plume registered, sorted by name.
func Specs() []*Spec {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]*Spec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Vector holds one config struct per module (nil: module not configured
// here). It is Apache's ap_conf_vector_t.
type Vector []any

// NewVector returns an empty vector sized for all registered modules.
func NewVector() Vector {
	mu.RLock()
	defer mu.RUnlock()
	return make(Vector, len(modules))
}

// Get returns the module's slot (nil when unset).
func (v Vector) Get(m *Module) any {
	if m.index < len(v) {
		return v[m.index]
	}
	return nil
}

// Set stores the module's slot.
func (v Vector) Set(m *Module, c any) { v[m.index] = c }

// MergeDirs merges add over base for every module, as
// ap_merge_per_dir_configs: a nil add slot keeps base; a module without a
// merger has add replace base. The result is a new vector; inputs are not
// modified.
func MergeDirs(base, add Vector) Vector {
	out := make(Vector, len(base))
	copy(out, base)
	for _, m := range Modules() {
		a := add.Get(m)
		if a == nil {
			continue
		}
		b := base.Get(m)
		if b == nil || m.MergeDir == nil {
			out[m.index] = a
			continue
		}
		out[m.index] = m.MergeDir(b, a)
	}
	return out
}

// MergeServers merges a virtual host's per-server vector over the main
// server's.
func MergeServers(base, add Vector) Vector {
	out := make(Vector, len(base))
	copy(out, base)
	for _, m := range Modules() {
		a := add.Get(m)
		if a == nil {
			continue
		}
		b := base.Get(m)
		if b == nil || m.MergeServer == nil {
			out[m.index] = a
			continue
		}
		out[m.index] = m.MergeServer(b, a)
	}
	return out
}

// DirOf returns module m's per-directory config in v as *T, or def when the
// slot is unset. It is the typed accessor modules use at request time.
func DirOf[T any](v Vector, m *Module, def *T) *T {
	if c, ok := v.Get(m).(*T); ok {
		return c
	}
	return def
}
