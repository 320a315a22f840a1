package parser

import (
	"errors"
	"os"
	"path/filepath"
)

// Options controls Load. Zero values mean Apache's defaults.
type Options struct {
	// ServerRoot is the initial ServerRoot (-d); a ServerRoot directive
	// changes it while reading, as in Apache. Empty means DefaultServerRoot.
	ServerRoot string
	// Defines are the names given with -D. As in Apache 2.4, "-D A=b"
	// defines the name "A=b"; values come only from Define.
	Defines []string
	// Getenv looks up ${VAR} after Defines; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// Builtin reports whether Plume implements a module, by identifier
	// ("dir_module") or source name ("mod_dir.c"); such modules count as
	// loaded for <IfModule>.
	Builtin func(name string) bool
	// KnownDirective and KnownSection answer <IfDirective> and <IfSection>
	// (KnownSection gets the name without '<'). The parser's own
	// read-time directives always count.
	KnownDirective func(name string) bool
	KnownSection   func(name string) bool
	// CanonicalName returns the registry's spelling of a known directive
	// ("<Directory" for "<directory", "Options" for "OPTIONS"), or "" when
	// unknown. Apache stores known names that way: nodes carry them, and
	// tag errors print them ("Expected </Directory> but saw </files>").
	CanonicalName func(name string) string
	// CheckModuleFiles makes LoadModule and LoadFile fail, in Apache's
	// words, when the shared object does not exist. Plume loads no shared
	// objects, so by default it does not look.
	CheckModuleFiles bool
	// Pre and Post are -C and -c directives: read before and after the main
	// file, each list as one stream named "-c/-C directives" whose line N
	// is the Nth directive.
	Pre, Post []string
}

// DefaultServerRoot is Debian's compiled-in ServerRoot (HTTPD_ROOT).
const DefaultServerRoot = "/etc/apache2"

// CmdLineFile is the file name Apache gives -C/-c directives.
const CmdLineFile = "-c/-C directives"

// LoadedModule is one LoadModule directive that took effect.
type LoadedModule struct {
	ID     string // "rewrite_module"
	Source string // "mod_rewrite.c"
	Path   string // the shared object, relative to ServerRoot resolved
	Pos    Pos
}

// Tree is a fully read configuration: Include expanded, conditionals
// evaluated, ${VAR} substituted.
type Tree struct {
	Root       *Node // Name "", Section false; its Children are the top-level nodes (whose Parent is nil)
	ServerRoot string
	// RuntimeDir is the last DefaultRuntimeDir (absolute), "" if none;
	// Apache applies it while reading, so it has no node.
	RuntimeDir string
	// Loaded holds the identifiers and source names of modules named by
	// LoadModule and of Apache's compiled-in modules. Options.Builtin
	// modules are not listed; ask Options.Builtin.
	Loaded  map[string]bool
	Modules []LoadedModule // LoadModule directives in order
	// Defines is the final set of defined names and values ("" for none).
	Defines  map[string]string
	Files    []string // every file read, in order
	Warnings []Warning
}

type loader struct {
	opts         Options
	vars         *vars
	serverRoot   string
	loaded       map[string]bool
	modules      []LoadedModule
	warnings     []Warning
	files        []string
	includeDepth int
	runtimeDir   string
	// openCond is set by a conditional whose condition held: the
	// canonical name whose body buildConfig reads next.
	openCond string
	htaccess bool
	limit    int
	// noInclude refuses Include/IncludeOptional without touching the file
	// system (fuzzing must not read "/" recursively).
	noInclude bool
	macros    macroState
}

func newLoader(opts Options) *loader {
	ld := &loader{
		opts:       opts,
		vars:       newVars(opts.Getenv),
		serverRoot: opts.ServerRoot,
		loaded:     map[string]bool{},
		limit:      MaxConfigLine,
	}
	if ld.serverRoot == "" {
		ld.serverRoot = DefaultServerRoot
	}
	if abs, err := filepath.Abs(ld.serverRoot); err == nil {
		ld.serverRoot = abs
	}
	for _, d := range opts.Defines {
		ld.vars.define(d, nil)
	}
	return ld
}

func (ld *loader) warn(w Warning) { ld.warnings = append(ld.warnings, w) }

