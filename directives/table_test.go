package directives

import (
	"testing"
)

func TestTableRows(t *testing.T) {
	tests := []struct {
		name, module string
		syntax       Syntax
		override     int
		restricts    bool
		help         string
	}{
		{"ServerAdmin", "core_module", Take1, RsrcConf, false, "The email address of the server administrator"},
		{"order", "access_compat_module", Take1, OrLimit, true, "'allow,deny', 'deny,allow', or 'mutual-failure'"},
		{"<Directory", "core_module", RawArgs, RsrcConf, false, "Container for directives affecting resources located in the specified directories"},
		{"Options", "core_module", RawArgs, OrOptions, false, "Set a number of attributes for a given directory"},
		{"Include", "core_module", Take1, AccessConf | RsrcConf | ExecOnRead, false, "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least one file"},
		{"RewriteRule", "rewrite_module", RawArgs, OrFileInfo, true, "an URL-applied regexp-pattern and a substitution URL"},
		{"SSLRequire", "ssl_module", RawArgs, OrAuthCfg, true, "Require a boolean expression to evaluate to true for granting access(arbitrary complex boolean expression - see manual)"},
		{"SSLEngine", "ssl_module", Take1, RsrcConf, false, "SSL switch for the protocol engine ('on', 'off')"},
		{"php_admin_value", "php_module", Take2, AccessConf | RsrcConf, false, "PHP Value Modifier (Admin)"},
		{"SecRuleEngine", "security2_module", Take1, AccessConf | RsrcConf, true, "On or Off"},
		{"DOSPageCount", "evasive20_module", Take1, RsrcConf, true, "Set maximum page hit count per interval"},
		{"WSGIScriptAlias", "wsgi_module", RawArgs, RsrcConf, false, "Map location to target WSGI script file."},
		{"SSLProxyEngine", "ssl_module", Flag, RsrcConf | ProxyConf, false, "SSL switch for the proxy protocol engine ('on', 'off')"},
	}
	for _, tc := range tests {
		var got *Spec
		for _, s := range ApacheSpecs(tc.name) {
			if s.Module == tc.module {
				got = s
			}
		}
		if got == nil {
			t.Errorf("%s (%s) missing from the table", tc.name, tc.module)
			continue
		}
		if got.Name != tc.name || got.Syntax != tc.syntax || got.ReqOverride != tc.override || got.Restricts != tc.restricts || got.Help != tc.help {
			t.Errorf("%s: got %+v (override %s)\nwant syntax %v override %s restricts %v help %q",
				tc.name, *got, OverrideString(got.ReqOverride), tc.syntax, OverrideString(tc.override), tc.restricts, tc.help)
		}
	}
}

func TestTableModules(t *testing.T) {
	for id, src := range map[string]string{
		"core_module": "core.c", "http_module": "http_core.c", "rewrite_module": "mod_rewrite.c",
		"mpm_event_module": "event.c", "security2_module": "mod_security2.c", "php_module": "mod_php.c",
	} {
		if got, ok := ModuleSource(id); !ok || got != src {
			t.Errorf("ModuleSource(%s) = %q, want %q", id, got, src)
		}
		if got, ok := ModuleID(src); !ok || got != id {
			t.Errorf("ModuleID(%s) = %q, want %q", src, got, id)
		}
	}
	if !IsStatic("mod_log_config.c") || !IsStatic("so_module") || IsStatic("rewrite_module") {
		t.Error("IsStatic disagrees with apache2 -l")
	}
	// Every standard module the brief names must be in the table.
	for _, m := range []string{"mime_module", "dir_module", "autoindex_module", "alias_module", "rewrite_module",
		"ssl_module", "headers_module", "setenvif_module", "env_module", "expires_module", "deflate_module",
		"filter_module", "log_config_module", "logio_module", "negotiation_module", "access_compat_module",
		"authz_core_module", "authz_host_module", "authz_user_module", "authz_groupfile_module", "authn_core_module",
		"authn_file_module", "auth_basic_module", "auth_digest_module", "authn_dbm_module", "authz_dbm_module",
		"authnz_ldap_module", "proxy_module", "proxy_balancer_module", "cgi_module", "cgid_module", "include_module",
		"info_module", "userdir_module", "actions_module", "reqtimeout_module", "remoteip_module",
		"unique_id_module", "version_module", "unixd_module", "watchdog_module", "dav_module", "dav_fs_module",
		"cache_module", "cache_disk_module", "ratelimit_module", "substitute_module", "macro_module",
		"speling_module", "vhost_alias_module", "usertrack_module", "brotli_module", "http2_module", "md_module",
		"lua_module", "session_module", "request_module", "mpm_event_module", "mpm_worker_module",
		"mpm_prefork_module", "so_module"} {
		if _, ok := ModuleSource(m); !ok {
			t.Errorf("module %s missing from the table", m)
		}
	}
}

func TestRegisterFillsHelp(t *testing.T) {
	s := &Spec{Name: "PlumeTestHelpless", Module: "plumetest_module", Syntax: Take1, ReqOverride: RsrcConf}
	fillHelp(s)
	if s.Help != "" {
		t.Fatalf("invented help %q", s.Help)
	}
	s = &Spec{Name: "serveradmin", Module: "core_module", Syntax: Take1, ReqOverride: RsrcConf}
	fillHelp(s)
	if s.Help != "The email address of the server administrator" {
		t.Fatalf("help %q", s.Help)
	}
}

func TestParseTableErrors(t *testing.T) {
	for _, bad := range []string{
		"a\tb\tc\n",
		"m\tm.c\tX\tTAKE9\tRSRC_CONF\tno\th\n",
		"m\tm.c\tX\tTAKE1\tRSRC_CONF|BOGUS\tno\th\n",
	} {
		if _, err := parseTable(bad); err == nil {
			t.Errorf("parseTable(%q) accepted", bad)
		}
	}
}
