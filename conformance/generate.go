package conformance

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// GeneratorSeed is the seed of the generated cases: fixed so every run
// compares the same cases (change it to explore, then keep what fails as a
// hand-written case).
const GeneratorSeed = 20261125

// Generated returns every generated case. Generators build cases in
// memory; each case packs many directories into one configuration so a
// few server starts cover hundreds of requests.
func Generated(seed int64) []*Case {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x706c756d65))
	var out []*Case
	out = append(out, genOptionsSymlinks()...)
	out = append(out, genAccessMatrix(rng))
	out = append(out, genRequireMatrix())
	out = append(out, genLanguageMatrix()...)
	for i := 0; i < 4; i++ {
		out = append(out, genNestedTree(rng, i))
	}
	return out
}

// caseBuilder accumulates a generated case.
type caseBuilder struct {
	c    *Case
	conf strings.Builder
}

func newCase(area, name, desc string, modules ...string) *caseBuilder {
	return &caseBuilder{c: &Case{Name: area + "/" + name, Area: area, Description: desc, Modules: modules}}
}

func (b *caseBuilder) conff(format string, args ...any) { fmt.Fprintf(&b.conf, format, args...) }
func (b *caseBuilder) file(name, data string) {
	b.c.Files = append(b.c.Files, archiveFile{Name: name, Data: data})
}
func (b *caseBuilder) op(op TreeOp) { op.Line = len(b.c.Tree) + 1; b.c.Tree = append(b.c.Tree, op) }
func (b *caseBuilder) get(line string) {
	r, err := ParseRequestLine(line)
	if err != nil {
		panic("generator wrote a bad request line: " + err.Error()) // a bug in this file, not input
	}
	r.Line = len(b.c.Requests) + 1
	b.c.Requests = append(b.c.Requests, r)
}
func (b *caseBuilder) done() *Case {
	b.c.Files = append([]archiveFile{{Name: "httpd.conf", Data: b.conf.String()}}, b.c.Files...)
	return b.c
}

// genOptionsSymlinks: every Options form that touches symlinks, under a
// parent that follows links and one that does not, times every link
// layout (file or directory target, same or different owner, inside or
// outside the document root).
func genOptionsSymlinks() []*Case {
	forms := []string{
		"None", "FollowSymLinks", "SymLinksIfOwnerMatch", "FollowSymLinks SymLinksIfOwnerMatch",
		"All", "Indexes", "MultiViews", "+FollowSymLinks", "-FollowSymLinks",
		"+SymLinksIfOwnerMatch", "-SymLinksIfOwnerMatch", "+FollowSymLinks -SymLinksIfOwnerMatch",
	}
	type layout struct {
		name, target string
		dir, other   bool
	}
	layouts := []layout{
		{"file-in", "{{ROOT}}/htdocs/targets/t.html", false, false},
		{"file-in-other", "{{ROOT}}/htdocs/targets/t.html", false, true},
		{"file-out", "{{ROOT}}/outside/t.html", false, false},
		{"file-out-other", "{{ROOT}}/outside/t.html", false, true},
		{"dir-in", "{{ROOT}}/htdocs/targets/d", true, false},
		{"dir-in-other", "{{ROOT}}/htdocs/targets/d", true, true},
		{"dir-out", "{{ROOT}}/outside/d", true, false},
		{"dir-out-other", "{{ROOT}}/outside/d", true, true},
	}
	var out []*Case
	for _, parent := range []string{"FollowSymLinks", "None"} {
		b := newCase("walk", "gen-options-symlinks-parent-"+strings.ToLower(parent),
			"Generated: Options form x symlink layout under parent Options "+parent, "authz_core", "mime", "dir")
		b.conff("DocumentRoot \"{{ROOT}}/htdocs\"\n<Directory \"{{ROOT}}\">\n    Require all granted\n</Directory>\n")
		b.conff("<Directory \"{{ROOT}}/htdocs\">\n    Options %s\n</Directory>\n", parent)
		b.file("htdocs/targets/t.html", "target file\n")
		b.file("htdocs/targets/d/f.html", "file in target dir\n")
		b.file("outside/t.html", "outside file\n")
		b.file("outside/d/f.html", "file in outside dir\n")
		for i, form := range forms {
			dir := fmt.Sprintf("o%02d", i)
			b.conff("# Options %s\n<Directory \"{{ROOT}}/htdocs/%s\">\n    Options %s\n</Directory>\n", form, dir, form)
			for _, l := range layouts {
				link := fmt.Sprintf("htdocs/%s/%s", dir, l.name)
				b.op(TreeOp{Kind: "link", Path: link, Target: l.target})
				if l.other {
					b.op(TreeOp{Kind: "chown", Path: link, Owner: "nobody"})
				}
				if l.dir {
					b.get(fmt.Sprintf("GET /%s/%s/f.html", dir, l.name))
				} else {
					b.get(fmt.Sprintf("GET /%s/%s", dir, l.name))
				}
			}
		}
		out = append(out, b.done())
	}
	return out
}

