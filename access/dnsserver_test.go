package access

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testDNS is an authoritative DNS server on loopback for the tests: it
// answers from a record table, can be slowed down, and counts queries.
type testDNS struct {
	addr    string
	records map[string][]dns.RR // key: lowercased FQDN + "/" + type
	delay   atomic.Int64        // nanoseconds to wait before answering
	queries atomic.Int64
	mu      sync.Mutex
	srv     *dns.Server
}

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("bad RR %q: %v", s, err)
	}
	return r
}

// startTestDNS serves the given records ("name TTL IN TYPE data").
func startTestDNS(t testing.TB, records ...string) *testDNS {
	t.Helper()
	d := &testDNS{records: map[string][]dns.RR{}}
	for _, s := range records {
		r := rr(t, s)
		k := strings.ToLower(r.Header().Name) + "/" + dns.TypeToString[r.Header().Rrtype]
		d.records[k] = append(d.records[k], r)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	d.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve)}
	started := make(chan struct{})
	d.srv.NotifyStartedFunc = func() { close(started) }
	go d.srv.ActivateAndServe()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("test DNS server did not start")
	}
	t.Cleanup(func() { d.srv.Shutdown() })
	return d
}

func (d *testDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	d.queries.Add(1)
	if n := d.delay.Load(); n > 0 {
		time.Sleep(time.Duration(n))
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		k := strings.ToLower(q.Name) + "/" + dns.TypeToString[q.Qtype]
		m.Answer = append(m.Answer, d.records[k]...)
		if len(m.Answer) == 0 {
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 30},
				Ns: "ns.test.", Mbox: "h.test.", Serial: 1, Refresh: 60, Retry: 60, Expire: 60, Minttl: 30}}
		}
	}
	w.WriteMsg(m)
}

// deadDNSAddr returns a loopback UDP address where a socket is bound but
// never answers: look-ups against it can only time out.
func deadDNSAddr(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// standardRecords is the zone most tests use: 127.0.0.1 is localhost (as
// /etc/hosts tells Apache), 127.0.0.3 is good.example.org (confirmed),
// 127.0.0.4 claims trusted.example.org whose A record does not agree
// (spoofed PTR), 127.0.0.2 has no PTR, ::1 is ip6.example.org.
func standardRecords() []string {
	return []string{
		"1.0.0.127.in-addr.arpa. 300 IN PTR localhost.",
		"localhost. 300 IN A 127.0.0.1",
		"3.0.0.127.in-addr.arpa. 300 IN PTR Good.Example.ORG.",
		"good.example.org. 120 IN A 127.0.0.3",
		"4.0.0.127.in-addr.arpa. 300 IN PTR trusted.example.org.",
		"trusted.example.org. 300 IN A 10.9.9.9",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 300 IN PTR ip6.example.org.",
		"ip6.example.org. 300 IN AAAA ::1",
		"8.0.0.127.in-addr.arpa. 300 IN PTR evil\\.example.org.",
		"evil\\.example.org. 300 IN A 127.0.0.8",
		"multi.example.org. 300 IN A 127.0.0.9",
		"multi.example.org. 300 IN A 127.0.0.2",
	}
}
