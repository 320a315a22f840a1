package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"plume/directives"
	"plume/request"
)

var dirModule = directives.RegisterModule(&directives.Module{
	Name:      "dir_module",
	Source:    "mod_dir.c",
	CreateDir: func(string) any { return &DirConfig{} },
	MergeDir:  func(b, a any) any { return mergeDirConfig(b.(*DirConfig), a.(*DirConfig)) },
})

// DirConfig is mod_dir's per-directory config.
type DirConfig struct {
	// Index is DirectoryIndex's list; nil when unset (default index.html),
	// empty after "DirectoryIndex disabled".
	Index        []string
	indexSet     bool
	Slash        Tri
	CheckHandler Tri
	// RedirectIndex is DirectoryIndexRedirect: 0 unset, -1 off, else a 3xx.
	RedirectIndex int
	// Fallback is FallbackResource ("disabled" cancels an inherited one).
	Fallback string
}

func mergeDirConfig(b, a *DirConfig) *DirConfig {
	n := *b
	if a.indexSet {
		n.Index, n.indexSet = a.Index, true
	}
	n.Slash = a.Slash.or(b.Slash)
	n.CheckHandler = a.CheckHandler.or(b.CheckHandler)
	if a.RedirectIndex != 0 {
		n.RedirectIndex = a.RedirectIndex
	}
	if a.Fallback != "" {
		n.Fallback = a.Fallback
	}
	return &n
}

func init() {
	m := "dir_module"
	ix := directives.OrIndexes
	dc := func(c *directives.Cmd) *DirConfig { return c.DirConfig(dirModule).(*DirConfig) }
	directives.Register(
		&directives.Spec{Name: "DirectoryIndex", Module: m, Syntax: directives.RawArgs, ReqOverride: ix,
			Help: "a list of file names",
			Func: func(c *directives.Cmd, a []string) error {
				d := dc(c)
				words := strings.Fields(a[0])
				// add_index: words accumulate within a section; "disabled"
				// alone clears the list.
				if len(words) == 1 && strings.EqualFold(words[0], "disabled") {
					d.Index, d.indexSet = []string{}, true
					return nil
				}
				if !d.indexSet {
					d.Index = nil
				}
				d.Index = append(d.Index, words...)
				if d.Index == nil {
					d.Index = []string{}
				}
				d.indexSet = true
				return nil
			}},
		&directives.Spec{Name: "DirectorySlash", Module: m, Syntax: directives.Flag, ReqOverride: ix,
			Help: "On or Off",
			Func: func(c *directives.Cmd, a []string) error { return setOnOff(&dc(c).Slash, a[0]) }},
		&directives.Spec{Name: "DirectoryCheckHandler", Module: m, Syntax: directives.Flag, ReqOverride: ix,
			Help: "On or Off",
			Func: func(c *directives.Cmd, a []string) error { return setOnOff(&dc(c).CheckHandler, a[0]) }},
		&directives.Spec{Name: "DirectoryIndexRedirect", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "On, Off, or a 3xx status code.",
			Func: func(c *directives.Cmd, a []string) error {
				d := dc(c)
				switch strings.ToLower(a[0]) {
				case "on":
					d.RedirectIndex = http.StatusFound
				case "off":
					d.RedirectIndex = -1
				case "permanent":
					d.RedirectIndex = http.StatusMovedPermanently
				case "temp":
					d.RedirectIndex = http.StatusFound
				case "seeother":
					d.RedirectIndex = http.StatusSeeOther
				default:
					n, err := strconv.Atoi(a[0])
					if err != nil || !isRedirect(n) {
						return errors.New("DirectoryIndexRedirect: invalid value")
					}
					d.RedirectIndex = n
				}
				return nil
			}},
		&directives.Spec{Name: "FallbackResource", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "Set a default handler",
			Func: func(c *directives.Cmd, a []string) error { dc(c).Fallback = a[0]; return nil }},
	)
}

const defaultIndex = "index.html"

