package request

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(name, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != name {
		t.Errorf("Name %q", f.Name())
	}
	for _, c := range []struct {
		off  int64
		size int
		want string
		eof  bool
	}{
		{0, 4, "0123", false},
		{6, 4, "6789", false},
		{8, 4, "89", true},
		{10, 4, "", true},
		{20, 1, "", true},
		{3, 0, "", false},
	} {
		buf := make([]byte, c.size)
		n, err := f.ReadAt(buf, c.off)
		if string(buf[:n]) != c.want || (err == io.EOF) != c.eof || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d, %d) = %q, %v; want %q (EOF %v)", c.size, c.off, buf[:n], err, c.want, c.eof)
		}
	}
	if _, err := f.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset: no error")
	}
	// Read and Seek keep their own offset.
	for _, c := range []struct {
		off    int64
		whence int
		pos    int64
		want   string
	}{
		{2, io.SeekStart, 2, "234"},
		{1, io.SeekCurrent, 6, "678"},
		{-2, io.SeekEnd, 8, "89"},
		{0, io.SeekEnd, 10, ""},
	} {
		pos, err := f.Seek(c.off, c.whence)
		if err != nil || pos != c.pos {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, pos, err, c.pos)
		}
		buf := make([]byte, 3)
		n, err := f.Read(buf)
		if string(buf[:n]) != c.want || (n == 0 && err != io.EOF) {
			t.Errorf("after Seek(%d, %d): Read %q, %v; want %q", c.off, c.whence, buf[:n], err, c.want)
		}
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative offset: no error")
	}
	// OS hands the descriptor over, positioned at the offset; Close
	// closes it once.
	f.Seek(4, io.SeekStart)
	o, err := f.OS()
	if err != nil {
		t.Fatal(err)
	}
	if o2, _ := f.OS(); o2 != o {
		t.Error("OS made a second *os.File")
	}
	rest, _ := io.ReadAll(o)
	if string(rest) != "456789" {
		t.Errorf("os.File read %q", rest)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := o.Read(make([]byte, 1)); err == nil {
		t.Error("descriptor still open after Close")
	}

	if _, err := OpenFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFile of a missing file: %v", err)
	}
}

// TestFileFIFO: a FIFO (a file swapped for one) neither blocks the open
// nor a read: the descriptor is non-blocking and pread refuses pipes.
func TestFileFIFO(t *testing.T) {
	name := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Skip(err)
	}
	f, err := OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(make([]byte, 8), 0); err == nil {
		t.Error("ReadAt of a FIFO: no error")
	}
	if _, err := f.Read(make([]byte, 8)); err == nil {
		t.Error("Read of a FIFO: no error")
	}
}
