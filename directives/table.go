package directives

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

// apacheModulesTSV is every directive of Apache 2.4's standard modules (read
// from the command tables of the httpd Plume is compared with, see
// internal/genmodules) and of the common third-party modules.
//
//go:embed apache-modules.tsv
var apacheModulesTSV string

// ApacheModule is one module of Apache's table.
type ApacheModule struct {
	Name   string // identifier, "rewrite_module"
	Source string // source file name, "mod_rewrite.c"
}

// StaticModules are the modules compiled into Debian's httpd (apache2 -l):
// always loaded, so their directives are valid without LoadModule.
var StaticModules = []ApacheModule{
	{"core_module", "core.c"}, {"so_module", "mod_so.c"},
	{"watchdog_module", "mod_watchdog.c"}, {"http_module", "http_core.c"},
	{"log_config_module", "mod_log_config.c"}, {"logio_module", "mod_logio.c"},
	{"version_module", "mod_version.c"}, {"unixd_module", "mod_unixd.c"},
}

// apacheTable is the parsed table: directive rows by lowercased name (one
// per module that defines the name, in table order) and the modules.
type apacheTable struct {
	byName  map[string][]*Spec
	modules []ApacheModule
	source  map[string]string // identifier → source name
	ids     map[string]string // source name → identifier
}

var table = mustParseTable(apacheModulesTSV)

func mustParseTable(text string) *apacheTable {
	t, err := parseTable(text)
	if err != nil {
		panic("directives: apache-modules.tsv: " + err.Error())
	}
	return t
}

var overrideNames = map[string]int{
	"OR_NONE": OrNone, "OR_LIMIT": OrLimit, "OR_OPTIONS": OrOptions,
	"OR_FILEINFO": OrFileInfo, "OR_AUTHCFG": OrAuthCfg, "OR_INDEXES": OrIndexes,
	"OR_UNSET": OrUnset, "ACCESS_CONF": AccessConf, "RSRC_CONF": RsrcConf,
	"EXEC_ON_READ": ExecOnRead, "NONFATAL_OVERRIDE": NonfatalOverride,
	"NONFATAL_UNKNOWN": NonfatalUnknown, "PROXY_CONF": ProxyConf, "OR_ALL": OrAll,
}

// ParseOverride maps Apache's req_override names ("RSRC_CONF|OR_FILEINFO")
// to bits.
func ParseOverride(s string) (int, error) {
	v := 0
	for _, part := range strings.Split(s, "|") {
		b, ok := overrideNames[strings.TrimSpace(part)]
		if !ok {
			return 0, fmt.Errorf("unknown override %q", part)
		}
		v |= b
	}
	return v, nil
}

// OverrideString names override bits the way the table writes them.
func OverrideString(v int) string {
	order := []string{"OR_LIMIT", "OR_OPTIONS", "OR_FILEINFO", "OR_AUTHCFG", "OR_INDEXES",
		"OR_UNSET", "ACCESS_CONF", "RSRC_CONF", "EXEC_ON_READ", "NONFATAL_OVERRIDE", "NONFATAL_UNKNOWN", "PROXY_CONF"}
	var parts []string
	for _, n := range order {
		if b := overrideNames[n]; v&b != 0 {
			parts = append(parts, n)
			v &^= b
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", v))
	}
	if len(parts) == 0 {
		return "OR_NONE"
	}
	return strings.Join(parts, "|")
}

func unescapeHelp(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseTable(text string) (*apacheTable, error) {
	t := &apacheTable{byName: map[string][]*Spec{}, source: map[string]string{}, ids: map[string]string{}}
	for _, m := range StaticModules {
		t.addModule(m.Name, m.Source)
	}
	for i, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("line %d: %d fields, want 7", i+1, len(f))
		}
		if f[2] == "" {
			t.addModule(f[0], f[1])
			continue
		}
		syn, ok := ParseSyntax(f[3])
		if !ok {
			return nil, fmt.Errorf("line %d: unknown syntax %q", i+1, f[3])
		}
		ov, err := ParseOverride(f[4])
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
		s := &Spec{Name: f[2], Module: f[0], Syntax: syn, ReqOverride: ov,
			Restricts: f[5] == "yes", Help: unescapeHelp(f[6])}
		k := strings.ToLower(s.Name)
		t.byName[k] = append(t.byName[k], s)
		t.addModule(f[0], f[1])
	}
	return t, nil
}

func (t *apacheTable) addModule(name, source string) {
	if _, ok := t.source[name]; ok {
		return
	}
	t.source[name] = source
	if _, ok := t.ids[source]; !ok {
		t.ids[source] = name
	}
	t.modules = append(t.modules, ApacheModule{Name: name, Source: source})
}

// ApacheSpecs returns the rows of Apache's table for a directive name
// (case-insensitive): one per module defining it, in table order. Their
// Func is nil.
func ApacheSpecs(name string) []*Spec {
	return table.byName[strings.ToLower(name)]
}

// ApacheTable returns every row of Apache's table, sorted by module then
// name.
func ApacheTable() []*Spec {
	var out []*Spec
	for _, l := range table.byName {
		out = append(out, l...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return out[i].Module < out[j].Module
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ApacheModules lists the modules of the table (static ones first).
func ApacheModules() []ApacheModule { return append([]ApacheModule(nil), table.modules...) }

// ModuleSource maps a module identifier to its source file name
// ("rewrite_module" → "mod_rewrite.c").
func ModuleSource(id string) (string, bool) { s, ok := table.source[id]; return s, ok }

// ModuleID maps a source file name to the module identifier
// ("mod_rewrite.c" → "rewrite_module").
func ModuleID(source string) (string, bool) { s, ok := table.ids[source]; return s, ok }

// IsStatic reports whether Apache has the module compiled in (by
// identifier or source name).
func IsStatic(name string) bool {
	for _, m := range StaticModules {
		if m.Name == name || m.Source == name {
			return true
		}
	}
	return false
}

// fillHelp gives a Plume spec the help text Apache's table has for the
// same directive when the registering package left it empty: the texts
// appear in arity errors and must be Apache's.
func fillHelp(s *Spec) {
	if s.Help != "" {
		return
	}
	rows := ApacheSpecs(s.Name)
	for _, r := range rows {
		if r.Module == s.Module {
			s.Help = r.Help
			return
		}
	}
	if len(rows) > 0 {
		s.Help = rows[0].Help
	}
}
