package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"plume/config"
	"plume/directives"
	"plume/request"
)

var autoindexModule = directives.RegisterModule(&directives.Module{
	Name:      "autoindex_module",
	Source:    "mod_autoindex.c",
	CreateDir: func(p string) any { return &AutoindexConfig{} },
	MergeDir:  func(b, a any) any { return mergeAutoindex(b.(*AutoindexConfig), a.(*AutoindexConfig)) },
})

// IndexOptions bits (mod_autoindex.c).
const (
	optFancy = 1 << iota
	optIconsAreLinks
	optScanTitles
	optSuppressLastMod
	optSuppressSize
	optSuppressDesc
	optSuppressPreamble
	optSuppressColSort
	optSuppressRules
	optFoldersFirst
	optVersionSort
	optTable
	optXHTML
	optShowForbidden
	optIgnoreCase
	optIgnoreClient
	optSuppressIcon
	optTrackModified
	optAddAltClass
	optNoOptions = 1 << 30
)

var indexOptionNames = map[string]int{
	"fancyindexing": optFancy, "iconsarelinks": optIconsAreLinks, "scanhtmltitles": optScanTitles,
	"suppresslastmodified": optSuppressLastMod, "suppresssize": optSuppressSize,
	"suppressdescription": optSuppressDesc, "suppresshtmlpreamble": optSuppressPreamble,
	"suppresscolumnsorting": optSuppressColSort, "suppressrules": optSuppressRules,
	"foldersfirst": optFoldersFirst, "versionsort": optVersionSort, "htmltable": optTable,
	"xhtml": optXHTML, "showforbidden": optShowForbidden, "ignorecase": optIgnoreCase,
	"ignoreclient": optIgnoreClient, "suppressicon": optSuppressIcon,
	"trackmodified": optTrackModified, "addaltclass": optAddAltClass,
}

// AutoindexConfig is mod_autoindex's per-directory config (the parts Plume
// renders: options, widths, ignore list, header/readme, sort default).
type AutoindexConfig struct {
	Opts, IncrAdd, IncrRemove int
	optsSet                   bool
	NameWidth                 int // 0 default 23, -1 '*'
	DescWidth                 int
	Charset                   string
	CType                     string
	Ignore                    []string
	ignoreReset               bool
	HeaderName, ReadmeName    string
	DefaultKey                byte
	DefaultDir                byte
	StyleSheet, HeadInsert    string
	// Icons, alt texts and descriptions, in config order (child's first
	// after a merge, as mod_autoindex's apr_array_append(add, base)).
	Icons, Alts  []aiItem
	Descs        []aiDesc
	DefaultIcon  string
	DescAdjust   bool
	IconW, IconH int
}

// aiItem is mod_autoindex's struct item: an icon or alt text that applies
// by type, encoding or path pattern within a section's path.
type aiItem struct {
	by        byte // 't' type, 'e' encoding, 'p' path
	applyTo   string
	applyPath string
	data      string
}

// aiDesc is an AddDescription entry.
type aiDesc struct {
	pattern   string
	desc      string
	fullPath  bool
	wildcards bool
}

func mergeAutoindex(b, a *AutoindexConfig) *AutoindexConfig {
	n := *a
	if a.ignoreReset {
		n.Ignore = a.Ignore
	} else {
		n.Ignore = append(append([]string(nil), b.Ignore...), a.Ignore...)
	}
	if a.optsSet && a.Opts&optNoOptions != 0 {
		n.Opts, n.IncrAdd, n.IncrRemove = optNoOptions, 0, 0
	} else if a.optsSet && a.Opts != 0 {
		// Absolute options replace; the child's own increments apply.
		n.Opts = a.Opts
	} else {
		n.Opts = b.Opts
		n.IncrAdd = (b.IncrAdd &^ a.IncrRemove) | a.IncrAdd
		n.IncrRemove = (b.IncrRemove &^ a.IncrAdd) | a.IncrRemove
		n.optsSet = b.optsSet || a.optsSet
	}
	if n.NameWidth == 0 {
		n.NameWidth = b.NameWidth
	}
	if n.DescWidth == 0 {
		n.DescWidth = b.DescWidth
	}
	if n.Charset == "" {
		n.Charset = b.Charset
	}
	if n.CType == "" {
		n.CType = b.CType
	}
	if n.HeaderName == "" {
		n.HeaderName = b.HeaderName
	}
	if n.ReadmeName == "" {
		n.ReadmeName = b.ReadmeName
	}
	if n.DefaultKey == 0 {
		n.DefaultKey, n.DefaultDir = b.DefaultKey, b.DefaultDir
	}
	if n.StyleSheet == "" {
		n.StyleSheet = b.StyleSheet
	}
	n.Icons = append(append([]aiItem(nil), a.Icons...), b.Icons...)
	n.Alts = append(append([]aiItem(nil), a.Alts...), b.Alts...)
	n.Descs = append(append([]aiDesc(nil), a.Descs...), b.Descs...)
	if n.DefaultIcon == "" {
		n.DefaultIcon = b.DefaultIcon
	}
	if !a.DescAdjust && a.DescWidth == 0 {
		n.DescAdjust = b.DescAdjust
	}
	if n.IconW == 0 {
		n.IconW = b.IconW
	}
	if n.IconH == 0 {
		n.IconH = b.IconH
	}
	if n.HeadInsert == "" {
		n.HeadInsert = b.HeadInsert
	}
	return &n
}

