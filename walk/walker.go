package walk

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"plume/config"
	"plume/directives"
	"plume/parser"
)

// maxCacheEntries bounds each merged-result cache; when full it is
// emptied (a generation of requests refills it).
const maxCacheEntries = 1 << 16

// Walker computes per-request configuration for one config generation and
// holds that generation's caches. It is safe for concurrent use.
type Walker struct {
	cfg *config.Config
	// gen changes when cached .htaccess data is dropped.
	gen   atomic.Uint64
	ht    *htCache
	watch *watcher   // nil without inotify
	stats *statCache // nil without inotify

	mu       sync.RWMutex
	dirs     map[dirKey]*dirState
	finals   map[finalKey]*finalState
	hints    map[string]pathHint // path → where its first symlink or missing entry is
	rootFd   int
	useProcF bool
	async    bool
}

type dirKey struct {
	srv *config.Server
	dir string
}

// dirState is the merged configuration after a directory's sections and
// its .htaccess (one step of ap_directory_walk's loop).
type dirState struct {
	dir    string
	parent *dirState
	vec    directives.Vector
	gen    uint64
	// Status is non-zero when this level (or one above) failed: a broken
	// or unreadable .htaccess.
	status int
	log    []LogLine
	// onceLog holds lines for the first request that uses this state only
	// (onceSent): Plume's own warnings about the access file.
	onceLog  []LogLine
	onceSent atomic.Bool
	notes    map[string]string
	// trace data for this level only
	sections []TraceSection
	ht       *TraceHtaccess
	// apacheOpens is the number of access-file opens Apache makes here.
	apacheOpens int
	// unwatched is set when this level or one above used an .htaccess
	// lookup that no inotify watch covers: a cache hit must re-stat.
	unwatched bool
	htWatched bool
	// followAll: FollowSymLinks without SymLinksIfOwnerMatch holds here
	// and in every directory above.
	followAll bool
	// fileAsDir: this level is a file's name taken for a directory
	// (fileLevel); no .htaccess is looked for.
	fileAsDir bool
	// fileLevels caches the fileLevel states of files in this directory
	// (guarded by Walker.mu); they live and die with this state.
	fileLevels map[string]*dirState
}

// stillValid re-stats the unwatched access files of ds and its ancestors;
// a change drops the cached lookup (bumping the generation).
func (w *Walker) stillValid(srv *config.Server, ds *dirState, calls *int) bool {
	for s := ds; s != nil; s = s.parent {
		if s.ht != nil && !s.htWatched && !w.ht.validate(s.dir, srv.AccessFileNames, calls) {
			return false
		}
	}
	return true
}

type finalKey struct {
	srv      *config.Server
	filename string
	kind     uint8 // 0 missing, 1 file, 2 dir
	uri      string
}

// finalState is the result of the regex Directory, Files and Location
// steps on top of a dirState.
type finalState struct {
	dir      *dirState
	vec      directives.Vector
	env      map[string]string
	sections []TraceSection
	status   int
	log      []LogLine
}

// Options tunes a Walker.
type Options struct {
	// MaxWatches bounds inotify watches (DefaultMaxWatches when 0; no
	// watches at all when negative, so every cached .htaccess is
	// revalidated with stat).
	MaxWatches int
	// ParseHtaccess parses one access file; nil means parser.ParseHtaccess
	// with the configuration's tree and options.
	ParseHtaccess func(path string, data []byte) ([]*parser.Node, error)
	// AsyncInvalidation leaves inotify events to the background reader
	// instead of draining them at the start of every walk. It saves one
	// read(2) per request, at the price of a window of microseconds in
	// which a just-saved .htaccess (or a changed file's size and date) is
	// not yet honoured. Off by default: a change counts from the next
	// request.
	AsyncInvalidation bool
}

// New returns a Walker for cfg.
func New(cfg *config.Config) *Walker { return NewWithOptions(cfg, Options{}) }

