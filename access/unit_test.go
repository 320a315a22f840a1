package access

import (
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plume/directives"
	"plume/request"
)

func TestSubnetMatch(t *testing.T) {
	tests := []struct {
		rule   string
		client string
		want   bool
	}{
		{"10.1.2.3", "10.1.2.3", true},
		{"10.1.2.3", "10.1.2.4", false},
		{"10", "10.200.1.1", true},
		{"10.", "10.200.1.1", true},
		{"10.1", "10.1.9.9", true},
		{"10.1", "10.10.9.9", false}, // octets, not text prefixes
		{"10.1.2.", "10.1.2.77", true},
		{"10.1.2.3.", "10.1.2.3", true},
		{"010.1.2.3", "10.1.2.3", true}, // APR's inet_pton takes leading zeros
		{"10.0.0.0/8", "10.255.0.1", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"10.9.9.9/8", "10.0.0.1", true}, // host bits are masked off
		{"192.168.0.0/255.255.0.0", "192.168.4.4", true},
		{"192.168.0.0/255.255.0.0", "192.169.4.4", false},
		{"1.2.3.4/32", "1.2.3.4", true},
		{"10.1.2.3", "::ffff:10.1.2.3", true}, // IPv4 rules match mapped clients
		{"10.0.0.0/8", "::ffff:10.1.2.3", true},
		{"::1", "::1", true},
		{"::1", "127.0.0.1", false},
		{"fe80::/10", "fe80::1234", true},
		{"fe80::/10", "fec0::1", false},
		{"2001:db8::/32", "2001:db8:1::5", true},
		{"10.1.2.3", "::1", false},
		{"::/1", "::ffff:10.1.2.3", false}, // mapped clients only meet IPv4 rules
	}
	for _, tc := range tests {
		ip, mask, has := strings.Cut(tc.rule, "/")
		sn, err := parseSubnet(ip, mask, has)
		if err != nil {
			t.Errorf("parse %q: %v", tc.rule, err)
			continue
		}
		if got := sn.match(netip.MustParseAddr(tc.client)); got != tc.want {
			t.Errorf("%s matches %s = %v, want %v", tc.rule, tc.client, got, tc.want)
		}
	}
}

