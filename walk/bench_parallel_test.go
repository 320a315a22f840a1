package walk

import (
	"path/filepath"
	"testing"
)

// BenchmarkWalkParallel runs the walk of BenchmarkWalk from GOMAXPROCS
// goroutines at once: the cost of the locks the walks share (the inotify
// drain, the caches) under contention.
func BenchmarkWalkParallel(b *testing.B) {
	for _, s := range benchSetups {
		b.Run(s.name, func(b *testing.B) {
			root := benchTree(b, s.htaccess)
			cfg := loadConfig(b, root, "DocumentRoot @ROOT@/h\n"+s.conf)
			w := newTestWalker(b, cfg)
			w.async = s.async
			name := filepath.Join(root, "h/a/b/c/f.html")
			for i := 0; i < 3; i++ {
				w.Walk(cfg.Main, "/a/b/c/f.html", name).Close()
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w.Walk(cfg.Main, "/a/b/c/f.html", name).Close()
				}
			})
		})
	}
}