func (c *AutoindexConfig) options() int {
	if c.Opts&optNoOptions != 0 {
		return 0
	}
	return (c.Opts &^ c.IncrRemove) | c.IncrAdd
}

// setIndexOptions is add_opts.
func setIndexOptions(c *directives.Cmd, a []string) error {
	d := c.DirConfig(autoindexModule).(*AutoindexConfig)
	opts, add, remove := d.Opts, d.IncrAdd, d.IncrRemove
	for _, w := range a {
		action := byte(0)
		if w != "" && (w[0] == '+' || w[0] == '-') {
			action, w = w[0], w[1:]
		}
		lw := strings.ToLower(w)
		if bit, ok := indexOptionNames[lw]; ok {
			switch action {
			case '+':
				add |= bit
				remove &^= bit
			case '-':
				remove |= bit
				add &^= bit
			default:
				opts |= bit
				add, remove = 0, 0
			}
			continue
		}
		if lw == "none" {
			if action != 0 {
				return errors.New("Cannot combine '+' or '-' with 'None' keyword")
			}
			opts, add, remove = optNoOptions, 0, 0
			continue
		}
		key, val, hasVal := strings.Cut(lw, "=")
		switch {
		case key == "namewidth" || key == "descriptionwidth":
			width := 0
			if action == '-' {
				width = 0
			} else if !hasVal {
				return fmt.Errorf("%s needs a value", strings.Split(w, "=")[0])
			} else if val == "*" {
				width = -1
				if key == "descriptionwidth" {
					d.DescAdjust = true
				}
			} else {
				n, err := strconv.Atoi(val)
				if err != nil || n < 5 && key == "namewidth" || n < 12 && key == "descriptionwidth" {
					if key == "namewidth" {
						return errors.New("NameWidth value must be greater than 5")
					}
					return errors.New("DescriptionWidth value must be greater than 12")
				}
				width = n
			}
			if key == "namewidth" {
				d.NameWidth = width
			} else {
				d.DescWidth = width
			}
		case key == "charset" && hasVal:
			d.Charset = w[len("charset="):]
		case key == "type" && hasVal:
			d.CType = w[len("type="):]
		case key == "iconwidth":
			d.IconW = 20
			if hasVal {
				d.IconW = atoi(val)
			}
			if action == '-' {
				d.IconW = 0
			}
		case key == "iconheight":
			d.IconH = 22
			if hasVal {
				d.IconH = atoi(val)
			}
			if action == '-' {
				d.IconH = 0
			}
		default:
			return errors.New("Invalid directory indexing option")
		}
	}
	if opts&optNoOptions != 0 && (add != 0 || remove != 0) {
		return errors.New("Cannot combine '+' or '-' with 'None' keyword")
	}
	d.Opts, d.IncrAdd, d.IncrRemove, d.optsSet = opts, add, remove, true
	return nil
}

func init() {
	m := "autoindex_module"
	ix := directives.OrIndexes
	ac := func(c *directives.Cmd) *AutoindexConfig { return c.DirConfig(autoindexModule).(*AutoindexConfig) }
	directives.Register(
		&directives.Spec{Name: "IndexOptions", Module: m, Syntax: directives.TakeArgv, ReqOverride: ix,
			Help: "one or more index options [+|-][]", Func: setIndexOptions},
		&directives.Spec{Name: "IndexIgnore", Module: m, Syntax: directives.Iterate, ReqOverride: ix,
			Help: "one or more file extensions",
			Func: func(c *directives.Cmd, a []string) error { d := ac(c); d.Ignore = append(d.Ignore, a[0]); return nil }},
		&directives.Spec{Name: "IndexIgnoreReset", Module: m, Syntax: directives.Flag, ReqOverride: ix,
			Help: "Reset the inherited list of IndexIgnore filenames",
			Func: func(c *directives.Cmd, a []string) error { ac(c).ignoreReset = a[0] == "On"; return nil }},
		&directives.Spec{Name: "HeaderName", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "a filename", Func: func(c *directives.Cmd, a []string) error { ac(c).HeaderName = a[0]; return nil }},
		&directives.Spec{Name: "ReadmeName", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "a filename", Func: func(c *directives.Cmd, a []string) error { ac(c).ReadmeName = a[0]; return nil }},
		&directives.Spec{Name: "IndexStyleSheet", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "URL to style sheet", Func: func(c *directives.Cmd, a []string) error { ac(c).StyleSheet = a[0]; return nil }},
		&directives.Spec{Name: "IndexHeadInsert", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "String to insert in HTML HEAD section", Func: func(c *directives.Cmd, a []string) error { ac(c).HeadInsert = a[0]; return nil }},
		&directives.Spec{Name: "AddIcon", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "an icon URL followed by one or more filenames", Func: addIcon('p')},
		&directives.Spec{Name: "AddIconByType", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "an icon URL followed by one or more MIME types", Func: addIcon('t')},
		&directives.Spec{Name: "AddIconByEncoding", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "an icon URL followed by one or more content encodings", Func: addIcon('e')},
		&directives.Spec{Name: "AddAlt", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "alternate descriptive text followed by one or more filenames", Func: addAlt('p')},
		&directives.Spec{Name: "AddAltByType", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "alternate descriptive text followed by one or more MIME types", Func: addAlt('t')},
		&directives.Spec{Name: "AddAltByEncoding", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "alternate descriptive text followed by one or more content encodings", Func: addAlt('e')},
		&directives.Spec{Name: "DefaultIcon", Module: m, Syntax: directives.Take1, ReqOverride: ix,
			Help: "an icon URL", Func: func(c *directives.Cmd, a []string) error { ac(c).DefaultIcon = a[0]; return nil }},
		&directives.Spec{Name: "AddDescription", Module: m, Syntax: directives.Iterate2, ReqOverride: ix,
			Help: "Descriptive text followed by one or more filenames", Func: addDescription},
		&directives.Spec{Name: "IndexOrderDefault", Module: m, Syntax: directives.Take2, ReqOverride: ix,
			Help: "{Ascending,Descending} {Name,Size,Description,Date}",
			Func: func(c *directives.Cmd, a []string) error {
				d := ac(c)
				switch strings.ToLower(a[0]) {
				case "ascending":
					d.DefaultDir = 'A'
				case "descending":
					d.DefaultDir = 'D'
				default:
					return errors.New("First keyword must be 'Ascending' or 'Descending'")
				}
				switch strings.ToLower(a[1]) {
				case "name":
					d.DefaultKey = 'N'
				case "date":
					d.DefaultKey = 'M'
				case "size":
					d.DefaultKey = 'S'
				case "description":
					d.DefaultKey = 'D'
				default:
					return errors.New("Second keyword must be 'Name', 'Date', 'Size', or 'Description'")
				}
				return nil
			}},
	)
}

