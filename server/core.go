package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"plume/directives"
)

// The serving directives of Apache's core that package config does not own
// live in this module slot. "http_core" is a real Apache module name, so
// <IfModule http_core.c> holds, as in Apache.
var coreModule = directives.RegisterModule(&directives.Module{
	Name:         "http_core",
	Source:       "http_core.c",
	CreateDir:    func(string) any { return &CoreDir{} },
	MergeDir:     func(b, a any) any { return mergeCoreDir(b.(*CoreDir), a.(*CoreDir)) },
	CreateServer: func() any { return &CoreServer{} },
	MergeServer:  func(b, a any) any { return mergeCoreServer(b.(*CoreServer), a.(*CoreServer)) },
})

// unixdModule holds User and Group (mod_unixd, compiled into Apache).
var unixdModule = directives.RegisterModule(&directives.Module{
	Name:         "unixd_module",
	Source:       "mod_unixd.c",
	CreateServer: func() any { return &UnixdConfig{} },
})

// Tri is an unset/off/on setting, merged child-over-parent when set.
type Tri int8

const (
	Unset Tri = iota
	Off
	On
)

func (t Tri) or(base Tri) Tri {
	if t != Unset {
		return t
	}
	return base
}

// AcceptPathInfo values (Apache's AP_REQ_*_PATH_INFO).
const (
	PathInfoUnset   = 0
	PathInfoReject  = 1
	PathInfoAccept  = 2
	PathInfoDefault = 3
)

// FileETag bits (core.c etag_components_t).
const (
	ETagUnset = 0
	ETagNone  = 1 << 0
	ETagMTime = 1 << 1
	ETagInode = 1 << 2
	ETagSize  = 1 << 3
	// ETagDigest (FileETag Digest, 2.4.56+) replaces the other components
	// with the base64 SHA-1 of the content.
	ETagDigest = 1 << 4
	ETagAll    = ETagMTime | ETagInode | ETagSize
	// Apache 2.4's default is MTime Size.
	ETagBackward = ETagMTime | ETagSize
)

// TraceEnable values.
const (
	traceOn = iota + 1
	traceOff
	traceExtended
)

// ServerSignature values.
const (
	SigUnset = iota
	SigOff
	SigOn
	SigEmail
)

// CoreDir is the per-directory part of Apache's core_dir_config that Plume's
// serving core reads.
type CoreDir struct {
	AcceptPathInfo int
	// FileETag: absolute bits, or incremental add/remove (Apache keeps all
	// three and combines them at request time).
	ETagBits, ETagAdd, ETagRemove int
	EnableSendfile                Tri
	EnableMMAP                    Tri
	// ForceType and SetHandler; "none" cancels an inherited value.
	ForceType string
	Handler   string
	// AddDefaultCharset: Tri plus the charset (default iso-8859-1).
	AddDefaultCharset Tri
	DefaultCharset    string
	ServerSignature   int
	UseCanonicalName  Tri
	// LimitRequestBody; -1 unset.
	LimitRequestBody int64
	limitSet         bool
	// ErrorDocument by status; values starting with '"' are text.
	ErrorDocs map[int]string
	// LogLevel set in a <Directory>/<Location> (nil: the server's).
	LogLevel *LogLevels
}

func mergeCoreDir(b, a *CoreDir) *CoreDir {
	n := *b
	if a.AcceptPathInfo != PathInfoUnset {
		n.AcceptPathInfo = a.AcceptPathInfo
	}
	// core.c: an absolute FileETag replaces; +/- accumulate over the base.
	if a.ETagBits&ETagNone != 0 || a.ETagBits != ETagUnset {
		n.ETagBits = a.ETagBits
		n.ETagAdd = a.ETagAdd
		n.ETagRemove = a.ETagRemove
	} else if a.ETagAdd != 0 || a.ETagRemove != 0 {
		n.ETagAdd = (b.ETagAdd &^ a.ETagRemove) | a.ETagAdd
		n.ETagRemove = (b.ETagRemove &^ a.ETagAdd) | a.ETagRemove
	}
	n.EnableSendfile = a.EnableSendfile.or(b.EnableSendfile)
	n.EnableMMAP = a.EnableMMAP.or(b.EnableMMAP)
	if a.ForceType != "" {
		n.ForceType = a.ForceType
	}
	if a.Handler != "" {
		n.Handler = a.Handler
	}
	if a.AddDefaultCharset != Unset {
		n.AddDefaultCharset = a.AddDefaultCharset
		n.DefaultCharset = a.DefaultCharset
	}
	if a.ServerSignature != SigUnset {
		n.ServerSignature = a.ServerSignature
	}
	n.UseCanonicalName = a.UseCanonicalName.or(b.UseCanonicalName)
	if a.limitSet {
		n.LimitRequestBody, n.limitSet = a.LimitRequestBody, true
	}
	if a.LogLevel != nil {
		n.LogLevel = a.LogLevel
	}
	if len(a.ErrorDocs) > 0 {
		m := make(map[int]string, len(b.ErrorDocs)+len(a.ErrorDocs))
		for k, v := range b.ErrorDocs {
			m[k] = v
		}
		for k, v := range a.ErrorDocs {
			m[k] = v
		}
		n.ErrorDocs = m
	}
	return &n
}

