package conformance

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Case is one differential test: a configuration, the files it includes, a
// document tree and the requests to send. Cases come from txtar files under
// testdata/conformance/<area>/ (see ParseCase) or from the generators.
type Case struct {
	Name        string // "<area>/<file name without .txtar>"
	Path        string // the case file, "" for generated cases
	Area        string
	Description string
	// Modules are the Apache modules the case loads, by short name
	// ("mime" → mime_module, mod_mime.so). mpm_event is always loaded.
	Modules []string
	// Files are written under the case root with placeholders expanded;
	// "httpd.conf" is the case's configuration.
	Files []archiveFile
	// Tree holds the operations that files cannot express: symlinks,
	// owners, modes, empty directories.
	Tree     []TreeOp
	Requests []Request
	// ExpectConfigtest, when set, is what `apache2 -t` must print (after
	// normalisation): it pins the oracle so a changed Apache is noticed.
	ExpectConfigtest *string
	Differences      []Difference
	// Skip holds checks left out of the comparison ("configtest" or a
	// request number → reason), from AREAS's "!area/case:N" lines.
	Skip map[string]string
}

// DefaultModules is what a case loads when it has no "modules:" line.
var DefaultModules = []string{"authz_core", "authz_host", "mime", "dir"}

// TreeOp is one line of a case's "-- tree --" member.
type TreeOp struct {
	Line   int
	Kind   string // "link", "chown", "chmod", "mkdir", "fifo"
	Path   string // relative to the case root
	Target string // link target (may contain {{ROOT}})
	Owner  string // "user" or "user:group"
	Mode   os.FileMode
}

// Header is one request header as written in the case.
type Header struct{ Name, Value string }

// Request is one line of a case's "-- requests --" member:
//
//	METHOD TARGET [HTTP/x.y] [from ADDR] [Name: value [| Name: value ...]]
//
// The protocol defaults to HTTP/1.1; HTTP/0.9 sends the request line
// alone. A "Host: -" header sends no Host.
type Request struct {
	Line    int
	Method  string
	Target  string
	Proto   string // "HTTP/1.1" unless given
	From    string // client source address, default 127.0.0.1
	Headers []Header
	// Body is sent after the header fields as is (`|| "Go-quoted"` at the
	// end of the line); RawRequest adds no Content-Length for it.
	Body string
	Text string // the line as written, for reports
}

// Difference declares that Plume deliberately answers differently from
// Apache. One line of "-- differences --":
//
//	SELECTOR FIELD = PLUME-VALUE ; REASON
//
// SELECTOR is a request number (1-based), "*" for every request, or
// "configtest". FIELD is "status", "body", "log", "exit", "configtest" or a
// header name. PLUME-VALUE is Plume's normalised answer, which must then
// occur (a stale declaration fails), or "*": the field may differ.
type Difference struct {
	Line     int
	Selector string
	Field    string
	Value    string
	Reason   string
}

// special archive members that are not written to disk.
var specialMembers = map[string]bool{
	"requests": true, "tree": true, "expect-configtest": true, "differences": true,
}

