package server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"plume/access"
	"plume/config"
	"plume/directives"
	"plume/parser"
)

var logConfigModule = directives.RegisterModule(&directives.Module{
	Name:         "log_config_module",
	Source:       "mod_log_config.c",
	CreateServer: func() any { return &LogConfigServer{} },
	MergeServer:  func(b, a any) any { return mergeLogConfig(b.(*LogConfigServer), a.(*LogConfigServer)) },
})

// CustomLogSpec is one CustomLog/TransferLog directive.
type CustomLogSpec struct {
	Target string
	Format string // a nickname or a format string, resolved when opened
	EnvVar string // env=VAR condition
	EnvNeg bool   // env=!VAR
	// Default is true for TransferLog (the server's default format).
	Default bool
	// Pos is the directive's position, for the AH02297 post-config check.
	Pos parser.Pos
}

// LogConfigServer is mod_log_config's per-server state.
type LogConfigServer struct {
	Formats       map[string]string
	DefaultFormat string
	Logs          []CustomLogSpec
	// Inherited are the main server's logs, used by a vhost with none.
	Inherited []CustomLogSpec
	Buffered  Tri
}

func mergeLogConfig(b, a *LogConfigServer) *LogConfigServer {
	n := *a
	n.Formats = map[string]string{}
	for k, v := range b.Formats {
		n.Formats[k] = v
	}
	for k, v := range a.Formats {
		n.Formats[k] = v
	}
	if n.DefaultFormat == "" {
		n.DefaultFormat = b.DefaultFormat
	}
	n.Inherited = b.Logs
	n.Buffered = b.Buffered
	return &n
}

const commonLogFormat = "%h %l %u %t \"%r\" %>s %b"

func init() {
	m := "log_config_module"
	rsrc := directives.RsrcConf
	directives.Register(
		&directives.Spec{Name: "LogFormat", Module: m, Syntax: directives.Take12, ReqOverride: rsrc,
			Help: "a log format string (see docs) and an optional format name",
			Func: func(c *directives.Cmd, a []string) error {
				s := c.ServerConfig(logConfigModule).(*LogConfigServer)
				if _, err := compileLogFormat(a[0]); err != nil {
					return err
				}
				if len(a) == 2 {
					if s.Formats == nil {
						s.Formats = map[string]string{}
					}
					s.Formats[a[1]] = a[0]
				} else {
					s.DefaultFormat = a[0]
				}
				return nil
			}},
		&directives.Spec{Name: "CustomLog", Module: m, Syntax: directives.Take23, ReqOverride: rsrc,
			Help: "a file name, a custom log format string or format name, and an optional \"env=\" or \"expr=\" clause (see docs)",
			Func: func(c *directives.Cmd, a []string) error {
				s := c.ServerConfig(logConfigModule).(*LogConfigServer)
				spec := CustomLogSpec{Target: a[0], Format: a[1], Pos: nodePos(c)}
				if len(a) == 3 {
					switch {
					case strings.HasPrefix(a[2], "env="):
						v := a[2][4:]
						if strings.HasPrefix(v, "!") {
							spec.EnvNeg, v = true, v[1:]
						}
						spec.EnvVar = v
					case strings.HasPrefix(a[2], "expr="):
						c.Warn("log_config", "", "CustomLog expr= conditions are not supported by Plume: logging every request to %s", a[0])
					default:
						return errors.New("error in condition clause")
					}
				}
				s.Logs = append(s.Logs, spec)
				return nil
			}},
		&directives.Spec{Name: "TransferLog", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "the filename of the access log",
			Func: func(c *directives.Cmd, a []string) error {
				s := c.ServerConfig(logConfigModule).(*LogConfigServer)
				s.Logs = append(s.Logs, CustomLogSpec{Target: a[0], Default: true, Pos: nodePos(c)})
				return nil
			}},
		&directives.Spec{Name: "BufferedLogs", Module: m, Syntax: directives.Flag, ReqOverride: rsrc,
			Help: "Enable Buffered Logging (experimental)",
			Func: func(c *directives.Cmd, a []string) error {
				return setOnOff(&c.ServerConfig(logConfigModule).(*LogConfigServer).Buffered, a[0])
			}},
	)
}

