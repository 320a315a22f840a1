// Package confd is Plume's embedded default configuration: a small,
// commented httpd.conf in Apache's syntax, the extra/*.conf files it
// includes, and a demo site (htdocs/). `plume serve` with no -f unpacks it
// to a temporary ServerRoot and runs it on 127.0.0.1:8080.
package confd

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed httpd.conf extra htdocs
var files embed.FS

// FS returns the embedded tree (httpd.conf, extra/, htdocs/).
func FS() fs.FS { return files }

// Unpack writes the embedded tree to a new temporary directory, readable
// by the unprivileged user Plume switches to when started as root, and
// returns the path of its httpd.conf (which defines PLUME_ROOT as that
// directory) and a function that removes the directory.
func Unpack() (conf string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "plume-default-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		if p == "httpd.conf" {
			data = []byte(strings.Replace(string(data), "@PLUME_ROOT@", dir, 1))
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return filepath.Join(dir, "httpd.conf"), cleanup, nil
}
