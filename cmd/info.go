package cmd

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"plume/config"
	"plume/directives"
)

// ApacheVersion is the Apache release whose behaviour Plume reproduces;
// it is what -v reports so that tools parsing "Apache/x.y.z" keep working.
const ApacheVersion = "2.4.71"

// Version is Plume's own version, set at link time
// (-ldflags "-X plume/cmd.Version=...").
var Version = "dev"

func buildTime() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// printVersion is httpd -v.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "Server version: Apache/%s (Plume)\n", ApacheVersion)
	fmt.Fprintf(w, "Server built:   %s\n", buildTime())
	fmt.Fprintf(w, "Plume version:  %s (%s)\n", Version, runtime.Version())
}

// printFullVersion is httpd -V, in Apache's layout.
func printFullVersion(w io.Writer) {
	printVersion(w)
	fmt.Fprintf(w, "Server's Module Magic Number: 20120211:142\n")
	fmt.Fprintf(w, "Server loaded:  %s\n", runtime.Version())
	fmt.Fprintf(w, "Compiled using: %s\n", runtime.Version())
	bits := 64
	if ^uint(0)>>32 == 0 {
		bits = 32
	}
	fmt.Fprintf(w, "Architecture:   %d-bit\n", bits)
	fmt.Fprintf(w, "Server MPM:     plume (goroutines)\n")
	fmt.Fprintf(w, "Server compiled with....\n")
	for _, d := range []string{
		"APR_HAVE_IPV6 (IPv4-mapped addresses enabled)",
		"DYNAMIC_MODULE_LIMIT=256",
		`HTTPD_ROOT="/etc/apache2"`,
		`DEFAULT_PIDLOG="/run/apache2.pid"`,
		`DEFAULT_ERRORLOG="logs/error_log"`,
		`AP_TYPES_CONFIG_FILE="mime.types"`,
		`SERVER_CONFIG_FILE="apache2.conf"`,
	} {
		fmt.Fprintf(w, " -D %s\n", d)
	}
}

// plumeModules are the modules Plume implements, without Plume's internal
// ones (which Apache does not have).
func plumeModules() []*directives.Module {
	var out []*directives.Module
	for _, m := range directives.Modules() {
		if strings.HasPrefix(m.Name, "plume") {
			continue
		}
		out = append(out, m)
	}
	return out
}

// printCompiled is httpd -l: the modules built in.
func printCompiled(w io.Writer) {
	fmt.Fprintln(w, "Compiled in modules:")
	for _, m := range plumeModules() {
		name := m.Source
		if name == "" {
			name = m.Name
		}
		fmt.Fprintf(w, "  %s\n", name)
	}
}

// allowedIn is httpd's show_overrides text for a directive.
func allowedIn(ov int) string {
	var b strings.Builder
	b.WriteString("\tAllowed in *.conf ")
	switch {
	case ov&(directives.OrOptions|directives.OrFileInfo|directives.OrIndexes) != 0 ||
		(ov&directives.RsrcConf != 0 && ov&(directives.AccessConf|directives.OrAuthCfg|directives.OrLimit) != 0):
		b.WriteString("anywhere")
	case ov&directives.RsrcConf != 0:
		b.WriteString("only outside <Directory>, <Files>, <Location>, or <If>")
	default:
		b.WriteString("only inside <Directory>, <Files>, <Location>, or <If>")
	}
	if ov&directives.OrAll != 0 {
		b.WriteString(" and in .htaccess\n\twhen AllowOverride")
		if ov&directives.OrAll == directives.OrAll {
			b.WriteString(" isn't None")
		} else {
			b.WriteString(" includes ")
			n := 0
			for _, c := range []struct {
				bit  int
				name string
			}{{directives.OrAuthCfg, "AuthConfig"}, {directives.OrLimit, "Limit"}, {directives.OrOptions, "Options"},
				{directives.OrFileInfo, "FileInfo"}, {directives.OrIndexes, "Indexes"}} {
				if ov&c.bit != 0 {
					if n > 0 {
						b.WriteString(" or ")
					}
					n++
					b.WriteString(c.name)
				}
			}
		}
	}
	return b.String()
}

// printDirectives is httpd -L: the directives Plume implements.
func printDirectives(w io.Writer) {
	for _, s := range directives.Specs() {
		if s.Func == nil {
			continue
		}
		src := s.Module
		if m, ok := directives.Implemented(s.Module); ok && m.Source != "" {
			src = m.Source
		}
		fmt.Fprintf(w, "%s (%s)\n", s.Name, src)
		if s.Help != "" {
			fmt.Fprintf(w, "\t%s\n", s.Help)
		}
		fmt.Fprintln(w, allowedIn(s.ReqOverride))
	}
}

// loadOrFail reads the configuration for an informational flag, printing
// Apache's error when it is broken.
func loadOrFail(c *cobra.Command, o *httpdOptions) (*loaded, error) {
	res := load(o)
	if res.Err != nil {
		for _, w := range res.Warnings {
			fmt.Fprintln(c.ErrOrStderr(), logLine(w, nowFunc()))
		}
		fmt.Fprintln(c.ErrOrStderr(), formatError(res.Err))
		return nil, &exitError{code: 1}
	}
	return res, nil
}

