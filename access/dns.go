package access

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolver does the reverse (PTR) and double-reverse (PTR, then A/AAAA of
// the name must include the client) look-ups that host rules and
// HostnameLookups need. Answers are cached by address for the records'
// TTL (failures too), concurrent look-ups of one address share a single
// query, and every look-up is bounded by Timeout, so a dead DNS server
// costs a request at most Timeout and the next requests nothing until the
// negative entry expires.
//
// Apache caches per connection; Plume's cache is shared by all
// connections, which gives the same answers with far fewer queries.
type Resolver struct {
	// Servers are "host:port" DNS servers asked in order; empty means the
	// nameservers of /etc/resolv.conf.
	Servers []string
	// Timeout bounds one whole look-up (PTR and forward together).
	Timeout time.Duration

	// maxEntries bounds the cache (0: maxCacheEntries).
	maxEntries int

	mu       sync.Mutex
	cache    map[netip.Addr]*hostEntry
	inflight map[netip.Addr]*lookupCall
	now      func() time.Time
	queries  int // DNS messages sent, for tests and diagnostics
}

// hostEntry is the outcome of one look-up of an address.
type hostEntry struct {
	// name is the lowercased PTR name without the trailing dot, "" when
	// the reverse look-up failed.
	name string
	// doubleOK says the forward look-up of name included the address.
	doubleOK bool
	expires  time.Time
}

type lookupCall struct {
	done  chan struct{}
	entry *hostEntry
}

// Cache bounds: a hostile client population must not grow memory without
// limit, and zero TTLs must not turn every request into a query.
const (
	maxCacheEntries = 1 << 16
	minTTL          = 5 * time.Second
	maxTTL          = 24 * time.Hour
	negativeTTL     = 60 * time.Second
	// DefaultDNSTimeout bounds a look-up when PlumeDNSTimeout is not set.
	DefaultDNSTimeout = 3 * time.Second
)

// NewResolver returns a resolver asking servers (none: /etc/resolv.conf).
func NewResolver(servers []string, timeout time.Duration) *Resolver {
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	return &Resolver{Servers: servers, Timeout: timeout}
}

// Queries returns how many DNS queries the resolver has sent.
func (rv *Resolver) Queries() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.queries
}

func (rv *Resolver) clock() time.Time {
	if rv.now != nil {
		return rv.now()
	}
	return time.Now()
}

// DoubleReverse returns the client's host name when the reverse look-up
// succeeded and the name resolves back to the address (Apache's
// REMOTE_DOUBLE_REV), or ok=false.
func (rv *Resolver) DoubleReverse(addr netip.Addr) (name string, ok bool) {
	e := rv.lookup(addr)
	if e.name == "" || !e.doubleOK {
		return "", false
	}
	return e.name, true
}

// Reverse returns the PTR name of the address (HostnameLookups On), or
// ok=false.
func (rv *Resolver) Reverse(addr netip.Addr) (name string, ok bool) {
	e := rv.lookup(addr)
	return e.name, e.name != ""
}

// Cached returns what the cache knows about addr without querying:
// the PTR name and whether it was double-reverse confirmed.
func (rv *Resolver) Cached(addr netip.Addr) (name string, doubleOK, ok bool) {
	addr = addr.Unmap()
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if e := rv.cache[addr]; e != nil && rv.clock().Before(e.expires) {
		return e.name, e.doubleOK, true
	}
	return "", false, false
}

// ResolveAsync is for HostnameLookups used only for logging: it returns
// the cached PTR name if there is one and otherwise starts a look-up in
// the background, so the response is never delayed.
func (rv *Resolver) ResolveAsync(addr netip.Addr) (name string, ok bool) {
	if n, _, hit := rv.Cached(addr); hit {
		return n, n != ""
	}
	rv.mu.Lock()
	busy := rv.inflight[addr.Unmap().WithZone("")] != nil
	rv.mu.Unlock()
	if !busy {
		go rv.lookup(addr)
	}
	return "", false
}