// ParseCase reads one case file. area and name label it.
func ParseCase(area, name string, data []byte) (*Case, error) {
	comment, files, err := parseArchive(data)
	if err != nil {
		return nil, err
	}
	c := &Case{Name: area + "/" + name, Area: area}
	modulesSet := false
	var desc []string
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "modules:"); ok {
			c.Modules = strings.Fields(rest)
			modulesSet = true
			continue
		}
		if line != "" {
			desc = append(desc, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
		}
	}
	c.Description = strings.Join(desc, " ")
	if !modulesSet {
		c.Modules = append([]string(nil), DefaultModules...)
	}
	hasConf := false
	for _, f := range files {
		switch f.Name {
		case "requests":
			if c.Requests, err = parseRequests(f.Data); err != nil {
				return nil, fmt.Errorf("%s: requests: %w", c.Name, err)
			}
		case "tree":
			if c.Tree, err = parseTree(f.Data); err != nil {
				return nil, fmt.Errorf("%s: tree: %w", c.Name, err)
			}
		case "expect-configtest":
			s := strings.TrimSpace(f.Data)
			c.ExpectConfigtest = &s
		case "differences":
			if c.Differences, err = parseDifferences(f.Data); err != nil {
				return nil, fmt.Errorf("%s: differences: %w", c.Name, err)
			}
		default:
			if err := checkRelPath(f.Name); err != nil {
				return nil, fmt.Errorf("%s: member %q: %w", c.Name, f.Name, err)
			}
			if f.Name == "httpd.conf" {
				hasConf = true
			}
			c.Files = append(c.Files, f)
		}
	}
	if !hasConf {
		return nil, fmt.Errorf("%s: no -- httpd.conf -- member", c.Name)
	}
	return c, nil
}

// checkRelPath refuses member paths that would escape the case root.
func checkRelPath(p string) error {
	if p == "" || path.IsAbs(p) || strings.HasPrefix(path.Clean(p), "..") {
		return fmt.Errorf("path must be relative and stay inside the case root")
	}
	return nil
}

func parseRequests(text string) ([]Request, error) {
	var out []Request
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseRequestLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		r.Line = i + 1
		out = append(out, r)
	}
	return out, nil
}

// ParseRequestLine parses "METHOD TARGET [HTTP/x.y] [from ADDR] [Name: value | ...]".
func ParseRequestLine(line string) (Request, error) {
	r := Request{Text: line, From: "127.0.0.1", Proto: "HTTP/1.1"}
	if head, quoted, ok := strings.Cut(line, " || "); ok {
		body, err := strconv.Unquote(strings.TrimSpace(quoted))
		if err != nil {
			return r, fmt.Errorf("body %s: want a Go-quoted string: %v", quoted, err)
		}
		line, r.Body = head, body
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return r, fmt.Errorf("want METHOD TARGET, got %q", line)
	}
	r.Method, r.Target = fields[0], fields[1]
	rest := fields[2:]
	if len(rest) > 0 && strings.HasPrefix(rest[0], "HTTP/") {
		r.Proto = rest[0]
		rest = rest[1:]
	}
	if len(rest) >= 2 && rest[0] == "from" {
		r.From = rest[1]
		rest = rest[2:]
	}
	if len(rest) > 0 {
		for _, h := range strings.Split(strings.Join(rest, " "), " | ") {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
				return r, fmt.Errorf("bad header %q (want Name: value, several separated by \" | \")", h)
			}
			r.Headers = append(r.Headers, Header{strings.TrimSpace(name), strings.TrimSpace(value)})
		}
	}
	return r, nil
}

func parseTree(text string) ([]TreeOp, error) {
	var out []TreeOp
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		op := TreeOp{Line: i + 1, Kind: f[0]}
		bad := fmt.Errorf("line %d: cannot parse %q", i+1, line)
		switch {
		case f[0] == "link" && len(f) == 4 && f[2] == "->":
			op.Path, op.Target = f[1], f[3]
		case f[0] == "chown" && len(f) == 3:
			op.Path, op.Owner = f[1], f[2]
		case f[0] == "chmod" && len(f) == 3:
			m, err := strconv.ParseUint(f[2], 8, 32)
			if err != nil {
				return nil, bad
			}
			op.Path, op.Mode = f[1], os.FileMode(m)
		case (f[0] == "mkdir" || f[0] == "fifo") && len(f) == 2:
			op.Path = f[1]
		default:
			return nil, bad
		}
		if err := checkRelPath(op.Path); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, op)
	}
	return out, nil
}

