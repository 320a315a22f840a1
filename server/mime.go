package server

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"plume/directives"
	"plume/parser"
	"plume/request"
)

// DirMagicType is the content type (and so the default handler name) of a
// directory, as mod_mime sets it.
const DirMagicType = "httpd/unix-directory"

// NoteMimeExceptions is the request note holding mod_mime's exceptions
// list (ap-mime-exceptions-list): the base name and every extension it
// did not recognise, joined with "/" (a character no name component has).
// mod_negotiation matches variant names against it.
const NoteMimeExceptions = "ap-mime-exceptions-list"

// MimeExceptions returns the exceptions list find_ct recorded for r.
func MimeExceptions(r *request.Request) []string {
	v, ok := r.Notes[NoteMimeExceptions]
	if !ok {
		return nil
	}
	return strings.Split(v, "/")
}

var mimeModule = directives.RegisterModule(&directives.Module{
	Name:         "mime_module",
	Source:       "mod_mime.c",
	CreateDir:    func(string) any { return &MimeDir{} },
	MergeDir:     func(b, a any) any { return mergeMimeDir(b.(*MimeDir), a.(*MimeDir)) },
	CreateServer: func() any { return &MimeServer{} },
})

// Multiviews match bits (MultiviewsMatch).
const (
	MultiMatchUnset    = 0
	MultiMatchNegOnly  = 1
	MultiMatchHandlers = 2
	MultiMatchFilters  = 4
	MultiMatchAny      = 8
)

// extInfo is mod_mime's extension_info: what one extension maps to.
// extAttr indexes the attributes mod_mime keeps per extension
// (extension_info): each has an Add* and a Remove* directive.
type extAttr int

const (
	attrType extAttr = iota // AddType: the forced type
	attrEncoding
	attrLanguage
	attrCharset
	attrHandler
	attrInFilter
	attrOutFilter
	numExtAttrs
)

// extAttrDirectives names each attribute's directives (Add<Name>,
// Remove<Name>) and gives the Add directive's help text.
var extAttrDirectives = [numExtAttrs]struct{ name, addHelp string }{
	attrType:      {"Type", "a mime type followed by one or more file extensions"},
	attrEncoding:  {"Encoding", "an encoding (e.g., gzip), followed by one or more file extensions"},
	attrLanguage:  {"Language", "a language (e.g., fr), followed by one or more file extensions"},
	attrCharset:   {"Charset", "a charset (e.g., iso-2022-jp), followed by one or more file extensions"},
	attrHandler:   {"Handler", "a handler name followed by one or more file extensions"},
	attrInFilter:  {"InputFilter", "input filter name (or ; delimited names) followed by one or more file extensions"},
	attrOutFilter: {"OutputFilter", "output filter name (or ; delimited names) followed by one or more file extensions"},
}

// extInfo is one extension's attributes ("" unset).
type extInfo [numExtAttrs]string

type removal struct {
	attr extAttr
	ext  string
}

// MimeDir is mod_mime's per-directory config.
type MimeDir struct {
	ext             map[string]*extInfo
	removes         []removal
	MultiMatch      int
	DefaultLanguage string
	UsePathInfo     Tri
	shared          bool // ext belongs to a merged parent: copy before writing
}

// MimeServer holds TypesConfig (Apache reads one types file for the whole
// server; the main server's setting counts).
type MimeServer struct {
	TypesConfig string
	Pos         parser.Pos
}

// MimeTypes is a parsed TypesConfig file: extension → type.
type MimeTypes map[string]string

// LoadMimeTypes parses a mime.types file (type followed by extensions;
// '#' comments) as mod_mime's mime_post_config does.
func LoadMimeTypes(path string) (MimeTypes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("AH01597: could not open mime types config file %s.", path)
	}
	defer f.Close()
	types := MimeTypes{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		words := parser.SplitWords(line)
		if len(words) < 2 {
			continue
		}
		for _, ext := range words[1:] {
			types[strings.ToLower(ext)] = words[0]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("AH01597: could not open mime types config file %s.", path)
	}
	return types, nil
}