// maxSubDepth bounds nested sub-requests (an index that is itself a
// directory, a fallback that falls back), as Apache's recursion limit.
const maxSubDepth = 10

func subDepth(r *request.Request) int {
	n := 0
	for p := r.Main; p != nil && n <= maxSubDepth; p = p.Main {
		n++
	}
	return n
}

// dirFixup is mod_dir's dir_fixups.
func dirFixup(r *request.Request, x *exchange, sub bool) int {
	if r.Finfo != nil && r.Finfo.IsDir() {
		return fixupDir(r, x)
	}
	if r.Finfo == nil && r.Handler == "" {
		return fixupFallback(r, x)
	}
	return request.Declined
}

func dirConf(r *request.Request) *DirConfig {
	return directives.DirOf(r.PerDir, dirModule, &DirConfig{})
}

func fixupDir(r *request.Request, x *exchange) int {
	if r.Handler == "" {
		r.Handler = DirMagicType
	}
	if r.PathInfo != "" {
		return request.Declined
	}
	d := dirConf(r)
	if r.URI == "" || !strings.HasSuffix(r.URI, "/") {
		if d.Slash == Off {
			return request.Declined
		}
		if r.Method != http.MethodGet && r.Env["redirect-carefully"] != "" {
			return request.Declined
		}
		target := escapePath(r.URI) + "/"
		if r.Args != "" {
			target += "?" + r.Args
		}
		r.Out.Set("Location", x.constructURL(r, target))
		return http.StatusMovedPermanently
	}
	if d.CheckHandler == On && r.Handler != DirMagicType {
		return request.Declined
	}
	if subDepth(r) >= maxSubDepth {
		return request.Declined
	}
	names := d.Index
	if !d.indexSet {
		names = []string{defaultIndex}
	}
	errorNotFound := 0
	for i, name := range names {
		sr := x.lookupURI(r, name, r.Args)
		if sr.Status == http.StatusOK && sr.Finfo != nil && sr.Finfo.Mode().IsRegular() {
			if d.RedirectIndex > 0 {
				closeSub(sr)
				r.Out.Set("Location", x.constructURL(r, sr.URI))
				return d.RedirectIndex
			}
			fastRedirect(r, sr)
			r.Args = sr.Args
			return request.OK
		}
		last := i == len(names)-1
		if isRedirect(sr.Status) || (sr.Status == http.StatusNotAcceptable && last) || (sr.Status == http.StatusUnauthorized && last) {
			for k, v := range sr.Notes {
				r.Notes[k] = v
			}
			for k, v := range sr.Out {
				r.Out[k] = v
			}
			for k, v := range sr.ErrOut {
				r.ErrOut[k] = v
			}
			closeSub(sr)
			return sr.Status
		}
		if sr.Status != 0 && sr.Status != http.StatusNotFound && sr.Status != http.StatusOK {
			errorNotFound = sr.Status
		}
		closeSub(sr)
	}
	if errorNotFound != 0 {
		return errorNotFound
	}
	if d.indexSet {
		r.Notes["dir-index-names"] = strings.Join(d.Index, ",")
	} else {
		r.Notes["dir-index-names"] = defaultIndex
	}
	return request.Declined
}

// fixupFallback is fixup_dflt (FallbackResource).
func fixupFallback(r *request.Request, x *exchange) int {
	d := dirConf(r)
	name := d.Fallback
	if name == "" || strings.EqualFold(name, "disabled") || subDepth(r) >= maxSubDepth {
		return request.Declined
	}
	sr := x.lookupURI(r, name, r.Args)
	if sr.Status == http.StatusOK && sr.Finfo != nil && sr.Finfo.Mode().IsRegular() {
		fastRedirect(r, sr)
		return request.OK
	}
	if isRedirect(sr.Status) {
		for k, v := range sr.Out {
			r.Out[k] = v
		}
		closeSub(sr)
		return sr.Status
	}
	closeSub(sr)
	return request.Declined
}