// entry is one line of a listing.
type entry struct {
	name   string // with a trailing '/' for directories
	isDir  bool
	size   int64 // -1 for directories
	lm     time.Time
	hasLM  bool
	parent bool
	icon   string
	alt    string
	desc   string
}

// autoindex is handle_autoindex.
func (x *exchange) autoindex(r *request.Request) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return request.Declined
	}
	if r.Finfo == nil || !r.Finfo.IsDir() || !autoindexLoaded(x.g.cfg) {
		return request.Declined
	}
	opts := config.AllowOptions(r.PerDir)
	if opts&config.OptIndexes == 0 {
		names, ok := r.Notes["dir-index-names"]
		if !ok {
			names = "none"
		}
		x.log(r, "autoindex", LevelError, "AH01276", "Cannot serve directory "+r.Filename+": No matching DirectoryIndex ("+names+") found, and server-generated directory index forbidden by Options directive")
		return http.StatusForbidden
	}
	return x.indexDirectory(r)
}

// autoindexLoaded reports whether mod_autoindex takes part. Plume's modules
// are compiled in, so a config that loads no module at all (the embedded
// one, small hand-written ones) has it; but a config that chooses its
// modules with LoadModule, as Apache's must, and leaves autoindex_module
// out gets Apache's answer for a directory without a listing module: the
// core handler's 404 (AH00129 at info), not mod_autoindex's 403 AH01276.
func autoindexLoaded(cfg *config.Config) bool {
	if cfg == nil || cfg.Tree == nil || len(cfg.Tree.Modules) == 0 {
		return true
	}
	return cfg.Tree.Loaded["autoindex_module"]
}