// logItem is one piece of a compiled LogFormat.
type logItem struct {
	literal string
	verb    byte
	arg     string
	final   bool // '>' (final request) vs '<' (original)
	orig    bool
	// status condition: log only when the status is (or with neg, is not) listed.
	conds []int
	neg   bool
	// strftime layout, pre-translated, for %{...}t
	tfmt  string
	tkind int
}

// logFormat is a compiled format string.
type logFormat []logItem

// compileLogFormat parses Apache's format language.
func compileLogFormat(s string) (logFormat, error) {
	var out logFormat
	var lit strings.Builder
	flushLit := func() {
		if lit.Len() > 0 {
			out = append(out, logItem{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte(s[i])
			}
			continue
		}
		if ch != '%' {
			lit.WriteByte(ch)
			continue
		}
		i++
		if i >= len(s) {
			return nil, errors.New("missing format character after %")
		}
		if s[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		flushLit()
		it := logItem{}
	loop:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '!':
				it.neg = true
			case c == '<':
				it.orig = true
			case c == '>':
				it.final = true
			case c == ',':
			case c >= '0' && c <= '9':
				j := i
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				n, _ := strconv.Atoi(s[i:j])
				it.conds = append(it.conds, n)
				i = j - 1
			case c == '{':
				j := strings.IndexByte(s[i:], '}')
				if j < 0 {
					return nil, errors.New("missing '}' in format string")
				}
				it.arg = s[i+1 : i+j]
				i += j
			default:
				if !strings.ContainsRune("aABbCDefhHiklLmnopPqrRsStTuUvVXIO^", rune(c)) {
					return nil, fmt.Errorf("Unrecognized LogFormat directive %%%c", c)
				}
				it.verb = c
				if c == '^' {
					// %^ti / %^to: trailers; Plume has none to log.
					if i+2 < len(s) {
						i += 2
					}
				}
				break loop
			}
		}
		if it.verb == 't' {
			it.tfmt, it.tkind = compileTimeFormat(it.arg)
		}
		out = append(out, it)
	}
	flushLit()
	return out, nil
}

const (
	tDefault = iota
	tStrftime
	tSec
	tMsec
	tUsec
	tMsecFrac
	tUsecFrac
)

func compileTimeFormat(arg string) (string, int) {
	arg = strings.TrimPrefix(strings.TrimPrefix(arg, "begin:"), "end:")
	switch arg {
	case "":
		return "", tDefault
	case "sec":
		return "", tSec
	case "msec":
		return "", tMsec
	case "usec":
		return "", tUsec
	case "msec_frac":
		return "", tMsecFrac
	case "usec_frac":
		return "", tUsecFrac
	}
	return arg, tStrftime
}

