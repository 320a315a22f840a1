package walk

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watcher owns one inotify instance: directories are watched by path, and
// any event in a watched directory drops what the caches built from it
// (access files, stats of its entries, WatchDir callers' data). Pending
// events are drained by each walk (non-blocking) and by one background
// goroutine that keeps the kernel queue short while the server is idle.
//
// A watch follows an inode, a cache key is a path: when a directory is
// renamed, removed or replaced, every watched path at or below it stops
// naming the inode its watch covers, so those watches are dropped (and
// re-added on the next miss, on whatever the path names then).
type watcher struct {
	fd int
	// drainMu serialises drains, including the WatchDir callbacks they
	// fire, so a walk that drains while another drain is running returns
	// only once every due callback has run. mu guards the maps and the
	// descriptor; callbacks run with drainMu held but not mu, so a
	// callback may take its own cache lock even when that cache calls
	// WatchDir with its lock held.
	drainMu sync.Mutex
	mu      sync.Mutex
	byWD    map[int][]string // one inode may be watched under several paths
	byDir   map[string]int
	fullWD  map[int]bool // watches with fullMask (others have pathMask)
	max     int
	full    bool

	// Hooks of the walker's caches, called with mu held.
	onDir   func(dir string) // access files of dir may have changed
	onAll   func()           // events were lost
	onEntry func(dir string, name []byte)
	onLost  func(prefix string) // watches at or below prefix are gone ("": all)
	// onDirAttr: a watched directory's attributes, or a subdirectory's,
	// changed (its search permission may have).
	onDirAttr func()
	// relevant holds the access file names: only events about them drop
	// a directory's .htaccess entry (a busy directory such as /tmp would
	// otherwise flush the caches constantly).
	relevant map[string]bool

	// cbs holds the WatchDir callbacks per watched directory (mu).
	cbs map[string][]dirCallback
	// pending collects due callbacks (mu); drain moves them to firing
	// (drainMu) and calls them once mu is released. Both are reused, so a
	// steady-state drain allocates nothing.
	pending []dirCallback
	firing  []dirCallback

	// tick advances about once a second (background reader): a bound on
	// how long the stat cache trusts an entry inotify cannot vouch for
	// completely (see statCache).
	tick atomic.Uint32

	// readsStarted numbers the drains' reads as they start, readsDone is
	// the number of the last one applied (both change under drainMu).
	readsStarted, readsDone atomic.Uint64
	// watches is len(byDir), readable without mu.
	watches atomic.Int32

	closed chan struct{}
	done   chan struct{}
	wake   [2]int // pipe that interrupts the reader's poll on close
	buf    []byte
}

// dirCallback is one WatchDir registration: the function and the directory
// string it was registered with (passed back as given).
type dirCallback struct {
	fn  func(string)
	dir string
}

// funcID identifies a func value: two values are the same closure (same
// code, same captured variables) exactly when these words are equal. It
// lets a caller register the func it stored once on every cache fill
// without piling up duplicates.
func funcID(f func(string)) uintptr { return *(*uintptr)(unsafe.Pointer(&f)) }

// structural events change which inode a path below the entry names.
const structural = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO

// pathMask is what a directory above a cached one needs: entries appearing,
// going or renamed, the directory itself going, and attribute changes
// (search permission, for the stat cache's negative entries). Writes are
// left out, so that a log file written next to the document root does not
// wake the watcher on every request (appending changes no attribute
// inotify reports).
const pathMask = structural | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// fullMask is for a directory whose entries are cached (access files,
// stats, WatchDir callers).
const fullMask = pathMask | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE

func newWatcher(max int) *watcher {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil // no inotify: entries are validated by stat
	}
	w := &watcher{fd: fd, byWD: map[int][]string{}, byDir: map[string]int{}, fullWD: map[int]bool{}, cbs: map[string][]dirCallback{}, max: max,
		closed: make(chan struct{}), done: make(chan struct{}), buf: make([]byte, 64*1024)}
	if err := unix.Pipe2(w.wake[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil
	}
	return w
}

func (w *watcher) start() { go w.loop() }

// add watches dir (a clean absolute path ending in '/') and every
// directory above it; false when the watch budget (or the kernel's) is
// exhausted or a directory cannot be watched. The directories above are
// what make a path-keyed cache exact: a watch follows its inode, so only
// an event in the parent tells that a path now names another directory
// (see dropTreeLocked), and a watched path is dropped with the watch of
// any directory above it.
func (w *watcher) add(dir string, calls *int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addPathLocked(dir, calls)
}