// NewWithOptions returns a Walker for cfg with explicit options.
func NewWithOptions(cfg *config.Config, opts Options) *Walker {
	w := &Walker{cfg: cfg, async: opts.AsyncInvalidation, dirs: map[dirKey]*dirState{}, finals: map[finalKey]*finalState{}, hints: map[string]pathHint{}}
	parse := opts.ParseHtaccess
	if parse == nil {
		popts := cfg.Options
		if popts.Builtin == nil {
			// A config built with FromTree carries no parser options:
			// <IfModule> in .htaccess still counts Plume's own modules and
			// Apache's compiled-in ones as loaded, as for the main config.
			popts.Builtin = func(name string) bool {
				if _, ok := directives.Implemented(name); ok {
					return true
				}
				return directives.IsStatic(name)
			}
		}
		parse = func(p string, data []byte) ([]*parser.Node, error) {
			return parser.ParseHtaccess(p, data, cfg.Tree, popts)
		}
	}
	max := opts.MaxWatches
	if max == 0 {
		max = DefaultMaxWatches
	} else if max < 0 {
		max = 0
	}
	names := map[string]bool{}
	for _, srv := range append([]*config.Server{cfg.Main}, cfg.VHosts...) {
		if srv == nil {
			continue
		}
		for _, n := range srv.AccessFileNames {
			names[n] = true
		}
	}
	w.watch = newWatcher(max)
	w.ht = newHTCache(&w.gen, parse, w.watch, names)
	if w.watch != nil {
		w.stats = newStatCache(w.watch)
		w.watch.start()
	}
	w.rootFd, w.useProcF = openRoot()
	return w
}

// Close releases the inotify instance and descriptors (WatchDir callers
// are told their watches are lost). Walks in flight must have finished.
func (w *Walker) Close() error {
	if w.watch != nil {
		w.watch.close()
	}
	closeRoot(w.rootFd)
	return nil
}

// WatchDir asks for onChange(dir) to be called whenever an entry of dir is
// created, deleted, renamed, modified or has its attributes changed, and
// when the watch is lost (queue overflow, directory removed, walker
// closed). Calls happen while the walk drains inotify at the start of a
// walk (so, with default options, before the next Walk returns after the
// change is visible) or from the background reader with
// AsyncInvalidation. It returns false when no watch covers dir (watch
// limit reached, inotify unavailable, MaxWatches < 0); the caller must
// then validate by itself (e.g. stat).
//
// dir is a clean absolute path, with or without the trailing '/'. Several
// callbacks may watch one directory. Registering the same func value
// again (the same variable, not a new closure) is a cheap no-op that
// allocates nothing, so a cache may call WatchDir on every fill with a
// func it stored once. A registration lasts while the watch does: after
// a call for a lost watch (the directory was removed or renamed, or a
// directory above it was; the walker was closed) WatchDir must be called
// again, which a cache that re-registers on every fill does by itself.
// Overflow calls every callback but keeps the registrations.
//
// onChange runs with the walker's drain lock held: it must be quick and
// must not call Walk (WatchDir is fine) nor wait for anything that is
// held while calling Walk.
func (w *Walker) WatchDir(dir string, onChange func(dir string)) bool {
	if w.watch == nil || onChange == nil || dir == "" || dir[0] != '/' || len(dir) > maxPathLen {
		return false
	}
	var calls int
	return w.watch.watchDir(dir, onChange, &calls)
}

// Config returns the configuration the walker serves.
func (w *Walker) Config() *config.Config { return w.cfg }

// Walk computes the configuration for a request on server srv with the
// decoded URI and the filename translation mapped it to: Apache's
// ap_directory_walk, ap_file_walk and ap_location_walk. The caller owns
// the returned File (Result.Close).
func (w *Walker) Walk(srv *config.Server, uri, filename string) *Result {
	return w.walk(srv, uri, filename, nil, false)
}

// WalkSynced is Walk for a request that continues a client request an
// earlier Walk already served (a sub-request, an internal redirect): it
// skips the inotify drain that starts a Walk, so a client request costs
// one drain however many walks it makes. A change made after that first
// walk began counts from the next client request, as Apache's stat of a
// file it already looked at in the same request would not see it either.
func (w *Walker) WalkSynced(srv *config.Server, uri, filename string) *Result {
	return w.walk(srv, uri, filename, nil, true)
}

