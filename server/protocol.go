package server

import (
	"errors"

	"plume/directives"
	"plume/http1"
)

// requestLimits are the main server's LimitRequestLine,
// LimitRequestFieldsize and LimitRequestFields (-1: not set, Apache's
// default applies). The connection layer reads the request line and
// header fields before any virtual host is chosen, so the main server's
// values are the ones used.
type requestLimits struct {
	line, fieldSize, fields int
	set                     bool
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
