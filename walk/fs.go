package walk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"plume/config"
	"plume/request"
)

// maxPathLen bounds the filenames the walk accepts (PATH_MAX).
const maxPathLen = 4096

// openat2Missing is set once the kernel answers ENOSYS: every walk then
// takes the per-component path.
var openat2Missing atomic.Bool

func openRoot() (int, bool) {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	_, err = os.Stat("/proc/self/fd")
	return fd, err == nil
}

func closeRoot(fd int) {
	if fd >= 0 {
		_ = unix.Close(fd)
	}
}

// statInfo is an fs.FileInfo over a syscall.Stat_t.
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (s *statInfo) Name() string { return s.name }
func (s *statInfo) Size() int64  { return s.st.Size }
func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	}
	if s.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Sec, s.st.Mtim.Nsec) }
func (s *statInfo) IsDir() bool        { return s.st.Mode&syscall.S_IFMT == syscall.S_IFDIR }
func (s *statInfo) Sys() any           { return &s.st }

func fileKind(st *syscall.Stat_t) uint8 {
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 1
	case syscall.S_IFDIR:
		return 2
	}
	return 3
}

// cleanFilename canonicalises the mapped filename as apr_filepath_merge
// (NOTRELATIVE) does: it must be absolute; "//", "." and ".." are
// resolved lexically. A trailing '/' is kept.
func cleanFilename(name string) (string, bool) {
	if name == "" || name[0] != '/' || strings.IndexByte(name, 0) >= 0 || len(name) > maxPathLen {
		return "", false
	}
	clean := path.Clean(name)
	if strings.HasSuffix(name, "/") && clean != "/" {
		clean += "/"
	}
	return clean, true
}

// openFast opens the whole path read-only with RESOLVE_NO_SYMLINKS: when it
// succeeds no component is a symlink and no symlink rule can apply.
func openFast(p string, calls *int) (int, error) {
	if openat2Missing.Load() {
		return -1, unix.ENOSYS
	}
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for i := 0; i < 3; i++ { // EAGAIN: a concurrent rename; retry a little
		*calls++
		fd, err := openat2(p, &how)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ENOSYS) {
			openat2Missing.Store(true) // kernel older than 5.6
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}

// openat2 is unix.Openat2 from AT_FDCWD with the path copied to a stack
// buffer: unix.Openat2 allocates the C string on every call.
func openat2(p string, how *unix.OpenHow) (int, error) {
	var buf [512]byte
	if len(p) >= len(buf) {
		return unix.Openat2(unix.AT_FDCWD, p, how)
	}
	copy(buf[:], p)
	buf[len(p)] = 0
	cwd := unix.AT_FDCWD
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT2, uintptr(cwd), uintptr(unsafe.Pointer(&buf[0])),
		uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func (w *Walker) walk(srv *config.Server, uri, filename string, tr *Trace, synced bool) *Result {
	res := &Result{Trace: tr}
	calls := 0
	if !w.async && !synced {
		w.ht.sync(&calls)
	}
	gen := w.gen.Load()

	clean, ok := cleanFilename(filename)
	if !ok {
		res.Status = 403
		res.Filename = filename
		res.Log = append(res.Log, LogLine{Module: "core", Level: "error", Code: "AH00036",
			Msg: fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, strings.ReplaceAll(filename, "\x00", "\\0"))})
		return res
	}
	trailing := strings.HasSuffix(clean, "/") && clean != "/"
	bare := strings.TrimSuffix(clean, "/")
	if bare == "" {
		bare = "/"
	}

	var ds *dirState
	parent := bare[:strings.LastIndexByte(bare, '/')+1]
	fd, err := -1, error(unix.ELOOP)
	follow := false
	var cached *statInfo
	var tok statToken
	k, link := w.linkHint(clean)
	if !link && k > 0 && w.stats != nil {
		// A previous walk found component k missing: if it still is (a
		// negative entry, see statCache), that is the whole answer.
		if dir, name, rest := splitAt(clean, k); dir != "" && w.stats.isAbsent(dir, name) {
			return w.walkAbsent(srv, uri, clean, dir, len(dir)+len(name), rest, res, tr, gen, &calls)
		}
	}
	if !link {
		if w.stats != nil && !trailing {
			// After the drain: a hit is current (see statCache).
			cached, tok = w.stats.lookup(clean)
		}
		fd, err = openFast(clean, &calls)
		if errors.Is(err, unix.ELOOP) {
			w.noteStop(clean, 0, true) // a link is on this path: skip openat2 next time
		}
	}
	if errors.Is(err, unix.ELOOP) {
		// A symlink is on the path. Where FollowSymLinks (without
		// SymLinksIfOwnerMatch) holds in every directory of the path, the
		// only rule is that targets exist: one open that follows links
		// proves it, as Apache then skips its lstat calls too.
		if pds := w.dirStateFor(srv, parent, gen, &calls); pds.status == 0 && pds.followAll {
			fd, err = openFollow(clean, &calls)
			follow = true
		}
	}
	if err == nil {
		info := cached
		if follow || info == nil {
			info = &statInfo{name: path.Base(bare)}
			calls++
			if err := syscall.Fstat(fd, &info.st); err != nil {
				unix.Close(fd)
				return w.fail(res, 403, "AH00036", fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, clean))
			}
			if !follow && w.stats != nil && !trailing && fileKind(&info.st) == 1 {
				w.stats.store(tok, clean, info)
			}
		}
		kind := fileKind(&info.st)
		switch kind {
		case 1:
			ds = w.fileLevel(srv, w.dirStateFor(srv, parent, gen, &calls), bare, gen, &calls)
		case 2:
			d := bare
			if d != "/" {
				d += "/"
			}
			ds = w.dirStateFor(srv, d, gen, &calls)
		default:
			unix.Close(fd)
			res.Filename = bare
			ds = w.dirStateFor(srv, parent, gen, &calls)
			if ds.status != 0 {
				return w.finishDirError(res, ds)
			}
			return w.fail(res, 403, "AH00038", fmt.Sprintf("Forbidden: %s doesn't point to a file or directory", bare))
		}
		if tr != nil {
			tr.FastPath = !follow
			tr.FollowPath = follow
		}
		res.Filename = clean
		if kind == 1 {
			res.Filename = bare
		}
		res.Info = info
		if ds.status != 0 {
			unix.Close(fd)
			return w.finishDirError(res, ds)
		}
		if kind == 1 {
			if trailing { // cannot happen: openat2 answers ENOTDIR
				res.PathInfo = "/"
			}
		}
		res.File = request.NewFile(fd, bare)
		w.finish(srv, res, ds, kind, uri, gen)
		w.account(res, tr, calls, ds, srv)
		return res
	}
	return w.walkSlow(srv, uri, clean, res, tr, gen, &calls)
}