// ETag returns the effective FileETag bits.
func (d *CoreDir) ETag() int {
	bits := (d.ETagBits &^ d.ETagRemove) | d.ETagAdd
	if bits == ETagUnset {
		return ETagBackward
	}
	return bits
}

// CoreServer is the per-server part: connection settings, logging, URI
// decoding policy.
type CoreServer struct {
	Timeout              time.Duration
	KeepAlive            Tri
	MaxKeepAliveRequests int
	maxKASet             bool
	KeepAliveTimeout     time.Duration
	// Limits are LimitRequestLine/Fieldsize/Fields (protocol.go).
	Limits requestLimits
	// Protocol is HttpProtocolOptions (protocol.go).
	Protocol protocolOptions
	ErrorLog string
	// errorLogOwn is set when this server's own ErrorLog directive set
	// ErrorLog (a vhost without one shares the main server's log, and
	// Apache's AH02291 check skips it).
	errorLogOwn         bool
	LogLevel            *LogLevels
	AllowEncodedSlashes int // 0 unset, 1 off, 2 on, 3 nodecode
	MergeSlashes        Tri
	// TraceEnable: Unset/On, Off, or "extended" (traceExtended).
	TraceEnable int
	// Global-only settings, read from the main server.
	ServerTokens string
	PidFile      string
}

func mergeCoreServer(b, a *CoreServer) *CoreServer {
	n := *b
	if a.Timeout != 0 {
		n.Timeout = a.Timeout
	}
	n.KeepAlive = a.KeepAlive.or(b.KeepAlive)
	if a.maxKASet {
		n.MaxKeepAliveRequests, n.maxKASet = a.MaxKeepAliveRequests, true
	}
	if a.KeepAliveTimeout != 0 {
		n.KeepAliveTimeout = a.KeepAliveTimeout
	}
	if a.ErrorLog != "" {
		n.ErrorLog = a.ErrorLog
	}
	n.errorLogOwn = a.errorLogOwn
	if a.LogLevel != nil {
		n.LogLevel = a.LogLevel
	}
	if a.AllowEncodedSlashes != 0 {
		n.AllowEncodedSlashes = a.AllowEncodedSlashes
	}
	n.MergeSlashes = a.MergeSlashes.or(b.MergeSlashes)
	n.Protocol = a.Protocol.merge(b.Protocol)
	n.Limits = a.Limits.merge(b.Limits)
	if a.TraceEnable != 0 {
		n.TraceEnable = a.TraceEnable
	}
	return &n
}

// UnixdConfig is mod_unixd's User and Group.
type UnixdConfig struct {
	User, Group string
}

func coreDir(c *directives.Cmd) *CoreDir       { return c.DirConfig(coreModule).(*CoreDir) }
func coreServer(c *directives.Cmd) *CoreServer { return c.ServerConfig(coreModule).(*CoreServer) }

// atoi is C's atoi: leading digits, 0 when there are none.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<40; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// parseTimeout is ap_timeout_parameter_parse: a number with an optional
// unit (ms, s, mi(n), h), seconds by default.
func parseTimeout(s string) (time.Duration, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil && i > 0 {
		return 0, false
	}
	unit := time.Second
	switch strings.ToLower(s[i:]) {
	case "", "s":
	case "ms":
		unit = time.Millisecond
	case "mi", "min":
		unit = time.Minute
	case "h":
		unit = time.Hour
	default:
		return 0, false
	}
	return time.Duration(n) * unit, true
}

