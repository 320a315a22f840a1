package access

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// With no PlumeDNSServer, Plume resolves as Apache's getnameinfo and
// getaddrinfo do through the C library: /etc/hosts first, then the
// nameservers of /etc/resolv.conf. (That is what makes the common
// "Allow from localhost" work for 127.0.0.1.) Answers from the hosts file
// carry no TTL; they are cached for hostsTTL.

const hostsTTL = 60 * time.Second

type hostsFile struct {
	mtime   time.Time
	size    int64
	reverse map[netip.Addr]string   // address → first (canonical) name
	forward map[string][]netip.Addr // lowercased name → addresses
}

var (
	hostsMu     sync.Mutex
	hostsCached *hostsFile
	hostsPath   = "/etc/hosts"
)

// loadHosts returns the parsed hosts file, re-read when it changes.
func loadHosts() *hostsFile {
	st, err := os.Stat(hostsPath)
	if err != nil {
		return nil
	}
	hostsMu.Lock()
	defer hostsMu.Unlock()
	if h := hostsCached; h != nil && h.size == st.Size() && h.mtime.Equal(st.ModTime()) {
		return h
	}
	f, err := os.Open(hostsPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := &hostsFile{mtime: st.ModTime(), size: st.Size(), reverse: map[netip.Addr]string{}, forward: map[string][]netip.Addr{}}
	sc := bufio.NewScanner(f)
	for lines := 0; sc.Scan() && lines < 100000; lines++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		a = a.Unmap().WithZone("")
		if _, seen := h.reverse[a]; !seen {
			h.reverse[a] = strings.ToLower(fields[1])
		}
		for _, n := range fields[1:] {
			n = strings.ToLower(n)
			h.forward[n] = append(h.forward[n], a)
		}
	}
	hostsCached = h
	return h
}

// hostsLookup answers a double-reverse look-up from the hosts file, if the
// file names the address.
func hostsLookup(addr netip.Addr) (name string, doubleOK, found bool) {
	h := loadHosts()
	if h == nil {
		return "", false, false
	}
	name, found = h.reverse[addr]
	if !found {
		return "", false, false
	}
	for _, a := range h.forward[name] {
		if a == addr {
			return name, true, true
		}
	}
	return name, false, true
}

// hostsForward returns the hosts file's addresses for a name.
func hostsForward(name string) []netip.Addr {
	if h := loadHosts(); h != nil {
		return h.forward[strings.ToLower(strings.TrimSuffix(name, "."))]
	}
	return nil
}
