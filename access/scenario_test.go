package access

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

const basicAuthText = `AuthType Basic
AuthName "Members Only"
AuthUserFile @ROOT@/users.htpasswd`

// scenarioCases cover Require, the containers, Satisfy, <Limit>,
// AuthMerging and Basic authentication. Clients: 127.0.0.1 has reverse
// DNS (localhost), the others have none.
func scenarioCases() []accessCase {
	two, three := accessRequest{client: "127.0.0.2"}, accessRequest{client: "127.0.0.3"}
	one := accessRequest{client: "127.0.0.1"}
	with := func(r accessRequest, f func(*accessRequest)) accessRequest { f(&r); return r }
	post := func(r accessRequest) accessRequest { return with(r, func(r *accessRequest) { r.method = "POST" }) }
	auth := func(h string) accessRequest { return with(two, func(r *accessRequest) { r.auth = h }) }
	return []accessCase{
		{name: "granted", dirConf: "Require all granted", requests: []accessRequest{two}},
		{name: "denied", dirConf: "Require all denied", requests: []accessRequest{two}},
		{name: "ip", dirConf: "Require ip 127.0.0.2 10.0.0.0/8", requests: []accessRequest{two, three}},
		{name: "ippartial", dirConf: "Require ip 127.0.0", requests: []accessRequest{two}},
		{name: "local", dirConf: "Require local", requests: []accessRequest{two}},
		{name: "host", dirConf: "Require host localhost", requests: []accessRequest{one, two}},
		{name: "hostsuffix", dirConf: "Require host .localhost calhost", requests: []accessRequest{one}},
		{name: "hostcomment", dirConf: "Require host localhost # example.com later", requests: []accessRequest{one, two}},
		{name: "fwddns", dirConf: "Require forward-dns localhost", requests: []accessRequest{one, two}},
		{name: "method", dirConf: "Require method GET", requests: []accessRequest{two, post(two)}},
		{name: "all", dirConf: "<RequireAll>\nRequire ip 127.0.0.0/8\nRequire not ip 127.0.0.3\n</RequireAll>", requests: []accessRequest{two, three}},
		{name: "none", dirConf: "<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 127.0.0.3\nRequire ip 127.0.0.4\n</RequireNone>\n</RequireAll>", requests: []accessRequest{two, three}},
		{name: "anyall", dirConf: "<RequireAny>\nRequire ip 127.0.0.3\n<RequireAll>\nRequire ip 127.0.0.2\nRequire method POST\n</RequireAll>\n</RequireAny>", requests: []accessRequest{two, three, post(two)}},
		{name: "satany", htaccess: "Order allow,deny\nAllow from 127.0.0.2\nSatisfy Any\nRequire all denied", requests: []accessRequest{two, three}},
		{name: "satanynoreq", htaccess: "Order allow,deny\nSatisfy Any", requests: []accessRequest{two}},
		{name: "satall", htaccess: "Require all granted\nOrder deny,allow\nDeny from all", requests: []accessRequest{two}},
		{name: "limitreq", dirConf: "<Limit POST>\nRequire all denied\n</Limit>", requests: []accessRequest{two, post(two)}},
		{name: "limitorder", htaccess: "<Limit GET>\nOrder allow,deny\n</Limit>", requests: []accessRequest{two, post(two)}},
		{name: "limitexcept", htaccess: "<LimitExcept GET>\nOrder deny,allow\nDeny from all\n</LimitExcept>", requests: []accessRequest{two, post(two)}},
		{name: "compatreset", dirConf: "Order allow,deny\nAllow from all", htaccess: "Deny from 10.0.0.1", requests: []accessRequest{two}},
		{name: "mergeoff", dirConf: "Require ip 127.0.0.2", htaccess: "Require ip 127.0.0.3", requests: []accessRequest{two, three}},
		{name: "mergeand", dirConf: "Require ip 127.0.0.2", htaccess: "AuthMerging And\nRequire ip 127.0.0.0/8", requests: []accessRequest{two, three}},
		{name: "mergeor", dirConf: "Require ip 127.0.0.2", htaccess: "AuthMerging Or\nRequire ip 127.0.0.3", requests: []accessRequest{two, three, {client: "127.0.0.4"}}},
		{name: "inherit", dirConf: "Require ip 127.0.0.2", htaccess: "AuthzSendForbiddenOnFailure On", requests: []accessRequest{two, three}},
		{name: "basic", dirConf: basicAuthText + "\nRequire valid-user", requests: []accessRequest{
			two, auth(basic("bob", "bobpw")), auth(basic("bob", "wrong")), auth(basic("alice", "alicepw")),
			auth(basic("alice", "x")), auth(basic("carol", "carolpw")), auth(basic("carol", "nope")),
			auth(basic("erin", "erinpw")), auth(basic("nobody", "x")), auth("Digest username=bob"),
			auth("Basic !!!"), auth("basic " + base64.StdEncoding.EncodeToString([]byte("bob:bobpw"))),
		}},
		{name: "user", dirConf: basicAuthText + "\nRequire user alice carol", requests: []accessRequest{
			two, auth(basic("alice", "alicepw")), auth(basic("bob", "bobpw"))}},
		{name: "forbidden", dirConf: basicAuthText + "\nAuthzSendForbiddenOnFailure On\nRequire user alice", requests: []accessRequest{
			auth(basic("bob", "bobpw")), auth(basic("alice", "alicepw"))}},
		{name: "group", dirConf: basicAuthText + "\nAuthGroupFile @ROOT@/groups\nRequire group admins", requests: []accessRequest{
			auth(basic("bob", "bobpw")), auth(basic("alice", "alicepw")), auth(basic("carol", "carolpw"))}},
		{name: "nogroupfile", dirConf: basicAuthText + "\nRequire group admins", requests: []accessRequest{auth(basic("carol", "carolpw"))}},
		{name: "notype", dirConf: "Require valid-user", requests: []accessRequest{two}},
		{name: "noreq", dirConf: basicAuthText, requests: []accessRequest{two}},
		{name: "noname", dirConf: "AuthType Basic\nAuthUserFile @ROOT@/users.htpasswd\nRequire valid-user", requests: []accessRequest{two}},
		{name: "digest", dirConf: "AuthType Digest\nAuthName x\nRequire valid-user", requests: []accessRequest{two}},
		{name: "none_type", dirConf: "AuthType None\nRequire all granted", requests: []accessRequest{two}},
		{name: "nofile", dirConf: "AuthType Basic\nAuthName x\nRequire valid-user", requests: []accessRequest{auth(basic("bob", "bobpw"))}},
		{name: "missingfile", dirConf: "AuthType Basic\nAuthName x\nAuthUserFile @ROOT@/absent\nRequire valid-user", requests: []accessRequest{auth(basic("bob", "bobpw"))}},
		{name: "iporuser", dirConf: basicAuthText + "\nRequire ip 127.0.0.2\nRequire valid-user", requests: []accessRequest{two, three, with(three, func(r *accessRequest) { r.auth = basic("bob", "bobpw") })}},
		{name: "satanyauth", dirConf: basicAuthText + "\nRequire valid-user\nOrder allow,deny\nAllow from 127.0.0.2\nSatisfy Any", requests: []accessRequest{two, three, with(three, func(r *accessRequest) { r.auth = basic("alice", "alicepw") })}},
		{name: "htnegonly", htaccess: "<RequireAll>\nRequire not ip 127.0.0.3\n</RequireAll>", requests: []accessRequest{two, three}},
		{name: "htlimitreq", htaccess: "<Limit GET>\nRequire ip 127.0.0.3\n</Limit>", requests: []accessRequest{two, three, post(two)}},
		{name: "mergeandnoreq", dirConf: "Require ip 127.0.0.2", htaccess: "AuthMerging And", requests: []accessRequest{two, three}},
		{name: "mergeornoparent", htaccess: "AuthMerging Or\nRequire ip 127.0.0.3", requests: []accessRequest{two, three}},
		{name: "forbidparent", dirConf: basicAuthText + "\nAuthzSendForbiddenOnFailure On", htaccess: "Require user alice", requests: []accessRequest{auth(basic("bob", "bobpw")), auth(basic("alice", "alicepw"))}},
		{name: "satisfylimit", htaccess: "Order allow,deny\nAllow from 127.0.0.2\n<Limit POST>\nSatisfy Any\n</Limit>\nRequire ip 127.0.0.3", requests: []accessRequest{two, post(two), three}},
		{name: "head", htaccess: "<Limit GET>\nOrder deny,allow\nDeny from all\n</Limit>", requests: []accessRequest{with(two, func(r *accessRequest) { r.method = "HEAD" }), with(two, func(r *accessRequest) { r.method = "OPTIONS" })}},
		{name: "nonauthoritative", dirConf: basicAuthText + "\nAuthBasicAuthoritative Off\nRequire valid-user", requests: []accessRequest{auth(basic("nobody", "x")), auth(basic("bob", "wrong")), auth(basic("bob", "bobpw"))}},
		{name: "allandauth", dirConf: basicAuthText + "\n<RequireAll>\nRequire ip 127.0.0.2\nRequire valid-user\n</RequireAll>", requests: []accessRequest{two, three, auth(basic("bob", "bobpw")), with(three, func(r *accessRequest) { r.auth = basic("bob", "bobpw") })}},
	}
}

