package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostnameLookupsLog checks %h under HostnameLookups: the name comes
// from the resolver's cache (127.0.0.1 is "localhost" in /etc/hosts, which
// the resolver consults first), the first request is never delayed by the
// look-up and may log the IP, and %a always logs the IP. With
// HostnameLookups Off, %h is the IP.
func TestHostnameLookupsLog(t *testing.T) {
	hosts, _ := os.ReadFile("/etc/hosts")
	if !strings.Contains(string(hosts), "127.0.0.1") || !strings.Contains(string(hosts), "localhost") {
		t.Skip("/etc/hosts has no localhost entry for 127.0.0.1")
	}
	for _, mode := range []string{"Off", "On", "Double"} {
		t.Run(mode, func(t *testing.T) {
			s := startSite(t, "LogFormat \"%h %a\" hx\nCustomLog @ROOT@/hx.log hx\nHostnameLookups "+mode+"\n",
				map[string]string{"htdocs/a.txt": "a"}, false)
			for i := 0; i < 3; i++ {
				do(t, s.plume, "GET", "/a.txt")
				time.Sleep(200 * time.Millisecond) // let the background look-up land
			}
			var lines []string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				b, _ := os.ReadFile(filepath.Join(s.dir, "hx.log"))
				lines = strings.Split(strings.TrimSpace(string(b)), "\n")
				if len(lines) >= 3 {
					break
				}
			}
			if len(lines) < 3 {
				t.Fatalf("access log has %d lines, want 3: %q", len(lines), lines)
			}
			want := "127.0.0.1 127.0.0.1"
			if mode != "Off" {
				want = "localhost 127.0.0.1"
			}
			if got := lines[len(lines)-1]; got != want {
				t.Errorf("last log line %q, want %q (all: %q)", got, want, lines)
			}
		})
	}
}