func init() {
	const (
		orFileInfo = directives.OrFileInfo
		rsrc       = directives.RsrcConf
		access     = directives.AccessConf
		orAll      = directives.OrAll
	)
	m := "core"
	directives.Register(
		&directives.Spec{Name: "AcceptPathInfo", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "Set to on or off for PATH_INFO to be accepted by handlers, or default for the per-handler preference",
			Func: func(c *directives.Cmd, a []string) error {
				d := coreDir(c)
				switch strings.ToLower(a[0]) {
				case "on":
					d.AcceptPathInfo = PathInfoAccept
				case "off":
					d.AcceptPathInfo = PathInfoReject
				case "default":
					d.AcceptPathInfo = PathInfoDefault
				default:
					return errors.New("AcceptPathInfo must be set to on, off or default")
				}
				return nil
			}},
		&directives.Spec{Name: "FileETag", Module: m, Syntax: directives.RawArgs, ReqOverride: orFileInfo,
			Help: "Specify components used to construct a file's ETag", Func: setFileETag},
		&directives.Spec{Name: "EnableSendfile", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "Controls whether sendfile may be used to transmit files",
			Func: func(c *directives.Cmd, a []string) error { return setOnOff(&coreDir(c).EnableSendfile, a[0]) }},
		&directives.Spec{Name: "EnableMMAP", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "Controls whether memory-mapping may be used to read files",
			Func: func(c *directives.Cmd, a []string) error { return setOnOff(&coreDir(c).EnableMMAP, a[0]) }},
		&directives.Spec{Name: "DefaultType", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "the default media type for otherwise untyped files (DEPRECATED)",
			Func: func(c *directives.Cmd, a []string) error {
				// Apache 2.4 ignores everything but "none", with a warning.
				if !strings.EqualFold(a[0], "none") {
					line := 0
					file := ""
					if c.Node != nil {
						line, file = c.Node.Pos.Line, c.Node.Pos.File
					}
					c.Warn("core", "AH00117", "Ignoring deprecated use of DefaultType in line %d of %s.", line, file)
				}
				return nil
			}},
		&directives.Spec{Name: "ForceType", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "a mime type that overrides other configured type",
			Func: func(c *directives.Cmd, a []string) error { coreDir(c).ForceType = strings.ToLower(a[0]); return nil }},
		&directives.Spec{Name: "SetHandler", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "a handler name that overrides any other configured handler",
			Func: func(c *directives.Cmd, a []string) error { coreDir(c).Handler = strings.ToLower(a[0]); return nil }},
		&directives.Spec{Name: "AddDefaultCharset", Module: m, Syntax: directives.Take1, ReqOverride: orFileInfo,
			Help: "The name of the default charset to add to any Content-Type without one or 'Off' to disable",
			Func: func(c *directives.Cmd, a []string) error {
				d := coreDir(c)
				switch {
				case strings.EqualFold(a[0], "off"):
					d.AddDefaultCharset, d.DefaultCharset = Off, ""
				case strings.EqualFold(a[0], "on"):
					d.AddDefaultCharset, d.DefaultCharset = On, "iso-8859-1"
				default:
					d.AddDefaultCharset, d.DefaultCharset = On, a[0]
				}
				return nil
			}},
		&directives.Spec{Name: "ServerSignature", Module: m, Syntax: directives.Take1, ReqOverride: orAll,
			Help: "En-/disable server signature (on|off|email)",
			Func: func(c *directives.Cmd, a []string) error {
				d := coreDir(c)
				switch strings.ToLower(a[0]) {
				case "on":
					d.ServerSignature = SigOn
				case "off":
					d.ServerSignature = SigOff
				case "email":
					d.ServerSignature = SigEmail
				default:
					return errors.New("ServerSignature: use one of: off | on | email")
				}
				return nil
			}},
		&directives.Spec{Name: "ServerTokens", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Determine tokens displayed in the Server: header - Min(imal), Major, Minor, Prod(uctOnly), OS, or Full",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.GlobalOnly); err != nil {
					return err
				}
				v := strings.ToLower(a[0])
				switch v {
				case "os", "full", "major", "minor", "min", "minimal", "prod", "productonly":
				default:
					return errors.New("ServerTokens takes 1 argument: 'Prod(uctOnly)', 'Major', 'Minor', 'Min(imal)', 'OS', or 'Full'")
				}
				coreServer(c).ServerTokens = v
				return nil
			}},
		&directives.Spec{Name: "UseCanonicalName", Module: m, Syntax: directives.Take1, ReqOverride: rsrc | access,
			Help: "How to work out the ServerName : Port when constructing URLs",
			Func: func(c *directives.Cmd, a []string) error {
				d := coreDir(c)
				switch strings.ToLower(a[0]) {
				case "on":
					d.UseCanonicalName = On
				case "off":
					d.UseCanonicalName = Off
				case "dns":
					// UseCanonicalName DNS needs reverse lookups of the
					// local address; Plume treats it as Off.
					d.UseCanonicalName = Off
				default:
					return errors.New("parameter must be 'on', 'off', or 'dns'")
				}
				return nil
			}},
		&directives.Spec{Name: "Timeout", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Timeout duration (sec)",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				// Apache accepts any text here (unparsable values count
				// as seconds via atoi).
				d, ok := parseTimeout(a[0])
				if !ok {
					d = time.Duration(atoi(a[0])) * time.Second
				}
				if d <= 0 {
					d = time.Nanosecond
				}
				coreServer(c).Timeout = d
				return nil
			}},
		&directives.Spec{Name: "KeepAlive", Module: m, Syntax: directives.Flag, ReqOverride: rsrc,
			Help: "Whether persistent connections should be On or Off",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				return setOnOff(&coreServer(c).KeepAlive, a[0])
			}},
		&directives.Spec{Name: "MaxKeepAliveRequests", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Maximum number of Keep-Alive requests per connection, or 0 for infinite",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				s := coreServer(c)
				s.MaxKeepAliveRequests, s.maxKASet = atoi(a[0]), true
				return nil
			}},
		&directives.Spec{Name: "KeepAliveTimeout", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Keep-Alive timeout duration (sec)",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				d, ok := parseTimeout(a[0])
				if !ok || (len(a[0]) > 0 && (a[0][0] < '0' || a[0][0] > '9')) {
					return errors.New("KeepAliveTimeout has wrong format")
				}
				if d == 0 {
					d = time.Nanosecond
				}
				coreServer(c).KeepAliveTimeout = d
				return nil
			}},
		&directives.Spec{Name: "LimitRequestBody", Module: m, Syntax: directives.Take1, ReqOverride: orAll,
			Help: "Limit (in bytes) on maximum size of request message body",
			Func: func(c *directives.Cmd, a []string) error {
				n, err := strconv.ParseInt(a[0], 10, 64)
				if err != nil || n < 0 {
					return errors.New("LimitRequestBody requires a non-negative integer.")
				}
				d := coreDir(c)
				d.LimitRequestBody, d.limitSet = n, true
				return nil
			}},
		&directives.Spec{Name: "ErrorDocument", Module: m, Syntax: directives.Take2, ReqOverride: orFileInfo,
			Help: "Change responses for HTTP errors", Func: setErrorDocument},
		&directives.Spec{Name: "ErrorLog", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "The filename of the error log",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				cs := coreServer(c)
				cs.ErrorLog, cs.errorLogOwn = a[0], true
				return nil
			}},
		&directives.Spec{Name: "LogLevel", Module: m, Syntax: directives.Iterate, ReqOverride: rsrc | access,
			Help: "Level of verbosity in error logging", Func: setLogLevel},
		&directives.Spec{Name: "AllowEncodedSlashes", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Allow URLs containing '/' encoded as '%2F'",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				s := coreServer(c)
				switch strings.ToLower(a[0]) {
				case "off":
					s.AllowEncodedSlashes = 1
				case "on":
					s.AllowEncodedSlashes = 2
				case "nodecode":
					s.AllowEncodedSlashes = 3
				default:
					return errors.New("AllowEncodedSlashes must be On, Off, or NoDecode")
				}
				return nil
			}},
		&directives.Spec{Name: "MergeSlashes", Module: m, Syntax: directives.Flag, ReqOverride: rsrc,
			Help: "Controls whether consecutive slashes in the URI path are merged",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				return setOnOff(&coreServer(c).MergeSlashes, a[0])
			}},
		&directives.Spec{Name: "TraceEnable", Module: m, Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "'on' (default), 'off' or 'extended' to trace request body content",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				s := coreServer(c)
				switch strings.ToLower(a[0]) {
				case "on":
					s.TraceEnable = traceOn
				case "off":
					s.TraceEnable = traceOff
				case "extended":
					s.TraceEnable = traceExtended
				default:
					return errors.New("TraceEnable must be one of 'on', 'off', or 'extended'")
				}
				return nil
			}},
		&directives.Spec{Name: "PidFile", Module: "core", Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "A file for logging the server process ID",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.GlobalOnly); err != nil {
					return err
				}
				coreServer(c).PidFile = a[0]
				return nil
			}},
		&directives.Spec{Name: "User", Module: "unixd_module", Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Effective user id for this server",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.GlobalOnly); err != nil {
					return err
				}
				c.ServerConfig(unixdModule).(*UnixdConfig).User = a[0]
				return nil
			}},
		&directives.Spec{Name: "Group", Module: "unixd_module", Syntax: directives.Take1, ReqOverride: rsrc,
			Help: "Effective group id for this server",
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.GlobalOnly); err != nil {
					return err
				}
				c.ServerConfig(unixdModule).(*UnixdConfig).Group = a[0]
				return nil
			}},
	)
}

