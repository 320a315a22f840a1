package parser

import (
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// randomLines are the pieces random configurations are made of: valid
// directives, sections and their closers in every wrong way, conditionals
// true and false, continuations, comments and variables.
var randomLines = []string{
	"Options None", "AddDefaultCharset Off", "FileETag None", "  Options \"None\"",
	"<Directory /x>", "</Directory>", "<Files a>", "</Files>", "</Directory", "</Files> junk",
	"<Location />", "</Location>", "<directory /y>", "</DIRECTORY>",
	"<IfModule mod_so.c>", "<IfModule !mod_so.c>", "<IfModule nope_module>", "</IfModule>",
	"</IfModule> x", "</ifmodule>", "</IfModule >",
	"<IfDefine X>", "<IfDefine !X>", "</IfDefine>", "Define X", "UnDefine X", "Define Y None",
	"<IfVersion >= 2.4>", "<IfVersion < 2>", "</IfVersion>",
	"# comment \\", "  # c", "", "Options None\\", "Options \\", "AddDefaultCharset \"Off\\",
	"Options ${Y}", "Options ${UNDEF}", "FileETag ${Y}",
	"Include inc.conf", "IncludeOptional nope/*.conf", "IncludeOptional inc*.conf", "Include i[n]c.conf",
	"<IfFile inc.conf>", "<IfFile !nope>", "</IfFile>", "<IfVersion 2.4.71>", "<IfSection Directory>", "</IfSection>",
	"Define Z Options", "${Z} None", "<IfModule \"mod_so.c\">", "\"\" ignored", "<IfDefine>", "<Files>", "</>",
}

func randomConfig(r *rand.Rand, lines int) string {
	var b strings.Builder
	for i := 0; i < lines; i++ {
		b.WriteString(randomLines[r.Intn(len(randomLines))])
		if r.Intn(6) == 0 {
			b.WriteString("\r")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// randomSections are openers with the closers Apache accepts for them.
var randomSections = []struct {
	open    string
	closers []string
}{
	{"<Directory /x>", []string{"</Directory>", "</directory>", "</Directory> trailing"}},
	{"<Files \"a b\">", []string{"</Files>", "</FILES>"}},
	{"<Location />", []string{"</Location>"}},
	{"<IfModule mod_so.c>", []string{"</IfModule>", "</ifmodule>"}},
	{"<IfModule !mod_so.c>", []string{"</IfModule>", "</IfModule> x", "</IfModule >"}},
	{"<IfModule nope_module>", []string{"</IfModule>", "</IFMODULE>"}},
	{"<IfDefine X>", []string{"</IfDefine>"}},
	{"<IfDefine !X>", []string{"</IfDefine>"}},
	{"<IfVersion >= 2.4>", []string{"</IfVersion>"}},
	{"<IfVersion ~ ^1>", []string{"</IfVersion>"}},
	{"<IfFile inc.conf>", []string{"</IfFile>"}},
	{"<IfSection Files>", []string{"</IfSection>"}},
	{"<IfDirective !Options>", []string{"</IfDirective>"}},
}

// randomBalanced writes mostly well-formed nested sections, with an
// occasional stray line from randomLines.
func randomBalanced(r *rand.Rand, b *strings.Builder, depth, budget int) {
	for i := 0; i < budget; i++ {
		switch k := r.Intn(10); {
		case k < 3 && depth < 4:
			sec := randomSections[r.Intn(len(randomSections))]
			b.WriteString(sec.open + "\n")
			randomBalanced(r, b, depth+1, r.Intn(4))
			if r.Intn(12) != 0 { // sometimes left open
				b.WriteString(sec.closers[r.Intn(len(sec.closers))] + "\n")
			}
		case k < 4:
			b.WriteString(randomLines[r.Intn(len(randomLines))] + "\n")
		default:
			b.WriteString([]string{"Options None", "AddDefaultCharset Off", "FileETag None", "Define X", "UnDefine X",
				"Options ${Y}", "Include inc.conf", "Options Indexes \\\n  FollowSymLinks"}[r.Intn(8)] + "\n")
		}
	}
}

// TestRandomAgainstApache compares apache2 -t with Load on random
// configurations built from randomLines (a fixed seed, so failures
// reproduce; PLUME_PARSER_RANDOM=N runs N cases instead of 120 and
// PLUME_PARSER_SEED=S changes the seed).
func TestRandomAgainstApache(t *testing.T) {
	bin := requireApache(t)
	n := 120
	if s := os.Getenv("PLUME_PARSER_RANDOM"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	canonical := apacheCanonical(t, bin)
	seed := int64(20261125)
	if s := os.Getenv("PLUME_PARSER_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	r := rand.New(rand.NewSource(seed))
	var readErrors, walkErrors, trees int
	defer func() {
		t.Logf("%d random configurations: %d read errors, %d refused by the walker, %d trees compared", n, readErrors, walkErrors, trees)
	}()
	for i := 0; i < n; i++ {
		main := randomConfig(r, 3+r.Intn(10))
		inc := randomConfig(r, r.Intn(5))
		if i%3 != 0 {
			var b strings.Builder
			randomBalanced(r, &b, 0, 2+r.Intn(6))
			main = b.String()
			b.Reset()
			randomBalanced(r, &b, 0, r.Intn(3))
			inc = b.String()
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "httpd.conf"), []byte(main), 0o644)
			os.WriteFile(filepath.Join(dir, "inc.conf"), []byte(inc), 0o644)
			c := &goldenCase{name: "random", env: map[string]string{}}
			pre := apachePreamble(dir)
			res := runApache(t, bin, dir, c, pre)
			tree, err := Load("httpd.conf", Options{ServerRoot: dir, Pre: pre, CanonicalName: canonical,
				KnownDirective: func(n string) bool { c := canonical(n); return c != "" && c[0] != '<' },
				KnownSection:   func(n string) bool { return canonical("<"+n) != "" },
				Getenv:         func(string) (string, bool) { return "", false }})
			want := apacheError(res.stderr)
			if err != nil {
				readErrors++
				if got := err.(*Error).Format("apache2"); got != want {
					t.Errorf("httpd.conf:\n%s\ninc.conf:\n%s\n plume: %q\napache: %q", main, inc, got, want)
				}
				return
			}
			if want != "" {
				t.Errorf("httpd.conf:\n%s\ninc.conf:\n%s\nplume reads it, apache2 stops: %q", main, inc, want)
				return
			}
			if !res.ok {
				walkErrors++
				return // refused by Apache's directive walker, not while reading
			}
			trees++
			var b strings.Builder
			last := ""
			dumpLikeModInfo(&b, tree.Root.Children, 0, &last)
			if b.String() != res.stdout {
				t.Errorf("httpd.conf:\n%s\ninc.conf:\n%s\ntree differs:\n--- plume\n%s--- apache2\n%s", main, inc, b.String(), res.stdout)
			}
		})
	}
}
