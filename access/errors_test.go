package access

import (
	"fmt"
	"strings"
	"testing"
)

// configErrorCases are directive errors in Apache's words. The test checks
// Plume's message and, when apache2 is installed, that apache2 -t prints
// the same message for the same line.
var configErrorCases = []struct {
	name, conf, want string
}{
	{"order spaces", "Order allow, deny", "order takes one argument, 'allow,deny', 'deny,allow', or 'mutual-failure'"},
	{"order unknown", "Order deny", "unknown order"},
	{"allow one arg", "Allow from", "allow requires at least two arguments, 'from' followed by hostnames or IP-address wildcards"},
	{"allow no from", "Allow all", "allow requires at least two arguments, 'from' followed by hostnames or IP-address wildcards"},
	{"deny no from", "Deny to 10.0.0.1", "allow and deny must be followed by 'from'"},
	{"comment", "Allow from 10.0.0.1 # office", "No comments are allowed here"},
	{"partial with mask", "Allow from 10.1/16", "The specified IP address is invalid."},
	{"zero mask", "Deny from 10.0.0.1/0", "The specified network mask is invalid."},
	{"mask too long", "Allow from 1.2.3.4/33", "The specified network mask is invalid."},
	{"v6 netmask", "Allow from ::1/255.255.0.0", "The specified network mask is invalid."},
	{"mapped v6", "Allow from ::ffff:1.2.3.4", "The specified IP address is invalid."},
	{"five octets", "Allow from 1.2.3.4.5", "The specified IP address is invalid."},
	{"octet too big", "Allow from 1.2.3.256", "The specified IP address is invalid."},
	{"host with mask", "Allow from foo/8", "An IP address was expected"},
	{"satisfy", "Satisfy some", "Satisfy either 'any' or 'all'."},
	{"provider case", "Require ALL granted", "Unknown Authz provider: ALL"},
	{"empty require", "Require", "Unknown Authz provider: "},
	{"unknown provider", "Require foo bar", "Unknown Authz provider: foo"},
	{"all arg", "Require all granted extra", "Argument for 'Require all' must be 'granted' or 'denied'"},
	{"all bad", "Require all yes", "Argument for 'Require all' must be 'granted' or 'denied'"},
	{"ip none", "Require ip", "'require ip' requires an argument"},
	{"ip name", "Require ip foo", "ip address 'foo' appears to be invalid"},
	{"ip partial mask", "Require ip 10.1/8", "ip address '10.1/8' appears to be invalid: The specified IP address is invalid."},
	{"method case", "Require method get", "Invalid Method 'get'"},
	{"method unknown", "Require method FOO", "Invalid Method 'FOO'"},
	{"negative in any", "Require not ip 1.2.3.4", "negative Require directive has no effect in <RequireAny> directive"},
	{"none in any", "<RequireNone>\nRequire ip 1.2.3.4\n</RequireNone>", "<RequireNone> directive has no effect in <RequireAny> directive"},
	{"all args", "<RequireAll foo>\nRequire all granted\n</RequireAll>", "<RequireAll> directive doesn't take additional arguments"},
	{"empty all", "<RequireAll>\n</RequireAll>", "<RequireAll> directive contains no authorization directives"},
	{"order in all", "<RequireAll>\nOrder allow,deny\n</RequireAll>", "order not allowed in <RequireAll> context"},
	{"only negative", "<RequireAll>\nRequire not ip 1.2.3.4\n</RequireAll>", "AH01624: <RequireAll> directive contains only negative authorization directives"},
	{"only negative demorgan", "<RequireAll>\n<RequireNone>\nRequire ip 1.2.3.4\n</RequireNone>\n</RequireAll>", "AH01624: <RequireAll> directive contains only negative authorization directives"},
	{"no RequireNotAll", "<RequireNotAll>\nRequire all granted\n</RequireNotAll>", "Invalid command '<RequireNotAll', perhaps misspelled or defined by a module not included in the server configuration"},
	{"require not nothing", "Require not", "Unknown Authz provider: "},
	{"empty any", "<RequireAny>\n</RequireAny>", "<RequireAny> directive contains no authorization directives"},
	{"authtype arity", "AuthType", "AuthType takes one argument, an HTTP authorization type (e.g., \"Basic\")"},
	{"empty mask", "Allow from 1.2.3.4/", "The specified network mask is invalid."},
	{"colon", "Allow from :", "The specified IP address is invalid."},
	{"dots", "Allow from ..", "The specified IP address is invalid."},
	{"empty octet", "Allow from 1..2", "The specified IP address is invalid."},
	{"long partial", "Allow from 255.255.255.255.", "The specified IP address is invalid."},
	{"merging", "AuthMerging maybe", "AuthMerging must be one of: Off | And | Or"},
	{"flag", "AuthzSendForbiddenOnFailure yes", "AuthzSendForbiddenOnFailure must be On or Off"},
	{"authn provider", "AuthBasicProvider dbm", "Unknown Authn provider: dbm"},
}

