package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// execCmd is a directive Apache runs while reading (EXEC_ON_READ). Its
// result nodes, if any, take its place in the tree; the directive itself
// leaves no node.
type execCmd struct {
	name string // canonical name, as Apache prints it
	help string // command_rec errmsg, appended to arity errors
	// htaccess: also executed in .htaccess files (the conditionals);
	// the others are plain nodes there, for the directive walker to refuse.
	htaccess bool
	// module, when set, is the Apache module that provides the
	// directive: it runs only when the configuration loads it, and is
	// otherwise an ordinary node (Apache's "Invalid command").
	module string
	run    func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error)
}

var execCmds map[string]*execCmd

func init() {
	cmds := []*execCmd{
		{name: "Include", help: "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least one file",
			run: func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
				return ld.include(st, args, pos, false)
			}},
		{name: "IncludeOptional", help: "Name or pattern of the config file(s) to be included; ignored if the file does not exist or the pattern does not match any files",
			run: func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
				return ld.include(st, args, pos, true)
			}},
		{name: "Define", help: "Define a variable, optionally to a value.  Same as passing -D to the command line.", run: runDefine},
		{name: "UnDefine", help: "Undefine the existence of a variable. Undo a Define.", run: runUndefine},
		{name: "ServerRoot", help: "Common directory of server-related files (logs, confs, etc.)", run: runServerRoot},
		{name: "DefaultRuntimeDir", help: "Common directory for run-time files (shared memory, locks, etc.)", run: runRuntimeDir},
		{name: "LoadModule", help: "a module name and the name of a shared object file to load it from", run: runLoadModule},
		{name: "LoadFile", help: "shared object file or library to load into the server at runtime", run: runLoadFile},
		{name: "<IfModule", htaccess: true, help: "Container for directives based on existence of specified modules", run: condRunner("<IfModule")},
		{name: "<IfDefine", htaccess: true, help: "Container for directives based on existence of command line defines", run: condRunner("<IfDefine")},
		{name: "<IfFile", htaccess: true, help: "Container for directives based on existence of files on disk", run: condRunner("<IfFile")},
		{name: "<IfDirective", htaccess: true, help: "Container for directives based on existence of named directive", run: condRunner("<IfDirective")},
		{name: "<IfSection", htaccess: true, help: "Container for directives based on existence of named section", run: condRunner("<IfSection")},
		{name: "<IfVersion", htaccess: true, help: "a comparison operator, a version (and a delimiter)", run: runIfVersion},
	}
	execCmds = make(map[string]*execCmd, len(cmds))
	for _, c := range cmds {
		execCmds[strings.ToLower(c.name)] = c
	}
}

// IsReadTimeDirective reports whether the parser itself executes the
// directive name (with a leading '<' for sections) while reading the main
// configuration. Such directives never reach the directive walker from
// Load; from ParseHtaccess only the conditional sections are executed.
func IsReadTimeDirective(name string) bool {
	_, ok := execCmds[strings.ToLower(name)]
	return ok
}

func (ld *loader) execOnRead(word string) (*execCmd, bool) {
	c, ok := execCmds[strings.ToLower(word)]
	if !ok || (ld.htaccess && !c.htaccess) || (c.module != "" && !ld.moduleLoaded(c.module)) {
		return nil, false
	}
	return c, true
}

// Arity errors in invoke_cmd's words.
func (c *execCmd) arity(what string) error {
	return msgError(c.name + " " + what + ", " + c.help)
}

// TakeWords reads n words from args the way Apache's invoke_cmd does for
// TAKE1..TAKE3 (n calls of ap_getword_conf): words[i] is "" when the text
// ran out or the word was an empty quoted string, and more reports text
// left after them. Apache treats an empty word as a missing one (verified:
// `ServerAdmin ""` -> "ServerAdmin takes one argument, ..."; the same for
// a FLAG, `ProtocolsHonorOrder ""`), which SplitWords cannot show.
func TakeWords(args string, n int) (words []string, more bool) { return take(args, n) }

// take is TakeWords.
func take(args string, n int) (words []string, more bool) {
	rest := args
	for i := 0; i < n; i++ {
		w, r, _ := NextWord(rest)
		words = append(words, w)
		rest = r
	}
	return words, trimLeft(rest) != ""
}

func (ld *loader) include(st *stream, args string, pos Pos, optional bool) ([]*Node, error) {
	c := execCmds["include"]
	if optional {
		c = execCmds["includeoptional"]
	}
	w, more := take(args, 1)
	if w[0] == "" || more {
		return nil, c.arity("takes one argument")
	}
	if ld.noInclude {
		return nil, errorf("Could not open configuration file %s: Permission denied", ld.serverRootRelative(w[0]))
	}
	ld.includeDepth++
	if ld.includeDepth > maxIncludeDepth {
		ld.includeDepth = 0
		return nil, errorf("Exceeded maximum include depth of %d, There appears to be a recursion.", maxIncludeDepth)
	}
	chain := make([]Pos, 0, len(st.includes)+1)
	chain = append(append(chain, st.includes...), pos)
	nodes, err := ld.processConfigs(ld.serverRootRelative(w[0]), optional, chain)
	if err != nil {
		ld.includeDepth = 0
		return nil, err
	}
	if ld.includeDepth > 0 {
		ld.includeDepth--
	}
	return nodes, nil
}

