package negotiation

// A tiny stand-in for the serving core, so that negotiation can be compared
// end to end with Apache without package server: a minimal mod_mime
// (TypesConfig, AddType/AddLanguage/AddEncoding/AddCharset/AddHandler,
// DefaultLanguage), <Files> denial, mod_dir's index.html sub-request, the
// SetEnvIf lines the tests use, and Apache's error page frame.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"plume/directives"
	"plume/parser"
	"plume/request"
)

// dirSpec is one directory of the test site and its <Directory> lines.
type dirSpec struct {
	path  string
	files map[string]string
	maps  bool     // copy testdata/negotiation/maps/*.var here
	conf  []string // Apache directive lines for this directory
	deny  []string // file names denied with <Files>
}

// globalConf is applied at server level in both servers.
var globalConf = []string{
	"AddLanguage en .en",
	"AddLanguage fr .fr",
	"AddLanguage de .de",
	"AddLanguage en-gb .en-gb",
	"AddLanguage en-us .en-us",
	"AddHandler type-map .var",
	"AddEncoding x-gzip .gz",
	"AddCharset UTF-8 .utf8",
	"AddHandler my-handler .hnd",
}

type mimeConf struct {
	types, langs, encs, charsets, handlers map[string]string
	defaultLang                            string
	multiHandlers                          bool // MultiviewsMatch Handlers
	negConf                                *DirConfig
}

func readMimeTypes(t testing.TB, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 2 || strings.HasPrefix(w[0], "#") {
			continue
		}
		for _, e := range w[1:] {
			m[strings.ToLower(e)] = w[0]
		}
	}
	return m
}

func (m *mimeConf) clone() *mimeConf {
	c := &mimeConf{defaultLang: m.defaultLang, negConf: m.negConf, multiHandlers: m.multiHandlers}
	cp := func(s map[string]string) map[string]string {
		o := map[string]string{}
		for k, v := range s {
			o[k] = v
		}
		return o
	}
	c.types, c.langs, c.encs, c.charsets, c.handlers = cp(m.types), cp(m.langs), cp(m.encs), cp(m.charsets), cp(m.handlers)
	return c
}

