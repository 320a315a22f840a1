package parser

import (
	"os"
	"testing"
)

// BenchmarkParseDebian reads Debian's stock /etc/apache2/apache2.conf tree
// with the variables of /etc/apache2/envvars, as apache2ctl would.
func BenchmarkParseDebian(b *testing.B) {
	if _, err := os.Stat("/etc/apache2/apache2.conf"); err != nil {
		b.Skip("no /etc/apache2")
	}
	env, err := LoadEnvvars("/etc/apache2/envvars")
	if err != nil {
		b.Fatal(err)
	}
	// apache2ctl creates the run directory, which DefaultRuntimeDir needs
	// while reading; here it is a temporary one.
	env["APACHE_RUN_DIR"] = b.TempDir()
	opts := Options{ServerRoot: "/etc/apache2", Getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	tree, err := Load("apache2.conf", opts)
	if err != nil {
		b.Fatal(err)
	}
	nodes := 0
	var count func([]*Node)
	count = func(ns []*Node) {
		for _, n := range ns {
			nodes++
			count(n.Children)
		}
	}
	count(tree.Root.Children)
	if len(tree.Warnings) != 0 {
		b.Fatalf("warnings: %v", tree.Warnings)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Load("apache2.conf", opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tree.Files)), "files")
	b.ReportMetric(float64(nodes), "nodes")
}

// BenchmarkParseHtaccess is a typical WordPress-style .htaccess.
func BenchmarkParseHtaccess(b *testing.B) {
	data := []byte(`# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteBase /
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
Options -Indexes
<Files wp-config.php>
Require all denied
</Files>
`)
	tree := &Tree{Loaded: map[string]bool{"mod_rewrite.c": true}}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseHtaccess("/srv/www/.htaccess", data, tree, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