func mergeMimeDir(b, a *MimeDir) *MimeDir {
	n := &MimeDir{
		MultiMatch:      a.MultiMatch,
		DefaultLanguage: a.DefaultLanguage,
		UsePathInfo:     a.UsePathInfo.or(b.UsePathInfo),
	}
	if n.MultiMatch == MultiMatchUnset {
		n.MultiMatch = b.MultiMatch
	}
	if n.DefaultLanguage == "" {
		n.DefaultLanguage = b.DefaultLanguage
	}
	switch {
	case len(a.ext) == 0 && len(a.removes) == 0:
		n.ext, n.shared = b.ext, true
	default:
		m := make(map[string]*extInfo, len(b.ext)+len(a.ext))
		for k, v := range b.ext {
			m[k] = v
		}
		// overlay_extension_mappings: attribute by attribute.
		for k, add := range a.ext {
			base, ok := m[k]
			if !ok {
				m[k] = add
				continue
			}
			c := *base
			for i, v := range add {
				if v != "" {
					c[i] = v
				}
			}
			m[k] = &c
		}
		// Remove* directives act on what the child inherits (remove_items).
		for _, rm := range a.removes {
			old, ok := m[rm.ext]
			if !ok {
				continue
			}
			c := *old
			c[rm.attr] = ""
			m[rm.ext] = &c
		}
		n.ext = m
	}
	return n
}

func (d *MimeDir) info(ext string) *extInfo {
	if d.shared || d.ext == nil {
		m := make(map[string]*extInfo, len(d.ext)+1)
		for k, v := range d.ext {
			m[k] = v
		}
		d.ext, d.shared = m, false
	}
	e := d.ext[ext]
	if e == nil {
		e = &extInfo{}
	} else {
		c := *e
		e = &c
	}
	d.ext[ext] = e
	return e
}

func normExt(ext string) string {
	ext = strings.TrimPrefix(ext, ".")
	return strings.ToLower(ext)
}

func addExtension(attr extAttr) directives.Handler {
	return func(c *directives.Cmd, a []string) error {
		d := c.DirConfig(mimeModule).(*MimeDir)
		value := a[0]
		if attr != attrInFilter && attr != attrOutFilter {
			value = strings.ToLower(value) // filter names keep their case
		}
		d.info(normExt(a[1]))[attr] = value
		return nil
	}
}

func removeExtension(attr extAttr) directives.Handler {
	return func(c *directives.Cmd, a []string) error {
		d := c.DirConfig(mimeModule).(*MimeDir)
		d.removes = append(d.removes, removal{attr: attr, ext: normExt(a[0])})
		return nil
	}
}

func init() {
	m := "mime_module"
	fi := directives.OrFileInfo
	it2, it := directives.Iterate2, directives.Iterate
	for attr, d := range extAttrDirectives {
		directives.Register(
			&directives.Spec{Name: "Add" + d.name, Module: m, Syntax: it2, ReqOverride: fi,
				Help: d.addHelp, Func: addExtension(extAttr(attr))},
			&directives.Spec{Name: "Remove" + d.name, Module: m, Syntax: it, ReqOverride: fi,
				Help: "one or more file extensions", Func: removeExtension(extAttr(attr))},
		)
	}
	directives.Register(
		&directives.Spec{Name: "DefaultLanguage", Module: m, Syntax: directives.Take1, ReqOverride: fi,
			Help: "language to use for documents with no other language file extension",
			Func: func(c *directives.Cmd, a []string) error {
				c.DirConfig(mimeModule).(*MimeDir).DefaultLanguage = a[0]
				return nil
			}},
		&directives.Spec{Name: "MultiviewsMatch", Module: m, Syntax: it, ReqOverride: fi,
			Help: "NegotiatedOnly (default), Handlers and/or Filters, or Any", Func: setMultiviewsMatch},
		&directives.Spec{Name: "TypesConfig", Module: m, Syntax: directives.Take1, ReqOverride: directives.RsrcConf,
			Help: "the MIME types config file",
			Func: func(c *directives.Cmd, a []string) error {
				s := c.ServerConfig(mimeModule).(*MimeServer)
				s.TypesConfig = a[0]
				if c.Node != nil {
					s.Pos = c.Node.Pos
				}
				return nil
			}},
		&directives.Spec{Name: "ModMimeUsePathInfo", Module: m, Syntax: directives.Flag, ReqOverride: directives.AccessConf,
			Help: "Set to 'yes' to allow mod_mime to use path info for type checking",
			Func: func(c *directives.Cmd, a []string) error {
				return setOnOff(&c.DirConfig(mimeModule).(*MimeDir).UsePathInfo, a[0])
			}},
	)
}

