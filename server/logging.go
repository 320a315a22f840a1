package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"plume/config"
	"plume/directives"
	"plume/parser"
)

// Apache's log levels, most severe first (APLOG_EMERG = 0 ... TRACE8).
var levelNames = []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
	"trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8"}

// Level numbers for the common levels.
const (
	LevelEmerg  = 0
	LevelAlert  = 1
	LevelCrit   = 2
	LevelError  = 3
	LevelWarn   = 4
	LevelNotice = 5
	LevelInfo   = 6
	LevelDebug  = 7
)

// LevelOf maps a level name to its number (-1 if unknown).
func LevelOf(name string) int {
	for i, n := range levelNames {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// LogLevels is a LogLevel setting: the default level and per-module
// overrides (keyed by Apache's short module name: "core", "autoindex").
type LogLevels struct {
	Default int
	Module  map[string]int
}

// Enabled reports whether a message of level for module is logged.
func (l *LogLevels) Enabled(module string, level int) bool {
	if l == nil {
		return level <= LevelWarn
	}
	if v, ok := l.Module[module]; ok {
		return level <= v
	}
	return level <= l.Default
}

// shortModuleName turns "autoindex_module" or "mod_autoindex.c" into
// "autoindex", the name error-log lines carry.
func shortModuleName(name string) string {
	name = strings.TrimSuffix(name, "_module")
	name = strings.TrimSuffix(strings.TrimPrefix(name, "mod_"), ".c")
	return name
}

func moduleKnown(c *directives.Cmd, name string) bool {
	short := shortModuleName(name)
	if short == "core" || short == "http" || short == "http_core" || short == "so" || short == "mpm_event" || short == "mpm_worker" || short == "mpm_prefork" {
		return true
	}
	for _, n := range []string{name, short + "_module", "mod_" + short + ".c"} {
		if _, ok := directives.Implemented(n); ok {
			return true
		}
		if c.Global != nil && c.Global.Loaded[n] {
			return true
		}
	}
	return false
}

const levelKeywordError = "Log level keyword must be one of emerg/alert/crit/error/warn/notice/info/debug/trace1/.../trace8"

// setLogLevel is core.c set_loglevel.
func setLogLevel(c *directives.Cmd, a []string) error {
	if len(a) == 0 {
		return errors.New("LogLevel requires at least one argument, Level of verbosity in error logging")
	}
	// In a section the setting is per directory; at server level it is
	// the server's.
	target := &coreServer(c).LogLevel
	if c.Path != "" || c.Htaccess {
		target = &coreDir(c).LogLevel
	}
	l := &LogLevels{Default: LevelWarn, Module: map[string]int{}}
	if cur := *target; cur != nil {
		l.Default = cur.Default
		for k, v := range cur.Module {
			l.Module[k] = v
		}
	}
	for _, w := range a {
		mod, lvl, hasMod := strings.Cut(w, ":")
		if !hasMod {
			n := LevelOf(w)
			if n < 0 {
				return errors.New(levelKeywordError)
			}
			l.Default = n
			continue
		}
		if !moduleKnown(c, mod) {
			return fmt.Errorf("Cannot find module %s", mod)
		}
		n := LevelOf(lvl)
		if n < 0 {
			return fmt.Errorf("%s: %s", w, levelKeywordError)
		}
		l.Module[shortModuleName(mod)] = n
	}
	*target = l
	return nil
}

// logFile is one open log destination (file or pipe), shared by every
// logger that names the same target. Each record is written with a single
// write under the lock, so lines are never torn.
type logFile struct {
	mu     sync.Mutex
	target string
	path   string // resolved file path ("" for pipes)
	f      *os.File
	pipe   *exec.Cmd
	w      io.Writer
	buf    []byte // BufferedLogs
	bufMax int
	// adopted is set while a reload holds a file taken over from the
	// previous generation.
	adopted bool
}

func (l *logFile) write(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return
	}
	if l.bufMax > 0 {
		if len(l.buf)+len(p) > l.bufMax {
			l.w.Write(l.buf)
			l.buf = l.buf[:0]
		}
		if len(p) >= l.bufMax {
			l.w.Write(p)
			return
		}
		l.buf = append(l.buf, p...)
		return
	}
	l.w.Write(p)
}

func (l *logFile) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 && l.w != nil {
		l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
}

// reopen closes and reopens a file target (after log rotation).
func (l *logFile) reopen() error {
	if l.path == "" {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	l.mu.Lock()
	if len(l.buf) > 0 && l.w != nil {
		l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
	old := l.f
	l.f, l.w = f, f
	l.mu.Unlock()
	if old != nil && old != os.Stderr {
		old.Close()
	}
	return nil
}

func (l *logFile) close() {
	l.flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil && l.f != os.Stderr && l.f != os.Stdout {
		l.f.Close()
	}
	if l.pipe != nil {
		if c, ok := l.w.(io.Closer); ok {
			c.Close()
		}
		done := make(chan struct{})
		go func() { l.pipe.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			l.pipe.Process.Kill()
		}
	}
	l.w = nil
}

// logFiles opens each distinct target once per generation.
type logFiles struct {
	mu    sync.Mutex
	root  string
	files map[string]*logFile
	// prev is the previous generation's set: targets still named are
	// taken over open (after a switch to User/Group the files may no
	// longer be openable).
	prev *logFiles
}

func newLogFiles(serverRoot string, prev *logFiles) *logFiles {
	return &logFiles{root: serverRoot, files: map[string]*logFile{}, prev: prev}
}

// adopt takes target's open file from the previous generation.
func (s *logFiles) adopt(target string) *logFile {
	if s.prev == nil {
		return nil
	}
	s.prev.mu.Lock()
	defer s.prev.mu.Unlock()
	lf, ok := s.prev.files[target]
	if ok {
		delete(s.prev.files, target)
	}
	return lf
}

// open returns the shared logFile for target: a path (relative to
// ServerRoot), "|command" for a piped log, or /dev/stderr.
func (s *logFiles) open(target string) (*logFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lf, ok := s.files[target]; ok {
		return lf, nil
	}
	if lf := s.adopt(target); lf != nil {
		lf.adopted = true
		s.files[target] = lf
		return lf, nil
	}
	lf := &logFile{target: target}
	switch {
	case strings.HasPrefix(target, "|"):
		cmdline := strings.TrimPrefix(strings.TrimPrefix(target, "|"), "$")
		cmd := exec.Command("/bin/sh", "-c", cmdline)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("AH00104: unable to start piped log program '%s': %v", cmdline, err)
		}
		lf.pipe, lf.w = cmd, w
	case isSyslog(target):
		// Plume has no syslog writer: send these lines to stderr. (A file
		// such as "syslog.log" is a file; CustomLog has no syslog target in
		// Apache, but a CustomLog literally named "syslog" is rare enough.)
		lf.f, lf.w = os.Stderr, os.Stderr
	case target == "/dev/stderr":
		lf.f, lf.w = os.Stderr, os.Stderr
	case target == "/dev/stdout":
		lf.f, lf.w = os.Stdout, os.Stdout
	default:
		p := target
		if !strings.HasPrefix(p, "/") {
			p = strings.TrimSuffix(s.root, "/") + "/" + p
		}
		lf.path = p
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("(%s)%s: could not open log file %s", errnoText(err), strings.TrimPrefix(err.Error(), "open "+p+": "), p)
		}
		lf.f, lf.w = f, f
	}
	s.files[target] = lf
	return lf, nil
}

func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Sprint(int(errno))
	}
	return "?"
}

