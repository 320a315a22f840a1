// Package config is Apache's core module as configuration: the section
// directives (<Directory>, <DirectoryMatch>, <Files>, <FilesMatch>,
// <Location>, <LocationMatch>, <VirtualHost>, <Limit>, <LimitExcept>, and
// <If>/<ElseIf>/<Else> accepted but not evaluated), the core per-directory
// settings (Options, AllowOverride, AllowOverrideList, HostnameLookups) and
// per-server ones (DocumentRoot, ServerName, ServerAlias, ServerAdmin,
// AccessFileName, Listen) with Apache's syntax, error texts and merge rules,
// and the server model built from a parsed tree: the main server, its
// virtual hosts merged over it (ap_fixup_virtual_hosts) and their section
// lists sorted as ap_core_reorder_directories.
//
// Load reads a file (parser.Load) and builds a Config; FromTree does the
// same for an already parsed tree. Package walk uses the result per
// request. Subpackages under testutil help the tests of config and walk.
package config
