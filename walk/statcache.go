package walk

import (
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// statCache keeps the stat of regular files the fast path opened, so that
// a steady-state walk costs the inotify drain's read(2) and the openat2
// that opens the file, and no fstat.
//
// Why a cached stat is exact: an entry is used only while every directory
// from / down to the file's is watched (a statDir lives only while those
// watches do). The walk drains inotify before it looks, and a watched
// directory reports IN_ATTRIB, IN_MODIFY, IN_CLOSE_WRITE, IN_CREATE,
// IN_DELETE and IN_MOVED_* for its entries, which drop the entry; a
// directory created, removed or renamed anywhere above drops every statDir
// below it. The descriptor served is still the one openat2 opened with
// RESOLVE_NO_SYMLINKS, so the symlink policy has no time-of-check gap;
// only the metadata comes from the cache: the same window Apache has
// between its walk's stat and its handler's open (its default handler
// trusts r->finfo), opened after the drain instead of before the stat.
//
// What inotify cannot see: writes through a shared mmap (mtime moves, the
// size cannot), a hard link made later and written through its other name
// (link(2) notifies only the inode's own watchers), and mounts. Files with
// more than one link are therefore never cached, and every entry is
// trusted for about a second only (the background reader's tick), which
// bounds those corner cases to one second of staleness at the cost of one
// fstat per file per second.
type statCache struct {
	watch *watcher
	mu    sync.RWMutex
	dirs  map[string]*statDir // directory (ending in '/') → its entries
	epoch uint64              // moves when everything is dropped (mu)
	count int                 // entries, bounded by maxCacheEntries
	// absentCount is the number of negative entries (statDir.absent),
	// bounded by maxAbsentEntries.
	absentCount int
	// unwatchable remembers directories prepare could not watch (budget
	// exhausted, no read permission) so a miss does not retry every time.
	unwatchable map[string]bool
}

// statDir holds the cached entries of one watched directory.
type statDir struct {
	files map[string]*statEntry
	// absent remembers names found missing (ENOENT), with the tick of
	// the lookup: see lookupAbsent. At most maxAbsentPerDir.
	absent map[string]uint32
	ver    uint64 // moves on every event about an entry (statCache.mu)
	dead   bool   // its watch, or one above, is gone
}

type statEntry struct {
	info *statInfo // shared by every result; never modified once stored
	tick uint32
}

// statToken carries what a fill must find unchanged to store its stat.
type statToken struct {
	d     *statDir
	ver   uint64
	epoch uint64
}

func newStatCache(w *watcher) *statCache {
	c := &statCache{watch: w, dirs: map[string]*statDir{}}
	w.onEntry, w.onLost, w.onDirAttr = c.entryChanged, c.lost, c.dirAttrChanged
	return c
}

// lookup returns the cached stat of the regular file p (after the drain),
// or a token for storing it after an fstat (d nil: not cacheable yet).
func (c *statCache) lookup(p string) (*statInfo, statToken) {
	i := strings.LastIndexByte(p, '/')
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := c.dirs[p[:i+1]]
	if d == nil {
		return nil, statToken{}
	}
	if e := d.files[p[i+1:]]; e != nil && e.tick == c.watch.tick.Load() {
		return e.info, statToken{}
	}
	return nil, statToken{d: d, ver: d.ver, epoch: c.epoch}
}

// store caches info for p, the file fstat()ed after the lookup that gave
// tok, unless an event about its directory was applied since. Without a
// token it prepares p's directory (watching it and every directory above)
// so that the next walk can store: this walk's descriptor may have been
// opened before the watches existed.
func (c *statCache) store(tok statToken, p string, info *statInfo) {
	if info.st.Nlink != 1 {
		return
	}
	i := strings.LastIndexByte(p, '/')
	dir, name := p[:i+1], p[i+1:]
	if tok.d == nil {
		c.prepareWatchable(dir)
		return
	}
	tick := c.watch.tick.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.currentLocked(tok) {
		return
	}
	if _, ok := tok.d.files[name]; !ok {
		if c.count >= maxCacheEntries {
			c.dropAllLocked()
			return
		}
		c.count++
	}
	tok.d.files[name] = &statEntry{info: info, tick: tick}
}

// prepareWatchable prepares dir unless it is known not to be watchable.
func (c *statCache) prepareWatchable(dir string) {
	c.mu.RLock()
	skip := c.unwatchable[dir]
	c.mu.RUnlock()
	if !skip {
		c.prepare(dir)
	}
}

// currentLocked reports whether no event about tok's directory (and no
// drop of the whole cache) was applied since tok was taken, so what the
// walk saw may be stored. c.mu must be held.
func (c *statCache) currentLocked(tok statToken) bool {
	return !tok.d.dead && tok.d.ver == tok.ver && c.epoch == tok.epoch
}

// prepare watches dir and every directory above it and then creates its
// statDir, both under the watcher's lock so that no watch can be lost in
// between unnoticed (a statDir lives only while those watches do).
func (c *statCache) prepare(dir string) {
	w := c.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	var calls int
	ok := w.addPathLocked(dir, &calls)
	free := ok && linkFreeDir(dir)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ok && !free:
		// A component is a symlink now (replaced since the caller's
		// walk): no statDir, whose entries would describe the target.
	case !ok:
		if c.unwatchable == nil || len(c.unwatchable) >= maxCacheEntries {
			c.unwatchable = map[string]bool{}
		}
		c.unwatchable[dir] = true
	case c.dirs[dir] == nil:
		c.dirs[dir] = &statDir{files: map[string]*statEntry{}}
	}
}