func (x *exchange) indexDirectory(r *request.Request) int {
	conf := directives.DirOf(r.PerDir, autoindexModule, &AutoindexConfig{})
	opts := conf.options()
	dirPath := r.Filename
	f, err := os.Open(dirPath)
	if err != nil {
		x.log(r, "autoindex", LevelError, "AH01275", "Can't open directory for index: "+dirPath)
		return http.StatusForbidden
	}
	const maxEntries = 1 << 20
	dirents, err := f.ReadDir(maxEntries)
	f.Close()
	if err != nil && err != io.EOF {
		x.log(r, "autoindex", LevelError, "AH01275", "Can't open directory for index: "+dirPath)
		return http.StatusForbidden
	}
	if r.Method == http.MethodHead {
		// index_directory returns right after setting the type for a
		// header-only request: no listing is built, so no Content-Length
		// and none of the entries' sub-requests (or their log lines).
		x.rw.Header().Set("Content-Type", listingContentType(conf))
		x.rw.WriteHeader(http.StatusOK)
		return request.Done
	}
	keyid, direction := byte('N'), byte('A')
	if conf.DefaultKey != 0 {
		keyid, direction = conf.DefaultKey, conf.DefaultDir
	}
	if r.Args != "" && opts&optIgnoreClient == 0 {
		for _, kv := range strings.FieldsFunc(r.Args, func(c rune) bool { return c == ';' || c == '&' }) {
			if len(kv) == 3 && kv[1] == '=' {
				switch kv[0] {
				case 'C':
					if strings.IndexByte("NMSD", kv[2]) >= 0 {
						keyid = kv[2]
					}
				case 'O':
					if kv[2] == 'A' || kv[2] == 'D' {
						direction = kv[2]
					}
				}
			}
		}
	}
	var list []*entry
	if r.URI != "/" {
		parent := strings.TrimSuffix(r.URI, "/")
		parent = parent[:strings.LastIndexByte(parent, '/')+1]
		pe := &entry{name: parent, parent: true, size: -1}
		if opts&optFancy != 0 {
			if pe.icon = findItem(conf.Icons, "", "", "..", true); pe.icon == "" {
				pe.icon = findItem(conf.Icons, "", "", "^^DIRECTORY^^", true)
			}
			if pe.alt = findItem(conf.Alts, "", "", "..", true); pe.alt == "" {
				if pe.alt = findItem(conf.Alts, "", "", "^^DIRECTORY^^", true); pe.alt == "" {
					pe.alt = "PARENTDIR"
				}
			}
			pe.desc = findDesc(conf.Descs, "..")
		}
		list = append(list, pe)
	}
	for _, de := range dirents {
		name := de.Name()
		if name == "." || name == ".." || x.ignored(conf, name) {
			continue
		}
		if de.Type()&fs.ModeSymlink != 0 {
			// apr_dir_read stats every entry through its link, and
			// index_directory skips the un-stat()able ones (dangling
			// links) before any sub-request, so nothing is logged. The
			// file type from getdents spares the stat for other entries.
			if _, err := os.Stat(dirPath + "/" + name); err != nil {
				continue
			}
		}
		sr := x.lookupDirent(r, name)
		ok := sr.Status == http.StatusOK || (sr.Status >= 200 && sr.Status < 400)
		if sr.Finfo == nil || !(sr.Finfo.IsDir() || sr.Finfo.Mode().IsRegular()) || !ok {
			if !(opts&optShowForbidden != 0 && (sr.Status == 401 || sr.Status == 403) && sr.Finfo != nil) {
				closeSub(sr)
				continue
			}
		}
		e := &entry{name: name, lm: sr.Finfo.ModTime(), hasLM: true, size: sr.Finfo.Size()}
		if sr.Finfo.IsDir() {
			e.isDir, e.name, e.size = true, name+"/", -1
		}
		if opts&optFancy != 0 {
			if e.isDir {
				if e.icon = findItem(conf.Icons, "", "", sr.Filename, true); e.icon == "" {
					e.icon = findItem(conf.Icons, "", "", "^^DIRECTORY^^", true)
				}
				if e.alt = findItem(conf.Alts, "", "", sr.Filename, true); e.alt == "" {
					if e.alt = findItem(conf.Alts, "", "", "^^DIRECTORY^^", true); e.alt == "" {
						e.alt = "DIR"
					}
				}
			} else {
				e.icon = findItem(conf.Icons, sr.ContentType, sr.ContentEncoding, sr.Filename, false)
				e.alt = findItem(conf.Alts, sr.ContentType, sr.ContentEncoding, sr.Filename, false)
			}
			e.desc = findDesc(conf.Descs, sr.Filename)
			if e.desc == "" && opts&optScanTitles != 0 && !e.isDir {
				e.desc = findTitle(sr)
			}
		}
		closeSub(sr)
		list = append(list, e)
	}
	sortEntries(list, keyid, direction, opts)

	h := x.rw.Header()
	h.Set("Content-Type", listingContentType(conf))
	var b strings.Builder
	title := escapeHTML(r.URI)
	for len(title) > 1 && strings.HasSuffix(title, "/") {
		title = title[:len(title)-1]
	}
	x.emitHead(r, &b, conf, opts, title)
	if opts&optFancy != 0 && opts&optTable != 0 {
		x.tableRows(&b, list, conf, opts, keyid, direction)
	} else if opts&optFancy != 0 {
		x.fancyRows(&b, list, conf, opts, keyid, direction, r)
	} else {
		b.WriteString("<ul>")
		for _, e := range list {
			anchor := escapeHTML(escapePath(e.name))
			label := e.name
			if e.parent {
				label = "Parent Directory"
			}
			b.WriteString("<li><a href=\"" + anchor + "\"> " + escapeHTML(label) + "</a></li>\n")
		}
		b.WriteString("</ul>\n")
	}
	x.emitTail(r, &b, conf, opts)
	body := b.String()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.rw.WriteHeader(http.StatusOK)
	io.WriteString(x.rw, body)
	return request.Done
}

func (x *exchange) ignored(conf *AutoindexConfig, name string) bool {
	for _, p := range conf.Ignore {
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[i+1:]
		}
		if strcmpMatch(name, p) {
			return true
		}
	}
	return false
}

// strcmpMatch is ap_strcmp_match (case-sensitive '*' and '?'). It uses
// the single-backtrack-point glob algorithm: the same answers as Apache's
// recursive matcher, in O(len(str)*len(pat)) even for hostile input (the
// string may come from a client's Host header).
func strcmpMatch(str, pat string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == str[si]):
			si++
			pi++
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

func nameCompare(a, b string, opts int) int {
	if opts&optVersionSort != 0 {
		return natCompare(a, b)
	}
	return strings.Compare(a, b)
}

