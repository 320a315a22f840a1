package parser

import (
	"os"
	"strings"
)

// vars holds Define'd names and values with Apache's two lookups: the
// IfDefine set (ap_server_config_defines, an ordered list compared with
// strcmp) and the value table (server_config_defined_vars, an apr_table,
// so names compare case-insensitively).
type vars struct {
	names  []string
	values map[string]string // key: lower-cased name
	keys   map[string]string // lower-cased name -> name as last defined
	getenv func(string) (string, bool)
}

func newVars(getenv func(string) (string, bool)) *vars {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	return &vars{values: map[string]string{}, keys: map[string]string{}, getenv: getenv}
}

func (v *vars) defined(name string) bool {
	for _, n := range v.names {
		if n == name {
			return true
		}
	}
	return false
}

func (v *vars) define(name string, value *string) {
	if !v.defined(name) {
		v.names = append(v.names, name)
	}
	if value != nil {
		k := strings.ToLower(name)
		v.values[k] = *value
		v.keys[k] = name
	}
}

// undefine is unset_define: the name leaves the IfDefine list (the last
// element takes its place, as apr_array_pop does) and the value table.
func (v *vars) undefine(name string) {
	for i, n := range v.names {
		if n == name {
			last := len(v.names) - 1
			v.names[i] = v.names[last]
			v.names = v.names[:last]
			break
		}
	}
	k := strings.ToLower(name)
	delete(v.values, k)
	delete(v.keys, k)
}

func (v *vars) lookup(name string) (string, bool) {
	if val, ok := v.values[strings.ToLower(name)]; ok {
		return val, true
	}
	return v.getenv(name)
}

// snapshot returns name -> value for Tree.Defines ("" for names without a
// value).
func (v *vars) snapshot() map[string]string {
	m := make(map[string]string, len(v.names)+len(v.values))
	for _, n := range v.names {
		m[n] = ""
	}
	for k, val := range v.values {
		m[v.keys[k]] = val
	}
	return m
}

// expand is ap_resolve_env: every ${NAME} whose closing brace exists is
// replaced by the Define'd value or the environment variable; an unknown
// name stays as written and is reported through undefined (unless it
// contains ':', which Apache reserves for other syntaxes such as
// mod_rewrite's ${map:key}). Values are not expanded again; $NAME without
// braces is literal.
func (v *vars) expand(s string, undefined func(name string)) string {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		if len(s) > 1 && s[1] == '{' {
			if e := strings.IndexByte(s[2:], '}'); e >= 0 {
				name := s[2 : 2+e]
				if val, ok := v.lookup(name); ok {
					b.WriteString(val)
				} else {
					if !strings.Contains(name, ":") && undefined != nil {
						undefined(name)
					}
					b.WriteString(s[:2+e+1])
				}
				s = s[2+e+1:]
				i = strings.IndexByte(s, '$')
				continue
			}
		}
		b.WriteByte('$')
		s = s[1:]
		i = strings.IndexByte(s, '$')
	}
	b.WriteString(s)
	return b.String()
}
