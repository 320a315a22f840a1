package walk

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"plume/directives"
	"plume/request"
)

// LogLine is one error-log line the walk produced for the request.
type LogLine struct {
	Module string // "core"
	Level  string // "error", "alert", "crit", "warn"
	Code   string // "AH00037", "" for .htaccess alerts
	Msg    string
	// Errno is the OS error Apache prints before the client address,
	// "(13)Permission denied: " (0: none).
	Errno syscall.Errno
}

// ErrnoPrefix is Apache's rendering of Errno: "(13)Permission denied: ".
func (l LogLine) ErrnoPrefix() string {
	if l.Errno == 0 {
		return ""
	}
	msg := l.Errno.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return fmt.Sprintf("(%d)%s: ", int(l.Errno), msg)
}

func (l LogLine) String() string {
	if l.Code != "" {
		return fmt.Sprintf("[%s:%s] %s%s: %s", l.Module, l.Level, l.ErrnoPrefix(), l.Code, l.Msg)
	}
	return fmt.Sprintf("[%s:%s] %s%s", l.Module, l.Level, l.ErrnoPrefix(), l.Msg)
}

// Result is the outcome of a request walk.
type Result struct {
	// PerDir is the merged per-directory configuration (Directory and
	// .htaccess per component, regex Directory, Files, Location).
	PerDir directives.Vector
	// Filename is the part of the mapped path that exists (or the whole
	// path when nothing beyond the last directory exists); PathInfo is
	// the rest.
	Filename string
	PathInfo string
	// Info describes Filename; nil when it does not exist.
	Info fs.FileInfo
	// File is Filename opened read-only after every check passed; the
	// server must serve this descriptor and close it (Result.Close).
	File *request.File
	// OpenErr is set when Filename exists and passed every check but could
	// not be opened for reading (Apache's handler then answers 403,
	// AH00132).
	OpenErr error
	// Status is 0, or the HTTP status the walk decided (403, 500).
	Status int
	// Log holds the error-log lines to write for this request.
	Log []LogLine
	// Notes are request notes ("error-notes").
	Notes map[string]string
	// Env holds MATCH_<NAME> captures of the regex sections that applied.
	Env map[string]string
	// Trace is filled when the walk was asked to trace (explain).
	Trace *Trace
}

// Close releases the opened file, if any.
func (r *Result) Close() error {
	if r == nil || r.File == nil {
		return nil
	}
	err := r.File.Close()
	r.File = nil
	return err
}

// Apply copies the result into a request: per-dir config, filename, path
// info, file, environment, notes and log lines (through r.LogError).
func (res *Result) Apply(r *request.Request) {
	r.PerDir = res.PerDir
	r.Filename = res.Filename
	r.PathInfo = res.PathInfo
	r.Finfo = res.Info
	r.File = res.File
	if len(res.Env) > 0 {
		if r.Env == nil {
			r.Env = map[string]string{}
		}
		for k, v := range res.Env {
			r.Env[k] = v
		}
	}
	if len(res.Notes) > 0 {
		if r.Notes == nil {
			r.Notes = map[string]string{}
		}
		for k, v := range res.Notes {
			r.Notes[k] = v
		}
	}
	// request.LogError has no errno parameter yet: the "(13)Permission
	// denied: " part Apache prints is not passed on (see LogLine.Errno).
	// Apache parses each .htaccess once per request tree (sub-requests
	// share the main request's r->htaccess), so its warnings (AH02295,
	// AH02296) appear once even when mod_dir's sub-request walks the
	// same directories again; the walk cache replays them per walk.
	root := r
	for root.Main != nil {
		root = root.Main
	}
	for _, l := range res.Log {
		if l.Level == "warn" {
			key := "plume-logged:" + l.Code + " " + l.Msg
			if root.Notes[key] != "" {
				continue
			}
			if root.Notes == nil {
				root.Notes = map[string]string{}
			}
			root.Notes[key] = "1"
		}
		r.LogError(l.Module, l.Level, l.Code, l.Msg)
	}
	if res.Status != 0 {
		r.Status = res.Status
	}
}

// Trace records what a walk did, for `plume explain`.
type Trace struct {
	// Sections applied, in merge order.
	Sections []TraceSection
	// Htaccess lists the .htaccess files looked for and what was found.
	Htaccess []TraceHtaccess
	// Symlinks lists the symlink checks made.
	Symlinks []TraceSymlink
	// FastPath is true when one openat2 proved no component is a link.
	FastPath bool
	// FollowPath is true when FollowSymLinks (without
	// SymLinksIfOwnerMatch) held on the whole path, so one open following
	// the links was the whole check.
	FollowPath bool
	// Syscalls counts the filesystem system calls this walk made.
	Syscalls int
	// ApacheLstats and ApacheOpens count what Apache's ap_directory_walk
	// would do for the same request (one stat of the whole path, one
	// lstat per component unless FollowSymLinks without
	// SymLinksIfOwnerMatch, a stat per symlink, one open attempt per
	// access file name per directory where AllowOverride allows it).
	ApacheStats  int
	ApacheLstats int
	ApacheOpens  int
}

// TraceSection is one applied section.
type TraceSection struct {
	Kind  string // "Directory", "DirectoryMatch", "Files", "Location", ".htaccess", "defaults"
	Path  string
	File  string
	Line  int
	Cache string // "hit" when the merged state came from the cache
}

// TraceHtaccess is one .htaccess lookup.
type TraceHtaccess struct {
	Dir    string
	File   string // the file used, "" when none exists
	Cached bool
	Err    string
}

// TraceSymlink is one symlink check.
type TraceSymlink struct {
	Link    string
	Target  string
	Policy  string // "FollowSymLinks", "SymLinksIfOwnerMatch", "none"
	Allowed bool
	Reason  string
}