// sortEntries is dsortf: the parent first, then the key, then the name.
func sortEntries(list []*entry, key, dir byte, opts int) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.parent != b.parent {
			return a.parent
		}
		if opts&optFoldersFirst != 0 && a.isDir != b.isDir {
			return a.isDir
		}
		if dir == 'D' {
			a, b = b, a
		}
		switch key {
		case 'M':
			if !a.lm.Equal(b.lm) {
				return a.lm.Before(b.lm)
			}
		case 'S':
			if a.size != b.size {
				return a.size < b.size
			}
		case 'D':
			if c := nameCompare(a.desc, b.desc, opts); c != 0 {
				return c < 0
			}
		}
		if opts&optIgnoreCase != 0 {
			if c := nameCompare(strings.ToLower(a.name), strings.ToLower(b.name), opts); c != 0 {
				return c < 0
			}
		}
		return nameCompare(a.name, b.name, opts) < 0
	})
}

const docTypeXHTML = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n"

// closer ends an empty element: " />" with IndexOptions XHTML, ">" otherwise.
func closer(opts int) string {
	if opts&optXHTML != 0 {
		return " />"
	}
	return ">"
}

func (x *exchange) emitPreamble(b *strings.Builder, conf *AutoindexConfig, title string) {
	opts := conf.options()
	if opts&optXHTML != 0 {
		b.WriteString(docTypeXHTML)
	} else {
		b.WriteString(docTypeHTML)
		b.WriteString("<html>\n")
	}
	b.WriteString(" <head>\n  <title>Index of " + title + "</title>\n")
	if conf.StyleSheet != "" {
		b.WriteString("  <link rel=\"stylesheet\" href=\"" + conf.StyleSheet + "\" type=\"text/css\"" + closer(opts) + "\n")
	}
	if conf.HeadInsert != "" {
		b.WriteString(conf.HeadInsert)
	}
	b.WriteString(" </head>\n <body>\n")
}

// emitHead is emit_head: the preamble, then HeaderName's file (HTML
// inserted as is, other text in <pre>) or the <h1>.
func (x *exchange) emitHead(r *request.Request, b *strings.Builder, conf *AutoindexConfig, opts int, title string) {
	emitAmble, emitH1 := opts&optSuppressPreamble == 0, true
	if conf.HeaderName != "" {
		if data, ct, ok := x.readAmble(r, conf.HeaderName); ok {
			if isHTMLType(ct) {
				if emitAmble {
					x.emitPreamble(b, conf, title)
				}
				emitAmble, emitH1 = false, false
				b.Write(data)
			} else if strings.HasPrefix(strings.ToLower(ct), "text/") {
				x.emitPreamble(b, conf, title)
				emitAmble, emitH1 = false, false
				b.WriteString("<pre>\n" + escapeHTML(string(data)) + "</pre>\n")
			}
		}
	}
	if emitAmble {
		x.emitPreamble(b, conf, title)
	}
	if emitH1 {
		if conf.StyleSheet != "" {
			b.WriteString("  <h1 id=\"indextitle\">Index of " + title + "</h1>\n")
		} else {
			b.WriteString("<h1>Index of " + title + "</h1>\n")
		}
	}
}

func (x *exchange) emitTail(r *request.Request, b *strings.Builder, conf *AutoindexConfig, opts int) {
	suppressSig, suppressPost := false, false
	if conf.ReadmeName != "" {
		if data, ct, ok := x.readAmble(r, conf.ReadmeName); ok {
			if isHTMLType(ct) {
				suppressPost = opts&optSuppressPreamble != 0
				suppressSig = true
				b.Write(data)
			} else if strings.HasPrefix(strings.ToLower(ct), "text/") {
				b.WriteString("<pre>\n" + escapeHTML(string(data)) + "</pre>\n")
			}
		}
	}
	if !suppressSig {
		if sig := x.signature(r); sig != "" {
			b.WriteString(strings.TrimPrefix(sig, "<hr>\n"))
		}
	}
	if !suppressPost {
		b.WriteString("</body></html>\n")
	}
}

func isHTMLType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "text/html"
}

// readAmble runs a sub-request for a header/readme file and returns its
// content and type (at most 1 MiB).
func (x *exchange) readAmble(r *request.Request, name string) ([]byte, string, bool) {
	sr := x.lookupURI(r, name, "")
	defer closeSub(sr)
	if sr.Status != http.StatusOK || sr.Finfo == nil || !sr.Finfo.Mode().IsRegular() || sr.ContentType == "" {
		return nil, "", false
	}
	f, err := openFile(sr)
	if err != nil {
		return nil, "", false
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, "", false
	}
	return data, sr.ContentType, true
}

// strfsize is apr_strfsize: a 4-character human size.
func strfsize(size int64) string {
	if size < 0 {
		return "  - "
	}
	if size < 973 {
		return fmt.Sprintf("%3d ", size)
	}
	units := "KMGTPE"
	remain := int64(0)
	for i := 0; i < len(units); i++ {
		remain = size & 1023
		size >>= 10
		if size >= 973 {
			continue
		}
		if size < 9 || (size == 9 && remain < 973) {
			remain = ((remain * 5) + 256) / 512
			if remain >= 10 {
				size++
				remain = 0
			}
			return fmt.Sprintf("%d.%d%c", size, remain, units[i])
		}
		if remain >= 512 {
			size++
		}
		return fmt.Sprintf("%3d%c", size, units[i])
	}
	return "  - "
}