func TestInDomain(t *testing.T) {
	tests := []struct {
		domain, host string
		want         bool
	}{
		{"example.org", "example.org", true},
		{"example.org", "www.example.org", true},
		{"example.org", "WWW.Example.ORG", true},
		{"example.org", "fooexample.org", false},
		{".example.org", "www.example.org", true},
		{".example.org", "example.org", false},
		{"www.example.org", "example.org", false},
		{"org", "example.org", true},
		{"", "example.org", false},
	}
	for _, tc := range tests {
		if got := inDomain(tc.domain, tc.host); got != tc.want {
			t.Errorf("inDomain(%q, %q) = %v, want %v", tc.domain, tc.host, got, tc.want)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	// Fixed vectors (from htpasswd): one per supported format.
	fixed := []struct {
		pw, hash  string
		match, ok bool
	}{
		{"alicepw", "$apr1$OW2jRtJC$ue26kgqCnGLhj72qp3bsb/", true, true},
		{"alicepx", "$apr1$OW2jRtJC$ue26kgqCnGLhj72qp3bsb/", false, true},
		{"bobpw", "$2y$05$Ngd8JJxBk46iTV2nZtQi.uYyywHE3iNsrOU2lgFRNKXVUR7ZYdgLi", true, true},
		{"carolpw", "{SHA}stOsjhQ+/Zr2RzmhAD8uggClG7Y=", true, true},
		{"davepw", "1TByg5fmlpbiY", false, false}, // crypt: unsupported, never matches
		{"erinpw", "erinpw", false, false},        // plain text: crypt on Linux, never matches
	}
	for _, tc := range fixed {
		m, ok := validatePassword(tc.pw, tc.hash)
		if m != tc.match || ok != tc.ok {
			t.Errorf("validatePassword(%q, %q) = %v,%v want %v,%v", tc.pw, tc.hash, m, ok, tc.match, tc.ok)
		}
	}
	// Fresh hashes from htpasswd, with passwords that stress APR1's
	// length-dependent steps (empty, 16+ bytes, non-ASCII, colon).
	htpasswd, err := exec.LookPath("htpasswd")
	if err != nil {
		if needApache(t) {
			t.Fatal("htpasswd (apache2-utils) missing although apache2 is installed")
		}
		return
	}
	for _, flag := range []string{"-m", "-B", "-s"} {
		for _, pw := range []string{"", "a", "exactly16bytes!!", "a much longer password than sixteen bytes", "pässwörd", "with:colon"} {
			out, err := exec.Command(htpasswd, "-nb", flag, "u", pw).Output()
			if err != nil {
				t.Fatalf("htpasswd %s: %v", flag, err)
			}
			hash := strings.TrimPrefix(strings.TrimSpace(string(out)), "u:")
			if m, ok := validatePassword(pw, hash); !m || !ok {
				t.Errorf("htpasswd %s %q → %s: not accepted", flag, pw, hash)
			}
			if m, _ := validatePassword(pw+"x", hash); m {
				t.Errorf("htpasswd %s: wrong password accepted for %s", flag, hash)
			}
		}
	}
}

// newReq builds a request for Check over the given per-directory text.
func newReq(t *testing.T, srv *directives.Server, conf, client string) *request.Request {
	t.Helper()
	vec := mergedVector(t, srv, layer{text: conf})
	return &request.Request{Method: "GET", URI: "/x/index.html", Filename: "/srv/x/index.html",
		Header: http.Header{}, RemoteAddr: netip.MustParseAddr(client), Server: srv, PerDir: vec,
		Env: map[string]string{}, Out: http.Header{}, ErrOut: http.Header{}}
}

// TestHostRulesWithDNS covers the DNS-success paths Apache cannot be
// pointed at: confirmed names, suffixes, spoofed PTRs, dead servers, and
// that DNS is asked only when a host rule is reached.
func TestHostRulesWithDNS(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	srv := newTestServer(t, "PlumeDNSServer "+d.addr+"\nPlumeDNSTimeout 1s")
	dead := newTestServer(t, "PlumeDNSServer "+deadDNSAddr(t)+"\nPlumeDNSTimeout 150ms")
	tests := []struct {
		name   string
		srv    *directives.Server
		conf   string
		client string
		want   int
	}{
		{"confirmed name", srv, "Order deny,allow\nDeny from all\nAllow from example.org", "127.0.0.3", 0},
		{"leading dot", srv, "Order deny,allow\nDeny from all\nAllow from .example.org", "127.0.0.3", 0},
		{"exact only", srv, "Order deny,allow\nDeny from all\nAllow from .good.example.org", "127.0.0.3", 403},
		{"label boundary", srv, "Order deny,allow\nDeny from all\nAllow from od.example.org", "127.0.0.3", 403},
		{"spoofed PTR allow", srv, "Order deny,allow\nDeny from all\nAllow from example.org", "127.0.0.4", 403},
		{"spoofed PTR deny", srv, "Order allow,deny\nAllow from all\nDeny from example.org", "127.0.0.4", 0},
		{"escaped-dot PTR", srv, "Order deny,allow\nDeny from all\nAllow from example.org", "127.0.0.8", 403},
		{"deny by name", srv, "Order allow,deny\nAllow from all\nDeny from good.example.org", "127.0.0.3", 403},
		{"ipv6 name", srv, "Order deny,allow\nDeny from all\nAllow from ip6.example.org", "::1", 0},
		{"mapped client", srv, "Order deny,allow\nDeny from all\nAllow from example.org", "::ffff:127.0.0.3", 0},
		{"require host", srv, "Require host example.org", "127.0.0.3", 0},
		{"require not host", srv, "<RequireAll>\nRequire all granted\nRequire not host good.example.org\n</RequireAll>", "127.0.0.3", 403},
		{"forward-dns", srv, "Require forward-dns multi.example.org", "127.0.0.2", 0},
		{"forward-dns miss", srv, "Require forward-dns multi.example.org nonexistent.example.org", "127.0.0.5", 403},
		{"dead allow", dead, "Order deny,allow\nDeny from all\nAllow from example.org", "127.0.0.3", 403},
		{"dead deny", dead, "Order allow,deny\nAllow from all\nDeny from example.org", "127.0.0.3", 0},
		{"dead require host", dead, "Require host example.org", "127.0.0.3", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq(t, tc.srv, tc.conf, tc.client)
			start := time.Now()
			if got := Check(r); got != tc.want {
				t.Errorf("Check = %d, want %d", got, tc.want)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Check took %v", took)
			}
		})
	}

	// Laziness: IP and "all" rules decide without DNS; the host rule after
	// a matching IP rule is never reached.
	lazy := startTestDNS(t, standardRecords()...)
	lsrv := newTestServer(t, "PlumeDNSServer "+lazy.addr)
	for _, conf := range []string{
		"Order deny,allow\nDeny from all\nAllow from 127.0.0.0/8 example.org",
		"Order allow,deny\nAllow from all",
		"Require ip 127.0.0.7\nRequire host example.org",
		"Require all granted",
	} {
		Check(newReq(t, lsrv, conf, "127.0.0.7"))
	}
	if q := lazy.queries.Load(); q != 0 {
		t.Errorf("IP-only decisions sent %d DNS queries", q)
	}
	Check(newReq(t, lsrv, "Order deny,allow\nDeny from all\nAllow from example.org", "127.0.0.7"))
	if q := lazy.queries.Load(); q == 0 {
		t.Error("a host rule did not query DNS")
	}
}

func TestEnvExprAndCheapness(t *testing.T) {
	srv := newTestServer(t, "")
	tests := []struct {
		name  string
		conf  string
		env   map[string]string
		want  int
		cheap bool
	}{
		{"allow env set", "Order deny,allow\nDeny from all\nAllow from env=GOOD", map[string]string{"good": "1"}, 0, false},
		{"allow env unset", "Order deny,allow\nDeny from all\nAllow from env=GOOD", nil, 403, false},
		{"deny env=!", "Order allow,deny\nAllow from all\nDeny from env=!TOKEN", nil, 403, false},
		{"require env", "Require env A B", map[string]string{"B": ""}, 0, false},
		{"require env missing", "Require env A B", nil, 403, false},
		{"require expr fails closed", "Require expr true", nil, 500, false},
		{"expr variable in host", "Require host %{HTTP_HOST}", nil, 500, false},
		{"ip only", "Order allow,deny\nAllow from 10.0.0.0/8 127.0.0.1", nil, 0, true},
		{"require ip", "<RequireAll>\nRequire ip 127.0.0.1\nRequire method GET\n</RequireAll>", nil, 0, true},
		{"host is not cheap", "Require host example.org", nil, 403, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq(t, srv, tc.conf, "127.0.0.1")
			for k, v := range tc.env {
				r.Env[k] = v
			}
			var logs []string
			r.Log = func(m, l, c, msg string) { logs = append(logs, msg) }
			if got := Check(r); got != tc.want {
				t.Errorf("Check = %d, want %d (logs %q)", got, tc.want, logs)
			}
			if tc.want == 500 && (len(logs) == 0 || !strings.Contains(strings.Join(logs, "\n"), "Require")) {
				t.Errorf("500 without a log line naming the directive: %q", logs)
			}
			if got := CheckIsCheap(r.PerDir); got != tc.cheap {
				t.Errorf("CheckIsCheap = %v, want %v", got, tc.cheap)
			}
		})
	}
}