// Explain is Walk with a trace of everything the walk did.
func (w *Walker) Explain(srv *config.Server, uri, filename string) *Result {
	return w.walk(srv, uri, filename, &Trace{}, false)
}

// LocationWalk merges the <Location> sections matching uri over base
// (srv.Defaults when nil): the walk Apache runs before translate_name.
func (w *Walker) LocationWalk(srv *config.Server, uri string, base directives.Vector) (directives.Vector, map[string]string) {
	if base == nil {
		base = srv.Defaults
	}
	var env map[string]string
	vec := base
	for _, s := range srv.Locations {
		if ok, caps := matchLocation(s, uri); ok {
			vec = directives.MergeDirs(vec, s.Config)
			env = addEnv(env, caps)
		}
	}
	return vec, env
}

func addEnv(env, caps map[string]string) map[string]string {
	if len(caps) == 0 {
		return env
	}
	if env == nil {
		env = map[string]string{}
	}
	for k, v := range caps {
		env["MATCH_"+k] = v
	}
	return env
}

// matchLocation is ap_location_walk's test for one section.
func matchLocation(s *config.Section, uri string) (bool, map[string]string) {
	switch {
	case s.Regex != nil:
		caps := s.Regex.NamedMatches(uri)
		return caps != nil, caps
	case s.Wildcard:
		return config.FnMatch(s.Path, uri), nil
	default:
		d := s.Path
		if !strings.HasPrefix(uri, d) {
			return false, nil
		}
		if len(d) > 0 && d[len(d)-1] != '/' && len(uri) > len(d) && uri[len(d)] != '/' {
			return false, nil
		}
		return true, nil
	}
}

// fileLevel reproduces the first optimisation of Apache's
// ap_directory_walk: when the whole path stat()ed and the options in force
// in the file's directory are FollowSymLinks without SymLinksIfOwnerMatch,
// Apache skips the lstat of the remaining components and takes each for a
// directory, so the file's own name with '/' appended is one more level:
// <Directory /x/f.txt> and <Directory /x/w/*> apply to files ("DirectoryMatch
// matches files", PR 41867, observed on 2.4.71 in conformance case
// walk/directory-matches-file). With SymLinksIfOwnerMatch the lstat shows a
// file and the walk stops at its directory.
func (w *Walker) fileLevel(srv *config.Server, ds *dirState, file string, gen uint64, calls *int) *dirState {
	if ds.status != 0 || config.Core(ds.vec).Opts&(config.OptSymLinks|config.OptSymOwner) != config.OptSymLinks {
		return ds
	}
	// The file's level hangs off the directory state just computed, so a
	// rebuilt parent (after an .htaccess change) starts with no stale ones.
	// Kept on the parent, keyed by the base name (a substring of file, so
	// the steady-state lookup allocates nothing).
	name := file[strings.LastIndexByte(file, '/')+1:]
	w.mu.RLock()
	fs := ds.fileLevels[name]
	w.mu.RUnlock()
	if fs != nil {
		return fs
	}
	fs = &dirState{dir: file + "/", parent: ds, vec: ds.vec, gen: ds.gen, fileAsDir: true, unwatched: ds.unwatched}
	w.applyLevel(srv, fs, calls)
	fs.followAll = ds.followAll && config.Core(fs.vec).Opts&(config.OptSymLinks|config.OptSymOwner) == config.OptSymLinks
	w.mu.Lock()
	if ds.fileLevels == nil || len(ds.fileLevels) >= maxCacheEntries {
		ds.fileLevels = map[string]*dirState{}
	}
	ds.fileLevels[name] = fs
	w.mu.Unlock()
	return fs
}