func (x *exchange) fancyRows(b *strings.Builder, list []*entry, conf *AutoindexConfig, opts int, keyid, direction byte, r *request.Request) {
	nameWidth := 23
	if conf.NameWidth > 0 {
		nameWidth = conf.NameWidth
	} else if conf.NameWidth == -1 {
		for _, e := range list {
			l := len(e.name)
			if e.parent {
				l = len("Parent Directory")
			}
			if l > nameWidth {
				nameWidth = l
			}
		}
	}
	pad := strings.Repeat(" ", nameWidth)
	link := func(label string, col byte) {
		if opts&optSuppressColSort != 0 {
			b.WriteString(label)
			return
		}
		d := byte('A')
		if keyid == col && direction == 'A' {
			d = 'D'
		}
		b.WriteString("<a href=\"?C=" + string(col) + ";O=" + string(d) + "\">" + label + "</a>")
	}
	b.WriteString("<pre>")
	if opts&optSuppressIcon == 0 {
		if blank := findItem(conf.Icons, "", "", "^^BLANKICON^^", true); blank != "" {
			b.WriteString("<img src=\"" + escapeHTML(blank) + "\" alt=\"Icon \"" + iconSize(conf) + closer(opts) + " ")
		} else {
			b.WriteString("      ")
		}
	}
	link("Name", 'N')
	if nameWidth > 4 {
		b.WriteString(pad[4:])
	}
	b.WriteString(" ")
	if opts&optSuppressLastMod == 0 {
		link("Last modified", 'M')
		b.WriteString("      ")
	}
	if opts&optSuppressSize == 0 {
		link("Size", 'S')
		b.WriteString("  ")
	}
	if opts&optSuppressDesc == 0 {
		link("Description", 'D')
	}
	if opts&optSuppressRules == 0 {
		b.WriteString("<hr" + closer(opts))
	} else {
		b.WriteString("\n")
	}
	for _, e := range list {
		anchor := escapeHTML(escapePath(e.name))
		label := e.name
		if e.parent {
			label = "Parent Directory"
		}
		if opts&optSuppressIcon == 0 {
			writeIcon(b, e, conf, opts, anchor, "     ")
			b.WriteString(" ")
		}
		width := len(label)
		if width > nameWidth {
			label = label[:nameWidth-3] + "..>"
			width = nameWidth
		}
		b.WriteString("<a href=\"" + anchor + "\">" + escapeHTML(label) + "</a>" + pad[width:])
		b.WriteString(" ")
		if opts&optSuppressLastMod == 0 {
			if e.hasLM {
				b.WriteString(e.lm.Local().Format("2006-01-02 15:04") + "  ")
			} else {
				b.WriteString("                   ")
			}
		}
		if opts&optSuppressSize == 0 {
			b.WriteString(strfsize(e.size) + "  ")
		}
		if opts&optSuppressDesc == 0 && e.desc != "" {
			b.WriteString(terminateDescription(e.desc, conf))
		}
		b.WriteString("\n")
	}
	if opts&optSuppressRules == 0 {
		b.WriteString("<hr" + closer(opts) + "</pre>\n")
	} else {
		b.WriteString("</pre>\n")
	}
}

// pushItem is push_item: path patterns without wildcards match as
// suffixes; every item applies below the section it was declared in.
func pushItem(c *directives.Cmd, by byte, to, data string) aiItem {
	if by == 'p' && !strings.ContainsAny(to, "*?") {
		to = "*" + to
	}
	return aiItem{by: by, applyTo: to, applyPath: c.Path + "*", data: data}
}

func normaliseTo(by byte, to string) string {
	if by == 'p' && to == "**DIRECTORY**" {
		return "^^DIRECTORY^^"
	}
	if by == 'e' {
		return strings.ToLower(to)
	}
	return to
}

func addAlt(by byte) directives.Handler {
	return func(c *directives.Cmd, a []string) error {
		d := c.DirConfig(autoindexModule).(*AutoindexConfig)
		d.Alts = append(d.Alts, pushItem(c, by, normaliseTo(by, a[1]), a[0]))
		return nil
	}
}

// addIcon is add_icon: "(ALT,url)" also adds an alt text.
func addIcon(by byte) directives.Handler {
	return func(c *directives.Cmd, a []string) error {
		d := c.DirConfig(autoindexModule).(*AutoindexConfig)
		icon, to := a[0], normaliseTo(by, a[1])
		if strings.HasPrefix(icon, "(") {
			cl := strings.IndexByte(icon, ')')
			if cl < 0 {
				return errors.New("missing closing paren")
			}
			inner := icon[1:cl]
			alt, url, _ := strings.Cut(inner, ",")
			d.Alts = append(d.Alts, pushItem(c, by, to, alt))
			icon = url
		}
		d.Icons = append(d.Icons, pushItem(c, by, to, icon))
		return nil
	}
}

// addDescription is add_desc.
func addDescription(c *directives.Cmd, a []string) error {
	d := c.DirConfig(autoindexModule).(*AutoindexConfig)
	to := a[1]
	e := aiDesc{desc: a[0], fullPath: strings.Contains(to, "/")}
	e.wildcards = e.fullPath || strings.ContainsAny(to, "*?[")
	if e.wildcards {
		prefix := "*"
		if e.fullPath {
			prefix = "*/"
		}
		e.pattern = prefix + to + "*"
	} else {
		e.pattern = to
	}
	d.Descs = append(d.Descs, e)
	return nil
}

