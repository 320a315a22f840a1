package negotiation

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A cached entry of a directory no inotify watch covers is trusted only
// while its file's identity (inode, size, mtime, ctime) is unchanged,
// checked with one stat per use. An entry read
// within racyWindow of the file's last change is not trusted: a change in
// the same timestamp tick would otherwise go unnoticed (git's "racy" rule).
const racyWindow = 2 * time.Second

type fileStamp struct {
	ino, dev     uint64
	size         int64
	mtime, ctime int64
}

func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino, st.dev = uint64(sys.Ino), uint64(sys.Dev)
		st.ctime = time.Unix(int64(sys.Ctim.Sec), int64(sys.Ctim.Nsec)).UnixNano()
	}
	return st
}

func (s fileStamp) racy(readAt time.Time) bool {
	return readAt.UnixNano()-s.mtime < int64(racyWindow)
}

var statFile = os.Stat

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// maxCachedEntries bounds each cache; when full it is simply emptied (the
// working set of negotiated directories is small).
const maxCachedEntries = 4096

// DirWatcher tells the caches when a directory changes, so that a cached
// listing or type map is used without any system call. *walk.Walker
// satisfies it: the walk drains its inotify queue at the start of every
// request, so a change visible before a request starts is honoured by it.
type DirWatcher interface {
	// WatchDir asks for onChange(dir) whenever an entry of dir is
	// created, deleted, renamed, modified or has its attributes changed,
	// and when the watch is lost. It returns false when no watch covers
	// dir: the caller then validates by itself (stat).
	WatchDir(dir string, onChange func(dir string)) bool
}

// Directory entry types, as getdents64 reports them (d_type).
const (
	dtUnknown = 0
	dtDir     = 4
	dtReg     = 8
	dtLnk     = 10
)

type dirEntry struct {
	name string
	typ  uint8
	ino  uint64
}

// isDir is what Go's ReadDir said before: d_type, or lstat when the file
// system does not fill it in.
func (e *dirEntry) isDir() bool { return e.typ == dtDir }

type dirListing struct {
	// watched: an inotify watch covers the directory, so the listing is
	// current until invalidated; otherwise stamp validates it per use.
	watched bool
	stamp   fileStamp
	trusted bool
	entries []dirEntry
	// mtime is the directory's, which Apache's variant list validator
	// is made from (the missing file's finfo is its directory's).
	mtime time.Time
	// memo lives and dies with a watched listing: the host keeps there
	// what a variant's lookup found that depends only on the directory's
	// content and the configuration (nil for unwatched listings, whose
	// stat would not see a variant's content change).
	memo *Memo
}

// dirCache caches directory listings for MultiViews. versions counts
// invalidations per directory, so that a listing read while a change was
// being reported is not kept (it could predate the change).
type dirCache struct {
	mu       sync.Mutex
	m        map[string]*dirListing
	versions map[string]uint64
	epoch    uint64
}

func newDirCache() *dirCache {
	return &dirCache{m: map[string]*dirListing{}, versions: map[string]uint64{}}
}

func (c *dirCache) invalidate(dir string) {
	c.mu.Lock()
	delete(c.m, dir)
	if len(c.versions) >= maxCachedEntries {
		// Bounded: forget the counts and move the epoch, which voids
		// every read in flight instead.
		c.versions = map[string]uint64{}
		c.epoch++
	}
	c.versions[dir]++
	c.mu.Unlock()
}

// version identifies the invalidation state of dir (under c.mu).
func (c *dirCache) versionLocked(dir string) [2]uint64 {
	return [2]uint64{c.epoch, c.versions[dir]}
}

// maxDirEntries bounds one listing, so a huge directory cannot exhaust
// memory through MultiViews.
const maxDirEntries = 1 << 20

