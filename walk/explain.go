package walk

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"plume/config"
)

// WriteExplain prints what `plume explain` shows for a request: first is
// the trace of a cold walk, steady the same walk repeated with warm caches.
func WriteExplain(out io.Writer, srv *config.Server, why, uri, filename string, first, steady *Result) {
	name := "main server"
	if srv.IsVirtual {
		name = fmt.Sprintf("<VirtualHost %s> at %s:%d", strings.Join(srv.Server.Addrs, " "), srv.Pos.File, srv.Pos.Line)
	}
	fmt.Fprintf(out, "Request:   %s\n", uri)
	fmt.Fprintf(out, "Server:    %s (%s)\n", name, why)
	fmt.Fprintf(out, "Mapped to: %s (DocumentRoot %s)\n", filename, srv.DocumentRoot)
	r := steady
	fmt.Fprintf(out, "Filename:  %s", r.Filename)
	if r.PathInfo != "" {
		fmt.Fprintf(out, "  path_info %s", r.PathInfo)
	}
	switch {
	case r.Info == nil:
		fmt.Fprint(out, "  (does not exist)")
	case r.Info.IsDir():
		fmt.Fprint(out, "  (directory)")
	default:
		fmt.Fprintf(out, "  (file, %d bytes)", r.Info.Size())
	}
	fmt.Fprintln(out)
	if r.Status != 0 {
		fmt.Fprintf(out, "Walk result: %d\n", r.Status)
	} else {
		fmt.Fprintln(out, "Walk result: OK (later phases decide the response)")
	}
	for _, l := range first.Log {
		fmt.Fprintf(out, "  error log: %s\n", l)
	}

	fmt.Fprintln(out, "\nSections applied, in merge order:")
	for i, s := range r.Trace.Sections {
		where := ""
		if s.File != "" && s.Line > 0 {
			where = fmt.Sprintf("  %s:%d", s.File, s.Line)
		}
		switch s.Kind {
		case "defaults":
			fmt.Fprintf(out, "  %2d. server defaults (directives outside sections)\n", i+1)
		case ".htaccess":
			fmt.Fprintf(out, "  %2d. .htaccess %s\n", i+1, s.Path)
		default:
			fmt.Fprintf(out, "  %2d. <%s %s>%s\n", i+1, s.Kind, s.Path, where)
		}
	}
	core := config.Core(r.PerDir)
	fmt.Fprintf(out, "\nMerged Options:       %s\n", config.OptionsString(core.Opts))
	fmt.Fprintf(out, "Merged AllowOverride: %s\n", config.OverrideString(core.Override, core.OverrideOpts))
	if len(core.OverrideList) > 0 {
		var names []string
		for n := range core.OverrideList {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(out, "AllowOverrideList:    %s\n", strings.Join(names, " "))
	}
	if len(r.Env) > 0 {
		var keys []string
		for k := range r.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "Env: %s=%s\n", k, r.Env[k])
		}
	}

	fmt.Fprintln(out, "\n.htaccess lookups (first request):")
	if len(first.Trace.Htaccess) == 0 {
		fmt.Fprintln(out, "  none (AllowOverride None and no AllowOverrideList on the path)")
	}
	for _, h := range first.Trace.Htaccess {
		found := "none found"
		if h.File != "" {
			found = "read " + h.File
		}
		if h.Err != "" {
			found += " — error: " + h.Err
		}
		fmt.Fprintf(out, "  %s  %s\n", h.Dir, found)
	}
	fmt.Fprintln(out, "\nSymlink checks:")
	if first.Trace.FastPath {
		fmt.Fprintln(out, "  none needed: one openat2(RESOLVE_NO_SYMLINKS) proved no component is a symlink")
	} else if first.Trace.FollowPath {
		fmt.Fprintln(out, "  symlinks present; FollowSymLinks (without SymLinksIfOwnerMatch) holds on the whole path, so one open following them proved their targets exist")
	} else if len(first.Trace.Symlinks) == 0 {
		fmt.Fprintln(out, "  per-component walk (O_PATH|O_NOFOLLOW); no symlink met")
	}
	for _, s := range first.Trace.Symlinks {
		verdict := "allowed"
		if !s.Allowed {
			verdict = "DENIED: " + s.Reason
		}
		fmt.Fprintf(out, "  %s -> %s  [%s] %s\n", s.Link, s.Target, s.Policy, verdict)
	}
	t := first.Trace
	fmt.Fprintln(out, "\nCost of this request:")
	fmt.Fprintf(out, "  Apache: %d stat + %d lstat + %d open attempts of access files = %d filesystem calls, every request\n",
		t.ApacheStats, t.ApacheLstats, t.ApacheOpens, t.ApacheStats+t.ApacheLstats+t.ApacheOpens)
	fmt.Fprintf(out, "  Plume:  %d system calls on the first request, %d in steady state (caches warm)\n", t.Syscalls, steady.Trace.Syscalls)
}
