// Package access decides whether a request may proceed: mod_access_compat
// (Order, Allow, Deny, Satisfy), mod_authz_core and mod_authz_host
// (Require and its containers), Basic authentication against htpasswd and
// group files (mod_authn_core, mod_auth_basic, mod_authn_file,
// mod_authz_user, mod_authz_groupfile), and the DNS look-ups host rules
// and HostnameLookups need, through a caching, coalescing resolver with
// bounded timeouts.
//
// Each Apache module is registered under its own name with its directives
// and Apache's merge rule (mod_access_compat has none: a section using any
// of its directives replaces the parent's rules). The serving core calls
// Check once per request after the walk; it runs Apache's access_checker,
// access_checker_ex, check_user_id and auth_checker phases under Satisfy
// exactly as server/request.c does, and logs in Apache's words.
//
// DNS: host rules (Allow/Deny from a name, Require host) always use a
// double-reverse look-up, made only when evaluation reaches such a rule.
// Answers are shared by all connections and cached for their TTL;
// failures and timeouts match no host rule and are cached too. The
// Plume directives PlumeDNSServer and PlumeDNSTimeout (server config)
// choose the DNS server and the time limit; without PlumeDNSServer,
// /etc/hosts and then /etc/resolv.conf's nameservers are used, as the C
// library does for Apache. RemoteHostForLog serves HostnameLookups for logs
// without delaying responses.
//
// Method numbers are Apache's (M_GET=0 ... M_MERGE=25, M_INVALID=26,
// extension methods from 27): MethodNumber, MethodBit, RegisterMethod.
package access
