package config

import (
	"plume/directives"
	"plume/parser"
)

// Config is a loaded configuration: the main server and its virtual hosts,
// each with its section lists, ready for the request walk. It is immutable
// once built; a reload builds a new one.
type Config struct {
	Tree     *parser.Tree
	Dirs     *directives.Config
	Main     *Server
	VHosts   []*Server
	Listen   []Listen
	Warnings []parser.Warning
	byServer map[*directives.Server]*Server // for ServerOf; filled by Build

	// Options are the parser options Load used; the walk parses .htaccess
	// files with them.
	Options parser.Options
}

// Listen is one Listen directive.
type Listen struct {
	Addr  string // "127.0.0.1:8080", ":80", "[::1]:8080"
	Proto string
	Pos   parser.Pos
}

// SectionKind tells which walk a section belongs to.
type SectionKind int

const (
	DirectorySection SectionKind = iota // <Directory>, <Directory ~>, <DirectoryMatch>
	FilesSection                        // <Files>, <Files ~>, <FilesMatch>
	LocationSection                     // <Location>, <Location ~>, <LocationMatch>
)

// Section is one <Directory>/<Files>/<Location> section (or its Match/~
// form) with the per-directory config its directives built.
type Section struct {
	Kind SectionKind
	// Path is the canonical path for non-regex Directory sections (with a
	// trailing "/", except "/"), the verbatim path/pattern otherwise.
	Path string
	// Regex is set for ~ and *Match forms (compiled once at load time).
	Regex Matcher
	// Wildcard is true when a non-regex path contains * ? or [ (fnmatch).
	Wildcard bool
	// Components is Apache's d_components: the number of '/' in Path, 0 for "/".
	Components int
	Config     directives.Vector
	Pos        parser.Pos
	Order      int // position in config order, for the stable sort
}

// Matcher is a compiled section regex (Go's regexp, or a PCRE-compatible
// fallback for patterns RE2 rejects). Named captures are exported by the
// walk as MATCH_<NAME> variables.
type Matcher interface {
	MatchString(s string) bool
	// NamedMatches returns the named groups of a match (nil if no match).
	NamedMatches(s string) map[string]string
	String() string
}

// Server is the main server or one virtual host, after Apache's vhost
// merge (ap_fixup_virtual_hosts): a vhost's section lists are the main
// server's followed by its own, and its Defaults are merged over the main
// server's.
type Server struct {
	*directives.Server
	Name    string   // ServerName host part ("" → derived from the hostname, as Apache)
	Port    int      // ServerName port, 0 if unset
	Aliases []string // ServerAlias patterns (may hold * and ?)
	// DocumentRoot is canonical, without a trailing slash.
	DocumentRoot string
	ServerAdmin  string
	// AccessFileNames is AccessFileName's list (default ".htaccess").
	AccessFileNames []string
	// Dirs is sec_dir sorted as ap_core_reorder_directories: non-regex
	// first, then by Components, then config order; regex sections last
	// in config order.
	Dirs []*Section
	// Locations is sec_url in config order (main server's first).
	Locations []*Section
	// Addrs holds the parsed <VirtualHost> addresses.
	Addrs []VHostAddr
}

// VHostAddr is one <VirtualHost> address: Host "*" or "_default_" or an IP,
// Port 0 for "*" / unspecified.
type VHostAddr struct {
	Host string
	Port int
}

// ServerOf returns the model server built from s (the main server or a
// virtual host as package directives sees it, e.g. request.Request.Server),
// or Main when s is unknown.
func (c *Config) ServerOf(s *directives.Server) *Server {
	if v, ok := c.byServer[s]; ok {
		return v
	}
	return c.Main
}