// runListModules is httpd -M: Plume's modules as static, and the modules
// the configuration loads that Plume does not implement as shared.
func runListModules(c *cobra.Command, o *httpdOptions) error {
	res, err := loadOrFail(c, o)
	if err != nil {
		return err
	}
	if res.postConfig(); res.Err != nil {
		fmt.Fprintln(c.ErrOrStderr(), formatError(res.Err))
		return &exitError{code: 1}
	}
	w := c.OutOrStdout()
	fmt.Fprintln(w, "Loaded Modules:")
	for _, m := range plumeModules() {
		fmt.Fprintf(w, " %s (static)\n", m.Name)
	}
	var shared []string
	for name, on := range res.Tree.Loaded {
		if !on || !strings.HasSuffix(name, "_module") || directives.IsStatic(name) {
			continue
		}
		if _, ok := directives.Implemented(name); ok {
			continue
		}
		if src, ok := directives.ModuleSource(name); ok {
			if _, ok := directives.Implemented(src); ok {
				continue
			}
		}
		shared = append(shared, name)
	}
	sort.Strings(shared)
	for _, name := range shared {
		fmt.Fprintf(w, " %s (shared)\n", name)
	}
	return nil
}

// vhostAddr renders a <VirtualHost> address as httpd -S does.
func vhostAddr(a config.VHostAddr) string {
	port := "*"
	if a.Port != 0 {
		port = fmt.Sprint(a.Port)
	}
	host := a.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}

// runVhosts is httpd -S: the virtual host settings.
func runVhosts(c *cobra.Command, o *httpdOptions) error {
	res, err := loadOrFail(c, o)
	if err != nil {
		return err
	}
	// httpd prints the virtual hosts before its check_config hooks run,
	// the rest of -S after them.
	printVhosts(c.OutOrStdout(), res)
	if res.postConfig(); res.Err != nil {
		fmt.Fprintln(c.ErrOrStderr(), formatError(res.Err))
		return &exitError{code: 1}
	}
	printRunConfig(c.OutOrStdout(), res)
	return nil
}

func printVhosts(w io.Writer, res *loaded) {
	cfg := res.Config
	type entry struct {
		addr string
		vh   *config.Server
	}
	// httpd lists address-specific virtual hosts first, in the order of its
	// IP hash table, then the wildcard ones in config order.
	var specific, wildcard []entry
	var buckets []int
	for _, vh := range cfg.VHosts {
		for _, a := range vh.Addrs {
			e := entry{vhostAddr(a), vh}
			if a.Host == "*" || a.Host == "_default_" {
				wildcard = append(wildcard, e)
			} else {
				specific = append(specific, e)
				buckets = append(buckets, ipHashBucket(a.Host))
			}
		}
	}
	idx := make([]int, len(specific))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return buckets[idx[i]] < buckets[idx[j]] })
	sorted := make([]entry, len(specific))
	for i, k := range idx {
		sorted[i] = specific[k]
	}
	specific = sorted
	fmt.Fprintln(w, "VirtualHost configuration:")
	for _, group := range [][]entry{specific, wildcard} {
		var order []string
		byAddr := map[string][]*config.Server{}
		for _, e := range group {
			if _, ok := byAddr[e.addr]; !ok {
				order = append(order, e.addr)
			}
			byAddr[e.addr] = append(byAddr[e.addr], e.vh)
		}
		for _, addr := range order {
			list := byAddr[addr]
			if len(list) == 1 {
				vh := list[0]
				fmt.Fprintf(w, "%-22s %s (%s:%d)\n", addr, vh.Name, vh.Pos.File, vh.Pos.Line)
				continue
			}
			fmt.Fprintf(w, "%-22s is a NameVirtualHost\n", addr)
			first := list[0]
			fmt.Fprintf(w, "%8s default server %s (%s:%d)\n", "", first.Name, first.Pos.File, first.Pos.Line)
			for _, vh := range list {
				port := strings.TrimPrefix(addr[strings.LastIndex(addr, ":"):], ":")
				fmt.Fprintf(w, "%8s port %s namevhost %s (%s:%d)\n", "", port, vh.Name, vh.Pos.File, vh.Pos.Line)
				for _, alias := range vh.Aliases {
					fmt.Fprintf(w, "%16s alias %s\n", "", alias)
				}
			}
		}
	}
}

// printRunConfig is the rest of httpd -S: ServerRoot, DocumentRoot and
// the defines.
func printRunConfig(w io.Writer, res *loaded) {
	cfg := res.Config
	if res.Tree != nil {
		fmt.Fprintf(w, "ServerRoot: %q\n", res.Tree.ServerRoot)
	}
	fmt.Fprintf(w, "Main DocumentRoot: %q\n", cfg.Main.DocumentRoot)
	fmt.Fprintln(w, "Define: DUMP_VHOSTS")
	fmt.Fprintln(w, "Define: DUMP_RUN_CFG")
	if res.Tree != nil {
		names := make([]string, 0, len(res.Tree.Defines))
		for k := range res.Tree.Defines {
			if k != "DUMP_VHOSTS" && k != "DUMP_RUN_CFG" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			if v := res.Tree.Defines[k]; v != "" {
				fmt.Fprintf(w, "Define: %s=%s\n", k, v)
			} else {
				fmt.Fprintf(w, "Define: %s\n", k)
			}
		}
	}
}

// ipHashBucket is httpd's hash_addr (server/vhost.c): the last four bytes
// of the address read as a native (little-endian) word, folded into 256
// buckets. It decides the order of httpd -S's address-specific lines.
func ipHashBucket(host string) int {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	if ip == nil {
		return 0
	}
	b := ip.To4()
	if b == nil {
		b = ip.To16()[12:]
	}
	key := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	key ^= key >> 16
	return int(((key >> 8) ^ key) % 256)
}
