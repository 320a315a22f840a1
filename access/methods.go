package access

import "sync"

// Method numbers, as Apache's M_* constants (include/httpd.h). A <Limit>
// mask has bit n set for method number n; HEAD is M_GET.
const (
	MGet = iota
	MPut
	MPost
	MDelete
	MConnect
	MOptions
	MTrace
	MPatch
	MPropfind
	MProppatch
	MMkcol
	MCopy
	MMove
	MLock
	MUnlock
	MVersionControl
	MCheckout
	MUncheckout
	MCheckin
	MUpdate
	MLabel
	MReport
	MMkworkspace
	MMkactivity
	MBaselineControl
	MMerge
	MInvalid // 26: any method Apache does not know and nobody registered
)

// methodCount is Apache's METHODS: the width of a method mask.
const methodCount = 64

var builtinMethods = map[string]int{
	"GET": MGet, "HEAD": MGet, "PUT": MPut, "POST": MPost, "DELETE": MDelete,
	"CONNECT": MConnect, "OPTIONS": MOptions, "TRACE": MTrace, "PATCH": MPatch,
	"PROPFIND": MPropfind, "PROPPATCH": MProppatch, "MKCOL": MMkcol, "COPY": MCopy,
	"MOVE": MMove, "LOCK": MLock, "UNLOCK": MUnlock, "VERSION-CONTROL": MVersionControl,
	"CHECKOUT": MCheckout, "UNCHECKOUT": MUncheckout, "CHECKIN": MCheckin,
	"UPDATE": MUpdate, "LABEL": MLabel, "REPORT": MReport, "MKWORKSPACE": MMkworkspace,
	"MKACTIVITY": MMkactivity, "BASELINE-CONTROL": MBaselineControl, "MERGE": MMerge,
}

var (
	methodMu         sync.RWMutex
	registeredMethod = map[string]int{}
	nextMethod       = MInvalid + 1
)

// MethodNumber returns Apache's method number for a request method
// (ap_method_number_of): method names are case-sensitive, HEAD counts as
// GET, extension methods registered with RegisterMethod have their own
// numbers, and anything else is MInvalid.
func MethodNumber(method string) int {
	if n, ok := builtinMethods[method]; ok {
		return n
	}
	methodMu.RLock()
	n, ok := registeredMethod[method]
	methodMu.RUnlock()
	if ok {
		return n
	}
	return MInvalid
}

// MethodBit returns the <Limit> mask bit of a method (AP_METHOD_BIT <<
// ap_method_number_of(method)).
func MethodBit(method string) uint64 { return 1 << uint(MethodNumber(method)) }

// RegisterMethod gives an extension method (one named in <Limit>) its own
// number, as ap_method_register does, and returns it. Apache has room for
// 64 methods; bit 63 is reserved, so once numbers run out the method stays
// MInvalid. Only configuration loading may call it: request methods must
// never grow the table.
func RegisterMethod(method string) int {
	if n, ok := builtinMethods[method]; ok {
		return n
	}
	methodMu.Lock()
	defer methodMu.Unlock()
	if n, ok := registeredMethod[method]; ok {
		return n
	}
	if nextMethod >= methodCount-1 {
		return MInvalid
	}
	n := nextMethod
	nextMethod++
	registeredMethod[method] = n
	return n
}

// knownMethod reports whether s names a built-in or registered method
// (the check Require method makes: an unknown name is a configuration
// error).
func knownMethod(s string) (int, bool) {
	n := MethodNumber(s)
	return n, n != MInvalid
}