// strftime implements the conversions access logs use.
func strftime(f string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(fmt.Sprintf("%2d", t.Day()))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'j':
			b.WriteString(fmt.Sprintf("%03d", t.YearDay()))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'c':
			b.WriteString(t.Format("Mon Jan  2 15:04:05 2006"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// escapeLogItem is ap_escape_logitem: quotes, backslashes and
// non-printable bytes are escaped.
func escapeLogItem(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\b':
			b.WriteString("\\b")
		case c == '\n':
			b.WriteString("\\n")
		case c == '\r':
			b.WriteString("\\r")
		case c == '\t':
			b.WriteString("\\t")
		case c == '\v':
			b.WriteString("\\v")
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// usesSentBytes reports whether a format logs bytes sent with headers.
func (f logFormat) usesSentBytes() bool {
	for _, it := range f {
		if it.verb == 'O' || it.verb == 'S' {
			return true
		}
	}
	return false
}

// accessLog is one open CustomLog.
type accessLog struct {
	out    *logFile
	format logFormat
	spec   CustomLogSpec
}

// logAccess writes the access-log lines for a finished exchange
// (config_log_transaction).
func (x *exchange) logAccess() {
	logs := x.g.access[x.srv.Server]
	if len(logs) == 0 {
		return
	}
	end := time.Now()
	// %O counts what reached the connection: push net/http's buffer out
	// first (every response here has a Content-Length or is chunked
	// already, so this does not change the framing).
	if x.conn.counter != nil && x.g.needsSentBytes {
		if f, ok := x.rw.w.(http.Flusher); ok {
			f.Flush()
		}
	}
	for _, al := range logs {
		if al.spec.EnvVar != "" {
			_, set := x.last.Env[al.spec.EnvVar]
			if set == al.spec.EnvNeg {
				continue
			}
		}
		line := x.renderLog(al.format, end)
		al.out.write(line)
	}
}

func (x *exchange) finalStatus() int {
	if x.rw.status != 0 {
		return x.rw.status
	}
	return x.last.Status
}

func (x *exchange) renderLog(f logFormat, end time.Time) []byte {
	b := make([]byte, 0, 256)
	final := x.finalStatus()
	for i := range f {
		it := &f[i]
		if it.verb == 0 {
			b = append(b, it.literal...)
			continue
		}
		if len(it.conds) > 0 {
			in := false
			for _, c := range it.conds {
				if c == final {
					in = true
				}
			}
			if in == it.neg {
				b = append(b, '-')
				continue
			}
		}
		b = append(b, x.logItem(it, final, end)...)
	}
	b = append(b, '\n')
	return b
}

// logItem renders one %-directive; original-request items (%r %s %U %D
// %T %R) read the first request unless '>' is given.
func (x *exchange) logItem(it *logItem, final int, end time.Time) string {
	useOrig := it.orig
	switch it.verb {
	case 'r', 's', 'U', 'D', 'T', 'R':
		useOrig = !it.final
	}
	r := x.last
	if useOrig {
		r = x.first
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	switch it.verb {
	case 'h':
		// HostnameLookups On/Double: the resolver's cached name, never a
		// wait on DNS (a miss logs the IP and resolves in the background,
		// where Apache would block the request on the look-up).
		if r != nil && r.PerDir != nil {
			if mode := config.HostnameLookups(r.PerDir); mode == config.HostnameLookupOn || mode == config.HostnameLookupDouble {
				if name := access.RemoteHostForLog(r, mode == config.HostnameLookupDouble); name != "" {
					return name
				}
			}
		}
		return x.conn.remote.Addr().Unmap().String()
	case 'a':
		return x.conn.remote.Addr().Unmap().String()
	case 'A':
		return x.conn.local.Addr().Unmap().String()
	case 'l':
		return "-"
	case 'u':
		if r.User == "" {
			return "-"
		}
		return escapeLogItem(r.User)
	case 't':
		return formatLogTime(it, x.start, end)
	case 'r':
		return escapeLogItem(requestLine(x.hr))
	case 's':
		if it.final || r == x.last {
			return strconv.Itoa(final)
		}
		return strconv.Itoa(r.Status)
	case 'b':
		if x.rw.bytes == 0 {
			return "-"
		}
		return strconv.FormatInt(x.rw.bytes, 10)
	case 'B':
		return strconv.FormatInt(x.rw.bytes, 10)
	case 'O':
		if x.conn.counter != nil {
			return strconv.FormatInt(x.conn.counter.written.Load()-x.sentBefore, 10)
		}
		return strconv.FormatInt(x.rw.bytes+x.headerBytes(final), 10)
	case 'I':
		n := int64(len(requestLine(x.hr)) + 2)
		for k, vs := range x.hr.Header {
			for _, v := range vs {
				n += int64(len(k) + len(v) + 4)
			}
		}
		if x.hr.ContentLength > 0 {
			n += x.hr.ContentLength
		}
		return strconv.FormatInt(n+2, 10)
	case 'S':
		return strconv.FormatInt(x.rw.bytes+x.headerBytes(final), 10)
	case 'D':
		return strconv.FormatInt(end.Sub(x.start).Microseconds(), 10)
	case 'T':
		d := end.Sub(x.start)
		switch it.arg {
		case "ms":
			return strconv.FormatInt(d.Milliseconds(), 10)
		case "us":
			return strconv.FormatInt(d.Microseconds(), 10)
		}
		return strconv.FormatInt(int64(d/time.Second), 10)
	case 'e':
		return dash(escapeLogItem(r.Env[it.arg]))
	case 'n':
		return dash(escapeLogItem(r.Notes[it.arg]))
	case 'i':
		v := x.hr.Header.Values(it.arg)
		if strings.EqualFold(it.arg, "Host") && x.hr.Host != "" {
			v = []string{x.hr.Host}
		}
		return dash(escapeLogItem(strings.Join(v, ", ")))
	case 'o':
		if strings.EqualFold(it.arg, "Content-Type") {
			// log_header_out uses r->content_type without parameters.
			ct, _, _ := strings.Cut(x.rw.Header().Get("Content-Type"), ";")
			return dash(escapeLogItem(strings.TrimSpace(ct)))
		}
		return dash(escapeLogItem(strings.Join(x.rw.Header().Values(it.arg), ", ")))
	case 'C':
		for _, c := range x.hr.Cookies() {
			if c.Name == it.arg {
				return escapeLogItem(c.Value)
			}
		}
		return "-"
	case 'f':
		return dash(escapeLogItem(r.Filename))
	case 'H':
		return x.hr.Proto
	case 'm':
		return escapeLogItem(r.Method)
	case 'q':
		if r.Args == "" {
			return ""
		}
		return "?" + escapeLogItem(r.Args)
	case 'U':
		return escapeLogItem(r.URI)
	case 'v':
		return dash(x.srv.Name)
	case 'V':
		return escapeLogItem(x.serverName(r))
	case 'p':
		switch it.arg {
		case "remote":
			return strconv.Itoa(int(x.conn.remote.Port()))
		case "local":
			return strconv.Itoa(int(x.conn.local.Port()))
		}
		// The canonical port: the server's, else the scheme's default.
		if x.srv.Port != 0 {
			return strconv.Itoa(x.srv.Port)
		}
		return "80"
	case 'P':
		if it.arg == "tid" || it.arg == "hextid" {
			return strconv.Itoa(gettid())
		}
		return strconv.Itoa(os.Getpid())
	case 'X':
		if x.rw.Header().Get("Connection") == "close" || x.hr.Close {
			return "-"
		}
		return "+"
	case 'k':
		return strconv.FormatInt(x.conn.requests.Load()-1, 10)
	case 'R':
		return dash(r.Handler)
	case 'L':
		return "-"
	}
	return "-"
}

// headerBytes estimates the size of the status line and headers sent.
func (x *exchange) headerBytes(status int) int64 {
	n := int64(len("HTTP/1.1 200 ") + len(StatusText(status)) + 2)
	n += int64(len("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n"))
	for k, vs := range x.rw.Header() {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n + 2
}

func formatLogTime(it *logItem, start, end time.Time) string {
	t := start
	if strings.HasPrefix(it.arg, "end:") {
		t = end
	}
	switch it.tkind {
	case tSec:
		return strconv.FormatInt(t.Unix(), 10)
	case tMsec:
		return strconv.FormatInt(t.UnixMilli(), 10)
	case tUsec:
		return strconv.FormatInt(t.UnixMicro(), 10)
	case tMsecFrac:
		return fmt.Sprintf("%03d", t.Nanosecond()/1e6)
	case tUsecFrac:
		return fmt.Sprintf("%06d", t.Nanosecond()/1e3)
	case tStrftime:
		return strftime(it.tfmt, t.Local())
	}
	return t.Local().Format("[02/Jan/2006:15:04:05 -0700]")
}