func (w *watcher) addPathLocked(dir string, calls *int) bool {
	if wd, ok := w.byDir[dir]; ok && w.fullWD[wd] {
		return w.fd >= 0 // the directories above are watched too
	}
	for i := 0; i < len(dir); i++ {
		if dir[i] == '/' && !w.addLocked(dir[:i+1], i == len(dir)-1, calls) {
			return false
		}
	}
	return true
}

// addLocked watches one directory, for its entries' changes too (full) or
// only for paths through it.
func (w *watcher) addLocked(dir string, full bool, calls *int) bool {
	if w.fd < 0 {
		return false
	}
	wd, ok := w.byDir[dir]
	if ok && (!full || w.fullWD[wd]) {
		return true
	}
	if !ok && (w.full || len(w.byDir) >= w.max) {
		w.full = true
		return false
	}
	mask := uint32(pathMask)
	if full {
		mask = fullMask
	}
	*calls++
	wd2, err := unix.InotifyAddWatch(w.fd, dir, mask|unix.IN_MASK_ADD)
	if err != nil {
		if errors.Is(err, unix.ENOSPC) {
			w.full = true
		}
		return false
	}
	if ok && wd2 != wd {
		// The path names another directory than when it was watched; the
		// event saying so is pending. Keep the old mapping until it comes.
		if len(w.byWD[wd2]) == 0 {
			_, _ = unix.InotifyRmWatch(w.fd, uint32(wd2))
		}
		return false
	}
	if full {
		w.fullWD[wd2] = true
	}
	if !ok {
		w.byWD[wd2] = append(w.byWD[wd2], dir)
		w.byDir[dir] = wd2
		w.watches.Store(int32(len(w.byDir)))
	}
	return true
}

// watchDir is Walker.WatchDir for a clean absolute dir.
func (w *watcher) watchDir(dir string, fn func(string), calls *int) bool {
	id := funcID(fn)
	// The repeated registration is the common case: find it without
	// building the key string (m[string(b)] does not allocate).
	var buf [256]byte
	kb := append(buf[:0], dir...)
	if kb[len(kb)-1] != '/' {
		kb = append(kb, '/')
	}
	w.mu.Lock()
	if _, ok := w.byDir[string(kb)]; ok {
		for _, c := range w.cbs[string(kb)] {
			if funcID(c.fn) == id {
				w.mu.Unlock()
				return true
			}
		}
	}
	key := string(kb)
	ok := w.addPathLocked(key, calls)
	if ok {
		w.cbs[key] = append(w.cbs[key], dirCallback{fn: fn, dir: dir})
	}
	w.mu.Unlock()
	return ok
}

// loseLocked queues the callbacks of dir for a lost watch and forgets them.
func (w *watcher) loseLocked(dir string) {
	if cbs, ok := w.cbs[dir]; ok {
		w.pending = append(w.pending, cbs...)
		delete(w.cbs, dir)
	}
}

// dropTreeLocked forgets every watched path at or below prefix: its
// caches are dropped, its callbacks told, and the inotify watch removed
// once no path uses it (kernelGone: the kernel already removed it).
func (w *watcher) dropTreeLocked(prefix string, kernelGone int) {
	if _, ok := w.byDir[prefix]; !ok {
		// Every watched directory has its ancestors watched (add watches
		// whole paths), so nothing below an unwatched one is: a busy
		// directory creating subdirectories costs no scan.
		return
	}
	for dir, wd := range w.byDir {
		if !strings.HasPrefix(dir, prefix) {
			continue
		}
		w.onDir(dir)
		w.loseLocked(dir)
		delete(w.byDir, dir)
		w.watches.Store(int32(len(w.byDir)))
		names := w.byWD[wd]
		for i, n := range names {
			if n == dir {
				names = append(names[:i], names[i+1:]...)
				break
			}
		}
		if len(names) == 0 {
			delete(w.byWD, wd)
			delete(w.fullWD, wd)
			if wd != kernelGone {
				_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
			}
		} else {
			w.byWD[wd] = names
		}
		w.full = false
	}
	if w.onLost != nil {
		w.onLost(prefix)
	}
}