func TestMethodNumbers(t *testing.T) {
	for m, want := range map[string]int{"GET": 0, "HEAD": 0, "POST": 2, "PATCH": 7, "MERGE": 25, "get": MInvalid, "BREW": MInvalid} {
		if got := MethodNumber(m); got != want {
			t.Errorf("MethodNumber(%q) = %d, want %d", m, got, want)
		}
	}
	n := RegisterMethod("PLUMETESTMETHOD")
	if n <= MInvalid || n >= 63 || MethodNumber("PLUMETESTMETHOD") != n || MethodBit("PLUMETESTMETHOD") != 1<<uint(n) {
		t.Errorf("registered method got %d", n)
	}
}

func TestBasicAuthHostile(t *testing.T) {
	srv := newTestServer(t, "")
	file, err := filepath.Abs(filepath.Join("..", "testdata", "access", "users.htpasswd"))
	if err != nil {
		t.Fatal(err)
	}
	conf := "AuthType Basic\nAuthName \"R\"\nAuthUserFile " + file + "\nRequire valid-user"
	for _, h := range []string{"Basic", "Basic ", "Basic ====", "Basic " + strings.Repeat("A", 100000), "Basic\t\tYm9iOmJvYnB3", "NTLM abc", "Basic Ym9i"} {
		r := newReq(t, srv, conf, "127.0.0.1")
		r.Header.Set("Authorization", h)
		if got := Check(r); got != 401 {
			t.Errorf("Authorization %.30q: %d, want 401", h, got)
		}
		if r.ErrOut.Get("WWW-Authenticate") != `Basic realm="R"` {
			t.Errorf("Authorization %.30q: challenge %q", h, r.ErrOut.Get("WWW-Authenticate"))
		}
	}
}