// apply handles one directive line: mod_mime ones here, mod_negotiation
// ones through the real directive handlers.
func (m *mimeConf) apply(t testing.TB, line string, neg *directives.Cmd) {
	w := strings.Fields(line)
	add := func(dst map[string]string) {
		for _, e := range w[2:] {
			dst[strings.ToLower(strings.TrimPrefix(e, "."))] = strings.ToLower(w[1])
		}
	}
	switch strings.ToLower(w[0]) {
	case "addtype":
		add(m.types)
	case "addlanguage":
		add(m.langs)
	case "addencoding":
		add(m.encs)
	case "addcharset":
		for _, e := range w[2:] {
			m.charsets[strings.ToLower(strings.TrimPrefix(e, "."))] = strings.ToLower(w[1])
		}
	case "addhandler":
		add(m.handlers)
	case "defaultlanguage":
		m.defaultLang = w[1]
	case "multiviewsmatch":
		m.multiHandlers = strings.EqualFold(w[1], "Handlers")
	case "setenvif":
	default:
		n := &parser.Node{Name: w[0], Args: strings.TrimSpace(line[len(w[0]):]), Pos: parser.Pos{File: "test", Line: 1}}
		if err := directives.Walk([]*parser.Node{n}, neg); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
}

// subReq is a harness sub-request: the file and what mod_mime said.
type subReq struct {
	filename, contentType, encoding, handler string
	langs                                    []string
	exists, regular                          bool
	size                                     int64
	errOut                                   http.Header
}

type harness struct {
	t     testing.TB
	root  string
	dirs  map[string]*mimeConf // by absolute directory path
	deny  map[string]bool      // absolute file paths
	neg   *Negotiator
	logMu sync.Mutex
	logs  []string
	// stableVecs gives every request of a directory the same merged
	// configuration (as the server's merge cache does), which the
	// outcome memo needs to hit.
	stableVecs bool
	vecMu      sync.Mutex
	vecs       map[*mimeConf]directives.Vector
}

// findCT is mod_mime's find_ct for the harness.
func (h *harness) findCT(path string) (s subReq, exc []string) {
	conf := h.confFor(filepath.Dir(path))
	base := filepath.Base(path)
	parts := strings.Split(base, ".")
	exc = []string{parts[0]}
	found := false
	charset := ""
	for _, ext := range parts[1:] {
		if ext == "" {
			continue
		}
		ext = strings.ToLower(ext)
		f := false
		if ct, ok := conf.types[ext]; ok {
			s.contentType, f = ct, true
		}
		if cs, ok := conf.charsets[ext]; ok {
			charset, f = cs, true
		}
		if l, ok := conf.langs[ext]; ok {
			s.langs, f = append(s.langs, l), true
		}
		if e, ok := conf.encs[ext]; ok {
			if s.encoding == "" {
				s.encoding = e
			} else {
				s.encoding += ", " + e
			}
			f = true
		}
		if hd, ok := conf.handlers[ext]; ok {
			s.handler = hd
			f = f || conf.multiHandlers
		}
		if f {
			found = true
		} else {
			exc = append(exc, ext)
		}
	}
	if !found {
		exc = nil
	}
	if s.contentType != "" && charset != "" {
		s.contentType += "; charset=" + charset
	}
	if len(s.langs) == 0 && conf.defaultLang != "" {
		s.langs = []string{conf.defaultLang}
	}
	return s, exc
}

func (h *harness) confFor(dir string) *mimeConf {
	for d := dir; ; d = filepath.Dir(d) {
		if c, ok := h.dirs[d]; ok {
			return c
		}
		if d == "/" || d == "." {
			return h.dirs[h.root]
		}
	}
}

// newRequest builds a request for path (a file system path) as the walk
// and mod_mime would leave it.
func (h *harness) newRequest(main *request.Request, method, uri, path string, hdr http.Header, env map[string]string) (*request.Request, *subReq) {
	r := &request.Request{Method: method, URI: uri, Proto: "HTTP/1.1", Header: hdr, Filename: path, Main: main, Env: env,
		PerDir: h.perDir(filepath.Dir(path)), Notes: map[string]string{}}
	r.Log = func(module, level, code, msg string) {
		h.logMu.Lock()
		h.logs = append(h.logs, "["+module+":"+level+"] "+code+": "+msg)
		h.logMu.Unlock()
	}
	s, _ := h.findCT(path)
	s.filename = path
	if fi, err := os.Stat(path); err == nil {
		r.Finfo = fi
		s.exists, s.regular, s.size = true, fi.Mode().IsRegular(), fi.Size()
	}
	return r, &s
}

func (h *harness) perDir(dir string) directives.Vector {
	c := h.confFor(dir)
	if h.stableVecs {
		h.vecMu.Lock()
		defer h.vecMu.Unlock()
		if v, ok := h.vecs[c]; ok {
			return v
		}
	}
	v := directives.NewVector()
	if c.negConf != nil {
		v.Set(Module, c.negConf)
	}
	if h.stableVecs {
		if h.vecs == nil {
			h.vecs = map[*mimeConf]directives.Vector{}
		}
		h.vecs[c] = v
	}
	return v
}

// LookupVariant implements Host.
func (h *harness) LookupVariant(r *request.Request, name string) VariantInfo {
	path := filepath.Join(filepath.Dir(r.Filename), name)
	if h.deny[path] {
		return VariantInfo{Status: http.StatusForbidden, Regular: true}
	}
	sub, s := h.newRequest(r, http.MethodGet, "", path, r.Header, r.Env)
	_, exc := h.findCT(path)
	// The sub-request ran the fixups, mod_negotiation's fix_encoding too.
	fr := &request.Request{Header: r.Header, ContentEncoding: s.encoding}
	FixEncoding(fr)
	s.encoding = fr.ContentEncoding
	info := VariantInfo{Status: http.StatusOK, Regular: s.regular, Size: s.size, ContentType: s.contentType,
		Languages: s.langs, Encoding: s.encoding, Handler: s.handler, Exceptions: exc, Sub: s}
	if !s.exists {
		// The sub-request negotiates itself (MultiViews) when the file is
		// missing.
		res := h.neg.MultiViews(sub)
		if res.Status == request.OK {
			info.TCN = sub.ErrOut.Get("TCN") != ""
			info.Vary = sub.ErrOut.Get("Vary")
			info.Sub = res.Sub
		}
	}
	return info
}

// takeLogs returns and clears the log lines, escaped as Apache's error log
// escapes control characters.
func (h *harness) takeLogs() []string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	out := make([]string, len(h.logs))
	for i, l := range h.logs {
		out[i] = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(l)
	}
	h.logs = nil
	return out
}

type response struct {
	status int
	header http.Header
	body   string
}