func setMultiviewsMatch(c *directives.Cmd, a []string) error {
	d := c.DirConfig(mimeModule).(*MimeDir)
	switch strings.ToLower(a[0]) {
	case "any":
		if d.MultiMatch&^MultiMatchAny != 0 {
			return errors.New("Any is incompatible with NegotiatedOnly, Filters or Handlers")
		}
		d.MultiMatch |= MultiMatchAny
	case "negotiatedonly":
		if d.MultiMatch&^MultiMatchNegOnly != 0 {
			return errors.New("NegotiatedOnly is incompatible with Any, Filters or Handlers")
		}
		d.MultiMatch |= MultiMatchNegOnly
	case "filters":
		if d.MultiMatch&(MultiMatchNegOnly|MultiMatchAny) != 0 {
			return errors.New("Filters is incompatible with Any or NegotiatedOnly")
		}
		d.MultiMatch |= MultiMatchFilters
	case "handlers":
		if d.MultiMatch&(MultiMatchNegOnly|MultiMatchAny) != 0 {
			return errors.New("Handlers is incompatible with Any or NegotiatedOnly")
		}
		d.MultiMatch |= MultiMatchHandlers
	default:
		return fmt.Errorf("Unrecognized option '%s'", a[0])
	}
	return nil
}

// findContentType is mod_mime's find_ct, a type_checker: it sets the
// content type, encoding, languages, charset and handler from the file
// name's extensions, in any order, and records the exceptions list.
func findContentType(r *request.Request, types MimeTypes) int {
	if r.Finfo != nil && r.Finfo.IsDir() {
		r.ContentType = DirMagicType
		return request.OK
	}
	if r.Filename == "" {
		return request.Declined
	}
	conf := directives.DirOf(r.PerDir, mimeModule, &MimeDir{})
	fn := r.Filename
	if conf.UsePathInfo == On {
		fn += r.PathInfo
	}
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	base, rest, hasExt := strings.Cut(fn, ".")
	exceptions := []string{base}
	var charset string
	foundMetadata := false
	for hasExt {
		var ext string
		ext, rest, hasExt = strings.Cut(rest, ".")
		if ext == "" {
			continue
		}
		ext = strings.ToLower(ext)
		found := false
		e := conf.ext[ext]
		if e == nil || e[attrType] == "" {
			if t, ok := types[ext]; ok {
				r.ContentType = t
				found = true
			}
		}
		if e != nil {
			if e[attrType] != "" {
				r.ContentType = e[attrType]
				found = true
			}
			if e[attrCharset] != "" {
				charset = e[attrCharset]
				found = true
			}
			if e[attrLanguage] != "" {
				r.ContentLanguage = append(r.ContentLanguage, e[attrLanguage])
				found = true
			}
			if e[attrEncoding] != "" {
				if r.ContentEncoding == "" {
					r.ContentEncoding = e[attrEncoding]
				} else {
					r.ContentEncoding += ", " + e[attrEncoding]
				}
				found = true
			}
			if e[attrHandler] != "" {
				r.Handler = e[attrHandler]
				if conf.MultiMatch&MultiMatchHandlers != 0 {
					found = true
				}
			}
			if (e[attrInFilter] != "" || e[attrOutFilter] != "") && conf.MultiMatch&MultiMatchFilters != 0 {
				found = true
			}
		}
		if found || conf.MultiMatch&MultiMatchAny != 0 {
			foundMetadata = true
		} else {
			exceptions = append(exceptions, ext)
		}
	}
	// mod_mime leaves the note only when it recognised something.
	if foundMetadata {
		if r.Notes == nil {
			r.Notes = map[string]string{}
		}
		r.Notes[NoteMimeExceptions] = strings.Join(exceptions, "/")
	}
	if r.ContentType != "" {
		r.ContentType = withCharset(r.ContentType, charset)
	}
	if len(r.ContentLanguage) == 0 && conf.DefaultLanguage != "" {
		r.ContentLanguage = []string{conf.DefaultLanguage}
	}
	if r.ContentType == "" {
		return request.Declined
	}
	return request.OK
}

// withCharset re-renders a content type as mod_mime does once it has
// parsed it ("type/subtype; attr=value"), replacing or adding charset.
func withCharset(ct, charset string) string {
	if charset == "" && !strings.Contains(ct, ";") {
		return ct
	}
	parts := strings.Split(ct, ";")
	var b strings.Builder
	b.WriteString(strings.Join(strings.Fields(parts[0]), ""))
	override := false
	for _, p := range parts[1:] {
		attr, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		attr = strings.ToLower(strings.TrimSpace(attr))
		if attr == "" {
			continue
		}
		if charset != "" && attr == "charset" {
			if !override {
				b.WriteString("; charset=" + charset)
				override = true
			}
			continue
		}
		b.WriteString("; " + attr + "=" + strings.TrimSpace(val))
	}
	if charset != "" && !override {
		b.WriteString("; charset=" + charset)
	}
	return b.String()
}
