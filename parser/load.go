package parser

import "errors"

// Options controls Load. Zero values mean Apache's defaults.
type Options struct {
	// ServerRoot is the initial ServerRoot (-d); a ServerRoot directive
	// changes it while reading, as in Apache.
	ServerRoot string
	// Defines are names (and NAME=value pairs) given with -D.
	Defines []string
	// Getenv looks up ${VAR} after Defines; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// Builtin reports whether Plume implements a module, by identifier
	// ("dir_module") or source name ("mod_dir.c"); such modules count as
	// loaded for <IfModule>.
	Builtin func(name string) bool
	// KnownDirective and KnownSection answer <IfDirective> and <IfSection>.
	KnownDirective func(name string) bool
	KnownSection   func(name string) bool
	// Pre and Post are -C and -c directives: processed before and after
	// the main file.
	Pre, Post []string
}

// Tree is a fully read configuration: Include expanded, conditionals
// evaluated, ${VAR} substituted.
type Tree struct {
	Root       *Node // Name "", Section false; its Children are the top-level nodes
	ServerRoot string
	// Loaded holds the identifiers (and source names) of modules named by
	// LoadModule, plus builtins.
	Loaded map[string]bool
	// Defines is the final set of defined names and values.
	Defines  map[string]string
	Files    []string // every file read, in order
	Warnings []Warning
}

// Load reads mainFile and everything it includes.
func Load(mainFile string, opts Options) (*Tree, error) {
	return nil, errors.New("parser.Load: not implemented yet")
}

// ParseHtaccess parses one .htaccess file's contents (8 KiB line limit,
// no Include/Define). Conditionals are evaluated with opts and tree's
// loaded modules and defines.
func ParseHtaccess(path string, data []byte, tree *Tree, opts Options) ([]*Node, error) {
	return nil, errors.New("parser.ParseHtaccess: not implemented yet")
}
