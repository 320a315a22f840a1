package confd

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnpack(t *testing.T) {
	conf, cleanup, err := Unpack()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(conf)
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `Define PLUME_ROOT "`+dir+`"`) || strings.Contains(string(b), "@PLUME_ROOT@") {
		t.Errorf("PLUME_ROOT not set to %s:\n%s", dir, b)
	}
	// Everything must be readable by the unprivileged User.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		if fi.Mode().Perm()&0o004 == 0 || (d.IsDir() && fi.Mode().Perm()&0o001 == 0) {
			t.Errorf("%s is not world-readable: %v", p, fi.Mode())
		}
		return nil
	})
	for _, f := range []string{"htdocs/index.html", "extra/listing.conf", "htdocs/docs/index.html.fr"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s", dir)
	}
}