// splitAt splits clean around its component k (0-based): the directory
// holding it (ending in '/'), its name and what follows (path_info, as
// restPath builds it); dir is "" when clean has no component k.
func splitAt(clean string, k int) (dir, name, rest string) {
	start := 0 // index of the '/' before component k
	for i := 0; i < k; i++ {
		j := strings.IndexByte(clean[start+1:], '/')
		if j < 0 {
			return "", "", ""
		}
		start += 1 + j
	}
	end := len(clean)
	if j := strings.IndexByte(clean[start+1:], '/'); j >= 0 {
		end = start + 1 + j
	}
	if end == start+1 {
		return "", "", ""
	}
	return clean[:start+1], clean[start+1 : end], clean[end:]
}

// walkAbsent is walkSlow's answer for a path whose component ending at
// clean[:end] is known missing in dir (reached through directories only):
// the same result, without a filesystem call.
func (w *Walker) walkAbsent(srv *config.Server, uri, clean, dir string, end int, rest string, res *Result, tr *Trace, gen uint64, calls *int) *Result {
	res.Filename = clean
	ds := w.dirStateFor(srv, dir, gen, calls)
	if ds.status != 0 {
		return w.finishDirError(res, ds)
	}
	res.Filename = clean[:end]
	res.PathInfo = rest
	w.finish(srv, res, ds, 0, uri, gen)
	w.account(res, tr, *calls, ds, srv)
	return res
}

// fail sets a walk failure with an error-level log line.
func (w *Walker) fail(res *Result, status int, code, msg string) *Result {
	return w.failErrno(res, status, code, msg, 0)
}

func (w *Walker) failErrno(res *Result, status int, code, msg string, errno syscall.Errno) *Result {
	res.Status = status
	res.Log = append(res.Log, LogLine{Module: "core", Level: "error", Code: code, Msg: msg, Errno: errno})
	if res.File != nil {
		res.File.Close()
		res.File = nil
	}
	return res
}

