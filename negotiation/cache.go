package negotiation

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A cached entry is trusted only while its file's identity (inode, size,
// mtime, ctime) is unchanged, checked with one stat per use. An entry read
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

type dirEntry struct {
	name  string
	isDir bool
}

type dirListing struct {
	stamp   fileStamp
	trusted bool
	entries []dirEntry
}

type dirCache struct {
	mu sync.Mutex
	m  map[string]*dirListing
}

func newDirCache() *dirCache { return &dirCache{m: map[string]*dirListing{}} }

func (c *dirCache) invalidate(dir string) {
	c.mu.Lock()
	delete(c.m, dir)
	c.mu.Unlock()
}

// maxDirEntries bounds one listing, so a huge directory cannot exhaust
// memory through MultiViews.
const maxDirEntries = 1 << 20

// list returns dir's entries in the directory's own order (as readdir
// returns them, which decides which type map wins when there are several).
func (c *dirCache) list(dir string) ([]dirEntry, error) {
	fi, err := statFile(dir)
	if err != nil {
		return nil, err
	}
	st := stampOf(fi)
	c.mu.Lock()
	l := c.m[dir]
	c.mu.Unlock()
	if l != nil && l.trusted && l.stamp == st {
		return l.entries, nil
	}
	now := time.Now()
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []dirEntry
	for len(entries) < maxDirEntries {
		des, err := f.ReadDir(1024)
		for _, d := range des {
			entries = append(entries, dirEntry{name: d.Name(), isDir: d.IsDir()})
		}
		if err == io.EOF || len(des) == 0 {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedEntries {
		c.m = map[string]*dirListing{}
	}
	c.m[dir] = &dirListing{stamp: st, trusted: !st.racy(now), entries: entries}
	c.mu.Unlock()
	return entries, nil
}

type cachedMap struct {
	stamp   fileStamp
	trusted bool
	tm      *typeMap
}

type mapCache struct {
	mu sync.Mutex
	m  map[string]*cachedMap
}

func newMapCache() *mapCache { return &mapCache{m: map[string]*cachedMap{}} }

func (c *mapCache) invalidateDir(dir string) {
	c.mu.Lock()
	for k := range c.m {
		if strings.HasPrefix(k, dir+"/") && !strings.Contains(k[len(dir)+1:], "/") {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// maxMapSize bounds the type-map files Plume parses.
const maxMapSize = 16 << 20

// errMapTooLarge is reported (as a 403, like an unreadable map) for maps
// beyond maxMapSize.
var errMapTooLarge = errors.New("type map too large")

func (c *mapCache) get(path string) (*typeMap, error) {
	fi, err := statFile(path)
	if err != nil {
		return nil, err
	}
	st := stampOf(fi)
	c.mu.Lock()
	e := c.m[path]
	c.mu.Unlock()
	if e != nil && e.trusted && e.stamp == st {
		return e.tm, nil
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
	tm := parseTypeMap(data, path)
	c.mu.Lock()
	if len(c.m) >= maxCachedEntries {
		c.m = map[string]*cachedMap{}
	}
	c.m[path] = &cachedMap{stamp: st, trusted: !st.racy(now), tm: tm}
	c.mu.Unlock()
	return tm, nil
}

// escapePathSegment is ap_escape_path_segment (lowercase hex, as Apache).
func escapePathSegment(s string) string { return escapeTable(s, "$-_.+!*'(),:@&=~") }

// escapeURI is ap_escape_uri (ap_os_escape_path with partial set).
func escapeURI(s string) string { return escapeTable(s, "$-_.+!*'(),:;@&=/~") }

func escapeTable(s, keep string) string {
	const hex = "0123456789abcdef"
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