// findItem is find_item: the first item whose section covers path and
// that matches by path, or (unless pathOnly) by type or encoding.
func findItem(list []aiItem, ctype, encoding, path string, pathOnly bool) string {
	for _, p := range list {
		if !(path != "" && path[0] == '^') && !strcmpMatch(path, p.applyPath) {
			continue
		}
		switch {
		case p.applyTo == "":
			return p.data
		case p.by == 'p' || (path != "" && path[0] == '^'):
			if strcmpMatch(path, p.applyTo) {
				return p.data
			}
		case !pathOnly:
			if encoding == "" {
				if p.by == 't' && ctype != "" {
					ct, _, _ := strings.Cut(ctype, ";")
					if strcasecmpMatch(strings.TrimSpace(ct), p.applyTo) {
						return p.data
					}
				}
			} else if p.by == 'e' && strcasecmpMatch(encoding, p.applyTo) {
				return p.data
			}
		}
	}
	return ""
}

// findDesc is find_desc.
func findDesc(list []aiDesc, filename string) string {
	base := filename
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	for _, d := range list {
		target := base
		if d.fullPath {
			target = filename
		}
		if d.wildcards {
			if fnmatchSimple(d.pattern, target) {
				return d.desc
			}
		} else if target == d.pattern {
			return d.desc
		}
	}
	return ""
}

// fnmatchSimple is apr_fnmatch without flags for '*', '?' and classes.
func fnmatchSimple(pattern, name string) bool {
	ok, err := pathMatch(pattern, name)
	return err == nil && ok
}

