package access

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/access")

// TestAccessMatrix ports httpd-tests' t/modules/access.t: every Order ×
// Allow × Deny combination over the rule forms below, in .htaccess under
// AllowOverride All, from two clients: 127.0.0.1, whose reverse DNS works
// (Apache reads /etc/hosts, Plume asks the test DNS server, both answer
// localhost), and 127.0.0.2, which has no PTR record, so host-name rules
// cannot match. Answers must equal Apache's, and the golden file.
func TestAccessMatrix(t *testing.T) {
	orders := []string{"deny,allow", "allow,deny", "mutual-failure"}
	type form struct{ name, text string }
	forms := func(client string) []form {
		return []form{
			{"none", ""},
			{"all", "all"},
			{"host", "localhost"},
			{"fullip", client},
			{"partialip", "127.0"},
			{"netmask", "127.0.0.0/255.255.0.0"},
			{"cidr", "127.0.0.0/16"},
			{"otherhost", "somewhere.else.com"},
			{"otherip", "66.6.6.6"},
		}
	}
	type entry struct {
		c      accessCase
		client string
		label  string
	}
	var entries []entry
	var cases []accessCase
	for _, client := range []string{"127.0.0.1", "127.0.0.2"} {
		for oi, o := range orders {
			for _, a := range forms(client) {
				for _, d := range forms(client) {
					var ht []string
					ht = append(ht, "Order "+o)
					if a.text != "" {
						ht = append(ht, "Allow from "+a.text)
					}
					if d.text != "" {
						ht = append(ht, "Deny from "+d.text)
					}
					c := accessCase{
						name:     fmt.Sprintf("m%s_%d_%s_%s", strings.ReplaceAll(client, ".", ""), oi, a.name, d.name),
						htaccess: strings.Join(ht, "\n"),
						requests: []accessRequest{{client: client}},
					}
					cases = append(cases, c)
					entries = append(entries, entry{c, client, fmt.Sprintf("%s order=%s allow=%s deny=%s", client, o, a.name, d.name)})
				}
			}
		}
	}
	dns := startTestDNS(t, standardRecords()...)
	srv := newTestServer(t, "PlumeDNSServer "+dns.addr+"\nPlumeDNSTimeout 2s")
	tr := newTestTree(t, cases)
	var ap *apacheServer
	if needApache(t) {
		ap = startApache(t, tr, cases)
	}
	var got strings.Builder
	for _, e := range entries {
		req := e.c.requests[0]
		p := plumeCheck(t, tr, srv, e.c, req)
		fmt.Fprintf(&got, "%s -> %d\n", e.label, p.status)
		if ap == nil {
			continue
		}
		a := ap.do(t, e.c, req)
		if a.String() != p.String() {
			t.Errorf("%s (%q):\n apache %v\n plume  %v", e.label, e.c.htaccess, a, p)
		}
	}
	checkGolden(t, "matrix.golden", got.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "access", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./access -update to create it)", err)
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		for i := 0; i < len(wl) || i < len(gl); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Errorf("%s line %d:\n want %s\n got  %s", name, i+1, w, g)
				break
			}
		}
	}
}