// lookup returns the cached entry or queries, sharing one query among
// concurrent callers of the same address.
func (rv *Resolver) lookup(addr netip.Addr) *hostEntry {
	addr = addr.Unmap().WithZone("")
	rv.mu.Lock()
	if rv.cache == nil {
		rv.cache = map[netip.Addr]*hostEntry{}
		rv.inflight = map[netip.Addr]*lookupCall{}
	}
	if e := rv.cache[addr]; e != nil && rv.clock().Before(e.expires) {
		rv.mu.Unlock()
		return e
	}
	if c := rv.inflight[addr]; c != nil {
		rv.mu.Unlock()
		<-c.done
		return c.entry
	}
	c := &lookupCall{done: make(chan struct{})}
	rv.inflight[addr] = c
	rv.mu.Unlock()

	e := rv.query(addr)

	rv.mu.Lock()
	if len(rv.cache) >= rv.cacheLimit() {
		rv.evictLocked()
	}
	rv.cache[addr] = e
	delete(rv.inflight, addr)
	rv.mu.Unlock()
	c.entry = e
	close(c.done)
	return e
}

func (rv *Resolver) cacheLimit() int {
	if rv.maxEntries > 0 {
		return rv.maxEntries
	}
	return maxCacheEntries
}

// evictLocked drops expired entries, and if that is not enough an eighth
// of the cache (Go's map order makes the choice arbitrary).
func (rv *Resolver) evictLocked() {
	now := rv.clock()
	for k, e := range rv.cache {
		if !now.Before(e.expires) {
			delete(rv.cache, k)
		}
	}
	limit := rv.cacheLimit()
	drop := len(rv.cache) - limit + max(limit/8, 1)
	for k := range rv.cache {
		if drop <= 0 {
			break
		}
		delete(rv.cache, k)
		drop--
	}
}

func clampTTL(ttl time.Duration) time.Duration {
	if ttl < minTTL {
		return minTTL
	}
	if ttl > maxTTL {
		return maxTTL
	}
	return ttl
}

// query does the PTR look-up and the forward confirmation within the
// resolver's timeout.
func (rv *Resolver) query(addr netip.Addr) *hostEntry {
	if len(rv.Servers) == 0 {
		if name, ok, found := hostsLookup(addr); found {
			e := &hostEntry{name: name, doubleOK: ok, expires: rv.clock().Add(hostsTTL)}
			if !ok {
				// The name may still resolve back through DNS.
				e.doubleOK = rv.forwardHas(name, addr)
			}
			return e
		}
	}
	deadline := time.Now().Add(rv.Timeout) // real time, even with a test clock
	fail := func(ttl time.Duration) *hostEntry {
		return &hostEntry{expires: rv.clock().Add(clampTTL(ttl))}
	}
	arpa, err := dns.ReverseAddr(addr.String())
	if err != nil {
		return fail(negativeTTL)
	}
	resp := rv.exchange(arpa, dns.TypePTR, deadline)
	if resp == nil {
		return fail(negativeTTL)
	}
	var name string
	ttl := maxTTL
	for _, rr := range resp.Answer {
		if p, ok := rr.(*dns.PTR); ok {
			name = strings.ToLower(strings.TrimSuffix(p.Ptr, "."))
			ttl = min(ttl, time.Duration(p.Hdr.Ttl)*time.Second)
			break
		}
	}
	if name == "" {
		return fail(negativeTTLOf(resp))
	}
	if !validHostname(name) {
		// As the C library's resolver (res_hnok): a PTR answer that is
		// not a host name (escaped dots, spaces, control bytes) is no
		// name at all, so it can never fake a suffix such as
		// "evil\.example.org".
		return fail(negativeTTL)
	}
	e := &hostEntry{name: name}
	qtype := dns.TypeA
	if addr.Is6() {
		qtype = dns.TypeAAAA
	}
	fwd := rv.exchange(dns.Fqdn(name), qtype, deadline)
	if fwd != nil {
		for _, rr := range fwd.Answer {
			var ip net.IP
			switch a := rr.(type) {
			case *dns.A:
				ip = a.A
			case *dns.AAAA:
				ip = a.AAAA
			default:
				continue
			}
			if got, ok := netip.AddrFromSlice(ip); ok && got.Unmap() == addr {
				e.doubleOK = true
				ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
			}
		}
		if !e.doubleOK {
			ttl = min(ttl, negativeTTLOf(fwd))
		}
	} else {
		ttl = min(ttl, negativeTTL)
	}
	e.expires = rv.clock().Add(clampTTL(ttl))
	return e
}

