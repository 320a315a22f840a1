package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CorpusModules is the broad module set corpus cases load: most of what
// Debian ships that loads without further configuration, so that real
// configurations meet the directives they were written for.
var CorpusModules = strings.Fields(`access_compat actions alias allowmethods asis auth_basic auth_digest
	authn_anon authn_core authn_file authz_core authz_groupfile authz_host authz_owner authz_user autoindex
	brotli cgi data deflate dir env expires ext_filter filter headers http2 include info macro mime
	negotiation proxy proxy_fcgi proxy_http proxy_wstunnel ratelimit remoteip reqtimeout request rewrite
	setenvif socache_shmcb ssl status substitute unique_id userdir usertrack speling vhost_alias session
	session_cookie`)

// CorpusCases turns the shared corpus of real-world configurations (read
// at test time from dir, never copied into the repository) into cases of
// area "corpus": .htaccess files are served from a document root with
// AllowOverride All; every other file is config-tested as an Include at
// server level. Apache's verdict, whatever it is, is the expected one.
// It returns nil when the corpus is absent.
func CorpusCases(dir string) ([]*Case, error) {
	index, err := os.ReadFile(filepath.Join(dir, "SOURCES.tsv"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Case
	for i, line := range strings.Split(string(index), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 3 {
			continue
		}
		file, kind := f[0], f[2]
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", file, err)
		}
		name := "corpus/" + strings.NewReplacer("/", "-", "__", "-").Replace(file)
		c := &Case{Name: name, Area: "corpus", Description: "corpus " + kind + ": " + file, Modules: CorpusModules}
		if kind == "htaccess" {
			c.Files = []archiveFile{
				{Name: "httpd.conf", Data: "DocumentRoot \"{{ROOT}}/htdocs\"\n<Directory \"{{ROOT}}/htdocs\">\n    AllowOverride All\n    Require all granted\n</Directory>\n"},
				{Name: "htdocs/.htaccess", Data: string(data)},
				{Name: "htdocs/index.html", Data: "<p>index</p>\n"},
				{Name: "htdocs/style.css", Data: "p{}\n"},
				{Name: "htdocs/sub/page.html", Data: "<p>page</p>\n"},
			}
			for _, r := range []string{"GET /", "GET /index.html", "GET /style.css", "GET /sub/", "GET /sub/page.html",
				"GET /missing/route?q=1", "GET /.htaccess", "HEAD /index.html", "POST /index.html"} {
				req, _ := ParseRequestLine(r)
				req.Line = len(c.Requests) + 1
				c.Requests = append(c.Requests, req)
			}
		} else {
			c.Files = []archiveFile{
				{Name: "httpd.conf", Data: "Include \"{{ROOT}}/corpus.conf\"\n"},
				{Name: "corpus.conf", Data: string(data)},
			}
		}
		out = append(out, c)
	}
	return out, nil
}
