package parser

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// LoadEnvvars reads a Debian /etc/apache2/envvars file, the shell fragment
// apache2ctl sources before starting Apache, and returns the variables it
// exports (APACHE_RUN_USER, APACHE_LOG_DIR, ...), so that ${VAR} in the
// configuration resolves as under apache2ctl.
//
// It understands the subset such files use: comments, VAR=value,
// export VAR[=value], unset VAR, values in single or double quotes or bare,
// $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR#prefix} and
// ${VAR##prefix} (literal prefixes), and if [ a = b ] / [ a != b ] /
// [ -n a ] / [ -z a ]; then ... else ... fi. Variables the file does not
// set are looked up in the process environment. Other commands are
// ignored; a line it cannot read is an error naming file and line.
func LoadEnvvars(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sh := &miniShell{vars: map[string]string{}, unset: map[string]bool{}, exported: map[string]bool{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		if err := sh.exec(strings.TrimSpace(sc.Text())); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name := range sh.exported {
		if v, ok := sh.get(name); ok {
			out[name] = v
		}
	}
	return out, nil
}

type miniShell struct {
	vars     map[string]string
	unset    map[string]bool
	exported map[string]bool
	// conds is the if-stack: whether each level's current branch runs.
	conds []condFrame
}

type condFrame struct {
	parentOn bool
	taken    bool // the then-branch was taken
	on       bool
}

func (sh *miniShell) active() bool {
	return len(sh.conds) == 0 || sh.conds[len(sh.conds)-1].on
}

func (sh *miniShell) get(name string) (string, bool) {
	if v, ok := sh.vars[name]; ok {
		return v, true
	}
	if sh.unset[name] {
		return "", false
	}
	return os.LookupEnv(name)
}

func (sh *miniShell) exec(l string) error {
	if l == "" || strings.HasPrefix(l, "#") {
		return nil
	}
	words, err := sh.words(l)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return nil
	}
	switch words[0].raw {
	case "if":
		on := false
		if sh.active() {
			on = sh.test(words[1:])
		}
		sh.conds = append(sh.conds, condFrame{parentOn: sh.active(), taken: on, on: on})
		return nil
	case "else":
		if len(sh.conds) == 0 {
			return fmt.Errorf("else without if")
		}
		top := &sh.conds[len(sh.conds)-1]
		top.on = top.parentOn && !top.taken
		return nil
	case "fi":
		if len(sh.conds) == 0 {
			return fmt.Errorf("fi without if")
		}
		sh.conds = sh.conds[:len(sh.conds)-1]
		return nil
	}
	if !sh.active() {
		return nil
	}
	switch words[0].raw {
	case "export":
		for _, w := range words[1:] {
			name, val, hasVal := strings.Cut(w.value, "=")
			if hasVal {
				sh.set(name, val)
			}
			sh.exported[name] = true
		}
		return nil
	case "unset":
		for _, w := range words[1:] {
			delete(sh.vars, w.value)
			sh.unset[w.value] = true
		}
		return nil
	}
	// VAR=value assignments; anything else is a command we do not run.
	for _, w := range words {
		name, val, ok := strings.Cut(w.value, "=")
		if !ok || !isShellName(name) || strings.ContainsAny(w.raw[:len(name)], `"'$`) {
			return nil
		}
		sh.set(name, val)
	}
	return nil
}

func (sh *miniShell) set(name, val string) {
	sh.vars[name] = val
	delete(sh.unset, name)
}

func isShellName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// test evaluates "[ ... ] ; then" / "[ ... ]; then".
func (sh *miniShell) test(words []shWord) bool {
	var args []string
	for _, w := range words {
		switch w.raw {
		case "[", "]", ";", "then":
			continue
		}
		args = append(args, w.value)
	}
	switch {
	case len(args) == 3 && (args[1] == "=" || args[1] == "=="):
		return args[0] == args[2]
	case len(args) == 3 && args[1] == "!=":
		return args[0] != args[2]
	case len(args) == 2 && args[0] == "-n":
		return args[1] != ""
	case len(args) == 2 && args[0] == "-z":
		return args[1] == ""
	}
	return false
}

type shWord struct {
	raw   string // as written (quotes included)
	value string // after quote removal and expansion
}

// words splits a line into shell words with quote removal and parameter
// expansion; ';' ends a word.
func (sh *miniShell) words(l string) ([]shWord, error) {
	var out []shWord
	i := 0
	for i < len(l) {
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		if i >= len(l) || l[i] == '#' {
			break
		}
		start := i
		var val strings.Builder
		for i < len(l) && l[i] != ' ' && l[i] != '\t' {
			c := l[i]
			switch c {
			case ';':
				if i == start {
					i++
				}
				goto done
			case '\'':
				j := strings.IndexByte(l[i+1:], '\'')
				if j < 0 {
					return nil, fmt.Errorf("unterminated quote")
				}
				val.WriteString(l[i+1 : i+1+j])
				i += j + 2
			case '"':
				i++
				for i < len(l) && l[i] != '"' {
					if l[i] == '\\' && i+1 < len(l) && strings.IndexByte("$`\"\\", l[i+1]) >= 0 {
						val.WriteByte(l[i+1])
						i += 2
						continue
					}
					if l[i] == '$' {
						n, s := sh.param(l[i:])
						val.WriteString(s)
						i += n
						continue
					}
					val.WriteByte(l[i])
					i++
				}
				if i >= len(l) {
					return nil, fmt.Errorf("unterminated quote")
				}
				i++
			case '$':
				n, s := sh.param(l[i:])
				val.WriteString(s)
				i += n
			case '\\':
				if i+1 < len(l) {
					val.WriteByte(l[i+1])
					i += 2
				} else {
					i++
				}
			default:
				val.WriteByte(c)
				i++
			}
		}
	done:
		out = append(out, shWord{raw: l[start:i], value: val.String()})
	}
	return out, nil
}

// param expands the parameter reference at the start of s ("$X", "${X}",
// "${X:-d}", "${X##p}") and returns how many bytes it used.
func (sh *miniShell) param(s string) (int, string) {
	if len(s) < 2 {
		return 1, "$"
	}
	if s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return len(s), ""
		}
		expr := s[2:end]
		n := 0
		for n < len(expr) && (expr[n] == '_' || expr[n] >= 'a' && expr[n] <= 'z' || expr[n] >= 'A' && expr[n] <= 'Z' || expr[n] >= '0' && expr[n] <= '9') {
			n++
		}
		name, op := expr[:n], expr[n:]
		v, set := sh.get(name)
		switch {
		case strings.HasPrefix(op, ":-"):
			if v == "" {
				v = op[2:]
			}
		case strings.HasPrefix(op, "-"):
			if !set {
				v = op[1:]
			}
		case strings.HasPrefix(op, "##"):
			v = strings.TrimPrefix(v, op[2:])
		case strings.HasPrefix(op, "#"):
			v = strings.TrimPrefix(v, op[1:])
		}
		return end + 1, v
	}
	n := 1
	for n < len(s) && (s[n] == '_' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || n > 1 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	if n == 1 {
		return 1, "$"
	}
	v, _ := sh.get(s[1:n])
	return n, v
}