// negativeTTLOf is RFC 2308's negative caching time: the SOA's minimum
// (bounded by the SOA's own TTL), or negativeTTL without an SOA.
func negativeTTLOf(m *dns.Msg) time.Duration {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Minttl, soa.Hdr.Ttl)) * time.Second
		}
	}
	return negativeTTL
}

var (
	resolvConfOnce sync.Once
	resolvConf     []string
)

func systemServers() []string {
	resolvConfOnce.Do(func() {
		cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return
		}
		for _, s := range cc.Servers {
			resolvConf = append(resolvConf, net.JoinHostPort(s, cc.Port))
		}
	})
	return resolvConf
}

// exchange asks each server in turn until one answers, never past
// deadline. It returns nil when nobody gave a usable answer (timeouts,
// SERVFAIL, refused). NXDOMAIN is an answer (with no records).
func (rv *Resolver) exchange(name string, qtype uint16, deadline time.Time) *dns.Msg {
	servers := rv.Servers
	if len(servers) == 0 {
		servers = systemServers()
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	for _, srv := range servers {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		rv.mu.Lock()
		rv.queries++
		rv.mu.Unlock()
		c := &dns.Client{Net: "udp", Timeout: left}
		resp, _, err := c.Exchange(m, srv)
		if err == nil && resp != nil && resp.Truncated {
			if left = time.Until(deadline); left > 0 {
				tc := &dns.Client{Net: "tcp", Timeout: left}
				resp, _, err = tc.Exchange(m, srv)
			}
		}
		if err != nil || resp == nil {
			continue
		}
		if resp.Rcode == dns.RcodeSuccess || resp.Rcode == dns.RcodeNameError {
			return resp
		}
	}
	return nil
}

// forwardHas reports whether name resolves to addr.
func (rv *Resolver) forwardHas(name string, addr netip.Addr) bool {
	addrs, _ := rv.forwardAddrs(name)
	for _, a := range addrs {
		if a == addr {
			return true
		}
	}
	return false
}

// forwardAddrs resolves a name to its addresses (Require forward-dns),
// using the same servers and timeout (and, in system mode, /etc/hosts
// first). ok is false when the name could not be resolved.
func (rv *Resolver) forwardAddrs(name string) ([]netip.Addr, bool) {
	if len(rv.Servers) == 0 {
		if addrs := hostsForward(name); len(addrs) > 0 {
			return addrs, true
		}
	}
	deadline := time.Now().Add(rv.Timeout) // real time, even with a test clock
	var out []netip.Addr
	answered := false
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		resp := rv.exchange(dns.Fqdn(name), qt, deadline)
		if resp == nil {
			continue
		}
		for _, rr := range resp.Answer {
			var ip net.IP
			switch a := rr.(type) {
			case *dns.A:
				ip = a.A
			case *dns.AAAA:
				ip = a.AAAA
			default:
				continue
			}
			if got, ok := netip.AddrFromSlice(ip); ok {
				out = append(out, got.Unmap())
				answered = true
			}
		}
	}
	return out, answered
}

// The resolvers in use, one per (servers, timeout) pair, so all virtual
// hosts that share settings share a cache.
var (
	resolversMu sync.Mutex
	resolvers   = map[string]*Resolver{}
)

// SharedResolver returns the process-wide resolver for the settings.
func SharedResolver(servers []string, timeout time.Duration) *Resolver {
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	key := strings.Join(servers, ",") + "|" + timeout.String()
	resolversMu.Lock()
	defer resolversMu.Unlock()
	if r := resolvers[key]; r != nil {
		return r
	}
	r := NewResolver(servers, timeout)
	resolvers[key] = r
	return r
}

// validHostname accepts letters, digits, '-', '_' and non-empty labels.
func validHostname(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
