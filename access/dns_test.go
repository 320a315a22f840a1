package access

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestResolverDoubleReverse(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	tests := []struct {
		addr       string
		wantName   string // DoubleReverse result
		wantOK     bool
		wantSingle string // Reverse result
	}{
		{"127.0.0.1", "localhost", true, "localhost"},
		{"127.0.0.3", "good.example.org", true, "good.example.org"}, // lowercased
		{"::ffff:127.0.0.3", "good.example.org", true, "good.example.org"},
		{"127.0.0.4", "", false, "trusted.example.org"}, // spoofed PTR: forward disagrees
		{"127.0.0.2", "", false, ""},                    // no PTR
		{"127.0.0.8", "", false, ""},                    // PTR is no host name (escaped dot)
		{"::1", "ip6.example.org", true, "ip6.example.org"},
	}
	rv := NewResolver([]string{d.addr}, 2*time.Second)
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			name, ok := rv.DoubleReverse(a)
			if name != tc.wantName || ok != tc.wantOK {
				t.Errorf("DoubleReverse(%s) = %q, %v; want %q, %v", tc.addr, name, ok, tc.wantName, tc.wantOK)
			}
			single, _ := rv.Reverse(a)
			if single != tc.wantSingle {
				t.Errorf("Reverse(%s) = %q; want %q", tc.addr, single, tc.wantSingle)
			}
		})
	}
}

func TestResolverCacheTTLAndNegative(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	rv := NewResolver([]string{d.addr}, 2*time.Second)
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	rv.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	good := netip.MustParseAddr("127.0.0.3")
	for i := 0; i < 5; i++ {
		if _, ok := rv.DoubleReverse(good); !ok {
			t.Fatal("127.0.0.3 should resolve")
		}
	}
	if q := d.queries.Load(); q != 2 { // one PTR, one A
		t.Fatalf("5 look-ups sent %d queries, want 2 (cached)", q)
	}
	// The entry lives for the smallest TTL involved: the A record's 120s.
	advance(119 * time.Second)
	rv.DoubleReverse(good)
	if q := d.queries.Load(); q != 2 {
		t.Fatalf("look-up within TTL sent queries (%d)", q)
	}
	advance(2 * time.Second)
	rv.DoubleReverse(good)
	if q := d.queries.Load(); q != 4 {
		t.Fatalf("look-up after TTL: %d queries, want 4", q)
	}

	// Negative answers are cached for the SOA minimum (30s).
	bad := netip.MustParseAddr("127.0.0.2")
	before := d.queries.Load()
	for i := 0; i < 3; i++ {
		if _, ok := rv.DoubleReverse(bad); ok {
			t.Fatal("127.0.0.2 has no PTR")
		}
	}
	if q := d.queries.Load() - before; q != 1 {
		t.Fatalf("negative look-ups sent %d queries, want 1", q)
	}
	advance(31 * time.Second)
	rv.DoubleReverse(bad)
	if q := d.queries.Load() - before; q != 2 {
		t.Fatalf("after negative TTL: %d queries, want 2", q)
	}
}

func TestResolverCoalescesConcurrentLookups(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	d.delay.Store(int64(100 * time.Millisecond))
	rv := NewResolver([]string{d.addr}, 2*time.Second)
	a := netip.MustParseAddr("127.0.0.3")
	var wg sync.WaitGroup
	const n = 50
	results := make([]bool, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, results[i] = rv.DoubleReverse(a)
		}(i)
	}
	wg.Wait()
	for i, ok := range results {
		if !ok {
			t.Fatalf("caller %d got no name", i)
		}
	}
	if q := d.queries.Load(); q != 2 {
		t.Fatalf("%d concurrent look-ups sent %d queries, want 2", n, q)
	}
}

func TestResolverTimeouts(t *testing.T) {
	slow := startTestDNS(t, standardRecords()...)
	slow.delay.Store(int64(time.Second))
	tests := []struct {
		name   string
		server string
	}{
		{"slow server", slow.addr},
		{"dead server", deadDNSAddr(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			timeout := 200 * time.Millisecond
			rv := NewResolver([]string{tc.server}, timeout)
			start := time.Now()
			_, ok := rv.DoubleReverse(netip.MustParseAddr("127.0.0.3"))
			took := time.Since(start)
			if ok {
				t.Fatal("look-up succeeded past the timeout")
			}
			if took > timeout+300*time.Millisecond {
				t.Fatalf("look-up took %v with a %v timeout", took, timeout)
			}
			// The failure is cached: the next request does not wait.
			start = time.Now()
			rv.DoubleReverse(netip.MustParseAddr("127.0.0.3"))
			if took := time.Since(start); took > 50*time.Millisecond {
				t.Fatalf("second look-up waited %v; failure not cached", took)
			}
		})
	}
}

func TestResolveAsyncNeverBlocks(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	d.delay.Store(int64(300 * time.Millisecond))
	rv := NewResolver([]string{d.addr}, 2*time.Second)
	a := netip.MustParseAddr("127.0.0.1")
	start := time.Now()
	if _, ok := rv.ResolveAsync(a); ok {
		t.Fatal("first ResolveAsync cannot know the name yet")
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Fatalf("ResolveAsync blocked for %v", took)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if name, ok := rv.ResolveAsync(a); ok {
			if name != "localhost" {
				t.Fatalf("name %q", name)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("background look-up never completed")
}

func TestResolverCacheIsBounded(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	rv := NewResolver([]string{d.addr}, time.Second)
	rv.maxEntries = 8
	for i := 0; i < 100; i++ {
		rv.DoubleReverse(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
		rv.mu.Lock()
		n := len(rv.cache)
		rv.mu.Unlock()
		if n > 8 {
			t.Fatalf("cache holds %d entries, bound 8", n)
		}
	}
	// The newest answer is always kept.
	if _, _, ok := rv.Cached(netip.AddrFrom4([4]byte{10, 0, 0, 99})); !ok {
		t.Error("latest entry evicted")
	}
}
