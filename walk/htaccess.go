package walk

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"plume/parser"
)

// maxHtaccessSize bounds how much of one .htaccess file is read; Apache has
// no such limit, but a multi-megabyte access file is an attack, not a
// configuration.
const maxHtaccessSize = 4 << 20

// DefaultMaxWatches bounds the inotify watches one Walker holds (the
// directories of cached .htaccess lookups, of cached file stats and of
// WatchDir callers, and every directory above them); past it, cached
// .htaccess entries are validated with fstatat instead and file stats are
// not cached.
const DefaultMaxWatches = 4096

// htEntry is the cached outcome of looking for access files in one
// directory: the parsed nodes of the first name that exists, or nothing.
type htEntry struct {
	path  string         // file used, "" when none exists
	nodes []*parser.Node // parsed directives
	// errMsg is a parse error (500, logged at alert as "path: msg"); a
	// non-zero status with errCode is a read failure (403, AH00529).
	errMsg  string
	status  int
	errCode string
	errno   syscall.Errno
	// notRegular: the name exists but is not a regular file (AH00554).
	notRegular bool
	// watched says an inotify watch covers the directory; otherwise the
	// entry is revalidated by stat on every use.
	watched bool
	stamps  []fileStamp // per access name, for unwatched validation
	// plumeWarned is set once Plume's own warnings about this version of
	// the file (directives it does not implement) have been logged: they
	// say something about the file, not the request, so they are logged
	// once per parse. Apache's own warnings stay per request, as Apache
	// parses the file on every request.
	plumeWarned atomic.Bool
}

// fileStamp identifies a file version (or its absence) cheaply.
type fileStamp struct {
	exists bool
	dev    uint64
	ino    uint64
	size   int64
	mtime  unix.Timespec
	ctime  unix.Timespec
}

func stampOf(path string) fileStamp {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileStamp{}
	}
	return fileStamp{exists: true, dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
}

// htCache caches access-file lookups per (directory, names) and keeps them
// current with inotify watches on the directories.
type htCache struct {
	mu      sync.Mutex
	entries map[string]*htEntry // key: dir + "\x00" + names
	byDir   map[string][]string // dir → keys, for invalidation
	// versions counts invalidations per directory, and epoch those of the
	// whole cache: a lookup whose directory was invalidated while it was
	// reading the file must not cache what it read.
	versions map[string]uint64
	epoch    uint64

	watch *watcher
	// gen changes whenever any cached entry is dropped, so that merged
	// results built from it are rebuilt.
	gen *atomic.Uint64

	parse   func(path string, data []byte) ([]*parser.Node, error)
	counter *int // syscall counter of the current walk (under mu)
}

// newHTCache returns a cache kept current by watch (nil: validated by
// stat); it installs its hooks in watch.
func newHTCache(gen *atomic.Uint64, parse func(string, []byte) ([]*parser.Node, error), watch *watcher, names map[string]bool) *htCache {
	c := &htCache{entries: map[string]*htEntry{}, byDir: map[string][]string{}, versions: map[string]uint64{}, gen: gen, parse: parse}
	if watch != nil {
		c.watch = watch
		watch.onDir, watch.onAll, watch.relevant = c.invalidateDir, c.invalidateAll, names
	}
	return c
}

func (c *htCache) invalidateDir(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropDirLocked(dir)
}

func (c *htCache) dropDirLocked(dir string) {
	if len(c.versions) >= maxCacheEntries {
		// Bounded: forget the per-directory counts and move the epoch,
		// which voids every lookup in flight instead.
		c.versions = map[string]uint64{}
		c.epoch++
	}
	c.versions[dir]++
	if keys, ok := c.byDir[dir]; ok {
		for _, k := range keys {
			delete(c.entries, k)
		}
		delete(c.byDir, dir)
		c.gen.Add(1)
	}
}

func (c *htCache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]*htEntry{}
	c.byDir = map[string][]string{}
	c.epoch++
	c.gen.Add(1)
}

// sync applies pending inotify events, so a change already visible in the
// filesystem is honoured by the walk that follows. It costs one
// non-blocking read when watches exist, nothing otherwise.
func (c *htCache) sync(calls *int) {
	if c.watch != nil {
		c.watch.drain(calls)
	}
}

// lookup returns the access file of dir (with trailing '/'), reading and
// parsing it on a cache miss. calls counts the syscalls made.
func (c *htCache) lookup(dir string, names []string, calls *int) (e *htEntry, cached bool) {
	key := dir + "\x00" + strings.Join(names, "\x00")
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		if e.watched {
			return e, true
		}
		if c.stampsCurrent(dir, names, e.stamps, calls) {
			return e, true
		}
		c.invalidateDir(dir)
	}
	c.mu.Lock()
	version, epoch := c.versions[dir], c.epoch
	c.mu.Unlock()
	// Watch before reading: an edit after the read is then always seen.
	watched := c.watch != nil && c.watch.add(dir, calls)
	e = c.load(dir, names, calls)
	e.watched = watched
	if !watched {
		e.stamps = make([]fileStamp, len(names))
		for i, n := range names {
			e.stamps[i] = stampOf(dir + n)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.versions[dir] != version || c.epoch != epoch {
		// Invalidated while we read: use this result once, cache nothing.
		return e, false
	}
	if _, dup := c.entries[key]; !dup {
		c.byDir[dir] = append(c.byDir[dir], key)
	}
	c.entries[key] = e
	return e, false
}

// validate reports whether the cached lookup of dir is current; when it
// is not (or is gone) the entry is dropped.
func (c *htCache) validate(dir string, names []string, calls *int) bool {
	key := dir + "\x00" + strings.Join(names, "\x00")
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		return false
	}
	if e.watched || c.stampsCurrent(dir, names, e.stamps, calls) {
		return true
	}
	c.invalidateDir(dir)
	return false
}

func (c *htCache) stampsCurrent(dir string, names []string, stamps []fileStamp, calls *int) bool {
	for i, n := range names {
		*calls++
		if stampOf(dir+n) != stamps[i] {
			return false
		}
	}
	return true
}

// load is ap_parse_htaccess for one directory: the first access file name
// that exists is parsed; ENOENT and ENOTDIR mean "none"; other failures
// deny (403, AH00529).
func (c *htCache) load(dir string, names []string, calls *int) *htEntry {
	for _, n := range names {
		path := dir + n
		*calls++
		// O_NONBLOCK: a FIFO named .htaccess must not hang the walk.
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				continue
			}
			errno, _ := err.(syscall.Errno)
			return &htEntry{path: path, status: 403, errCode: "AH00529", errno: errno}
		}
		var st unix.Stat_t
		*calls++
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			unix.Close(fd)
			// Apache reports EBADF here: its read of the refused file fails.
			return &htEntry{path: path, status: 403, errCode: "AH00529", notRegular: err == nil, errno: unix.EBADF}
		}
		f := os.NewFile(uintptr(fd), path)
		data, err := io.ReadAll(io.LimitReader(f, maxHtaccessSize+1))
		*calls += 2
		f.Close()
		if err != nil {
			return &htEntry{path: path, status: 403, errCode: "AH00529"}
		}
		if len(data) > maxHtaccessSize {
			return &htEntry{path: path, errMsg: "htaccess file too large (Plume limit 4 MiB)", status: 500}
		}
		nodes, err := c.parse(path, data)
		if err != nil {
			msg := err.Error()
			var pe *parser.Error
			if errors.As(err, &pe) {
				msg = pe.Msg
			}
			return &htEntry{path: path, errMsg: msg, status: 500}
		}
		return &htEntry{path: path, nodes: nodes}
	}
	return &htEntry{}
}