func parseDifferences(text string) ([]Difference, error) {
	var out []Difference
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, reason, ok := strings.Cut(line, ";")
		lhs, value, ok2 := strings.Cut(head, "=")
		f := strings.Fields(lhs)
		if !ok || !ok2 || len(f) != 2 || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("line %d: want \"SELECTOR FIELD = PLUME-VALUE ; REASON\", got %q", i+1, line)
		}
		d := Difference{Line: i + 1, Selector: f[0], Field: strings.ToLower(f[1]),
			Value: strings.TrimSpace(value), Reason: strings.TrimSpace(reason)}
		if d.Selector != "*" && d.Selector != "configtest" {
			if n, err := strconv.Atoi(d.Selector); err != nil || n < 1 {
				return nil, fmt.Errorf("line %d: selector %q is not a request number, * or configtest", i+1, d.Selector)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// LoadCases reads every *.txtar under dir/<area>/, sorted by name.
func LoadCases(dir string) ([]*Case, error) {
	areas, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*Case
	for _, a := range areas {
		if !a.IsDir() {
			continue
		}
		paths, err := filepath.Glob(filepath.Join(dir, a.Name(), "*.txtar"))
		if err != nil {
			return nil, err
		}
		sort.Strings(paths)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			c, err := ParseCase(a.Name(), strings.TrimSuffix(filepath.Base(p), ".txtar"), data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			c.Path = p
			out = append(out, c)
		}
	}
	return out, nil
}

// Areas is the content of the AREAS file: the enabled areas, and single
// cases excluded from them ("!area/case  # reason") while a known Plume
// bug is being fixed.
type Areas struct {
	Enabled  map[string]bool
	Excluded map[string]string // case name → reason
	// ExcludedChecks: case name → check ("configtest" or a request
	// number) → reason, from "!area/case:3,configtest # reason".
	ExcludedChecks map[string]map[string]string
}

// ReadAreas reads the AREAS file: one enabled area per line,
// "!area/case # reason" to exclude one case, or "!area/case:3,5 # reason"
// to exclude some of its checks (request numbers, or "configtest"); '#'
// starts a comment.
func ReadAreas(file string) (*Areas, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := &Areas{Enabled: map[string]bool{}, Excluded: map[string]string{}, ExcludedChecks: map[string]map[string]string{}}
	for i, line := range strings.Split(string(data), "\n") {
		reason := ""
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line, reason = line[:j], strings.TrimSpace(line[j+1:])
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "!"):
			name := strings.TrimSpace(line[1:])
			if !strings.Contains(name, "/") || reason == "" {
				return nil, fmt.Errorf("%s:%d: want \"!area/case # reason\", got %q", file, i+1, line)
			}
			name, checks, partial := strings.Cut(name, ":")
			if !partial {
				out.Excluded[name] = reason
				continue
			}
			for _, ch := range strings.Split(checks, ",") {
				ch = strings.TrimSpace(ch)
				if n, err := strconv.Atoi(ch); ch != "configtest" && (err != nil || n < 1) {
					return nil, fmt.Errorf("%s:%d: %q is not a request number or configtest", file, i+1, ch)
				}
				if out.ExcludedChecks[name] == nil {
					out.ExcludedChecks[name] = map[string]string{}
				}
				out.ExcludedChecks[name][ch] = reason
			}
		case strings.ContainsAny(line, " \t/"):
			return nil, fmt.Errorf("%s:%d: an area is one word, got %q", file, i+1, line)
		default:
			out.Enabled[line] = true
		}
	}
	return out, nil
}

// ReplaceMember rewrites the contents of one member of a txtar file (used
// by -update to record Apache's config-test output).
func ReplaceMember(data []byte, member, contents string) ([]byte, error) {
	comment, files, err := parseArchive(data)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(comment)
	found := false
	for _, f := range files {
		if f.Name == member {
			f.Data = contents
			found = true
		}
		fmt.Fprintf(&b, "-- %s --\n%s", f.Name, f.Data)
	}
	if !found {
		return nil, fmt.Errorf("no member %q", member)
	}
	return []byte(b.String()), nil
}
