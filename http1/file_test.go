package http1

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plume/request"
)

// TestServeRequestFile: the walk's file type (request.File) goes out as
// *os.File does: a section that fits the buffer read with pread, a larger
// one handed to an *os.File for sendfile(2); keep-alive goes on after
// both.
func TestServeRequestFile(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0123456789abcdefghi", 3450)[:64<<10]
	if err := os.WriteFile(filepath.Join(dir, "big"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{"/small": 100, "/large": 40000, "/whole": int64(len(big))}
	h := func(w http.ResponseWriter, r *http.Request) {
		f, err := request.OpenFile(filepath.Join(dir, "big"))
		if err != nil {
			w.WriteHeader(500)
			return
		}
		defer f.Close()
		n := sizes[r.URL.Path]
		off := int64(10)
		if r.URL.Path == "/whole" {
			off = 0
		}
		w.Header().Set("Content-Length", fmt.Sprint(n))
		w.(io.ReaderFrom).ReadFrom(io.NewSectionReader(f, off, n))
	}
	_, addr := testServer(t, DefaultConfig, h)
	for _, c := range []struct {
		path string
		body string
	}{
		{"/small", big[10:110]},
		{"/large", big[10:40010]},
		{"/whole", big},
	} {
		raw := "GET " + c.path + " HTTP/1.1\r\nHost: a\r\n\r\nGET " + c.path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		got := exchange(t, addr, raw)
		want := fmt.Sprintf("Content-Length: %d\r\n", len(c.body))
		if strings.Count(got, want) != 2 || strings.Count(got, "\r\n\r\n"+c.body) != 2 {
			t.Errorf("%s: got %d bytes, want two responses of %d bytes", c.path, len(got), len(c.body))
		}
	}
}