// drain reads and applies pending events without blocking, then runs the
// WatchDir callbacks they made due.
//
// Concurrent walks share drains: what a walk needs is one read of the
// queue that started after the walk did, applied before it goes on. A walk
// that waited for drainMu while another walk's read (begun after its own
// arrival) completed has that already, and skips its own read(2).
func (w *watcher) drain(calls *int) {
	arrived := w.readsStarted.Load()
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	// w.fd and w.buf change only with drainMu held: the read needs no mu,
	// which the steady state (nothing to read) then never takes.
	if w.readsDone.Load() > arrived || w.fd < 0 || w.watches.Load() == 0 {
		return
	}
	seq := w.readsStarted.Add(1)
	defer w.readsDone.Store(seq)
	applied := false
	for i := 0; i < 64; i++ { // bounded: 64 full buffers per call
		*calls++
		n, err := unix.Read(w.fd, w.buf)
		if n <= 0 || err != nil {
			break
		}
		w.mu.Lock()
		w.apply(w.buf[:n])
		w.mu.Unlock()
		applied = true
	}
	if !applied {
		return // only apply queues callbacks
	}
	w.mu.Lock()
	w.firing = append(w.firing[:0], w.pending...)
	clear(w.pending)
	w.pending = w.pending[:0]
	w.mu.Unlock()
	for _, c := range w.firing {
		c.fn(c.dir)
	}
	clear(w.firing) // drop the references until the next change
}

func (w *watcher) apply(b []byte) {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		size := unix.SizeofInotifyEvent + int(ev.Len)
		if size > len(b) {
			return
		}
		name := b[unix.SizeofInotifyEvent:size]
		b = b[size:]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
			// Events were lost: every cache forgets what it knows. The
			// watches stay, and so do the registrations.
			w.onAll()
			if w.onLost != nil {
				w.onLost("")
			}
			for _, cbs := range w.cbs {
				w.pending = append(w.pending, cbs...)
			}
			continue
		}
		dirs := w.byWD[int(ev.Wd)]
		if len(dirs) == 0 {
			continue
		}
		if ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
			// The directory itself went away (or moved): its paths, and
			// every watched path below them, no longer name what they did.
			gone := -1
			if ev.Mask&unix.IN_IGNORED != 0 {
				gone = int(ev.Wd)
			}
			for _, d := range append([]string(nil), dirs...) {
				w.dropTreeLocked(d, gone)
			}
			continue
		}
		if ev.Mask&unix.IN_ATTRIB != 0 && (len(name) == 0 || ev.Mask&unix.IN_ISDIR != 0) && w.onDirAttr != nil {
			w.onDirAttr()
		}
		for _, dir := range dirs {
			w.pending = append(w.pending, w.cbs[dir]...)
			if len(name) == 0 {
				w.onDir(dir) // the directory's own attributes
				continue
			}
			if w.onEntry != nil {
				w.onEntry(dir, name)
			}
			if ev.Mask&unix.IN_ISDIR != 0 && ev.Mask&structural != 0 {
				// A subdirectory appeared, went or was renamed: paths
				// through it may now name other inodes.
				w.dropTreeLocked(dir+string(name)+"/", -1)
			}
			if w.relevant[string(name)] {
				w.onDir(dir)
			}
		}
	}
}

func (w *watcher) loop() {
	defer close(w.done)
	var calls int
	last := time.Now()
	fds := make([]unix.PollFd, 2)
	for {
		select {
		case <-w.closed:
			return
		default:
		}
		fds[0] = unix.PollFd{Fd: int32(w.fd), Events: unix.POLLIN}
		fds[1] = unix.PollFd{Fd: int32(w.wake[0]), Events: unix.POLLIN}
		n, err := unix.Poll(fds, 1000)
		if now := time.Now(); now.Sub(last) >= time.Second {
			w.tick.Add(1)
			last = now
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if n > 0 && fds[0].Revents != 0 {
			w.drain(&calls)
		}
	}
}

// close stops the reader, closes the instance and tells every WatchDir
// caller its watch is lost.
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
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	w.mu.Lock()
	_ = unix.Close(w.fd)
	_ = unix.Close(w.wake[0])
	_ = unix.Close(w.wake[1])
	w.fd = -1
	w.byDir = map[string]int{}
	w.byWD = map[int][]string{}
	w.fullWD = map[int]bool{}
	w.watches.Store(0)
	if w.onLost != nil {
		w.onLost("")
	}
	fire := w.pending
	for _, cbs := range w.cbs {
		fire = append(fire, cbs...)
	}
	w.pending, w.cbs = nil, map[string][]dirCallback{}
	w.mu.Unlock()
	for _, c := range fire {
		c.fn(c.dir)
	}
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