// dirStateFor returns the merged state after dir (ending in '/') for srv,
// computing and caching it and its ancestors as needed.
func (w *Walker) dirStateFor(srv *config.Server, dir string, gen uint64, calls *int) *dirState {
	k := dirKey{srv, dir}
	w.mu.RLock()
	ds := w.dirs[k]
	w.mu.RUnlock()
	if ds != nil && ds.gen == gen {
		if !ds.unwatched || w.stillValid(srv, ds, calls) {
			return ds
		}
		gen = w.gen.Load()
	}
	var parent *dirState
	var base directives.Vector
	if dir == "/" {
		base = srv.Defaults
	} else {
		parent = w.dirStateFor(srv, parentDir(dir), gen, calls)
		base = parent.vec
	}
	ds = &dirState{dir: dir, parent: parent, vec: base, gen: gen}
	if parent != nil {
		ds.unwatched = parent.unwatched
	}
	if parent != nil && parent.status != 0 {
		ds.status = parent.status
	} else {
		w.applyLevel(srv, ds, calls)
	}
	opts := config.Core(ds.vec).Opts
	ds.followAll = (parent == nil || parent.followAll) && opts&(config.OptSymLinks|config.OptSymOwner) == config.OptSymLinks
	w.mu.Lock()
	if len(w.dirs) >= maxCacheEntries {
		w.dirs = map[dirKey]*dirState{}
	}
	w.dirs[k] = ds
	w.mu.Unlock()
	return ds
}

// parentDir returns the parent of a directory path ending in '/'.
func parentDir(dir string) string {
	i := strings.LastIndexByte(dir[:len(dir)-1], '/')
	return dir[:i+1]
}

// applyLevel merges the non-regex Directory sections of dir and then its
// .htaccess (ap_directory_walk steps 3b and 3c).
func (w *Walker) applyLevel(srv *config.Server, ds *dirState, calls *int) {
	dir := ds.dir
	comps := 0
	if dir != "/" {
		comps = strings.Count(dir, "/")
	}
	for _, s := range srv.Dirs {
		if s.Regex != nil {
			break // regex sections sort last
		}
		if s.Components != comps {
			continue
		}
		if comps == 0 || s.Path == dir || (s.Wildcard && config.FnMatch(s.Path, dir)) {
			ds.vec = directives.MergeDirs(ds.vec, s.Config)
			ds.sections = append(ds.sections, TraceSection{Kind: "Directory", Path: s.Path, File: s.Pos.File, Line: s.Pos.Line})
		}
	}
	core := config.Core(ds.vec)
	if ds.fileAsDir || (core.Override == 0 && len(core.OverrideList) == 0) {
		return
	}
	names := srv.AccessFileNames
	if len(names) == 0 {
		return
	}
	e, cached := w.ht.lookup(dir, names, calls)
	ds.htWatched = e.watched
	if !e.watched {
		ds.unwatched = true
	}
	ds.ht = &TraceHtaccess{Dir: dir, File: e.path, Cached: cached}
	ds.apacheOpens = len(names)
	if e.path != "" {
		ds.apacheOpens = 1 + indexOf(names, path.Base(e.path))
	}
	switch {
	case e.status == 403:
		ds.status = 403
		if e.notRegular {
			ds.log = append(ds.log, LogLine{Module: "core", Level: "error", Code: "AH00554",
				Msg: fmt.Sprintf("Access to file %s denied by server: not a regular file", e.path)})
		}
		ds.log = append(ds.log, LogLine{Module: "core", Level: "crit", Code: "AH00529", Errno: e.errno,
			Msg: fmt.Sprintf("%s pcfg_openfile: unable to check htaccess file, ensure it is readable and that '%s' is executable", e.path, dir)})
		ds.notes = map[string]string{"error-notes": "Server unable to read htaccess file, denying access to be safe"}
		ds.ht.Err = "unreadable"
		return
	case e.status != 0:
		ds.status = e.status
		ds.log = append(ds.log, LogLine{Module: "core", Level: "alert", Msg: e.path + ": " + e.errMsg})
		ds.ht.Err = e.errMsg
		return
	case e.path == "":
		return
	}
	g := &directives.Config{}
	if w.cfg.Dirs != nil {
		g.Loaded = w.cfg.Dirs.Loaded
	}
	c := &directives.Cmd{
		Override:     core.Override,
		OverrideOpts: core.OverrideOpts,
		OverrideList: core.OverrideList,
		Path:         dir,
		Limited:      directives.LimitAll,
		Htaccess:     true,
		Server:       srv.Server,
		Dir:          directives.NewVector(),
		Global:       g,
	}
	if err := directives.Walk(e.nodes, c); err != nil {
		msg := err.Error()
		if pe, ok := err.(*parser.Error); ok {
			msg = pe.Msg
		}
		ds.status = 500
		ds.log = append(ds.log, LogLine{Module: "core", Level: "alert", Msg: e.path + ": " + msg})
		ds.ht.Err = msg
		return
	}
	firstUse := e.plumeWarned.CompareAndSwap(false, true)
	for _, wn := range g.Warnings {
		line := LogLine{Module: "core", Level: "warn", Code: wn.Code, Msg: wn.Msg}
		switch {
		case wn.Module != "plume":
			ds.log = append(ds.log, line)
		case firstUse:
			line.Module = "plume"
			ds.onceLog = append(ds.onceLog, line)
		}
	}
	ds.vec = directives.MergeDirs(ds.vec, c.Dir)
	ds.sections = append(ds.sections, TraceSection{Kind: ".htaccess", Path: e.path, File: e.path})
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return len(list) - 1
}