func (w *Walker) finishDirError(res *Result, ds *dirState) *Result {
	res.Status = ds.status
	res.PerDir = ds.vec
	res.Log = append(res.Log, levelLogs(ds)...)
	for s := ds; s != nil; s = s.parent {
		if s.notes != nil {
			res.Notes = s.notes
		}
	}
	if res.Trace != nil {
		collectDirTrace(res.Trace, ds)
	}
	return res
}

// walkSlow is the per-component walk: each component is opened with
// O_PATH|O_NOFOLLOW relative to its parent's descriptor, symlinks are
// checked with the options of the directory holding them, and the
// descriptor finally served is the one checked.
func (w *Walker) walkSlow(srv *config.Server, uri, clean string, res *Result, tr *Trace, gen uint64, calls *int) *Result {
	comps := strings.Split(strings.Trim(clean, "/"), "/")
	if clean == "/" {
		comps = nil
	}
	trailing := strings.HasSuffix(clean, "/") && clean != "/"
	dir := "/"
	dirfd := w.rootFd
	ownDirfd := false
	if dirfd < 0 {
		*calls++
		fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return w.fail(res, 403, "AH00036", fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, "/"))
		}
		dirfd, ownDirfd = fd, true
	}
	closeDir := func() {
		if ownDirfd {
			unix.Close(dirfd)
		}
	}
	ds := w.dirStateFor(srv, "/", gen, calls)
	start := 0
	// A previous walk of this path met its first symlink (or a missing
	// component) at component k: one openat2 proves the k components
	// before it are still link-free directories.
	if k, _ := w.linkHint(clean); k > 0 && k < len(comps) && !openat2Missing.Load() {
		prefix := "/" + strings.Join(comps[:k], "/")
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		*calls++
		if fd, err := unix.Openat2(unix.AT_FDCWD, prefix, &how); err == nil {
			closeDir()
			dirfd, ownDirfd = fd, true
			dir = prefix + "/"
			ds = w.dirStateFor(srv, dir, gen, calls)
			start = k
		}
	}
	finalFd := -1
	var finalSt syscall.Stat_t
	kind := uint8(2)
	res.Filename = clean
	// linkFree: dir was reached through directories only, so a name
	// missing in it can be remembered under the path dir.
	linkFree := true
	for i := start; i < len(comps); i++ {
		name := comps[i]
		if ds.status != 0 {
			closeDir()
			return w.finishDirError(res, ds)
		}
		cur := dir + name
		var tok statToken
		if linkFree && w.stats != nil {
			tok = w.stats.absentToken(dir)
		}
		*calls++
		fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			closeDir()
			switch {
			case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
				if linkFree && w.stats != nil && i > 0 && errors.Is(err, unix.ENOENT) {
					w.stats.storeAbsent(tok, dir, name)
				}
				w.noteStop(clean, i, false)
				res.Filename = cur
				res.PathInfo = restPath(comps[i+1:], trailing)
				kind = 0
				w.finish(srv, res, ds, kind, uri, gen)
				w.account(res, tr, *calls, ds, srv)
				return res
			case errors.Is(err, unix.EACCES):
				res.Filename = cur
				return w.failErrno(res, 403, "AH00035", fmt.Sprintf("access to %s denied (filesystem path '%s') because search permissions are missing on a component of the path", uri, cur), unix.EACCES)
			default:
				res.Filename = cur
				errno, _ := err.(syscall.Errno)
				return w.failErrno(res, 403, "AH00036", fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, cur), errno)
			}
		}
		var st syscall.Stat_t
		*calls++
		if err := syscall.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			closeDir()
			res.Filename = cur
			return w.fail(res, 403, "AH00036", fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, cur))
		}
		if st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
			linkFree = false
			w.noteStop(clean, i, true)
			tfd, tst, ok := w.checkSymlink(dirfd, fd, &st, cur, config.Core(ds.vec).Opts, tr, calls)
			unix.Close(fd)
			if !ok {
				closeDir()
				res.Filename = cur
				return w.fail(res, 403, "AH00037", "Symbolic link not allowed or link target not accessible: "+cur)
			}
			fd, st = tfd, tst
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			closeDir()
			res.Filename = cur
			res.PathInfo = restPath(comps[i+1:], trailing)
			finalFd, finalSt, kind = fd, st, 1
			if res.PathInfo == "" {
				ds = w.fileLevel(srv, ds, cur, gen, calls)
			}
		case syscall.S_IFDIR:
			closeDir()
			dirfd, ownDirfd = fd, true
			dir = cur + "/"
			ds = w.dirStateFor(srv, dir, gen, calls)
			continue
		default:
			unix.Close(fd)
			closeDir()
			res.Filename = cur
			return w.fail(res, 403, "AH00038", fmt.Sprintf("Forbidden: %s doesn't point to a file or directory", cur))
		}
		break
	}
	if kind == 2 {
		if ds.status != 0 {
			closeDir()
			return w.finishDirError(res, ds)
		}
		finalFd = dirfd
		ownDirfd = false
		if dirfd == w.rootFd {
			*calls++
			fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return w.fail(res, 403, "AH00036", fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, "/"))
			}
			finalFd = fd
		}
		*calls++
		if err := syscall.Fstat(finalFd, &finalSt); err != nil {
			unix.Close(finalFd)
			return w.fail(res, 403, "AH00036", fmt.Sprintf("access to %s failed (filesystem path '%s')", uri, clean))
		}
	}
	// Reopen the checked O_PATH descriptor for reading: the same inode,
	// whatever happened to the path since.
	rfd, err := w.reopen(finalFd, calls)
	unix.Close(finalFd)
	bare := strings.TrimSuffix(res.Filename, "/")
	if bare == "" {
		bare = "/"
	}
	res.Info = &statInfo{name: path.Base(bare), st: finalSt}
	if err == nil {
		res.File = request.NewFile(rfd, bare)
	} else {
		res.OpenErr = err
	}
	w.finish(srv, res, ds, kind, uri, gen)
	w.account(res, tr, *calls, ds, srv)
	return res
}