func runDefine(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, more := take(args, 2)
	if w[0] == "" || more {
		return nil, execCmds["define"].arity("takes 1-2 arguments")
	}
	if strings.Contains(w[0], ":") {
		return nil, msgError("Variable name must not contain ':'")
	}
	if w[1] != "" {
		ld.vars.define(w[0], &w[1])
	} else {
		ld.vars.define(w[0], nil)
	}
	return nil, nil
}

func runUndefine(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, more := take(args, 1)
	if w[0] == "" || more {
		return nil, execCmds["undefine"].arity("takes one argument")
	}
	if strings.Contains(w[0], ":") {
		return nil, msgError("Variable name must not contain ':'")
	}
	ld.vars.undefine(w[0])
	return nil, nil
}

func runServerRoot(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, more := take(args, 1)
	if w[0] == "" || more {
		return nil, execCmds["serverroot"].arity("takes one argument")
	}
	// Unlike other paths, a relative ServerRoot is taken from the working
	// directory (apr_filepath_merge with no root), not from the old
	// ServerRoot.
	p, err := filepath.Abs(w[0])
	if err != nil {
		return nil, msgError("ServerRoot must be a valid directory")
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return nil, msgError("ServerRoot must be a valid directory")
	}
	ld.serverRoot = filepath.Clean(p)
	return nil, nil
}

// runRuntimeDir is DefaultRuntimeDir, which Apache also runs while reading:
// a directory relative to the ServerRoot of that moment.
func runRuntimeDir(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, more := take(args, 1)
	if w[0] == "" || more {
		return nil, execCmds["defaultruntimedir"].arity("takes one argument")
	}
	p := ld.serverRootRelative(w[0])
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return nil, msgError("DefaultRuntimeDir must be a valid directory, absolute or relative to ServerRoot")
	}
	ld.runtimeDir = filepath.Clean(p)
	return nil, nil
}

// apacheCompiledIn are the modules compiled into Debian's apache2 (apache2
// -l): they are always loaded, and LoadModule refuses those named mod_*.c.
var apacheCompiledIn = map[string]string{
	"core_module":       "core.c",
	"so_module":         "mod_so.c",
	"watchdog_module":   "mod_watchdog.c",
	"http_module":       "http_core.c",
	"log_config_module": "mod_log_config.c",
	"logio_module":      "mod_logio.c",
	"version_module":    "mod_version.c",
	"unixd_module":      "mod_unixd.c",
}

// ModuleSourceName is the name <IfModule> also accepts for a module
// identifier: its source file, mod_foo.c for foo_module, except Apache's
// MPMs, which are event.c, worker.c and prefork.c.
func ModuleSourceName(id string) string {
	if src, ok := apacheCompiledIn[id]; ok {
		return src
	}
	base := strings.TrimSuffix(id, "_module")
	if strings.HasPrefix(base, "mpm_") {
		return strings.TrimPrefix(base, "mpm_") + ".c"
	}
	return "mod_" + base + ".c"
}

func runLoadModule(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, more := take(args, 2)
	if w[0] == "" || w[1] == "" || more {
		return nil, execCmds["loadmodule"].arity("takes two arguments")
	}
	id, file := w[0], w[1]
	for _, m := range ld.modules {
		if m.ID == id {
			ld.warn(Warning{Pos: pos, Module: "so", Code: "AH01574",
				Msg: fmt.Sprintf("module %s is already loaded, skipping", id)})
			return nil, nil
		}
	}
	if src, ok := apacheCompiledIn[id]; ok && strings.HasPrefix(src, "mod_") {
		return nil, errorf("module %s is built-in and can't be loaded", id)
	}
	m := LoadedModule{ID: id, Source: ModuleSourceName(id), Path: ld.serverRootRelative(file), Pos: pos}
	if err := ld.checkSharedObject(file, m.Path); err != nil {
		return nil, err
	}
	ld.modules = append(ld.modules, m)
	ld.loaded[m.ID] = true
	ld.loaded[m.Source] = true
	return nil, nil
}

// runLoadFile accepts LoadFile: Plume loads no shared objects, and Apache's
// only read-time check is that each library loads.
func runLoadFile(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	w, rest, _ := NextWord(args)
	if w == "" {
		return nil, msgError("LoadFile requires at least one argument, " + execCmds["loadfile"].help)
	}
	for w != "" {
		if err := ld.checkSharedObject(w, ld.serverRootRelative(w)); err != nil {
			return nil, err
		}
		w, rest, _ = NextWord(rest)
	}
	return nil, nil
}

// checkSharedObject gives Apache's dlopen failure for a missing shared
// object when Options.CheckModuleFiles is set.
func (ld *loader) checkSharedObject(given, full string) error {
	if !ld.opts.CheckModuleFiles {
		return nil
	}
	if _, err := os.Stat(full); err != nil {
		return errorf("Cannot load %s into server: %s: cannot open shared object file: No such file or directory", given, full)
	}
	return nil
}

// serverRootRelative is ap_server_root_relative: relative paths are taken
// from the current ServerRoot; the result is cleaned as
// apr_filepath_merge does, keeping a trailing slash.
func (ld *loader) serverRootRelative(p string) string {
	var out string
	if filepath.IsAbs(p) {
		out = filepath.Clean(p)
	} else {
		out = filepath.Join(ld.serverRoot, p)
	}
	if strings.HasSuffix(p, "/") && out != "/" {
		out += "/"
	}
	return out
}
