package conformance

import (
	"fmt"
	"net/textproto"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ComparedHeaders are the response headers whose values must agree.
var ComparedHeaders = []string{
	"Content-Type", "Content-Length", "Content-Language", "Content-Encoding",
	"Content-Location", "Location", "Vary", "TCN", "Alternates", "ETag",
	"Last-Modified", "Allow", "WWW-Authenticate",
}

// normalizer removes what legitimately differs between the two servers of
// a run: their roots, ports, program names, log time stamps and server
// signatures.
type normalizer struct {
	root  string
	port  int
	argv0 string
}

var (
	signatureRE = regexp.MustCompile(`(?s)<address>.*?</address>`)
	logPrefixRE = regexp.MustCompile(`^\[[^\]]*\] \[([^\]]*)\] \[pid [^\]]*\] (?:\[client [^\]]*\] )?`)
	ahCodeRE    = regexp.MustCompile(`\bAH\d{5}\b`)
	etagHexRE   = regexp.MustCompile(`[0-9a-fA-F]+`)
)

func (n normalizer) text(s string) string {
	if n.root != "" {
		s = strings.ReplaceAll(s, n.root, "{{ROOT}}")
	}
	if n.port != 0 {
		s = regexp.MustCompile(`\b`+strconv.Itoa(n.port)+`\b`).ReplaceAllString(s, "{{PORT}}")
	}
	return s
}

func (n normalizer) body(b []byte) string {
	return signatureRE.ReplaceAllString(n.text(string(b)), "<address>{{SIGNATURE}}</address>")
}

// configtest normalises a config test's output: the program name at the
// start of a line, the log prefix of warnings (time, pid) and the root.
func (n normalizer) configtest(out string) string {
	var lines []string
	for _, l := range strings.Split(n.text(out), "\n") {
		l = strings.TrimRight(l, " \r\t")
		if rest, ok := strings.CutPrefix(l, n.argv0+": "); ok {
			l = "{{ARGV0}}: " + rest
		}
		if m := logPrefixRE.FindStringSubmatch(l); m != nil {
			l = "[" + m[1] + "] " + l[len(m[0]):]
		}
		lines = append(lines, l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// plumeNoteRE matches the lines Plume adds to a config test by design,
// after Apache's text and never instead of it: "(hint: ...)" advice and
// the closing summary of directives it ignores.
var plumeNoteRE = regexp.MustCompile(`^(\(hint: .*\)|\d+ directives? of \d+ modules? will not carry over: .*)$`)

// configtestMessage is the output without warning lines (those that carry
// a log prefix) and Plume's own notes: the verdict text that must match
// exactly.
func configtestMessage(normalized string) string {
	var keep []string
	for _, l := range strings.Split(normalized, "\n") {
		if strings.HasPrefix(l, "[") || plumeNoteRE.MatchString(l) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// ahCodes lists the AH codes in text, sorted, space-separated.
func ahCodes(text string) string {
	codes := ahCodeRE.FindAllString(text, -1)
	sort.Strings(codes)
	return strings.Join(codes, " ")
}

// serverLifeCodes are log lines about a server's own start and stop, not
// about a request: resuming normal operations, command line, shutdown,
// and mod_ssl's init notices (which depend on the OpenSSL installed).
var serverLifeCodes = map[string]bool{
	"AH00489": true, "AH00094": true, "AH00491": true, "AH00492": true, "AH00493": true,
	"AH01873": true, "AH01882": true,
}

// plumeOwnLogRE matches log lines Plume writes by design that have no
// Apache counterpart: its notices about directives it does not implement.
var plumeOwnLogRE = regexp.MustCompile(`is not supported by Plume`)

// logEntries summarises error-log lines for comparison: the AH code of
// each line that has one, and the whole message (normalised, without the
// time/pid/client prefix) of lines that have none, such as the alert
// Apache writes for a broken .htaccess. Lines about the server's own start
// and stop, and Plume's notices about unsupported directives, are left
// out. Entries are sorted (two workers may log in either order) and
// repeats are counted ("AH01797 x2").
func (n normalizer) logEntries(text string) string {
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.TrimSpace(l) == "" || plumeOwnLogRE.MatchString(l) {
			continue
		}
		if codes := ahCodeRE.FindAllString(l, -1); len(codes) > 0 {
			if serverLifeCodes[codes[0]] {
				continue
			}
			count[codes[0]]++
			continue
		}
		msg := l
		if m := logPrefixRE.FindStringSubmatch(l); m != nil {
			msg = l[len(m[0]):]
		}
		count[strconv.Quote(n.text(msg))]++
	}
	out := make([]string, 0, len(count))
	for e, k := range count {
		if k > 1 {
			e += " x" + strconv.Itoa(k)
		}
		out = append(out, e)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// etagShape keeps an ETag's form (weak or not, quoting, number of parts)
// but not its value, which depends on inode and time.
func etagShape(v string) string { return etagHexRE.ReplaceAllString(v, "h") }

// fieldDiff is one field on which the two answers differ.
type fieldDiff struct {
	Field         string
	Oracle, Under string
}

// responseFields turns a response into the compared field values.
func responseFields(r *Response, logText string, n normalizer) map[string]string {
	f := map[string]string{
		"status": strconv.Itoa(r.Status),
		"body":   n.body(r.Body),
		"log":    n.logEntries(logText),
	}
	for _, h := range ComparedHeaders {
		v := strings.Join(r.Header[textproto.CanonicalMIMEHeaderKey(h)], ", ")
		switch h {
		case "ETag":
			v = etagShape(v)
		case "Location", "Content-Location", "Alternates":
			v = n.text(v)
		case "Allow":
			// Apache builds Allow from a hash table: its order varies
			// from run to run, so only the set of methods counts.
			methods := strings.Split(v, ",")
			for i := range methods {
				methods[i] = strings.TrimSpace(methods[i])
			}
			sort.Strings(methods)
			v = strings.Join(methods, ",")
		}
		f[strings.ToLower(h)] = v
	}
	// A chunked or close-delimited body has no Content-Length; its
	// effective length is compared instead, so that different framings of
	// the same body agree (framing is not what the suite is about). HEAD
	// answers keep the header as sent.
	if f["content-length"] == "" && !r.Head && len(r.Body) > 0 {
		f["content-length"] = strconv.Itoa(len(r.Body))
	}
	return f
}

// fieldOrder is the order fields are reported in.
func fieldOrder() []string {
	out := []string{"status"}
	for _, h := range ComparedHeaders {
		out = append(out, strings.ToLower(h))
	}
	return append(out, "body", "log")
}

func diffFields(oracle, under map[string]string) []fieldDiff {
	var out []fieldDiff
	for _, k := range fieldOrder() {
		if oracle[k] != under[k] {
			out = append(out, fieldDiff{Field: k, Oracle: oracle[k], Under: under[k]})
		}
	}
	return out
}

// describeDiff renders one field difference for a report.
func describeDiff(d fieldDiff, oracleName, underName string) string {
	show := func(s string) string {
		if s == "" {
			return "(absent)"
		}
		return strconv.Quote(s)
	}
	if d.Field != "body" && d.Field != "configtest" {
		return fmt.Sprintf("  %s:\n    %-8s %s\n    %-8s %s\n", d.Field, oracleName, show(d.Oracle), underName, show(d.Under))
	}
	return fmt.Sprintf("  %s (%d vs %d bytes):\n%s", d.Field, len(d.Oracle), len(d.Under), textDiff(d.Oracle, d.Under, oracleName, underName))
}

// textDiff shows the first differing line of two texts with a little
// context: enough to see the problem without flooding the log.
func textDiff(a, b, aName, bName string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	var s strings.Builder
	fmt.Fprintf(&s, "    first difference at line %d\n", i+1)
	lineAt := func(ls []string, j int) string {
		if j < len(ls) {
			return clip(strconv.Quote(ls[j]), 200)
		}
		return "(end)"
	}
	for j := i; j < i+3 && (j < len(al) || j < len(bl)); j++ {
		fmt.Fprintf(&s, "    %-8s %s\n    %-8s %s\n", aName, lineAt(al, j), bName, lineAt(bl, j))
	}
	return s.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// findDifference returns the declared difference that covers field of
// the request with the given selector ("1", "2", ..., or "configtest").
func findDifference(diffs []Difference, selector, field string) *Difference {
	for i := range diffs {
		d := &diffs[i]
		if (d.Selector == selector || (d.Selector == "*" && selector != "configtest")) && strings.EqualFold(d.Field, field) {
			return d
		}
	}
	return nil
}