// list returns dir's listing, entries in the directory's own order (as
// readdir returns them, which decides which type map wins when there are
// several). A watched listing costs no system call; an unwatched one a
// stat of the directory.
func (c *dirCache) list(dir string, w DirWatcher, onChange func(string)) (*dirListing, error) {
	c.mu.Lock()
	l := c.m[dir]
	ver := c.versionLocked(dir)
	c.mu.Unlock()
	if l != nil && l.watched {
		return l, nil
	}
	var st fileStamp
	if l != nil {
		// Unwatched: valid while the directory's stamp is unchanged.
		fi, err := statFile(dir)
		if err != nil {
			return nil, err
		}
		st = stampOf(fi)
		if l.trusted && l.stamp == st {
			return l, nil
		}
	}
	// (Re)read. The watch is asked for first, so that a change after it
	// is reported; only then is the directory read.
	watched := w != nil && w.WatchDir(dir, onChange)
	if !watched && l == nil {
		fi, err := statFile(dir)
		if err != nil {
			return nil, err
		}
		st = stampOf(fi)
	}
	now := time.Now()
	entries, mtime, err := readDirEntries(dir)
	if err != nil {
		return nil, err
	}
	nl := &dirListing{watched: watched, stamp: st, trusted: !watched && !st.racy(now), entries: entries, mtime: mtime}
	if watched {
		nl.memo = &Memo{}
	}
	c.mu.Lock()
	if c.versionLocked(dir) == ver {
		if len(c.m) >= maxCachedEntries {
			c.m = map[string]*dirListing{}
		}
		c.m[dir] = nl
	}
	c.mu.Unlock()
	return nl, nil
}

// readDirEntries reads dir with getdents64, keeping each entry's type and
// inode (the inode lets the host notice a listing that no longer matches
// the file it serves).
func readDirEntries(dir string) ([]dirEntry, time.Time, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, time.Time{}, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	var dst unix.Stat_t
	if err := unix.Fstat(fd, &dst); err != nil {
		return nil, time.Time{}, &os.PathError{Op: "fstat", Path: dir, Err: err}
	}
	mtime := time.Unix(dst.Mtim.Sec, dst.Mtim.Nsec)
	var entries []dirEntry
	buf := make([]byte, 32<<10)
	for len(entries) < maxDirEntries {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, time.Time{}, &os.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			break
		}
		b := buf[:n]
		for len(b) >= 19 {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			ino := binary.NativeEndian.Uint64(b[0:8])
			typ := b[18]
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if ino == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			e := dirEntry{name: string(name), typ: typ, ino: ino}
			if typ == dtUnknown {
				var st unix.Stat_t
				if unix.Fstatat(fd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
					e.typ = dtDir
				}
			}
			entries = append(entries, e)
		}
	}
	return entries, mtime, nil
}

// Memo is a small store that lives exactly as long as one watched
// directory listing (or one type map of a watched directory): a MemoHost
// keeps there, per variant, what its lookup found that depends only on
// the file and the configuration, and nothing request-specific.
type Memo struct {
	mu sync.Mutex
	m  map[any]any
	// outcomes are whole MultiViews results (outcome.go), apart from m
	// so that clients varying their headers cannot evict the variants.
	outcomes map[string][]*outcome
}

// maxMemoEntries bounds one Memo (keys include the request's merged
// configuration, which an .htaccess edit replaces).
const maxMemoEntries = 256

// Load returns the value stored for k.
func (m *Memo) Load(k any) (any, bool) {
	m.mu.Lock()
	v, ok := m.m[k]
	m.mu.Unlock()
	return v, ok
}

// Store keeps v for k.
func (m *Memo) Store(k, v any) {
	m.mu.Lock()
	if m.m == nil || len(m.m) >= maxMemoEntries {
		m.m = map[any]any{}
	}
	m.m[k] = v
	m.mu.Unlock()
}

type cachedMap struct {
	watched bool
	stamp   fileStamp
	trusted bool
	tm      *typeMap
	memo    *Memo
}

