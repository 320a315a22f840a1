package access

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"plume/request"
)

func benchRequest(b *testing.B, serverConf, conf, client string) *request.Request {
	srv := newTestServer(b, serverConf)
	vec := mergedVector(b, srv, layer{text: conf})
	return &request.Request{Method: "GET", URI: "/x/index.html", Filename: "/srv/x/index.html",
		Header: http.Header{}, RemoteAddr: netip.MustParseAddr(client), Server: srv, PerDir: vec,
		Env: map[string]string{}, Out: http.Header{}, ErrOut: http.Header{}}
}

func BenchmarkCheckAllowAll(b *testing.B) {
	r := benchRequest(b, "", "Order allow,deny\nAllow from all", "127.0.0.3")
	b.ReportAllocs()
	for b.Loop() {
		if Check(r) != 0 {
			b.Fatal("denied")
		}
	}
}

func BenchmarkCheckRequireAllGranted(b *testing.B) {
	r := benchRequest(b, "", "Require all granted", "127.0.0.3")
	b.ReportAllocs()
	for b.Loop() {
		if Check(r) != 0 {
			b.Fatal("denied")
		}
	}
}

// BenchmarkCheckHostRuleWarm: a host rule whose double-reverse answer is
// in the shared cache (the first iteration fills it).
func BenchmarkCheckHostRuleWarm(b *testing.B) {
	d := startTestDNS(b, standardRecords()...)
	r := benchRequest(b, "PlumeDNSServer "+d.addr, "Order deny,allow\nDeny from all\nAllow from example.org", "127.0.0.3")
	if Check(r) != 0 {
		b.Fatal("denied")
	}
	b.ReportAllocs()
	for b.Loop() {
		if Check(r) != 0 {
			b.Fatal("denied")
		}
	}
	b.ReportMetric(float64(d.queries.Load()), "dns-queries")
}

// BenchmarkCheckHostRuleDeadDNS: each iteration uses a new address, so
// each waits for the 100ms timeout of a DNS server that never answers.
func BenchmarkCheckHostRuleDeadDNS(b *testing.B) {
	r := benchRequest(b, "PlumeDNSServer "+deadDNSAddr(b)+"\nPlumeDNSTimeout 100ms", "Order deny,allow\nDeny from all\nAllow from example.org", "10.0.0.1")
	var worst time.Duration
	i := 0
	for b.Loop() {
		i++
		r.RemoteAddr = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		start := time.Now()
		if Check(r) != 403 {
			b.Fatal("dead DNS must deny")
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
}