func (s *logFiles) reopenAll() {
	s.mu.Lock()
	list := make([]*logFile, 0, len(s.files))
	for _, f := range s.files {
		list = append(list, f)
	}
	s.mu.Unlock()
	for _, f := range list {
		f.reopen()
	}
}

func (s *logFiles) closeAll() {
	s.mu.Lock()
	list := s.files
	s.files = map[string]*logFile{}
	s.mu.Unlock()
	for _, f := range list {
		f.close()
	}
}

// ErrorLogger writes Apache-format error-log lines:
//
//	[Wed Nov 25 22:11:01.123456 2026] [core:error] [pid N:tid N] [client 127.0.0.1:5555] AH00128: File does not exist: /x
type ErrorLogger struct {
	out    *logFile
	levels *LogLevels
	pid    int
}

// Enabled reports whether a line would be written.
func (e *ErrorLogger) Enabled(module string, level int) bool {
	return e != nil && e.levels.Enabled(module, level)
}

// Log writes one line; client is "ip:port" or "".
func (e *ErrorLogger) Log(module string, level int, client, code, msg string) {
	if e == nil {
		return
	}
	e.LogAt(e.levels, module, level, client, code, msg)
}

// LogAt is Log with the LogLevel in force for a request (a per-directory
// LogLevel overrides the server's).
func (e *ErrorLogger) LogAt(levels *LogLevels, module string, level int, client, code, msg string) {
	if e == nil {
		return
	}
	if levels == nil {
		levels = e.levels
	}
	// Server-level notices (start, restart, shutdown) are always logged,
	// as Apache's log.c does.
	if !levels.Enabled(module, level) && !(client == "" && level == LevelNotice) {
		return
	}
	now := time.Now()
	var b []byte
	b = append(b, '[')
	b = now.AppendFormat(b, "Mon Jan 02 15:04:05.000000 2006")
	b = append(b, "] ["...)
	b = append(b, module...)
	b = append(b, ':')
	b = append(b, levelNames[min(level, len(levelNames)-1)]...)
	b = fmt.Appendf(b, "] [pid %d:tid %d] ", e.pid, gettid())
	if client != "" {
		b = append(b, "[client "...)
		b = append(b, client...)
		b = append(b, "] "...)
	}
	if code != "" {
		b = append(b, code...)
		b = append(b, ": "...)
	}
	b = appendErrorLogItem(b, msg)
	b = append(b, '\n')
	e.out.write(b)
}

