package conformance

import (
	"net"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseRequestLine(t *testing.T) {
	tests := []struct {
		line    string
		want    Request
		wantErr bool
	}{
		{line: "GET /a/b.html", want: Request{Method: "GET", Target: "/a/b.html", From: "127.0.0.1", Proto: "HTTP/1.1"}},
		{line: "GET / HTTP/1.0 from 127.0.0.3 Host: -", want: Request{Method: "GET", Target: "/", From: "127.0.0.3", Proto: "HTTP/1.0",
			Headers: []Header{{"Host", "-"}}}},
		{line: "GET /a/b.html Accept-Language: fr", want: Request{Method: "GET", Target: "/a/b.html", From: "127.0.0.1", Proto: "HTTP/1.1",
			Headers: []Header{{"Accept-Language", "fr"}}}},
		{line: "HEAD /x from 127.0.0.2 Accept: text/html;q=0.5 | Accept-Language: de, en;q=0.1",
			want: Request{Method: "HEAD", Target: "/x", From: "127.0.0.2", Proto: "HTTP/1.1",
				Headers: []Header{{"Accept", "text/html;q=0.5"}, {"Accept-Language", "de, en;q=0.1"}}}},
		{line: "GET", wantErr: true},
		{line: "GET /x NoColonHere", wantErr: true},
		{line: "GET /x Bad Name: v", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRequestLine(tt.line)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v, wantErr %v", tt.line, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		got.Text = ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
}

func TestParseCase(t *testing.T) {
	tests := []struct {
		name, text string
		wantErr    string
		check      func(t *testing.T, c *Case)
	}{
		{name: "full", text: `A case.
modules: mime dir
-- httpd.conf --
DocumentRoot {{ROOT}}/htdocs
-- htdocs/a.html --
x
-- tree --
link htdocs/l -> a.html
chown htdocs/a.html nobody
chmod htdocs/a.html 600
mkdir htdocs/empty
-- requests --
# comment
GET /a.html
GET /l from 127.0.0.2
-- expect-configtest --
Syntax OK
-- differences --
2 status = 403 ; Plume refuses the link: TOCTOU fix
`, check: func(t *testing.T, c *Case) {
			if c.Description != "A case." || !reflect.DeepEqual(c.Modules, []string{"mime", "dir"}) {
				t.Errorf("header: %q %v", c.Description, c.Modules)
			}
			if len(c.Files) != 2 || len(c.Tree) != 4 || len(c.Requests) != 2 || len(c.Differences) != 1 {
				t.Errorf("members: %d files, %d tree, %d requests, %d differences", len(c.Files), len(c.Tree), len(c.Requests), len(c.Differences))
			}
			if c.Tree[2].Mode != 0o600 || c.Tree[0].Target != "a.html" || c.Tree[1].Owner != "nobody" {
				t.Errorf("tree: %+v", c.Tree)
			}
			if d := c.Differences[0]; d.Selector != "2" || d.Field != "status" || d.Value != "403" || !strings.Contains(d.Reason, "TOCTOU") {
				t.Errorf("difference: %+v", d)
			}
			if c.ExpectConfigtest == nil || *c.ExpectConfigtest != "Syntax OK" {
				t.Errorf("expect-configtest: %v", c.ExpectConfigtest)
			}
		}},
		{name: "default modules", text: "-- httpd.conf --\n", check: func(t *testing.T, c *Case) {
			if !reflect.DeepEqual(c.Modules, DefaultModules) {
				t.Errorf("modules %v", c.Modules)
			}
		}},
		{name: "no conf", text: "-- a.conf --\n", wantErr: "no -- httpd.conf --"},
		{name: "escape", text: "-- httpd.conf --\n-- ../x --\n", wantErr: "stay inside"},
		{name: "dup", text: "-- httpd.conf --\n-- httpd.conf --\n", wantErr: "twice"},
		{name: "bad tree", text: "-- httpd.conf --\n-- tree --\nlink a b\n", wantErr: "cannot parse"},
		{name: "bad mode", text: "-- httpd.conf --\n-- tree --\nchmod a 9z\n", wantErr: "cannot parse"},
		{name: "bad difference", text: "-- httpd.conf --\n-- differences --\nstatus 403\n", wantErr: "SELECTOR FIELD"},
		{name: "bad selector", text: "-- httpd.conf --\n-- differences --\nx status = 1 ; r\n", wantErr: "not a request number"},
		{name: "no reason", text: "-- httpd.conf --\n-- differences --\n1 status = 1 ;\n", wantErr: "SELECTOR FIELD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCase("area", tt.name, []byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestNormalizer(t *testing.T) {
	n := normalizer{root: "/tmp/x/srv-a", port: 41234, argv0: "apache2"}
	tests := []struct {
		name, in, want string
		fn             func(string) string
	}{
		{"root and port", "see /tmp/x/srv-a/htdocs on 127.0.0.1:41234", "see {{ROOT}}/htdocs on 127.0.0.1:{{PORT}}", n.text},
		{"port only as a whole number", "141234 41234", "141234 {{PORT}}", n.text},
		{"signature", "<p>x</p>\n<hr>\n<address>Apache/2.4.71 (Debian) Server at 127.0.0.1 Port 41234</address>\n",
			"<p>x</p>\n<hr>\n<address>{{SIGNATURE}}</address>\n", func(s string) string { return n.body([]byte(s)) }},
		{"configtest structural", "apache2: Syntax error on line 3 of /tmp/x/srv-a/httpd.conf: Expected </Directory> but saw </Files>\n",
			"{{ARGV0}}: Syntax error on line 3 of {{ROOT}}/httpd.conf: Expected </Directory> but saw </Files>", n.configtest},
		{"configtest warning", "[Wed Nov 25 22:19:37.995035 2026] [core:warn] [pid 8796:tid 8796] AH00111: Config variable ${X} is not defined\nSyntax OK\n",
			"[core:warn] AH00111: Config variable ${X} is not defined\nSyntax OK", n.configtest},
		{"etag", `W/"1d-5b0a3c2f1e2d0"`, `W/"h-h"`, etagShape},
		{"message drops warnings", "[core:warn] AH00111: x\nSyntax OK", "Syntax OK", configtestMessage},
		{"message drops Plume notes", "AH00526: Syntax error on line 2 of F:\nInvalid command 'X'\n(hint: did you mean Y?)\n2 directives of 1 module will not carry over: mod_rewrite (2)",
			"AH00526: Syntax error on line 2 of F:\nInvalid command 'X'", configtestMessage},
		{"log entries", "[x] AH00489: started\n[y] AH01797: client denied\n[z] AH00037: link\n[y] AH01797: again\n" +
			"[w] RewriteRule (rewrite_module) is not supported by Plume: ignored\n" +
			"[Wed Nov 25 22:27:22.120969 2026] [core:alert] [pid 1:tid 2] [client 127.0.0.1:39409] /tmp/x/srv-a/htdocs/.htaccess: AddType not allowed here\n",
			`"{{ROOT}}/htdocs/.htaccess: AddType not allowed here" AH00037 AH01797 x2`, n.logEntries},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRawRequest(t *testing.T) {
	tests := []struct{ line, want string }{
		{"GET /a", "GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"},
		{"GET / HTTP/1.0 Host: -", "GET / HTTP/1.0\r\nConnection: close\r\n\r\n"},
		{"POST /f Host: v.test:{{PORT}} | X-A: b", "POST /f HTTP/1.1\r\nHost: v.test:8080\r\nX-A: b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		{"GET http://127.0.0.1:{{PORT}}/x", "GET http://127.0.0.1:8080/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"},
		{`GET /b Transfer-Encoding: chunked || "1\r\na\r\n0 | x\r\n\r\n"`, "GET /b HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\na\r\n0 | x\r\n\r\n"},
	}
	for _, tt := range tests {
		r, err := ParseRequestLine(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(RawRequest(r, 8080)); got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.line, got, tt.want)
		}
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name, raw string
		head      bool
		status    int
		body      string
		wantErr   bool
	}{
		{name: "length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA", status: 200, body: "abc"},
		{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", status: 200, body: "abcde"},
		{name: "close delimited", raw: "HTTP/1.0 404 Not Found\r\n\r\nnope", status: 404, body: "nope"},
		{name: "head", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", head: true, status: 200},
		{name: "garbage", raw: "hello", wantErr: true},
		{name: "bad chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErr: true},
		{name: "empty", raw: "", wantErr: true},
	}
	for _, tt := range tests {
		r, err := ParseResponse([]byte(tt.raw), tt.head)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if err == nil && (r.Status != tt.status || string(r.Body) != tt.body) {
			t.Errorf("%s: got %d %q", tt.name, r.Status, r.Body)
		}
	}
}

// TestHarnessCatchesDifferences runs apache2 against a deliberately
// altered apache2 and checks that the harness reports, excuses and
// rejects exactly what it should.
func TestHarnessCatchesDifferences(t *testing.T) {
	requireApache(t)
	base := `modules: authz_core mime dir
-- httpd.conf --
DocumentRoot "{{ROOT}}/htdocs"
<Directory "{{ROOT}}/htdocs">
    Require all granted
</Directory>
-- htdocs/a.html --
hello
-- htdocs/b.txt --
same
-- requests --
GET /a.html
GET /b.txt
`
	alter := func(c *Case) *Case {
		d := *c
		d.Files = nil
		for _, f := range c.Files {
			if f.Name == "htdocs/a.html" {
				f.Data = "world, longer\n"
			}
			d.Files = append(d.Files, f)
		}
		return &d
	}
	tests := []struct {
		name                        string
		differences                 string
		skip                        map[string]string
		nowMatching                 string
		matched, deliberate, failed int
		reportHas                   []string
	}{
		{name: "skipped", skip: map[string]string{"1": "known bug"}, matched: 2},
		{name: "skipped but matching", skip: map[string]string{"2": "fixed bug", "configtest": "fixed too"}, matched: 0, failed: 1,
			nowMatching: "configtest,2", reportHas: []string{"request 1"}},
		{name: "unexplained", matched: 2, failed: 1, reportHas: []string{"request 1", "content-length", `"6"`, `"14"`, "body"}},
		{name: "declared", differences: "1 content-length = 14 ; test\n1 body = * ; test\n", matched: 2, deliberate: 1},
		{name: "declared wrong value", differences: "1 content-length = 99 ; test\n1 body = * ; test\n", matched: 2, failed: 1,
			reportHas: []string{"expects apache2 \"99\""}},
		{name: "stale", differences: "1 content-length = 14 ; test\n1 body = * ; test\n2 status = 404 ; stale\n", matched: 1, deliberate: 1, failed: 1,
			reportHas: []string{"did not occur"}},
	}
	rn := newTestRunner(t, false)
	rn.Subject = Apache(ApacheBin)
	rn.SubjectCase = alter
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := base
			if tt.differences != "" {
				text += "-- differences --\n" + tt.differences
			}
			c, err := ParseCase("harness", tt.name, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			c.Skip = tt.skip
			res := rn.Run(c)
			if tt.skip != nil && res.Skipped != len(tt.skip) {
				t.Errorf("skipped %d, want %d", res.Skipped, len(tt.skip))
			}
			if tt.nowMatching != "" && strings.Join(res.NowMatching, ",") != tt.nowMatching {
				t.Errorf("now matching %v, want %s", res.NowMatching, tt.nowMatching)
			}
			if res.Matched != tt.matched || res.Deliberate != tt.deliberate || res.Failed != tt.failed {
				t.Errorf("matched/deliberate/failed = %d/%d/%d, want %d/%d/%d\n%s", res.Matched, res.Deliberate, res.Failed,
					tt.matched, tt.deliberate, tt.failed, res.Report.String())
			}
			for _, s := range tt.reportHas {
				if !strings.Contains(res.Report.String(), s) {
					t.Errorf("report lacks %q:\n%s", s, res.Report.String())
				}
			}
		})
	}
}

// TestHarnessSubjectDown checks that a subject that cannot start turns
// into failures, not a hang or a pass.
func TestHarnessSubjectDown(t *testing.T) {
	requireApache(t)
	rn := newTestRunner(t, false)
	rn.Subject = Engine{Name: "false", Bin: "/bin/false", Argv0: "false",
		TestArgs:  func(string) []string { return nil },
		ServeArgs: func(string) []string { return nil }}
	c, err := ParseCase("harness", "down", []byte("-- httpd.conf --\n-- requests --\nGET /\nGET /x\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := rn.Run(c)
	if res.Failed != 3 || res.Checks != 3 {
		t.Errorf("checks %d failed %d, want 3/3\n%s", res.Checks, res.Failed, res.Report.String())
	}
}

// fakeServer is what the test binary does when run as a fake subject: it
// listens on the port of conf's Listen line and then misbehaves.
func fakeServer(conf, mode string) {
	data, err := os.ReadFile(conf)
	if err != nil {
		os.Exit(2)
	}
	m := regexp.MustCompile(`(?m)^Listen (127\.0\.0\.1:\d+)`).FindSubmatch(data)
	if m == nil {
		os.Exit(2)
	}
	l, err := net.Listen("tcp", string(m[1]))
	if err != nil {
		os.Exit(2)
	}
	deadline := time.Now().Add(30 * time.Second) // never outlive a test run
	for time.Now().Before(deadline) {
		_ = l.(*net.TCPListener).SetDeadline(deadline)
		c, err := l.Accept()
		if err != nil {
			return
		}
		switch mode {
		case "garbage":
			c.Write([]byte("this is not HTTP\r\n\r\n"))
			c.Close()
		default: // "hang": hold the connection, never answer
			go func() { time.Sleep(time.Until(deadline)); c.Close() }()
		}
	}
}

// TestHarnessBadSubject checks that a subject that hangs or answers
// garbage turns into bounded failures, never a hang or a pass.
func TestHarnessBadSubject(t *testing.T) {
	requireApache(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCase("harness", "bad", []byte("-- httpd.conf --\n-- requests --\nGET /\nGET /a\nGET /b\nGET /c\nGET /d\nGET /e\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"hang", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			rn := newTestRunner(t, false)
			rn.RequestTimeout = 300 * time.Millisecond
			// The servers run as an unprivileged user who cannot read go's
			// build directory: give them a copy of this binary.
			data, err := os.ReadFile(self)
			if err != nil {
				t.Fatal(err)
			}
			fake := rn.BaseDir + "/fake-server"
			if err := os.WriteFile(fake, data, 0o755); err != nil {
				t.Fatal(err)
			}
			rn.Subject = Engine{Name: "fake", Bin: "/usr/bin/env", Argv0: "fake",
				TestArgs: func(string) []string { return []string{"sh", "-c", "echo Syntax OK"} },
				ServeArgs: func(conf string) []string {
					return []string{"CONFORMANCE_FAKE_SERVER=" + conf, "CONFORMANCE_FAKE_MODE=" + mode, fake}
				}}
			start := time.Now()
			res := rn.Run(c)
			if res.Failed != 6 || res.Matched != 1 {
				t.Errorf("matched %d failed %d of %d, want 1 matched (configtest) and 6 failed\n%s", res.Matched, res.Failed, res.Checks, res.Report.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if !strings.Contains(res.Report.String(), "no valid response") {
				t.Errorf("the subject was not reached:\n%s", res.Report.String())
			}
			if mode == "hang" && !strings.Contains(res.Report.String(), "remaining requests not sent") {
				t.Errorf("no circuit breaker:\n%s", res.Report.String())
			}
			if testing.Verbose() {
				t.Log(res.Report.String())
			}
		})
	}
}

func TestReadAreas(t *testing.T) {
	tests := []struct {
		name, text string
		enabled    []string
		excluded   map[string]string
		checks     map[string]map[string]string
		wantErr    string
	}{
		{name: "ok", text: "# comment\nconfigtest\nstatic # served by server\n!static/vhosts # Location keeps the port\n",
			enabled: []string{"configtest", "static"}, excluded: map[string]string{"static/vhosts": "Location keeps the port"}},
		{name: "checks", text: "static\n!static/vhosts:7,8,configtest # port in Location\n", enabled: []string{"static"}, excluded: map[string]string{},
			checks: map[string]map[string]string{"static/vhosts": {"7": "port in Location", "8": "port in Location", "configtest": "port in Location"}}},
		{name: "bad check", text: "!static/vhosts:x # r\n", wantErr: "not a request number"},
		{name: "exclusion needs a reason", text: "!static/vhosts\n", wantErr: "reason"},
		{name: "exclusion needs a case", text: "!static # r\n", wantErr: "!area/case"},
		{name: "area is one word", text: "static vhosts\n", wantErr: "one word"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := t.TempDir() + "/AREAS"
			if err := os.WriteFile(f, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := ReadAreas(f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.enabled {
				if !a.Enabled[e] {
					t.Errorf("%s not enabled", e)
				}
			}
			if tt.checks == nil {
				tt.checks = map[string]map[string]string{}
			}
			if len(a.Enabled) != len(tt.enabled) || !reflect.DeepEqual(a.Excluded, tt.excluded) || !reflect.DeepEqual(a.ExcludedChecks, tt.checks) {
				t.Errorf("got %v %v %v", a.Enabled, a.Excluded, a.ExcludedChecks)
			}
		})
	}
}

// TestGeneratorsReproducible checks the generators are deterministic for
// a seed, differ across seeds, stay bounded, and write only requests and
// tree operations the case format accepts.
func TestGeneratorsReproducible(t *testing.T) {
	a, b := Generated(GeneratorSeed), Generated(GeneratorSeed)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Generated(seed) differs between two calls")
	}
	if reflect.DeepEqual(a, Generated(GeneratorSeed+1)) {
		t.Error("the seed changes nothing")
	}
	requests, names := 0, map[string]bool{}
	for _, c := range a {
		if names[c.Name] {
			t.Errorf("duplicate case name %s", c.Name)
		}
		names[c.Name] = true
		if c.Files[0].Name != "httpd.conf" || len(c.Requests) == 0 {
			t.Errorf("%s: no config or no requests", c.Name)
		}
		for _, op := range c.Tree {
			if err := checkRelPath(op.Path); err != nil {
				t.Errorf("%s: tree path %s: %v", c.Name, op.Path, err)
			}
		}
		requests += len(c.Requests)
	}
	if requests < 500 || requests > 2000 {
		t.Errorf("generators make %d requests; want between 500 and 2000", requests)
	}
}
