package walk

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plume/config"
	"plume/config/testutil/apachetest"
	"plume/parser"
)

// corpusModules are loaded on both sides so the .htaccess files of real
// projects (WordPress, Drupal, h5bp, ...) meet the modules they expect.
var corpusModules = []string{"rewrite", "headers", "expires", "mime", "deflate", "filter", "setenvif", "alias",
	"dir", "autoindex", "negotiation", "authz_host", "authn_core", "authn_file", "auth_basic", "authz_user",
	"access_compat", "env", "include"}

// corpusHtaccess lists the .htaccess files of ../shared/corpus.
func corpusHtaccess(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus")
	f, err := os.Open(filepath.Join(dir, "SOURCES.tsv"))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) >= 3 && cols[len(cols)-1] == "htaccess" {
			out = append(out, filepath.Join(dir, cols[0]))
		}
	}
	return out
}

// laterPhase500 are corpus files for which apache2 answers 500 in a phase
// after the walk (so the walk must accept them).
var laterPhase500 = map[string]string{
	"cakephp__app__.htaccess": "mod_rewrite's internal redirect limit (webroot/ does not exist in the test tree)",
}

// TestCorpusHtaccess walks a directory holding each real-world .htaccess
// under AllowOverride All, with the real parser: Plume must never panic or
// hang, and must reject exactly the files apache2 rejects (500).
func TestCorpusHtaccess(t *testing.T) {
	files := corpusHtaccess(t)
	if len(files) == 0 {
		t.Skip("no .htaccess files in the corpus")
	}
	root := makeTree(t, tree{"htdocs/": ""}, nil)
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(root, "htdocs", fmt.Sprintf("t%02d", i))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, ".htaccess"), data, 0o644)
		os.WriteFile(filepath.Join(d, "index.html"), []byte("x"), 0o644)
	}
	var mods strings.Builder
	for _, m := range append([]string{"authz_core"}, corpusModules...) {
		fmt.Fprintf(&mods, "LoadModule %s_module %s/mod_%s.so\n", m, apachetest.ModulesDir, m)
	}
	os.WriteFile(filepath.Join(root, "mime.types"), []byte("text/html html\n"), 0o644)
	body := fmt.Sprintf("TypesConfig %s/mime.types\nDocumentRoot %s/htdocs\n<Directory />\nAllowOverride All\n</Directory>\n", root, root)
	plumeConf := filepath.Join(root, "plume.conf")
	os.WriteFile(plumeConf, []byte("ServerRoot "+root+"\n"+mods.String()+body), 0o644)
	cfg, err := config.Load(plumeConf, parser.Options{ServerRoot: root})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	w := New(cfg)
	defer w.Close()
	plume := make([]int, len(files))
	for i := range files {
		uri := fmt.Sprintf("/t%02d/index.html", i)
		res := w.Walk(cfg.Main, uri, cfg.Main.DocumentRoot+uri)
		res.Close()
		plume[i] = res.Status
		if res.Status != 0 {
			t.Logf("%s: %v", filepath.Base(files[i]), res.Log)
		}
	}
	if !apachetest.Available() {
		apachetest.Require(t)
		return
	}
	var header strings.Builder
	port := apachetest.FreePort(t)
	header.WriteString(apachetest.Header(root, port))
	for _, m := range corpusModules {
		fmt.Fprintf(&header, "LoadModule %s_module %s/mod_%s.so\n", m, apachetest.ModulesDir, m)
	}
	srv := apachetest.Start(t, root, port, header.String()+body)
	agree := 0
	for i, f := range files {
		st, _ := srv.Get(t, fmt.Sprintf("/t%02d/index.html", i))
		if why, ok := laterPhase500[filepath.Base(f)]; ok && st == 500 {
			t.Logf("%s: apache2 500 from %s", filepath.Base(f), why)
			agree++
			continue
		}
		if (st == 500) != (plume[i] == 500) {
			t.Errorf("%s: apache2 %d, plume walk status %d", filepath.Base(f), st, plume[i])
		} else {
			agree++
		}
	}
	t.Logf("%d/%d corpus .htaccess files: same accept/reject verdict as apache2", agree, len(files))
}
