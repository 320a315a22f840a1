package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTableMatchesInstalledHttpd regenerates the table from the installed
// apache2 and its modules and compares it with the embedded copy, so the
// table cannot drift from the oracle.
func TestTableMatchesInstalledHttpd(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/apache2"); err != nil {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatal("PLUME_REQUIRE_APACHE=1 but /usr/sbin/apache2 is missing")
		}
		t.Skip("no /usr/sbin/apache2")
	}
	var buf bytes.Buffer
	if err := generate(&buf, "/usr/sbin/apache2", "/usr/lib/apache2/modules", "thirdparty.tsv"); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../apache-modules.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatal("directives/apache-modules.tsv is stale: run go run ./directives/internal/genmodules > directives/apache-modules.tsv")
	}
	if bytes.Count(want, []byte("\n")) < 800 {
		t.Fatalf("table suspiciously short")
	}
}
