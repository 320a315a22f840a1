// Package access decides whether a request may proceed: mod_access_compat
// (Order, Allow, Deny, Satisfy), mod_authz_core and mod_authz_host
// (Require and its containers), Basic authentication against htpasswd and
// group files, and the DNS look-ups host rules and HostnameLookups need,
// through a caching, coalescing resolver with bounded timeouts.
package access