// Negative entries: a walk of a missing name (a MultiViews request, a
// client asking for random names) would otherwise cost an openat2 of the
// whole path, one of the parent and an openat of the name. A name found
// missing in a prepared directory is remembered while the directory lives
// (every level from / watched, the path proven free of symlinks when it
// was prepared) and no event has named it: IN_CREATE, IN_MOVED_TO (and
// every other event about the name) drop it, a directory replaced above
// drops the statDir, overflow drops everything. What inotify does not
// report is a change of search permission on a directory above the
// parent (its watch has no IN_ATTRIB): attribute events about
// directories drop every negative entry where they are seen, and like
// positive ones a negative entry is trusted until the next tick only.
//
// Hostile clients asking for random names would grow the maps without
// bound: a directory keeps maxAbsentPerDir names (all dropped when full)
// and the whole cache maxAbsentEntries (likewise).
const (
	maxAbsentPerDir  = 256
	maxAbsentEntries = 4096
)

// absentToken returns what storeAbsent needs to remember that name is
// missing in dir (ending in '/'): taken before the syscall that finds it
// missing, so an event applied in between refuses the store.
func (c *statCache) absentToken(dir string) statToken {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := c.dirs[dir]
	if d == nil {
		return statToken{}
	}
	return statToken{d: d, ver: d.ver, epoch: c.epoch}
}

// isAbsent reports whether name is known missing in dir (after the drain).
func (c *statCache) isAbsent(dir, name string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := c.dirs[dir]
	if d == nil {
		return false
	}
	t, ok := d.absent[name]
	return ok && t == c.watch.tick.Load()
}

// storeAbsent remembers that name was missing in dir, which the caller
// reached through directories only (no symlink), unless an event about
// dir was applied since tok was taken. Without a token it prepares dir,
// as store does.
func (c *statCache) storeAbsent(tok statToken, dir, name string) {
	if tok.d == nil {
		c.prepareWatchable(dir)
		return
	}
	tick := c.watch.tick.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.currentLocked(tok) {
		return
	}
	d := tok.d
	if _, ok := d.absent[name]; !ok {
		switch {
		case c.absentCount >= maxAbsentEntries:
			c.dropAbsentLocked()
		case len(d.absent) >= maxAbsentPerDir:
			c.absentCount -= len(d.absent)
			d.absent = nil
		}
		if d.absent == nil {
			d.absent = map[string]uint32{}
		}
		c.absentCount++
		name = strings.Clone(name) // not a slice of the request's path
	}
	d.absent[name] = tick
}

// dropAbsentLocked forgets every negative entry.
func (c *statCache) dropAbsentLocked() {
	for _, d := range c.dirs {
		d.absent = nil
	}
	c.absentCount = 0
}

// dirAttrChanged is the watcher's hook for an attribute change of a
// watched directory or of a subdirectory of one: search permission may
// have changed on a path negative entries were found through.
func (c *statCache) dirAttrChanged() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.absentCount > 0 {
		c.dropAbsentLocked()
	}
}

// linkFreeDir reports whether dir names a directory through directories
// only. The caller found it so before the watches existed; checked again
// once they do, any later replacement of a component is an event that
// drops the statDir, so its entries (negative ones above all, which no
// open verifies) never describe a path through a symlink.
func linkFreeDir(dir string) bool {
	if openat2Missing.Load() {
		return false
	}
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, dir, &how)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// entryChanged is the watcher's hook for an event about name in dir.
func (c *statCache) entryChanged(dir string, name []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirs[dir]
	if d == nil {
		return
	}
	d.ver++
	if _, ok := d.files[string(name)]; ok {
		delete(d.files, string(name))
		c.count--
	}
	if _, ok := d.absent[string(name)]; ok {
		delete(d.absent, string(name))
		c.absentCount--
	}
}

// lost is the watcher's hook for watches gone at or below prefix ("": all).
func (c *statCache) lost(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prefix == "" {
		c.dropAllLocked()
		return
	}
	for k, d := range c.dirs {
		if strings.HasPrefix(k, prefix) {
			d.dead = true
			c.count -= len(d.files)
			c.absentCount -= len(d.absent)
			delete(c.dirs, k)
		}
	}
}

func (c *statCache) dropAllLocked() {
	for _, d := range c.dirs {
		d.dead = true
	}
	c.dirs = map[string]*statDir{}
	c.count = 0
	c.absentCount = 0
	c.epoch++
}
