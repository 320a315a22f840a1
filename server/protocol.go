package server

import (
	"errors"
	"net"
	"net/netip"
	"strings"

	"plume/config"
	"plume/directives"
	"plume/http1"
)

// requestLimits are the main server's LimitRequestLine,
// LimitRequestFieldsize and LimitRequestFields (-1: not set, Apache's
// default applies). The connection layer reads the request line and
// header fields before the Host header chooses a virtual host, so the
// values of the connection's base server (chosen by address) are used.
type requestLimits struct {
	line, fieldSize, fields int
	set                     bool
}

// merge is merge_core_server_configs for the limits: a virtual host's
// positive line and field-size limits and its field count (where set,
// 0 meaning unlimited) win over the main server's.
func (l requestLimits) merge(base requestLimits) requestLimits {
	if !l.set {
		return base
	}
	n := base
	if !n.set {
		n = requestLimits{line: -1, fieldSize: -1, fields: -1, set: true}
	}
	if l.line > 0 {
		n.line = l.line
	}
	if l.fieldSize > 0 {
		n.fieldSize = l.fieldSize
	}
	if l.fields >= 0 {
		n.fields = l.fields
	}
	return n
}

// http1Limits converts to the connection layer's limits.
func (l requestLimits) http1Limits() http1.Limits {
	out := http1.DefaultLimits
	if !l.set {
		return out
	}
	if l.line > 0 {
		out.RequestLine = l.line
	}
	if l.fieldSize > 0 {
		out.FieldSize = l.fieldSize
	}
	if l.fields >= 0 {
		out.Fields = l.fields
	}
	return out
}

// Bits of protocolOptions, as core.c's http_conformance, http_methods
// and http09_enable: each directive ORs in what it names, so two
// contradicting words anywhere in one server are an error.
const (
	optStrict = 1 << iota
	optUnsafe
	optRegistered
	optLenient
	optAllow09
	optRequire10
)

// protocolOptions is a server's HttpProtocolOptions (0: none set, every
// choice inherited from the main server).
type protocolOptions int

// merge is merge_core_server_configs for the three choices: each pair a
// virtual host leaves unset comes from the main server.
func (o protocolOptions) merge(base protocolOptions) protocolOptions {
	for _, pair := range []protocolOptions{optStrict | optUnsafe, optRegistered | optLenient, optAllow09 | optRequire10} {
		if o&pair == 0 {
			o |= base & pair
		}
	}
	return o
}

// http1Options converts to the connection layer's options.
func (o protocolOptions) http1Options() http1.ProtocolOptions {
	return http1.ProtocolOptions{
		Unsafe:            o&optUnsafe != 0,
		RegisteredMethods: o&optRegistered != 0,
		Require10:         o&optRequire10 != 0,
		Registered:        methodRegistered,
	}
}

// methodRegistered is ap_method_number_of(m) != M_INVALID: a method of
// Apache's core or one the configuration registered (<Limit FOO>).
func methodRegistered(m string) bool {
	return knownMethods[m] || config.MethodNumber(m) >= 0
}

// baseCore is the core configuration of the connection's base server
// (conn->base_server): the virtual host its local address selects before
// any Host header is read, else the main server.
func (s *Server) baseCore(local net.Addr) *CoreServer {
	g := s.gen.Load()
	srv := g.cfg.Main
	if g.vhosts != nil {
		if a, ok := local.(*net.TCPAddr); ok {
			srv = g.vhosts.baseServer(a.AddrPort())
		} else if ap, err := netip.ParseAddrPort(local.String()); err == nil {
			srv = g.vhosts.baseServer(ap)
		}
	}
	return directives.DirOf(srv.Config, coreModule, &CoreServer{})
}

// protocolOptionsHelp is core.c's usage text for a word it does not know.
const protocolOptionsHelp = "HttpProtocolOptions accepts 'Unsafe' or 'Strict' (default), 'RegisteredMethods' or 'LenientMethods' (default), and 'Require1.0' or 'Allow0.9' (default)"

// setProtocolOption is set_http_protocol_options for one word.
func setProtocolOption(o *protocolOptions, word string) error {
	switch strings.ToLower(word) {
	case "allow0.9":
		*o |= optAllow09
	case "require1.0":
		*o |= optRequire10
	case "strict":
		*o |= optStrict
	case "unsafe":
		*o |= optUnsafe
	case "registeredmethods":
		*o |= optRegistered
	case "lenientmethods":
		*o |= optLenient
	default:
		return errors.New(protocolOptionsHelp)
	}
	switch {
	case *o&(optStrict|optUnsafe) == optStrict|optUnsafe:
		return errors.New("HttpProtocolOptions 'Strict' and 'Unsafe' are mutually exclusive")
	case *o&(optRegistered|optLenient) == optRegistered|optLenient:
		return errors.New("HttpProtocolOptions 'RegisteredMethods' and 'LenientMethods' are mutually exclusive")
	case *o&(optAllow09|optRequire10) == optAllow09|optRequire10:
		return errors.New("HttpProtocolOptions 'Allow0.9' and 'Require1.0' are mutually exclusive")
	}
	return nil
}

func init() {
	directives.Register(&directives.Spec{Name: "HttpProtocolOptions", Module: "core", Syntax: directives.Iterate, ReqOverride: directives.RsrcConf,
		Help: "'Allow0.9' or 'Require1.0' (default); 'RegisteredMethods' or 'LenientMethods' (default); 'Unsafe' or 'Strict' (default). Sets HTTP acceptance rules",
		Func: func(c *directives.Cmd, a []string) error {
			if err := c.CheckContext(directives.NotInDirContext); err != nil {
				return err
			}
			return setProtocolOption(&coreServer(c).Protocol, a[0])
		}})
}

func init() {
	limit := func(name, msg string, set func(*requestLimits, int)) *directives.Spec {
		return &directives.Spec{Name: name, Module: "core", Syntax: directives.Take1, ReqOverride: directives.RsrcConf,
			Help: msg,
			Func: func(c *directives.Cmd, a []string) error {
				if err := c.CheckContext(directives.NotInDirContext); err != nil {
					return err
				}
				// Apache reads the number with atoi and refuses negatives.
				n := atoi(a[0])
				if n < 0 {
					suffix := " must be a non-negative integer"
					if name == "LimitRequestFields" {
						suffix += " (0 = no limit)"
					}
					return errors.New(name + " \"" + a[0] + "\"" + suffix)
				}
				l := &coreServer(c).Limits
				if !l.set {
					*l = requestLimits{line: -1, fieldSize: -1, fields: -1, set: true}
				}
				set(l, n)
				return nil
			}}
	}
	directives.Register(
		limit("LimitRequestLine", "Limit on maximum size of an HTTP request line",
			func(l *requestLimits, n int) { l.line = n }),
		limit("LimitRequestFieldsize", "Limit on maximum size of an HTTP request header field",
			func(l *requestLimits, n int) { l.fieldSize = n }),
		limit("LimitRequestFields", "Limit (0 = unlimited) on max number of header fields in a request message",
			func(l *requestLimits, n int) { l.fields = n }),
	)
}

// asciiLower is apr_tolower over bytes: other bytes are kept as sent.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