// mapCache caches parsed type maps by path, indexed by directory for
// invalidation.
type mapCache struct {
	mu       sync.Mutex
	m        map[string]*cachedMap
	byDir    map[string][]string
	versions map[string]uint64
	epoch    uint64
}

func newMapCache() *mapCache {
	return &mapCache{m: map[string]*cachedMap{}, byDir: map[string][]string{}, versions: map[string]uint64{}}
}

func (c *mapCache) invalidateDir(dir string) {
	c.mu.Lock()
	for _, p := range c.byDir[dir] {
		delete(c.m, p)
	}
	delete(c.byDir, dir)
	if len(c.versions) >= maxCachedEntries {
		c.versions = map[string]uint64{}
		c.epoch++
	}
	c.versions[dir]++
	c.mu.Unlock()
}

// maxMapSize bounds the type-map files Plume parses.
const maxMapSize = 16 << 20

// errMapTooLarge is reported (as a 403, like an unreadable map) for maps
// beyond maxMapSize.
var errMapTooLarge = errors.New("type map too large")

// get returns the parsed map at path. A map in a watched directory costs
// no system call; otherwise it is validated by its stamp: known, the
// stat of the file the request already opened (fi, from the walk), or a
// stat.
func (c *mapCache) get(path string, fi os.FileInfo, w DirWatcher, onChange func(string)) (*cachedMap, error) {
	dir := filepath.Dir(path)
	c.mu.Lock()
	e := c.m[path]
	ver := [2]uint64{c.epoch, c.versions[dir]}
	c.mu.Unlock()
	if e != nil && e.watched && (fi == nil || e.stamp == (fileStamp{}) || stampOf(fi) == e.stamp) {
		// The walk's stat of the map, when there is one, costs nothing
		// and catches what the directory watch cannot see (a directory
		// above swapped for another).
		return e, nil
	}
	stamp := func() (fileStamp, error) {
		if fi == nil {
			var err error
			if fi, err = statFile(path); err != nil {
				return fileStamp{}, err
			}
		}
		return stampOf(fi), nil
	}
	var st fileStamp
	if e != nil {
		var err error
		if st, err = stamp(); err != nil {
			return nil, err
		}
		if e.trusted && e.stamp == st {
			return e, nil
		}
	}
	// (Re)read, the watch asked for first so that a later change is
	// reported.
	watched := w != nil && w.WatchDir(dir, onChange)
	if e == nil && (!watched || fi != nil) {
		var err error
		if st, err = stamp(); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMapSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxMapSize {
		return nil, errMapTooLarge
	}
	ne := &cachedMap{watched: watched, stamp: st, trusted: !watched && !st.racy(now), tm: parseTypeMap(data, path)}
	if watched {
		ne.memo = &Memo{}
	}
	c.mu.Lock()
	if [2]uint64{c.epoch, c.versions[dir]} == ver {
		if len(c.m) >= maxCachedEntries {
			c.m = map[string]*cachedMap{}
			c.byDir = map[string][]string{}
		}
		if _, ok := c.m[path]; !ok {
			c.byDir[dir] = append(c.byDir[dir], path)
		}
		c.m[path] = ne
	}
	c.mu.Unlock()
	return ne, nil
}

// escapePathSegment is ap_escape_path_segment (lowercase hex, as Apache).
func escapePathSegment(s string) string { return escapeTable(s, "$-_.+!*'(),:@&=~") }

// escapeURI is ap_escape_uri (ap_os_escape_path with partial set).
func escapeURI(s string) string { return escapeTable(s, "$-_.+!*'(),:;@&=/~") }

func escapeTable(s, keep string) string {
	const hex = "0123456789abcdef"
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c != 0 && strings.IndexByte(keep, c) >= 0)) {
			break
		}
	}
	if i == len(s) {
		return s // nothing to escape: no copy
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c != 0 && strings.IndexByte(keep, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