// reopen turns a checked O_PATH descriptor into a readable one for the
// same inode (via /proc/self/fd, which names the inode, not the path).
func (w *Walker) reopen(fd int, calls *int) (int, error) {
	if !w.useProcF {
		return -1, errors.New("walk: /proc/self/fd unavailable; cannot reopen the checked file safely")
	}
	*calls++
	return unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
}

func restPath(rest []string, trailing bool) string {
	if len(rest) == 0 {
		if trailing {
			return "/"
		}
		return ""
	}
	p := "/" + strings.Join(rest, "/")
	if trailing {
		p += "/"
	}
	return p
}

// checkSymlink is resolve_symlink: linkFd is the O_PATH|O_NOFOLLOW
// descriptor of the link (lst its lstat), opts the Options of the
// directory holding it. On success it returns an O_PATH descriptor of the
// target, resolved from the link's own text (so a link swapped after the
// check cannot redirect it).
func (w *Walker) checkSymlink(dirfd, linkFd int, lst *syscall.Stat_t, linkPath string, opts int, tr *Trace, calls *int) (int, syscall.Stat_t, bool) {
	var tst syscall.Stat_t
	entry := TraceSymlink{Link: linkPath}
	record := func(ok bool, reason string) {
		if tr != nil {
			entry.Allowed, entry.Reason = ok, reason
			tr.Symlinks = append(tr.Symlinks, entry)
		}
	}
	switch {
	case opts&config.OptSymOwner != 0:
		entry.Policy = "SymLinksIfOwnerMatch"
	case opts&config.OptSymLinks != 0:
		entry.Policy = "FollowSymLinks"
	default:
		entry.Policy = "none"
		record(false, "neither FollowSymLinks nor SymLinksIfOwnerMatch")
		return -1, tst, false
	}
	buf := make([]byte, maxPathLen)
	*calls++
	n, err := unix.Readlinkat(linkFd, "", buf)
	if err != nil || n >= len(buf) {
		record(false, "unreadable link")
		return -1, tst, false
	}
	target := string(buf[:n])
	entry.Target = target
	*calls++
	tfd, err := unix.Openat(dirfd, target, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		record(false, "target not accessible: "+err.Error())
		return -1, tst, false
	}
	*calls++
	if err := syscall.Fstat(tfd, &tst); err != nil {
		unix.Close(tfd)
		record(false, "target not accessible")
		return -1, tst, false
	}
	if opts&config.OptSymOwner != 0 && lst.Uid != tst.Uid {
		unix.Close(tfd)
		record(false, fmt.Sprintf("owner mismatch: link uid %d, target uid %d", lst.Uid, tst.Uid))
		return -1, tst, false
	}
	record(true, "")
	return tfd, tst, true
}