// Load reads mainFile (relative to the ServerRoot, like -f) and everything
// it includes, with the -C directives before it and the -c ones after, as
// Apache's ap_read_config does. The error, if any, is an *Error.
func Load(mainFile string, opts Options) (tree *Tree, err error) {
	ld := newLoader(opts)
	defer func() {
		var pe *Error
		if err != nil && errors.As(err, &pe) {
			pe.Warnings = ld.warnings
		}
	}()
	root := &Node{}
	var top []*Node

	if len(opts.Pre) > 0 {
		nodes, err := ld.readCmdLine(opts.Pre)
		if err != nil {
			return nil, err
		}
		top = append(top, nodes...)
	}
	nodes, err := ld.processConfigs(ld.serverRootRelative(mainFile), false, nil)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &Error{Msg: err.Error(), Structural: true}
	}
	top = append(top, nodes...)
	if len(opts.Post) > 0 {
		nodes, err := ld.readCmdLine(opts.Post)
		if err != nil {
			return nil, err
		}
		top = append(top, nodes...)
	}
	for _, n := range top {
		n.Parent = nil
	}
	root.Children = top
	return &Tree{
		Root:       root,
		ServerRoot: ld.serverRoot,
		RuntimeDir: ld.runtimeDir,
		Loaded:     ld.loadedSet(),
		Modules:    ld.modules,
		Defines:    ld.vars.snapshot(),
		Files:      ld.files,
		Warnings:   ld.warnings,
	}, nil
}

func (ld *loader) loadedSet() map[string]bool {
	m := make(map[string]bool, len(ld.loaded)+2*len(apacheCompiledIn))
	for id, src := range apacheCompiledIn {
		m[id] = true
		m[src] = true
	}
	for k := range ld.loaded {
		m[k] = true
	}
	return m
}

// readCmdLine reads -C or -c directives (process_command_config).
func (ld *loader) readCmdLine(lines []string) ([]*Node, error) {
	st := &stream{r: &lineReader{name: CmdLineFile, elems: lines, limit: ld.limit}, file: CmdLineFile}
	nodes, err := ld.buildConfig(st)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		pos := Pos{File: CmdLineFile}
		if st.errPos != nil {
			pos = *st.errPos
		}
		return nil, &Error{Pos: pos, Msg: err.Error(), Structural: true}
	}
	return nodes, nil
}

// ParseHtaccess parses one .htaccess file's contents as Apache's
// ap_parse_htaccess does: the same lexer with an 8 KiB line limit,
// conditionals evaluated against tree's modules and defines, but Include,
// Define, ServerRoot and LoadModule are ordinary nodes (the directive
// walker refuses them). On error the *Error's Msg is what Apache logs
// after the file name (see Error.HtaccessFormat).
func ParseHtaccess(path string, data []byte, tree *Tree, opts Options) ([]*Node, error) {
	if tree != nil && tree.ServerRoot != "" {
		opts.ServerRoot = tree.ServerRoot
	}
	ld := newLoader(opts)
	ld.htaccess = true
	ld.limit = MaxHtaccessLine
	if tree != nil {
		for name, val := range tree.Defines {
			if val != "" {
				v := val
				ld.vars.define(name, &v)
			} else {
				ld.vars.define(name, nil)
			}
		}
		for k, v := range tree.Loaded {
			if v {
				ld.loaded[k] = true
			}
		}
	}
	st := &stream{r: &lineReader{name: path, data: data, limit: ld.limit}, file: path}
	nodes, err := ld.buildConfig(st)
	if err != nil {
		return nil, positioned(st, err)
	}
	for _, n := range nodes {
		n.Parent = nil
	}
	return nodes, nil
}

// LoadFile is a convenience for tools: Load with the ServerRoot defaulting
// to the main file's directory when opts.ServerRoot is empty.
func LoadFile(path string, opts Options) (*Tree, error) {
	if opts.ServerRoot == "" {
		if abs, err := filepath.Abs(path); err == nil {
			opts.ServerRoot = filepath.Dir(abs)
			path = abs
		}
	}
	if _, err := os.Stat(opts.ServerRoot); err != nil {
		opts.ServerRoot = DefaultServerRoot
	}
	return Load(path, opts)
}
