// Package server is Plume's serving core: listeners and virtual-host
// selection, the request pipeline in Apache's order (URI normalisation,
// translation, the request walk, access control, type checking, fixups,
// handler), static files with Apache's validators and byte ranges, and the
// modules that shape a response: mod_mime, mod_dir, mod_autoindex,
// mod_alias, ErrorDocument and the canned error pages, mod_log_config and
// the error log. It also owns the serving directives of Apache's core
// ("http_core" slot), mod_unixd's User/Group and the PidFile.
//
// New builds a Server from a configuration loader and the phases other
// packages supply (Hooks: the request walk and access control); Run binds
// the Listen addresses, drops privileges, serves, reloads on SIGHUP and
// SIGUSR1 and stops on SIGTERM/SIGINT. Each loaded configuration is an
// immutable generation behind an atomic pointer, so a reload never affects
// a request in flight. mod_negotiation (package negotiation) is wired here
// because its sub-requests need the pipeline.
package server