// appendErrorLogItem is ap_escape_errorlog_item, which log.c applies to
// every message: control characters and bytes outside printable ASCII
// become \xhh (or \n, \t, ...) and a backslash is doubled, so no client
// can forge a log line or send escape sequences to a terminal; a double
// quote is left as is.
func appendErrorLogItem(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\v':
			b = append(b, '\\', 'v')
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// giveBack returns adopted files to the previous generation (a reload
// that failed) and closes the ones this generation opened itself.
func (s *logFiles) giveBack() {
	s.mu.Lock()
	files := s.files
	s.files = map[string]*logFile{}
	s.mu.Unlock()
	for target, lf := range files {
		if s.prev != nil && lf.adopted {
			s.prev.mu.Lock()
			s.prev.files[target] = lf
			s.prev.mu.Unlock()
			continue
		}
		lf.close()
	}
}

// nodePos is the position of the directive a handler is applying.
func nodePos(c *directives.Cmd) parser.Pos {
	if c.Node != nil {
		return c.Node.Pos
	}
	return parser.Pos{}
}

// CheckError is a failed post-configuration check (Apache's check_config
// hooks): the startup lines Apache prints, then AH00014. Apache exits 1
// after them, in configtest as at startup.
type CheckError struct {
	Lines []string
}

func (e *CheckError) Error() string {
	return strings.Join(append(e.Lines[:len(e.Lines):len(e.Lines)], "AH00014: Configuration check failed"), "\n")
}

// CheckConfig runs the post-configuration checks of the modules Plume
// implements, as ap_run_check_config: core's (AH02291, every server's
// ErrorLog directory must exist), then, only when those pass (a hook that
// fails stops the run), mod_log_config's (AH02297, the directory of every
// CustomLog/TransferLog file). Servers are visited as Apache's server
// list runs: the main server, then the virtual hosts last-defined first.
func CheckConfig(cfg *config.Config) error {
	if cfg == nil || cfg.Main == nil {
		return nil
	}
	servers := []*config.Server{cfg.Main}
	for i := len(cfg.VHosts) - 1; i >= 0; i-- {
		servers = append(servers, cfg.VHosts[i])
	}
	mainCore := directives.DirOf(cfg.Main.Config, coreModule, &CoreServer{})
	var lines []string
	for _, sv := range servers {
		cs := directives.DirOf(sv.Config, coreModule, &CoreServer{})
		target := cs.ErrorLog
		if sv.IsVirtual {
			// A vhost without its own ErrorLog shares the main server's
			// log (its error_fname is NULL): nothing to check.
			if !cs.errorLogOwn || cs == mainCore {
				continue
			}
		} else if target == "" {
			target = "logs/error_log"
		}
		if target == "" || strings.HasPrefix(target, "|") || isSyslog(target) {
			continue
		}
		desc := "main error log"
		if sv.IsVirtual {
			desc = fmt.Sprintf("error log of vhost defined at %s:%d", sv.Pos.File, sv.Pos.Line)
		}
		dir := parentDir(serverRootRelative(cfg, target))
		if err := checkDir(dir); err != nil {
			lines = append(lines, fmt.Sprintf("%s: AH02291: Cannot access directory '%s' for %s", err, dir, desc))
		}
	}
	if len(lines) > 0 {
		return &CheckError{Lines: lines}
	}
	seen := map[CustomLogSpec]bool{}
	for _, sv := range servers {
		lc := directives.DirOf(sv.Config, logConfigModule, &LogConfigServer{})
		for _, spec := range lc.Logs {
			if seen[spec] || strings.HasPrefix(spec.Target, "|") {
				continue
			}
			seen[spec] = true
			dir := parentDir(serverRootRelative(cfg, spec.Target))
			if err := checkDir(dir); err != nil {
				lines = append(lines, fmt.Sprintf("%s: AH02297: Cannot access directory '%s' for log file '%s' defined at %s:%d",
					err, dir, spec.Target, spec.Pos.File, spec.Pos.Line))
			}
		}
	}
	if len(lines) > 0 {
		return &CheckError{Lines: lines}
	}
	return nil
}

// isSyslog reports whether an ErrorLog target names the syslog provider
// ("syslog" or "syslog:facility"), which has no directory to check.
func isSyslog(target string) bool {
	return strings.EqualFold(target, "syslog") || (len(target) >= 7 && strings.EqualFold(target[:7], "syslog:"))
}

// parentDir is ap_make_dirstr_parent: the path up to its last '/'.
func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

// checkDir is the stat of check_errorlog_dir/check_log_dir; the error is
// APR's "(errno)text" prefix.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = syscall.ENOTDIR
	}
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("%v", err)
	}
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return fmt.Errorf("(%d)%s", int(errno), s)
}
