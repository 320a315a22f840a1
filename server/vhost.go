package server

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"plume/config"
)

// vhostTable selects the server for a connection's local address and the
// Host header, as server/vhost.c: IP-specific <VirtualHost>s before
// wildcard ones, then ServerName/ServerAlias, else the first vhost listed
// for that address; addresses no vhost covers go to the main server.
type vhostTable struct {
	main     *config.Server
	specific []vhostEntry
	wildcard []vhostEntry
}

type vhostEntry struct {
	ip   netip.Addr // zero for * and _default_
	port int        // 0: any
	srv  *config.Server
}

func buildVhostTable(cfg *config.Config) (*vhostTable, error) {
	t := &vhostTable{main: cfg.Main}
	for _, v := range cfg.VHosts {
		for _, a := range v.Addrs {
			host := strings.Trim(a.Host, "[]")
			if host == "*" || strings.EqualFold(host, "_default_") || host == "" {
				t.wildcard = append(t.wildcard, vhostEntry{port: a.Port, srv: v})
				continue
			}
			if ip, err := netip.ParseAddr(host); err == nil {
				t.specific = append(t.specific, vhostEntry{ip: ip.Unmap(), port: a.Port, srv: v})
				continue
			}
			// A name: Apache resolves it at startup (bounded here so a
			// dead resolver cannot hang the start).
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			cancel()
			if err != nil {
				continue
			}
			for _, ip := range ips {
				t.specific = append(t.specific, vhostEntry{ip: ip.Unmap(), port: a.Port, srv: v})
			}
		}
	}
	return t, nil
}

// selectServer returns the server for a request.
func (t *vhostTable) selectServer(local netip.AddrPort, host string) *config.Server {
	var cands []*config.Server
	ip, port := local.Addr().Unmap(), int(local.Port())
	for _, e := range t.specific {
		if e.ip == ip && (e.port == 0 || e.port == port) {
			cands = appendUnique(cands, e.srv)
		}
	}
	if len(cands) == 0 {
		for _, e := range t.wildcard {
			if e.port == 0 || e.port == port {
				cands = appendUnique(cands, e.srv)
			}
		}
	}
	if len(cands) == 0 {
		return t.main
	}
	if host != "" {
		for _, s := range cands {
			if matchesServer(s, host) {
				return s
			}
		}
	}
	return cands[0]
}

func appendUnique(list []*config.Server, s *config.Server) []*config.Server {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func matchesServer(s *config.Server, host string) bool {
	if strings.EqualFold(s.Name, host) {
		return true
	}
	for _, a := range s.Aliases {
		if strcasecmpMatch(host, a) {
			return true
		}
	}
	return false
}

// strcasecmpMatch is ap_strcasecmp_match: '*' any run, '?' one character,
// case-insensitive.
func strcasecmpMatch(str, pat string) bool {
	return strcmpMatch(strings.ToLower(str), strings.ToLower(pat))
}

// fixHostname lowercases the Host header's name and removes the port and a
// trailing dot (vhost.c fix_hostname). ok is false for an invalid name.
func fixHostname(h string) (name, port string, ok bool) {
	if h == "" {
		return "", "", true
	}
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", "", false
		}
		name = strings.ToLower(h[:end+1])
		rest := h[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "", false
			}
			port = rest[1:]
		}
	} else {
		name = h
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			name, port = h[:i], h[i+1:]
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
				return "", "", false
			}
		}
		name = strings.ToLower(strings.TrimSuffix(name, "."))
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", "", false
		}
	}
	return name, port, true
}