func setOnOff(t *Tri, v string) error {
	switch strings.ToLower(v) {
	case "on":
		*t = On
	case "off":
		*t = Off
	default:
		return errors.New("parameter must be 'on' or 'off'")
	}
	return nil
}

// setFileETag is core.c set_etag_bits.
func setFileETag(c *directives.Cmd, a []string) error {
	d := coreDir(c)
	explicit := false
	var bits, add, remove int
	for _, w := range strings.Fields(a[0]) {
		action := byte(0)
		if w[0] == '+' || w[0] == '-' {
			action, w = w[0], w[1:]
		} else {
			explicit = true
		}
		var bit int
		switch strings.ToLower(w) {
		case "none":
			if action != 0 {
				return fmt.Errorf("Invalid keyword '%s' for FileETag directive", w)
			}
			bit = ETagNone
		case "all":
			bit = ETagAll
		case "inode":
			bit = ETagInode
		case "mtime":
			bit = ETagMTime
		case "size":
			bit = ETagSize
		case "digest":
			bit = ETagDigest
		default:
			return fmt.Errorf("Unknown keyword '%s' for FileETag directive", w)
		}
		switch action {
		case '+':
			add |= bit
			remove &^= bit
		case '-':
			remove |= bit
			add &^= bit
		default:
			bits |= bit
		}
	}
	if explicit {
		if bits&ETagNone != 0 {
			bits = ETagNone
		}
		d.ETagBits, d.ETagAdd, d.ETagRemove = bits, 0, 0
		if add != 0 || remove != 0 {
			d.ETagBits = (bits &^ remove) | add
		}
	} else {
		d.ETagAdd, d.ETagRemove = add, remove
	}
	return nil
}