// serve runs one request through the harness pipeline.
func (h *harness) serve(method, proto, uri string, hdr http.Header, depth int, errOut http.Header) response {
	uri, args, _ := strings.Cut(uri, "?")
	env := map[string]string{}
	if hdr.Get("X-No-Gzip") == "1" {
		env["no-gzip"] = "1"
	}
	if hdr.Get("X-Gzip-Html") == "1" {
		env["gzip-only-text/html"] = "1"
	}
	if v := hdr.Get("X-Prefer-Lang"); v != "" {
		env["prefer-language"] = v
	}
	path := filepath.Join(h.root, filepath.FromSlash(uri))
	if strings.HasSuffix(uri, "/") {
		path += "/"
	}
	r, s := h.newRequest(nil, method, uri, strings.TrimSuffix(path, "/"), hdr, env)
	r.ErrOut = errOut
	r.Proto, r.Args = proto, args
	setExpires := func(resp response, res Result) response {
		if res.NoCache && resp.header != nil {
			resp.header.Set("Expires", "now")
		}
		return resp
	}
	if h.deny[r.Filename] {
		return h.errorPage(r, 403)
	}
	if r.Finfo != nil && r.Finfo.IsDir() {
		if !strings.HasSuffix(uri, "/") {
			return response{status: 301}
		}
		// mod_dir: the index.html sub-request.
		sub, ss := h.newRequest(r, http.MethodGet, uri+"index.html", filepath.Join(r.Filename, "index.html"), hdr, env)
		if sub.Finfo == nil {
			res := h.neg.MultiViews(sub)
			if res.Status != request.OK {
				if res.Status == request.Declined {
					return response{status: 404}
				}
				// Apache's mod_dir propagates 406 from the last name.
				r.Notes = sub.Main.Notes
				r.ErrOut = sub.ErrOut
				return h.errorPage(r, res.Status)
			}
			return setExpires(h.sendFile(sub, res.Sub.(*subReq), hdr), res)
		}
		return h.sendFile(sub, ss, hdr)
	}
	if r.Finfo == nil {
		res := h.neg.MultiViews(r)
		switch res.Status {
		case request.OK:
			chosen := res.Sub.(*subReq)
			if res.SubContentType != "" {
				c := *chosen
				c.contentType = res.SubContentType
				chosen = &c
			}
			if chosen.handler == "type-map" {
				return setExpires(h.typeMap(r, chosen, hdr, depth), res)
			}
			return setExpires(h.sendFile(r, chosen, hdr), res)
		case request.Declined:
			return h.errorPage(r, 404)
		}
		return h.errorPage(r, res.Status)
	}
	if s.handler == "type-map" {
		return h.typeMap(r, s, hdr, depth)
	}
	return h.sendFile(r, s, hdr)
}

func (h *harness) typeMap(r *request.Request, s *subReq, hdr http.Header, depth int) response {
	r.Filename = s.filename
	res := h.neg.TypeMap(r)
	if res.Status != request.OK {
		return h.errorPage(r, res.Status)
	}
	if res.HasBody {
		out := response{status: 200, header: http.Header{}, body: string(res.Body)}
		if res.NoCache {
			out.header.Set("Expires", "now")
		}
		copyHeaders(out.header, r.ErrOut)
		if r.ContentType != "" {
			out.header.Set("Content-Type", r.ContentType)
		}
		if len(r.ContentLanguage) > 0 {
			out.header.Set("Content-Language", strings.Join(r.ContentLanguage, ","))
		}
		if r.ContentEncoding != "" {
			out.header.Set("Content-Encoding", r.ContentEncoding)
		}
		return out
	}
	if depth > 10 {
		return response{status: 500}
	}
	// ap_internal_redirect: a fresh request that keeps err_headers_out.
	out := h.serve(r.Method, r.Proto, res.Redirect, hdr, depth+1, r.ErrOut)
	if res.NoCache && out.header != nil {
		out.header.Set("Expires", "now")
	}
	return out
}

func copyHeaders(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append([]string(nil), v...)
	}
}

func (h *harness) sendFile(r *request.Request, s *subReq, hdr http.Header) response {
	if h.deny[s.filename] {
		return h.errorPage(r, 403)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		// Apache's default handler refuses other methods on files.
		return h.errorPage(r, 405)
	}
	data, err := os.ReadFile(s.filename)
	if err != nil {
		return h.errorPage(r, 404)
	}
	out := response{status: 200, header: http.Header{}, body: string(data)}
	copyHeaders(out.header, r.ErrOut)
	if s.contentType != "" {
		out.header.Set("Content-Type", s.contentType)
	}
	if len(s.langs) > 0 {
		out.header.Set("Content-Language", strings.Join(s.langs, ","))
	}
	fr := &request.Request{Header: hdr, ContentEncoding: s.encoding}
	FixEncoding(fr)
	if fr.ContentEncoding != "" {
		out.header.Set("Content-Encoding", fr.ContentEncoding)
	}
	return out
}

var statusTitles = map[int]string{300: "Multiple Choices", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
	406: "Not Acceptable", 500: "Internal Server Error", 506: "Variant Also Negotiates"}

func (h *harness) errorPage(r *request.Request, status int) response {
	out := response{status: status, header: http.Header{}}
	copyHeaders(out.header, r.ErrOut)
	out.header.Set("Content-Type", "text/html; charset=iso-8859-1")
	if text, ok := ErrorText(status, r.Notes[VariantListNote]); ok {
		out.body = fmt.Sprintf("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n%s</body></html>\n",
			status, statusTitles[status], statusTitles[status], text)
	}
	return out
}
