package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkStatic6K is the hot path: a 6 KiB file through every phase
// (walk, access, mime, dir fixups, default handler), without the network.
func BenchmarkStatic6K(b *testing.B) {
	s := startBenchSite(b)
	req := httptest.NewRequest("GET", "/six.txt", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	h := s.srv.gen.Load().pipeline
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
	}
}

// BenchmarkStatic6KParallel is the same on all CPUs.
func BenchmarkStatic6KParallel(b *testing.B) {
	s := startBenchSite(b)
	h := s.srv.gen.Load().pipeline
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/six.txt", nil)
		req.RemoteAddr = "127.0.0.1:5555"
		for pb.Next() {
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
		}
	})
}

func startBenchSite(b *testing.B) *site {
	return startSite(b, `
<Directory @ROOT@/htdocs>
AllowOverride None
Require all granted
</Directory>
`, map[string]string{"htdocs/six.txt": strings.Repeat("x", 6144)}, false)
}