// genAccessMatrix: every Order x Allow x Deny over the address forms,
// from two client addresses, as access.t does. Each combination is its
// own directory; the rules sit in <Directory> or in .htaccess (chosen by
// the seed).
func genAccessMatrix(rng *rand.Rand) *Case {
	orders := []string{"allow,deny", "deny,allow", "mutual-failure"}
	forms := []string{"", "all", "127.0.0.1", "127.0", "127.0.0.2/255.255.255.255", "127.0.0.0/31", "10.1.2.3"}
	b := newCase("access", "gen-order-allow-deny",
		"Generated: Order x Allow x Deny over address forms, from 127.0.0.1 and 127.0.0.2",
		"authz_core", "authz_host", "access_compat", "mime", "dir")
	b.conff("DocumentRoot \"{{ROOT}}/htdocs\"\n<Directory \"{{ROOT}}/htdocs\">\n    AllowOverride Limit\n</Directory>\n")
	n := 0
	for _, order := range orders {
		for _, allow := range forms {
			for _, deny := range forms {
				dir := fmt.Sprintf("c%03d", n)
				n++
				rules := "Order " + order + "\n"
				if allow != "" {
					rules += "Allow from " + allow + "\n"
				}
				if deny != "" {
					rules += "Deny from " + deny + "\n"
				}
				if rng.IntN(2) == 0 {
					b.conff("<Directory \"{{ROOT}}/htdocs/%s\">\n%s</Directory>\n", dir, rules)
				} else {
					b.file("htdocs/"+dir+"/.htaccess", rules)
				}
				b.file("htdocs/"+dir+"/a.txt", dir+"\n")
				b.get(fmt.Sprintf("GET /%s/a.txt", dir))
				b.get(fmt.Sprintf("GET /%s/a.txt from 127.0.0.2", dir))
			}
		}
	}
	return b.done()
}

// genLanguageMatrix: variant language sets x Accept-Language values,
// with and without LanguagePriority.
func genLanguageMatrix() []*Case {
	sets := [][]string{{"en"}, {"en", "fr"}, {"en", "fr", "de"}, {"en-gb", "en"}, {"fr", "de"}, {"fr", ""}}
	accepts := []string{"", "en", "fr", "de", "en-US", "en-gb", "fr;q=0.5, en;q=0.4", "de, *;q=0.1", "*", "it", "fr;q=0", "en;q=0.5, fr;q=0.5"}
	var out []*Case
	for _, prio := range []string{"", "de fr en"} {
		name := "gen-language-matrix"
		if prio != "" {
			name += "-priority"
		}
		b := newCase("negotiation", name, "Generated: variant languages x Accept-Language (LanguagePriority "+prio+")",
			"authz_core", "mime", "dir", "negotiation")
		b.conff("DocumentRoot \"{{ROOT}}/htdocs\"\nAddLanguage en .en\nAddLanguage fr .fr\nAddLanguage de .de\nAddLanguage en-gb .en-gb\n")
		b.conff("<Directory \"{{ROOT}}/htdocs\">\n    Require all granted\n    Options MultiViews\n")
		if prio != "" {
			b.conff("    LanguagePriority %s\n", prio)
		}
		b.conff("</Directory>\n")
		for i, set := range sets {
			dir := fmt.Sprintf("s%d", i)
			for _, lang := range set {
				name := "doc.html"
				if lang != "" {
					name += "." + lang
				}
				// Different lengths so the length tie-break is visible.
				b.file(fmt.Sprintf("htdocs/%s/%s", dir, name), fmt.Sprintf("variant %s%s\n", lang, strings.Repeat("!", len(lang))))
			}
			for _, al := range accepts {
				if al == "" {
					b.get(fmt.Sprintf("GET /%s/doc", dir))
				} else {
					b.get(fmt.Sprintf("GET /%s/doc Accept-Language: %s", dir, al))
				}
			}
		}
		out = append(out, b.done())
	}
	return out
}