func TestConfigErrors(t *testing.T) {
	srv := newTestServer(t, "")
	haveApache := needApache(t)
	dir := t.TempDir()
	for i, tc := range configErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := walkLayer(srv, layer{text: tc.conf})
			if err == nil {
				t.Fatalf("%q: no error, want %q", tc.conf, tc.want)
			}
			got := err.Error()
			if !strings.Contains(got, tc.want) {
				t.Errorf("%q:\n got  %s\n want %s", tc.conf, got, tc.want)
			}
			if !haveApache {
				return
			}
			out, _ := apacheDirectoryTest(dir, fmt.Sprintf("c%d.conf", i), tc.conf)
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("apache2 -t disagrees with the expected text %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestConfigAccepted: valid forms load without error.
func TestConfigAccepted(t *testing.T) {
	srv := newTestServer(t, "")
	for _, conf := range []string{
		"Order Allow,Deny\nAllow from all\nDeny from env=BAD env=!GOOD 10 10.1. 10.1.2.3. 10.0.0.0/255.0.0.0 10.0.0.0/8 ::1 fe80::/10 example.org .example.org",
		"Order mutual-failure\nSatisfy Any",
		"Allow from env= 10.0.0.1/255.0.255.0 10.0.0.1/08 10.0.0.1/+8 1.2.3.4.",
		"Require valid-user extra\nRequire local extra\nRequire env\nRequire user\nRequire method\nRequire method HEAD",
		"<Limit GET>\n<RequireAll>\nRequire all granted\n</RequireAll>\n</Limit>",
		"<RequireAll>\n<Limit GET>\nRequire all granted\n</Limit>\n</RequireAll>",
		"<Limit GET POST>\nOrder deny,allow\nDeny from all\n</Limit>",
		"Require all granted\nRequire ip 10.0.0.1 10.1 fe80::/10\nRequire host example.org\nRequire local\nRequire env X Y\nRequire method GET HEAD",
		"<RequireAll>\nRequire valid-user\nRequire not user bob\n<RequireAny>\nRequire group a\nRequire user c\n</RequireAny>\n</RequireAll>",
		"AuthType Basic\nAuthName \"Members Only\"\nAuthUserFile /x\nAuthGroupFile /y\nAuthBasicProvider file\nAuthMerging And\nAuthzSendForbiddenOnFailure On\nRequire expr true",
	} {
		if _, _, err := walkLayer(srv, layer{text: conf}); err != nil {
			t.Errorf("%q: %v", conf, err)
		}
	}
	// Require expr is accepted with a warning (Plume fails it closed).
	_, warns, _ := walkLayer(srv, layer{text: "Require expr %{REMOTE_ADDR} == '1.2.3.4'"})
	if len(warns) != 1 || !strings.Contains(warns[0].Msg, "Require expr is not supported") {
		t.Errorf("Require expr warnings = %v", warns)
	}
}