func TestPlumeDNSDirectives(t *testing.T) {
	bad := []struct{ conf, want string }{
		{"PlumeDNSServer example.org", "is not an IP address"},
		{"PlumeDNSServer 127.0.0.1:99999", "bad port"},
		{"PlumeDNSTimeout soon", "takes a duration"},
		{"PlumeDNSTimeout 2h", "between 1ms and 1m"},
	}
	for _, tc := range bad {
		srv := &directives.Server{Config: directives.NewVector(), Defaults: directives.NewVector()}
		st := &directives.Cmd{Override: directives.OrAll | directives.RsrcConf, Limited: directives.LimitAll,
			Server: srv, Dir: srv.Defaults, Global: &directives.Config{}}
		err := directives.Walk(parseTestConf(t, "s.conf", tc.conf), st)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.conf, err, tc.want)
		}
	}
	// Not in directory context (RSRC_CONF only).
	if _, _, err := walkLayer(newTestServer(t, ""), layer{text: "PlumeDNSServer 127.0.0.1"}); err == nil {
		t.Error("PlumeDNSServer accepted inside <Directory>")
	}
	srv := newTestServer(t, "PlumeDNSServer 127.0.0.1:5353 ::1\nPlumeDNSTimeout 500ms")
	rv := ResolverFor(srv)
	if len(rv.Servers) != 2 || rv.Servers[0] != "127.0.0.1:5353" || rv.Servers[1] != "[::1]:53" || rv.Timeout != 500*time.Millisecond {
		t.Errorf("resolver %v %v", rv.Servers, rv.Timeout)
	}
	if ResolverFor(srv) != rv {
		t.Error("servers with the same settings must share one resolver (and cache)")
	}
}

func TestRemoteHostForLog(t *testing.T) {
	d := startTestDNS(t, standardRecords()...)
	srv := newTestServer(t, "PlumeDNSServer "+d.addr)
	for _, tc := range []struct {
		client string
		double bool
		want   string
	}{
		{"127.0.0.1", false, "localhost"},
		{"127.0.0.4", false, "trusted.example.org"},
		{"127.0.0.4", true, ""}, // spoofed: Double logs the IP
		{"127.0.0.2", false, ""},
	} {
		r := &request.Request{RemoteAddr: netip.MustParseAddr(tc.client), Server: srv}
		got := RemoteHostForLog(r, tc.double) // first call: never waits
		deadline := time.Now().Add(3 * time.Second)
		for got == "" && tc.want != "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			got = RemoteHostForLog(r, tc.double)
		}
		if got != tc.want {
			t.Errorf("%s double=%v: %q, want %q", tc.client, tc.double, got, tc.want)
		}
	}
}

func TestSystemModeUsesHostsFile(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("# test\n127.0.0.1 localhost\n127.0.0.5 Five.Test five\n127.0.0.6 six.test # comment\n127.0.0.66 six.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := hostsPath
	hostsPath = hosts
	hostsMu.Lock()
	hostsCached = nil
	hostsMu.Unlock()
	t.Cleanup(func() { hostsPath = old; hostsMu.Lock(); hostsCached = nil; hostsMu.Unlock() })

	rv := NewResolver(nil, time.Second)
	for addr, want := range map[string]string{"127.0.0.1": "localhost", "127.0.0.5": "five.test", "127.0.0.6": "six.test", "127.0.0.66": "six.test"} {
		if got, ok := rv.DoubleReverse(netip.MustParseAddr(addr)); !ok || got != want {
			t.Errorf("DoubleReverse(%s) = %q,%v want %q", addr, got, ok, want)
		}
	}
	addrs, ok := rv.forwardAddrs("SIX.test")
	if !ok || len(addrs) != 2 {
		t.Errorf("forwardAddrs(six.test) = %v, %v", addrs, ok)
	}
	if rv.Queries() != 0 {
		t.Errorf("hosts-file answers sent %d DNS queries", rv.Queries())
	}
}

func TestSubRequestInheritsCheck(t *testing.T) {
	srv := newTestServer(t, "")
	main := newReq(t, srv, "Require all denied", "127.0.0.1")
	main.User = "bob"
	sub := *main
	sub.Main = main
	sub.User = ""
	if got := Check(&sub); got != 0 || sub.User != "bob" {
		t.Errorf("sub-request with the main request's config: %d user %q", got, sub.User)
	}
	other := newReq(t, srv, "Require all denied", "127.0.0.1")
	other.Main = main
	if got := Check(other); got != 403 {
		t.Errorf("sub-request with its own config: %d, want 403", got)
	}
}

// A relative AuthUserFile with no ServerRoot resolver fails closed instead
// of being read relative to the working directory.
func TestRelativeAuthFileFailsClosed(t *testing.T) {
	srv := newTestServer(t, "")
	_, warns, err := walkLayer(srv, layer{text: "AuthUserFile access/users"})
	if err != nil || len(warns) != 1 {
		t.Fatalf("err %v warnings %v", err, warns)
	}
	r := newReq(t, srv, "AuthType Basic\nAuthName R\nAuthUserFile unit_test.go\nRequire valid-user", "127.0.0.1")
	r.Header.Set("Authorization", basic("bob", "x"))
	if got := Check(r); got != 500 {
		t.Errorf("relative AuthUserFile: %d, want 500", got)
	}
}
