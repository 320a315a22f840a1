package request

import (
	"errors"
	"io"
	"os"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// File is an open file a handler serves: a read-only descriptor and its
// name. It exists because of what os.NewFile costs on every request: it
// asks the descriptor's flags (fcntl) and, the walk opening files
// O_NONBLOCK (so that a FIFO swapped in for a file cannot block open(2)),
// registers it with the netpoller (epoll_ctl), which refuses regular
// files. A File reads with read(2)/pread(2) directly, which ignore
// O_NONBLOCK on regular files; OS hands the descriptor to an *os.File
// when a sendfile(2) path needs one (large bodies only).
//
// A File is used by one request at a time (not safe for concurrent use,
// except ReadAt, which keeps no state).
type File struct {
	fd      int
	name    string
	off     int64 // for Read and Seek
	os      *os.File
	closed  atomic.Bool
	cleanup runtime.Cleanup
}

// NewFile takes ownership of fd, a descriptor open for reading.
func NewFile(fd int, name string) *File {
	f := &File{fd: fd, name: name}
	// As *os.File does: a File that is dropped unclosed does not leak its
	// descriptor for good. Close cancels this.
	f.cleanup = runtime.AddCleanup(f, closeFd, fd)
	return f
}

func closeFd(fd int) { _ = unix.Close(fd) }

// OpenFile opens name read-only (O_NONBLOCK, for the same reason as the
// walk) without following the rules of the walk: for callers that have
// no walk result to serve.
func OpenFile(name string) (*File, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return NewFile(fd, name), nil
	}
}

// Name returns the name the file was opened with.
func (f *File) Name() string { return f.name }

// Fd returns the descriptor (owned by f).
func (f *File) Fd() uintptr { return uintptr(f.fd) }

// ReadAt is pread(2) until p is full or the end of the file.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: errors.New("negative offset")}
	}
	n := 0
	for n < len(p) {
		m, err := unix.Pread(f.fd, p[n:], off+int64(n))
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return n, &os.PathError{Op: "read", Path: f.name, Err: err}
		case m == 0:
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Read reads from the file's own offset (pread: the descriptor's offset
// is left alone, so Read and ReadAt never disturb each other).
func (f *File) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		m, err := unix.Pread(f.fd, p, f.off)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
		case m == 0:
			return 0, io.EOF
		}
		f.off += int64(m)
		return m, nil
	}
}

// Seek sets the offset of Read (the descriptor's own is not used).
func (f *File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		var st unix.Stat_t
		if err := unix.Fstat(f.fd, &st); err != nil {
			return 0, &os.PathError{Op: "seek", Path: f.name, Err: err}
		}
		offset += st.Size
	default:
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: errors.New("invalid whence")}
	}
	if offset < 0 {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: errors.New("negative offset")}
	}
	f.off = offset
	return offset, nil
}

// OS returns an *os.File owning the descriptor, positioned at f's offset
// (net's sendfile(2) path recognises only *os.File). It costs the
// syscalls File avoids; Close still closes the descriptor, once.
func (f *File) OS() (*os.File, error) {
	if f.os == nil {
		if _, err := unix.Seek(f.fd, f.off, io.SeekStart); err != nil {
			return nil, &os.PathError{Op: "seek", Path: f.name, Err: err}
		}
		f.cleanup.Stop()
		f.os = os.NewFile(uintptr(f.fd), f.name)
	}
	return f.os, nil
}

// Close closes the descriptor; later calls return os.ErrClosed.
func (f *File) Close() error {
	if f == nil || f.closed.Swap(true) {
		return os.ErrClosed
	}
	if f.os != nil {
		return f.os.Close()
	}
	f.cleanup.Stop()
	if err := unix.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
