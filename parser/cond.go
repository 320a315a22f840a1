package parser

import (
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Plume answers <IfVersion> as this Apache release.
const (
	VersionMajor = 2
	VersionMinor = 4
	VersionPatch = 71
)

// condRunner returns the handler of <IfModule>, <IfDefine>, <IfFile>,
// <IfDirective> and <IfSection> (core.c start_cond_section): the text up
// to the last '>' is the condition, a leading '!' negates it, and its first
// word (unquoted) is what is tested. A true condition has its body read in
// place (the handler sets ld.openCond for buildConfig); a false one skips it.
func condRunner(canon string) func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	return func(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
		end := strings.LastIndexByte(args, '>')
		if end < 0 {
			return nil, msgError(canon + "> directive missing closing '>'")
		}
		arg := args[:end]
		not := strings.HasPrefix(arg, "!")
		if not {
			arg = arg[1:]
		}
		word, _, _ := NextWord(arg)
		if word == "" {
			return nil, msgError(canon + "> directive requires additional arguments")
		}
		var result bool
		switch canon {
		case "<IfModule":
			result = ld.moduleLoaded(word)
		case "<IfDefine":
			result = ld.vars.defined(word)
		case "<IfFile":
			_, err := os.Stat(ld.serverRootRelative(word))
			result = err == nil
		case "<IfDirective":
			result = ld.knownDirective(word)
		case "<IfSection":
			result = ld.knownSection(word)
		}
		if result != not {
			ld.openCond = canon
			return nil, nil
		}
		return nil, ld.soak(st, canon)
	}
}

func (ld *loader) moduleLoaded(name string) bool {
	if ld.loaded[name] {
		return true
	}
	for id, src := range apacheCompiledIn {
		if name == id || name == src {
			return true
		}
	}
	return ld.opts.Builtin != nil && ld.opts.Builtin(name)
}

func (ld *loader) knownDirective(name string) bool {
	if ld.opts.KnownDirective != nil && ld.opts.KnownDirective(name) {
		return true
	}
	c, ok := execCmds[strings.ToLower(name)]
	return ok && !strings.HasPrefix(c.name, "<") && (c.module == "" || ld.moduleLoaded(c.module))
}

func (ld *loader) knownSection(name string) bool {
	if ld.opts.KnownSection != nil && ld.opts.KnownSection(name) {
		return true
	}
	c, ok := execCmds["<"+strings.ToLower(name)]
	return ok && strings.HasPrefix(c.name, "<")
}

const invalidVersion = "Version appears to be invalid. It must have the format major[.minor[.patch]] where major, minor and patch are numbers."

// runIfVersion is mod_version's start_ifversion: up to three words,
// "[[!]op] version", the '>' either glued to the version or a word of its
// own; op is =, ==, <, <=, >, >=, ~ (regex) or = with /regex/.
func runIfVersion(ld *loader, st *stream, args string, pos Pos) ([]*Node, error) {
	c := execCmds["<ifversion"]
	w, more := take(args, 3)
	if w[0] == "" || more {
		return nil, msgError("<IfVersion takes one, two or three arguments, " + c.help)
	}
	arg1, arg2, arg3 := w[0], w[1], w[2]
	has2, has3 := arg2 != "", arg3 != ""
	if !has2 {
		arg2, arg1, has2 = arg1, "=", true
	}
	if !has3 && arg2 == ">" {
		arg3, has3 = ">", true
		arg2 = arg1
		arg1 = "="
	}
	// The version ends before the '>' glued to it, or at its end when the
	// '>' is a word of its own.
	end := len(arg2)
	gtWord := has3 && arg3 == ">"
	if end == 0 || (!gtWord && arg2[end-1] != '>') {
		return nil, msgError("<IfVersion> directive missing closing '>'")
	}
	if !gtWord {
		end--
	}
	op := arg1
	reverse := false
	if strings.HasPrefix(op, "!") {
		reverse = true
		if len(op) > 1 {
			op = op[1:]
		}
	}
	opc := op[0]
	restOp := op[1:]
	if !(restOp == "" || (restOp == "=" && opc != '~')) {
		return nil, errorf("unrecognized operator '%s'", arg1)
	}
	var match bool
	switch opc {
	case '=':
		if !strings.HasPrefix(arg2, "/") {
			cmp, ok := compareVersion(arg2[:end])
			if !ok {
				return nil, msgError(invalidVersion)
			}
			match = cmp == 0
			break
		}
		// "=/regex/": the delimiting slashes are required.
		body := arg2[1:end]
		if body == "" || body[len(body)-1] != '/' {
			return nil, msgError("Missing delimiting / of regular expression.")
		}
		m, ok := matchVersion(body[:len(body)-1])
		if !ok {
			return nil, msgError("Unable to compile regular expression")
		}
		match = m
	case '~':
		m, ok := matchVersion(arg2[:end])
		if !ok {
			return nil, msgError("Unable to compile regular expression")
		}
		match = m
	case '<', '>':
		cmp, ok := compareVersion(arg2[:end])
		if !ok {
			return nil, msgError(invalidVersion)
		}
		want := -1
		if opc == '>' {
			want = 1
		}
		match = cmp == want || (restOp != "" && cmp == 0)
	default:
		return nil, errorf("unrecognized operator '%s'", arg1)
	}
	if match != reverse {
		ld.openCond = "<IfVersion"
		return nil, nil
	}
	return nil, ld.soak(st, "<IfVersion")
}

// compareVersion compares Plume's version with "major[.minor[.patch]]":
// 1 when Plume is newer, -1 older, 0 equal; ok is false for a malformed
// version (mod_version's compare_version).
func compareVersion(v string) (int, bool) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	var parts [3]int
	n := 0
	start := 0
	i := 0
	for i <= len(v) && n < 3 {
		if i == len(v) || v[i] == '.' {
			parts[n], _ = strconv.Atoi(atoiPrefix(v[start:i]))
			n++
			i++
			start = i
			continue
		}
		if v[i] < '0' || v[i] > '9' {
			break
		}
		i++
	}
	if i < len(v) {
		return 0, false
	}
	have := [3]int{VersionMajor, VersionMinor, VersionPatch}
	for k := 0; k < 3; k++ {
		if have[k] > parts[k] {
			return 1, true
		}
		if have[k] < parts[k] {
			return -1, true
		}
	}
	return 0, true
}

// atoiPrefix keeps the leading digits (atoi stops at the first non-digit;
// an empty component counts as 0). Overlong numbers saturate.
func atoiPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return "0"
	}
	if i > 9 {
		return "999999999"
	}
	return s[:i]
}

func matchVersion(re string) (match, ok bool) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return false, false
	}
	return rx.MatchString(versionString()), true
}

func versionString() string {
	return strconv.Itoa(VersionMajor) + "." + strconv.Itoa(VersionMinor) + "." + strconv.Itoa(VersionPatch)
}