// genNestedTree: a random tree of directories, each with a random
// <Directory> section and/or .htaccess drawn from Options, AllowOverride,
// DirectoryIndex, type and access lines, and requests for each
// directory, a file in it and a negotiable name.
func genNestedTree(rng *rand.Rand, index int) *Case {
	optionsForms := []string{"None", "Indexes", "+Indexes", "-Indexes", "MultiViews", "+MultiViews", "Indexes MultiViews", "All", "-MultiViews"}
	overrides := []string{"None", "All", "Options", "Options=Indexes", "Options=MultiViews,Indexes", "FileInfo", "Indexes", "Limit", "AuthConfig Indexes", "FileInfo Options"}
	htLines := []string{
		"Options +Indexes", "Options -Indexes", "Options +MultiViews", "Options None", "Options Indexes",
		"DirectoryIndex nope.html", "DirectoryIndex page.html", "AddType text/x-gen .txt", "ForceType text/plain",
		"Require all denied", "Require all granted", "Order deny,allow\nDeny from all", "IndexIgnore *.txt",
		"AddLanguage fr .fr", "DefaultLanguage de",
	}
	b := newCase("walk", fmt.Sprintf("gen-nested-tree-%d", index),
		"Generated: random nested <Directory> + .htaccess tree with random Options/AllowOverride",
		"authz_core", "authz_host", "access_compat", "mime", "dir", "autoindex", "negotiation")
	// The root allows everything so that most of the tree is reachable;
	// sections below narrow it at random.
	b.conff("DocumentRoot \"{{ROOT}}/htdocs\"\n<Directory \"{{ROOT}}/htdocs\">\n    Require all granted\n    AllowOverride All\n    Options %s\n</Directory>\n",
		optionsForms[rng.IntN(len(optionsForms))])
	dirs := []string{""}
	for i := 0; i < 14; i++ {
		parent := dirs[rng.IntN(len(dirs))]
		if strings.Count(parent, "/") >= 4 {
			parent = ""
		}
		dirs = append(dirs, parent+fmt.Sprintf("/d%d", i))
	}
	for _, d := range dirs {
		fs := "htdocs" + d
		if d != "" && rng.IntN(3) > 0 {
			b.conff("<Directory \"{{ROOT}}/htdocs%s\">\n", d)
			if rng.IntN(2) == 0 {
				b.conff("    Options %s\n", optionsForms[rng.IntN(len(optionsForms))])
			}
			if rng.IntN(2) == 0 {
				b.conff("    AllowOverride %s\n", overrides[rng.IntN(len(overrides))])
			}
			b.conff("</Directory>\n")
		}
		if rng.IntN(3) == 0 {
			var lines []string
			for j := rng.IntN(3); j >= 0; j-- {
				lines = append(lines, htLines[rng.IntN(len(htLines))])
			}
			b.file(fs+"/.htaccess", strings.Join(lines, "\n")+"\n")
		}
		b.file(fs+"/file.txt", "file in "+d+"\n")
		b.file(fs+"/page.html", "<p>page in "+d+"</p>\n")
		if rng.IntN(2) == 0 {
			b.file(fs+"/index.html", "<p>index of "+d+"</p>\n")
		}
		b.get("GET " + d + "/")
		b.get("GET " + d + "/file.txt")
		b.get("GET " + d + "/page")
	}
	return b.done()
}

// genRequireMatrix: pairs of Require rules (ip forms, negations, all,
// local, method) combined under RequireAll and RequireAny, from two
// client addresses and with GET and POST.
func genRequireMatrix() *Case {
	rules := []string{
		"Require ip 127.0.0.1", "Require ip 127.0.0.2", "Require ip 127.0", "Require ip 127.0.0.0/31",
		"Require ip 127.0.0.2/255.255.255.255", "Require ip 10.1.2.3", "Require all granted",
		"Require all denied", "Require local", "Require method GET",
	}
	negatable := map[string]bool{}
	for _, r := range rules {
		negatable[r] = strings.HasPrefix(r, "Require ip") || r == "Require method GET"
	}
	b := newCase("access", "gen-require-matrix",
		"Generated: pairs of Require rules under RequireAll and RequireAny, from 127.0.0.1 and 127.0.0.2, GET and POST",
		"authz_core", "authz_host", "mime", "dir")
	b.conff("DocumentRoot \"{{ROOT}}/htdocs\"\n")
	n := 0
	for i, first := range rules {
		for _, second := range rules[i+1:] {
			for _, container := range []string{"RequireAll", "RequireAny"} {
				dir := fmt.Sprintf("r%03d", n)
				n++
				second := second
				// Under RequireAll a negated rule is meaningful; alternate
				// so both forms appear.
				if container == "RequireAll" && negatable[second] && n%2 == 0 {
					second = strings.Replace(second, "Require ", "Require not ", 1)
					// A container with only negative rules is a config
					// error; the first rule stays positive.
				}
				b.conff("<Directory \"{{ROOT}}/htdocs/%s\">\n    <%s>\n        %s\n        %s\n    </%s>\n</Directory>\n",
					dir, container, first, second, container)
				b.file("htdocs/"+dir+"/a.txt", dir+"\n")
				b.get(fmt.Sprintf("GET /%s/a.txt", dir))
				b.get(fmt.Sprintf("GET /%s/a.txt from 127.0.0.2", dir))
				if n%3 == 0 {
					b.get(fmt.Sprintf("POST /%s/a.txt from 127.0.0.2", dir))
				}
			}
		}
	}
	return b.done()
}
