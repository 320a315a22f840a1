package config

import (
	"path/filepath"
	"testing"

	"plume/config/testutil/treetext"
)

// FuzzFromTree: any configuration text gives a config or an error, never a
// panic. Run on demand: go test -fuzz FuzzFromTree ./config
func FuzzFromTree(f *testing.F) {
	for _, c := range configCases {
		f.Add(c.body)
	}
	f.Add("<Directory \"\">\n</Directory>")
	f.Add("<Location \"\\\">\n</Location>")
	f.Add("Options +\nAllowOverride =\n")
	f.Add("<Limit GET GET GET>\n</Limit>")
	f.Add("<VirtualHost [::1]:80 [bad *:0>\n</VirtualHost>")
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		tree, err := treetext.Tree(filepath.Join(root, "f.conf"), body, root)
		if err != nil {
			return
		}
		_, _ = FromTree(tree)
	})
}