// finish runs the regex Directory, Files and Location steps and fills the
// result from the cached final state.
func (w *Walker) finish(srv *config.Server, res *Result, ds *dirState, kind uint8, uri string, gen uint64) {
	name := res.Filename
	fs := w.finalFor(srv, ds, name, kind, uri, gen)
	res.PerDir = fs.vec
	if len(fs.env) > 0 {
		res.Env = make(map[string]string, len(fs.env))
		for k, v := range fs.env {
			res.Env[k] = v
		}
	}
	res.Log = append(res.Log, levelLogs(ds)...)
	if fs.status != 0 {
		res.Status = fs.status
		res.Log = append(res.Log, fs.log...)
		if res.File != nil {
			res.File.Close()
			res.File = nil
		}
	}
	if res.Trace != nil {
		collectDirTrace(res.Trace, ds)
		res.Trace.Sections = append(res.Trace.Sections, fs.sections...)
	}
}

func collectDirTrace(tr *Trace, ds *dirState) {
	var chain []*dirState
	for s := ds; s != nil; s = s.parent {
		chain = append(chain, s)
	}
	tr.Sections = append(tr.Sections, TraceSection{Kind: "defaults", Path: "server"})
	for i := len(chain) - 1; i >= 0; i-- {
		tr.Sections = append(tr.Sections, chain[i].sections...)
		if chain[i].ht != nil {
			tr.Htaccess = append(tr.Htaccess, *chain[i].ht)
		}
	}
}

// account fills the trace's cost comparison.
func (w *Walker) account(res *Result, tr *Trace, calls int, ds *dirState, srv *config.Server) {
	if tr == nil {
		return
	}
	tr.Syscalls = calls
	// Apache: one stat of the whole filename, then (unless FollowSymLinks
	// without SymLinksIfOwnerMatch holds where it walks) one lstat per
	// component, one stat per symlink, and one open per access-file name
	// tried in each directory where overrides are enabled.
	tr.ApacheStats = 1 + len(tr.Symlinks)
	comps := strings.Count(strings.Trim(res.Filename, "/"), "/") + 1
	if res.Filename == "/" {
		comps = 0
	}
	for s := ds; s != nil; s = s.parent {
		tr.ApacheOpens += s.apacheOpens
	}
	optimized := true
	for s := ds; s != nil; s = s.parent {
		o := config.Core(s.vec).Opts
		if o&config.OptSymLinks == 0 || o&config.OptSymOwner != 0 {
			optimized = false
		}
	}
	if !optimized || res.Info == nil {
		tr.ApacheLstats = comps
	}
}

// pathHint records where a previous slow walk of a path stopped being
// link-free: the component index and whether it was a symlink (else a
// missing entry).
type pathHint struct {
	idx  int
	link bool
}

// linkHint returns the index of the first component at which a previous
// walk of clean could not continue link-free, and whether that component
// was a symlink; 0 when none is known.
func (w *Walker) linkHint(clean string) (int, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	h := w.hints[clean]
	return h.idx, h.link
}

func (w *Walker) noteStop(clean string, i int, link bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.hints[clean]; ok && (old.link && !link || old.link == link && old.idx != 0 && old.idx <= i) {
		return
	}
	if len(w.hints) >= maxCacheEntries {
		w.hints = map[string]pathHint{}
	}
	w.hints[clean] = pathHint{i, link}
}

// openFollow opens the path read-only following symlinks (used only where
// FollowSymLinks allows every link on it).
func openFollow(p string, calls *int) (int, error) {
	*calls++
	return unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
}

// levelLogs returns the log lines of ds and its ancestors, top-down; a
// level below a failed one has none of its own (it inherits the status).
func levelLogs(ds *dirState) []LogLine {
	n := 0
	for s := ds; s != nil; s = s.parent {
		n += len(s.log) + len(s.onceLog)
	}
	if n == 0 {
		return nil // the steady state: no slice built
	}
	var chain []*dirState
	for s := ds; s != nil; s = s.parent {
		chain = append(chain, s)
	}
	var out []LogLine
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].log...)
		if len(chain[i].onceLog) > 0 && chain[i].onceSent.CompareAndSwap(false, true) {
			out = append(out, chain[i].onceLog...)
		}
	}
	return out
}
