package config

import (
	"errors"
	"sort"
	"sync"

	"plume/directives"
	"plume/parser"
)

// DefaultDocumentRoot is Apache's compiled-in DOCUMENT_LOCATION, used when
// no DocumentRoot is configured.
const DefaultDocumentRoot = "/usr/local/apache2/htdocs"

// DefaultAccessFileName is Apache's DEFAULT_ACCESS_FNAME.
const DefaultAccessFileName = ".htaccess"

// Load reads a configuration file (parser.Load), applies it
// (directives) and builds the server model.
func Load(file string, opts parser.Options) (*Config, error) {
	tree, err := parser.Load(file, opts)
	if err != nil {
		return nil, err
	}
	cfg, err := FromTree(tree)
	if err != nil {
		return nil, err
	}
	cfg.Options = opts
	return cfg, nil
}

// loadMu serialises FromTree so that directive handlers can find the
// ServerRoot of the tree being applied (directives.Config does not carry
// it); loads are rare, so the lock costs nothing.
var (
	loadMu            sync.Mutex
	loadingServerRoot string
)

// FromTree applies an already parsed tree and builds the server model.
func FromTree(tree *parser.Tree) (*Config, error) { return FromTreeWith(tree, directives.Options{}) }

// FromTreeWith is FromTree with directives options (configtest --strict).
func FromTreeWith(tree *parser.Tree, opts directives.Options) (*Config, error) {
	if tree == nil || tree.Root == nil {
		return nil, errors.New("config: empty configuration tree")
	}
	loadMu.Lock()
	loadingServerRoot = tree.ServerRoot
	dc, err := directives.ProcessWith(tree, opts)
	loadingServerRoot = ""
	loadMu.Unlock()
	if err != nil {
		// Apache has printed the warnings of the directives before the
		// failing one (AH00112, AH00547, ...) when it stops.
		var pe *parser.Error
		if dc != nil && errors.As(err, &pe) && pe.Warnings == nil {
			pe.Warnings = dc.Warnings
		}
		return nil, err
	}
	return Build(tree, dc), nil
}

// Build turns applied configuration state (directives.Process or
// directives.ProcessWith) into the server model: the main
// server and each virtual host merged over it (ap_fixup_virtual_hosts),
// with sec_dir sorted (ap_core_reorder_directories).
func Build(tree *parser.Tree, dc *directives.Config) *Config {
	cfg := &Config{Tree: tree, Dirs: dc}
	// The main server's lookup_defaults holds every module's server-level
	// per-dir config (create_default_per_dir_config); a slot no directive
	// touched is created here. Vhosts start empty and merge over it.
	for _, m := range directives.Modules() {
		if m.CreateDir != nil && dc.Main.Defaults.Get(m) == nil {
			dc.Main.Defaults.Set(m, m.CreateDir(""))
		}
	}
	mainCore := serverCore(dc.Main)
	if mainCore.serverRoot == "" {
		mainCore.serverRoot = tree.ServerRoot
	}
	if mainCore.AccessFileNames == nil {
		mainCore.AccessFileNames = []string{DefaultAccessFileName}
	}
	if mainCore.DocumentRoot == "" {
		mainCore.DocumentRoot = DefaultDocumentRoot
	}
	cfg.Main = newServer(dc.Main, mainCore)
	cfg.Listen = append(cfg.Listen, mainCore.Listen...)
	for _, vh := range dc.VHosts {
		vcore := serverCore(vh)
		merged := mergeCoreServer(mainCore, vcore).(*CoreServer)
		if !merged.NameSet {
			merged.Name, merged.Port = mainCore.Name, mainCore.Port
		}
		ms := &directives.Server{
			IsVirtual: true,
			Pos:       vh.Pos,
			Addrs:     vh.Addrs,
			Config:    directives.MergeServers(dc.Main.Config, vh.Config),
			Defaults:  directives.MergeDirs(dc.Main.Defaults, vh.Defaults),
		}
		ms.Config.Set(CoreModule, merged)
		s := newServer(ms, merged)
		s.Addrs = vcore.addrs
		cfg.VHosts = append(cfg.VHosts, s)
	}
	cfg.Warnings = dc.Warnings
	cfg.byServer = map[*directives.Server]*Server{cfg.Main.Server: cfg.Main, dc.Main: cfg.Main}
	for i, v := range cfg.VHosts {
		cfg.byServer[v.Server] = v
		cfg.byServer[dc.VHosts[i]] = v
	}
	return cfg
}

func serverCore(s *directives.Server) *CoreServer {
	if cs, ok := s.Config.Get(CoreModule).(*CoreServer); ok {
		return cs
	}
	cs := &CoreServer{}
	s.Config.Set(CoreModule, cs)
	return cs
}

func newServer(ds *directives.Server, cs *CoreServer) *Server {
	s := &Server{
		Server:          ds,
		Name:            cs.Name,
		Port:            cs.Port,
		Aliases:         cs.Aliases,
		DocumentRoot:    cs.DocumentRoot,
		ServerAdmin:     cs.Admin,
		AccessFileNames: cs.AccessFileNames,
		Dirs:            SortDirs(cs.Dirs),
		Locations:       cs.Locations,
	}
	return s
}

// SortDirs is ap_core_reorder_directories: a stable sort putting
// non-regex sections first, then fewer components first, then config
// order. The input is not modified.
func SortDirs(in []*Section) []*Section {
	out := append([]*Section(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Regex == nil) != (b.Regex == nil) {
			return a.Regex == nil
		}
		return a.Components < b.Components
	})
	return out
}