// natCompare is apr_strnatcmp (VersionSort): digit runs compare by value.
func natCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				if len(na) < len(nb) {
					return -1
				}
				return 1
			}
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			continue
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	switch {
	case len(a)-i < len(b)-j:
		return -1
	case len(a)-i > len(b)-j:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var pathMatch = path.Match

// writeIcon writes an entry's icon (a link to it with IconsAreLinks), or
// blank when no icon applies: the same in the fancy and table listings
// but for the blank.
func writeIcon(b *strings.Builder, e *entry, conf *AutoindexConfig, opts int, anchor, blank string) {
	if opts&optIconsAreLinks != 0 {
		b.WriteString("<a href=\"" + anchor + "\">")
	}
	if icon := orDefault(e.icon, conf.DefaultIcon); icon != "" {
		b.WriteString("<img src=\"" + escapeHTML(icon) + "\" alt=\"[" + orDefault(e.alt, "   ") + "]\"" + iconSize(conf) + closer(opts))
	} else {
		b.WriteString(blank)
	}
	if opts&optIconsAreLinks != 0 {
		b.WriteString("</a>")
	}
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func iconSize(conf *AutoindexConfig) string {
	s := ""
	if conf.IconW > 0 {
		s += " width=\"" + strconv.Itoa(conf.IconW) + "\""
	}
	if conf.IconH > 0 {
		s += " height=\"" + strconv.Itoa(conf.IconH) + "\""
	}
	return s
}

// terminateDescription cuts a description to DescriptionWidth (default
// 23; '*' keeps it whole), never inside an HTML tag.
func terminateDescription(desc string, conf *AutoindexConfig) string {
	if conf.DescAdjust {
		return desc
	}
	width := conf.DescWidth
	if width <= 0 {
		width = 23
	}
	visible, inTag := 0, false
	for i := 0; i < len(desc); i++ {
		switch {
		case desc[i] == '<':
			inTag = true
		case desc[i] == '>':
			inTag = false
		case !inTag:
			visible++
			if visible > width {
				return desc[:i]
			}
		}
	}
	return desc
}

// tableRows is output_directories with IndexOptions HTMLTable; with an
// IndexStyleSheet the cells carry Apache's class names instead of layout
// attributes.
func (x *exchange) tableRows(b *strings.Builder, list []*entry, conf *AutoindexConfig, opts int, keyid, direction byte) {
	ss := conf.StyleSheet != ""
	attr := func(plain, class string) string {
		if ss {
			return " class=\"" + class + "\""
		}
		return plain
	}
	link := func(label string, col byte) string {
		if opts&optSuppressColSort != 0 {
			return label
		}
		d := byte('A')
		if keyid == col && direction == 'A' {
			d = 'D'
		}
		return "<a href=\"?C=" + string(col) + ";O=" + string(d) + "\">" + label + "</a>"
	}
	cols := 1
	if ss {
		b.WriteString("  <table id=\"indexlist\">\n   <tr class=\"indexhead\">")
	} else {
		b.WriteString("  <table>\n   <tr>")
	}
	if opts&optSuppressIcon == 0 {
		b.WriteString("<th" + attr(" valign=\"top\"", "indexcolicon") + ">")
		if blank := findItem(conf.Icons, "", "", "^^BLANKICON^^", true); blank != "" {
			b.WriteString("<img src=\"" + escapeHTML(blank) + "\" alt=\"[ICO]\"" + iconSize(conf) + closer(opts))
		} else {
			b.WriteString("&nbsp;")
		}
		b.WriteString("</th>")
		cols++
	}
	b.WriteString("<th" + attr("", "indexcolname") + ">" + link("Name", 'N') + "</th>")
	if opts&optSuppressLastMod == 0 {
		b.WriteString("<th" + attr("", "indexcollastmod") + ">" + link("Last modified", 'M') + "</th>")
		cols++
	}
	if opts&optSuppressSize == 0 {
		b.WriteString("<th" + attr("", "indexcolsize") + ">" + link("Size", 'S') + "</th>")
		cols++
	}
	if opts&optSuppressDesc == 0 {
		b.WriteString("<th" + attr("", "indexcoldesc") + ">" + link("Description", 'D') + "</th>")
		cols++
	}
	b.WriteString("</tr>\n")
	rule := "   <tr" + attr("", "indexbreakrow") + "><th colspan=\"" + strconv.Itoa(cols) + "\"><hr" + closer(opts) + "</th></tr>\n"
	if opts&optSuppressRules == 0 {
		b.WriteString(rule)
	}
	for i, e := range list {
		anchor := escapeHTML(escapePath(e.name))
		label := e.name
		if e.parent {
			label = "Parent Directory"
		}
		if ss {
			parity := "even"
			if i%2 == 1 {
				parity = "odd"
			}
			b.WriteString("   <tr class=\"" + parity + "\">")
		} else {
			b.WriteString("<tr>")
		}
		if opts&optSuppressIcon == 0 {
			b.WriteString("<td" + attr(" valign=\"top\"", "indexcolicon") + ">")
			writeIcon(b, e, conf, opts, anchor, "&nbsp;")
			b.WriteString("</td>")
		}
		b.WriteString("<td" + attr("", "indexcolname") + "><a href=\"" + anchor + "\">" + escapeHTML(label) + "</a></td>")
		if opts&optSuppressLastMod == 0 {
			if e.hasLM {
				b.WriteString("<td" + attr(" align=\"right\"", "indexcollastmod") + ">" + e.lm.Local().Format("2006-01-02 15:04") + "  </td>")
			} else {
				b.WriteString("<td" + attr("", "indexcollastmod") + ">&nbsp;</td>")
			}
		}
		if opts&optSuppressSize == 0 {
			b.WriteString("<td" + attr(" align=\"right\"", "indexcolsize") + ">" + strfsize(e.size) + "</td>")
		}
		if opts&optSuppressDesc == 0 {
			if e.desc != "" {
				b.WriteString("<td" + attr("", "indexcoldesc") + ">" + terminateDescription(e.desc, conf) + "</td>")
			} else {
				b.WriteString("<td" + attr("", "indexcoldesc") + ">&nbsp;</td>")
			}
		}
		b.WriteString("</tr>\n")
	}
	if opts&optSuppressRules == 0 {
		b.WriteString(rule)
	}
	b.WriteString("</table>\n")
}

// findTitle is find_title (ScanHTMLTitles): the text after <title> in the
// first 8 KiB of an unencoded HTML file, up to the next '<', with line
// breaks turned into spaces (a leading one dropped).
func findTitle(sr *request.Request) string {
	if sr.Status != http.StatusOK || sr.ContentEncoding != "" || !isHTMLType(sr.ContentType) {
		return ""
	}
	f, err := os.Open(sr.Filename)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 8191)
	n, _ := io.ReadFull(f, buf)
	if n <= 0 {
		return ""
	}
	text := buf[:n]
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	i := bytes.Index(bytes.ToLower(text), []byte("<title>"))
	if i < 0 {
		return ""
	}
	t := text[i+len("<title>"):]
	if j := bytes.IndexByte(t, '<'); j >= 0 {
		t = t[:j]
	}
	out := make([]byte, 0, len(t))
	for _, c := range t {
		if c == '\r' || c == '\n' {
			if len(out) == 0 {
				continue // breaks before the text are dropped
			}
			c = ' '
		}
		out = append(out, c)
	}
	return string(out)
}

// listingContentType is the listing's type: IndexOptions Type= and
// Charset= or text/html;charset=ISO-8859-1.
func listingContentType(conf *AutoindexConfig) string {
	charset := conf.Charset
	if charset == "" {
		charset = "ISO-8859-1"
	}
	ctype := conf.CType
	if ctype == "" {
		ctype = "text/html"
	}
	return ctype + ";charset=" + charset
}

// direntSymlinkCode is the AH code Apache logs when the request walk
// refuses the symlink that is a directory entry's own name in a dirent
// sub-request (listing entries, MultiViews variants), where Plume's walk
// reports AH00037. ap_sub_req_lookup_dirent stats the entry through the
// link first: a dangling link is no file, and Apache logs nothing; a link
// to a regular file stays in the parent directory, whose walk
// ap_directory_walk has cached, and its cached-directory path logs
// AH00032; a link to a directory, or a dangling one, is walked in full
// and logs AH00037.
// Only the failure path pays for the stat.
func direntSymlinkCode(filename string) string {
	fi, err := os.Stat(filename)
	switch {
	case err != nil || fi.IsDir():
		return "AH00037"
	}
	return "AH00032"
}
