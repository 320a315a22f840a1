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
	if host == "" {
		return t.baseServer(local)
	}
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

// baseServer is the connection's base server: the first virtual host the
// local address selects (specific addresses before wildcards), else the
// main server. It is selectServer without a Host, without building the
// candidate list: the connection layer asks for it on every request.
func (t *vhostTable) baseServer(local netip.AddrPort) *config.Server {
	ip, port := local.Addr().Unmap(), int(local.Port())
	for _, e := range t.specific {
		if e.ip == ip && (e.port == 0 || e.port == port) {
			return e.srv
		}
	}
	for _, e := range t.wildcard {
		if e.port == 0 || e.port == port {
			return e.srv
		}
	}
	return t.main
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

// fixHostname is vhost.c's fix_hostname: it splits the Host header into a
// lowercased name without a trailing dot and a port, and reports whether
// Apache accepts it. Without strict (HttpProtocolOptions Unsafe) a purely
// numeric name is taken as is, and other names are refused only for '/',
// '\\' or ".."; strict (the default) refuses purely numeric names and
// applies strict_hostname_check. apr_parse_addr_port splits the port
// (1-65535; "x:" is no port, checked with apache2); an IPv6 literal must
// be well formed.
func fixHostname(h string, strict bool) (name, port string, ok bool) {
	if h == "" {
		return "", "", true
	}
	if allDigits(h) {
		return h, "", !strict
	}
	end := len(h)
	for end > 0 && h[end-1] >= '0' && h[end-1] <= '9' {
		end--
	}
	name = h
	if end > 0 && h[end-1] == ':' {
		port = h[end:]
		if n := atoi(port); port != "" && (n < 1 || n > 65535) || port == "" && strict {
			// "x:" passes only without strict (both checked with apache2).
			return "", "", false
		}
		name = h[:end-1]
	}
	if name == "" {
		return "", "", false
	}
	if strings.HasPrefix(name, "[") {
		addr, err := netip.ParseAddr(strings.TrimSuffix(name[1:], "]"))
		if err != nil || !strings.HasSuffix(name, "]") || addr.Zone() != "" || !addr.Is6() {
			return "", "", false
		}
		return asciiLower(name), port, true
	}
	if strings.Contains(name, "..") || strings.ContainsAny(name, "/\\") {
		return "", "", false
	}
	name = asciiLower(strings.TrimSuffix(name, "."))
	if strict && !strictHostname(name) {
		return "", "", false
	}
	return name, port, true
}

// strictHostname is strict_hostname_check: letters, digits, '-', '_' and
// dots; a dotted-decimal name must be four parts without leading zeros
// (RFC 3986 7.4), any other name's last label must start with a letter
// (RFC 1123 2.1).
func strictHostname(host string) bool {
	dotted, leadingZeros, dots := true, false, 0
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_':
			dotted = false
		case c == '.':
			dots++
			if i+2 < len(host) && host[i+1] == '0' && host[i+2] >= '0' && host[i+2] <= '9' {
				leadingZeros = true
			}
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	if dotted {
		if host[0] == '.' || len(host) > 1 && host[0] == '0' && host[1] >= '0' && host[1] <= '9' {
			leadingZeros = true
		}
		return !leadingZeros && dots == 3
	}
	if i := strings.LastIndexByte(host, '.'); i >= 0 && i+1 < len(host) {
		c := host[i+1]
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return true
}
