package walk

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"plume/parser"
)

// maxHtaccessSize bounds how much of one .htaccess file is read; Apache has
// no such limit, but a multi-megabyte access file is an attack, not a
// configuration.
const maxHtaccessSize = 4 << 20

// DefaultMaxWatches bounds the inotify watches one Walker holds; past it,
// cached .htaccess entries are validated with fstatat instead.
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

func newHTCache(gen *atomic.Uint64, parse func(string, []byte) ([]*parser.Node, error), maxWatches int, names map[string]bool) *htCache {
	c := &htCache{entries: map[string]*htEntry{}, byDir: map[string][]string{}, versions: map[string]uint64{}, gen: gen, parse: parse}
	c.watch = newWatcher(maxWatches, c.invalidateDir, c.invalidateAll)
	if c.watch != nil {
		c.watch.relevant = func(n string) bool { return names[n] }
	}
	return c
}

func (c *htCache) close() {
	if c.watch != nil {
		c.watch.close()
	}
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

// watcher owns one inotify instance: directories are watched by path, and
// any event in a watched directory drops its cached entries. Pending events
// are drained by each walk (non-blocking) and by one background goroutine
// that keeps the kernel queue short while the server is idle.
type watcher struct {
	fd    int
	mu    sync.Mutex
	byWD  map[int]string
	byDir map[string]int
	max   int
	full  bool
	onDir func(string)
	onAll func()
	// relevant reports whether an entry name is an access file name.
	relevant func(string) bool
	closed   chan struct{}
	done     chan struct{}
	wake     [2]int // pipe that interrupts the reader's poll on close
	buf      []byte
}

const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MODIFY | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

func newWatcher(max int, onDir func(string), onAll func()) *watcher {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil // no inotify: entries are validated by stat
	}
	w := &watcher{fd: fd, byWD: map[int]string{}, byDir: map[string]int{}, max: max, onDir: onDir, onAll: onAll,
		closed: make(chan struct{}), done: make(chan struct{}), buf: make([]byte, 64*1024)}
	if err := unix.Pipe2(w.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil
	}
	go w.loop()
	return w
}

// add watches dir; false when the watch budget (or the kernel's) is
// exhausted or the directory cannot be watched.
func (w *watcher) add(dir string, calls *int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 {
		return false
	}
	if _, ok := w.byDir[dir]; ok {
		return true
	}
	if w.full || len(w.byDir) >= w.max {
		w.full = true
		return false
	}
	*calls++
	wd, err := unix.InotifyAddWatch(w.fd, dir, watchMask)
	if err != nil {
		if errors.Is(err, unix.ENOSPC) {
			w.full = true
		}
		return false
	}
	if old, ok := w.byWD[wd]; ok && old != dir {
		// Same inode reached by another path: keep both names.
		delete(w.byDir, old)
		w.onDirLocked(old)
	}
	w.byWD[wd] = dir
	w.byDir[dir] = wd
	return true
}

func (w *watcher) onDirLocked(dir string) {
	// onDir takes the cache lock; the cache never calls into the watcher
	// while holding its own lock, so the order watcher→cache is safe.
	w.onDir(dir)
}

// drain reads and applies pending events without blocking.
func (w *watcher) drain(calls *int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 || len(w.byDir) == 0 {
		return
	}
	for i := 0; i < 64; i++ { // bounded: 64 full buffers per call
		*calls++
		n, err := unix.Read(w.fd, w.buf)
		if n <= 0 || err != nil {
			return
		}
		w.apply(w.buf[:n])
	}
}

func (w *watcher) apply(b []byte) {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(ptr(&b[0]))
		size := unix.SizeofInotifyEvent + int(ev.Len)
		if size > len(b) {
			return
		}
		rawName := b[unix.SizeofInotifyEvent:size]
		b = b[size:]
		if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
			w.onAll()
			continue
		}
		dir, ok := w.byWD[int(ev.Wd)]
		if !ok {
			continue
		}
		self := ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0
		if !self && ev.Len > 0 && w.relevant != nil {
			// An event about one entry of the directory: only access file
			// names matter (a busy directory such as /tmp would otherwise
			// flush the caches constantly).
			name := string(rawName)
			if i := strings.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if !w.relevant(name) {
				continue
			}
		}
		w.onDirLocked(dir)
		if self {
			if ev.Mask&unix.IN_IGNORED == 0 {
				_, _ = unix.InotifyRmWatch(w.fd, uint32(ev.Wd))
			}
			delete(w.byWD, int(ev.Wd))
			delete(w.byDir, dir)
			w.full = false
		}
	}
}

func (w *watcher) loop() {
	defer close(w.done)
	var calls int
	for {
		select {
		case <-w.closed:
			return
		default:
		}
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(w.wake[0]), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 1000)
		if err != nil && !errors.Is(err, unix.EINTR) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if n > 0 && fds[0].Revents != 0 {
			w.drain(&calls)
		}
	}
}

func (w *watcher) close() {
	w.mu.Lock()
	if w.fd < 0 {
		w.mu.Unlock()
		return
	}
	close(w.closed)
	w.mu.Unlock()
	_, _ = unix.Write(w.wake[1], []byte{1})
	<-w.done
	w.mu.Lock()
	_ = unix.Close(w.fd)
	_ = unix.Close(w.wake[0])
	_ = unix.Close(w.wake[1])
	w.fd = -1
	w.mu.Unlock()
}

// watchCount reports the number of directories watched.
func (w *watcher) watchCount() int {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.byDir)
}

func ptr(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