// finalFor applies regex Directory sections (on filename), Files (on its
// base name) and Location (on uri) over ds, and checks <If> sections.
func (w *Walker) finalFor(srv *config.Server, ds *dirState, filename string, kind uint8, uri string, gen uint64) *finalState {
	k := finalKey{srv, filename, kind, uri}
	w.mu.RLock()
	fs := w.finals[k]
	w.mu.RUnlock()
	if fs != nil && fs.dir == ds && ds.gen == gen {
		return fs
	}
	fs = &finalState{dir: ds, vec: ds.vec}
	// Regex Directory sections, in config order, on the full filename.
	for _, s := range srv.Dirs {
		if s.Regex == nil {
			continue
		}
		if caps := s.Regex.NamedMatches(filename); caps != nil {
			fs.vec = directives.MergeDirs(fs.vec, s.Config)
			fs.env = addEnv(fs.env, caps)
			fs.sections = append(fs.sections, TraceSection{Kind: "DirectoryMatch", Path: s.Path, File: s.Pos.File, Line: s.Pos.Line})
		}
	}
	// Files on the base name, over the sec_file list accumulated so far.
	base := filename[strings.LastIndexByte(filename, '/')+1:]
	for _, s := range config.Core(fs.vec).Files {
		var ok bool
		var caps map[string]string
		switch {
		case s.Regex != nil:
			caps = s.Regex.NamedMatches(base)
			ok = caps != nil
		case s.Wildcard:
			ok = config.FnMatch(s.Path, base)
		default:
			ok = s.Path == base
		}
		if ok {
			fs.vec = directives.MergeDirs(fs.vec, s.Config)
			fs.env = addEnv(fs.env, caps)
			fs.sections = append(fs.sections, TraceSection{Kind: "Files", Path: s.Path, File: s.Pos.File, Line: s.Pos.Line})
		}
	}
	for _, s := range srv.Locations {
		if ok, caps := matchLocation(s, uri); ok {
			fs.vec = directives.MergeDirs(fs.vec, s.Config)
			fs.env = addEnv(fs.env, caps)
			fs.sections = append(fs.sections, TraceSection{Kind: "Location", Path: s.Path, File: s.Pos.File, Line: s.Pos.Line})
		}
	}
	for _, ifs := range config.Core(fs.vec).Ifs {
		if ifs.Restricts {
			fs.status = 500
			fs.log = append(fs.log, LogLine{Module: "core", Level: "error",
				Msg: fmt.Sprintf("<%s> at %s:%d holds access directives and Plume does not evaluate expressions: denying (fail closed)", ifs.Kind, ifs.Pos.File, ifs.Pos.Line)})
			break
		}
	}
	w.mu.Lock()
	if len(w.finals) >= maxCacheEntries {
		w.finals = map[finalKey]*finalState{}
	}
	w.finals[k] = fs
	w.mu.Unlock()
	return fs
}