// setErrorDocument is core.c set_error_document: the code must be one
// Apache knows; the second argument is text when it holds a space or is
// neither a local path nor a URL.
func setErrorDocument(c *directives.Cmd, a []string) error {
	code := atoi(a[0])
	if _, known := statusLines[code]; !known {
		return fmt.Errorf("Unsupported HTTP response code %s", a[0])
	}
	msg := a[1]
	isURL := isAbsoluteURL(msg)
	if code == 401 && isURL && !strings.Contains(msg, " ") {
		pos := c.Node.Pos
		c.Warn("core", "AH00113", "%s:%d cannot use a full URL in a 401 ErrorDocument directive --- ignoring!", pos.File, pos.Line)
		return nil
	}
	d := coreDir(c)
	if d.ErrorDocs == nil {
		d.ErrorDocs = map[int]string{}
	}
	switch {
	case strings.EqualFold(msg, "default"):
		d.ErrorDocs[code] = "default"
	case strings.Contains(msg, " ") || !(strings.HasPrefix(msg, "/") || isURL):
		d.ErrorDocs[code] = "\"" + msg
	default:
		d.ErrorDocs[code] = msg
	}
	return nil
}

// isAbsoluteURL is ap_is_url: a scheme of letters, digits, '+', '-', '.'
// followed by ':'.
func isAbsoluteURL(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ':':
			return i > 0
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '+', ch == '-', ch == '.':
		default:
			return false
		}
	}
	return false
}