// normalise maps statuses after the access phase (405 for POST to a
// static file, ...) to 200: Check only decides access.
func (a accessResult) normalise() accessResult {
	switch a.status {
	case 401, 403, 500:
	default:
		a.status = 200
	}
	return a
}

func TestAccessScenarios(t *testing.T) {
	cases := scenarioCases()
	v6 := haveIPv6Loopback()
	{
		six := accessRequest{client: "::1"}
		cases = append(cases,
			accessCase{name: "v6ip", dirConf: "Require ip ::1", requests: []accessRequest{six}},
			accessCase{name: "v6prefix", dirConf: "Require ip fe80::/10", requests: []accessRequest{six}},
			accessCase{name: "v6v4rule", dirConf: "Require ip 127.0.0.0/8", requests: []accessRequest{six}},
			accessCase{name: "v6compat", htaccess: "Order deny,allow\nDeny from all\nAllow from 127.0.0.0/255.0.0.0 ::1/128", requests: []accessRequest{six}},
			accessCase{name: "v6local", dirConf: "Require local", requests: []accessRequest{six}},
			accessCase{name: "v6host", dirConf: "Require host localhost", requests: []accessRequest{six}},
		)
	}
	// ::1 has no name for Apache here (/etc/hosts names only 127.0.0.1),
	// so the test zone leaves it out too.
	var zone []string
	for _, r := range standardRecords() {
		if !strings.Contains(r, "ip6") {
			zone = append(zone, r)
		}
	}
	dns := startTestDNS(t, zone...)
	srv := newTestServer(t, "PlumeDNSServer "+dns.addr+"\nPlumeDNSTimeout 2s")
	tr := newTestTree(t, cases)
	for _, f := range []string{"users.htpasswd", "groups"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "access", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tr.root, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var ap *apacheServer
	if needApache(t) {
		ap = startApache(t, tr, cases)
	}
	var got strings.Builder
	for _, c := range cases {
		for _, req := range c.requests {
			p := plumeCheck(t, tr, srv, c, req)
			label := fmt.Sprintf("%s %s %s auth=%q", c.name, req.client, req.method, req.auth)
			fmt.Fprintf(&got, "%s -> %v\n", label, strings.ReplaceAll(p.String(), tr.root, "@ROOT@"))
			if ap == nil || (!v6 && strings.Contains(req.client, ":")) {
				continue
			}
			a := ap.do(t, c, req).normalise()
			if a.String() != p.String() {
				t.Errorf("%s:\n apache %v\n plume  %v", label, a, p)
			}
		}
	}
	checkGolden(t, "scenarios.golden", got.String())
}
