package cmd

import (
	"strings"
	"testing"

	"plume/directives"
)

// TestImplementedSpecsAgreeWithApache checks every directive a Plume
// module registers (all module packages are linked into cmd) against
// Apache's command table: same syntax, same req_override bits and the same
// help text, since all three show in Apache's error messages.
func TestImplementedSpecsAgreeWithApache(t *testing.T) {
	checked := 0
	for _, s := range directives.Specs() {
		if s.Func == nil {
			continue
		}
		rows := directives.ApacheSpecs(s.Name)
		if len(rows) == 0 {
			if !strings.HasPrefix(strings.TrimPrefix(s.Name, "<"), "Plume") {
				t.Errorf("%s (%s) is not an Apache directive; Plume's own directives are named Plume*", s.Name, s.Module)
			}
			continue
		}
		checked++
		match := false
		for _, r := range rows {
			if r.Syntax == s.Syntax && r.ReqOverride == s.ReqOverride && r.Help == s.Help && r.Name == s.Name {
				match = true
				break
			}
		}
		if !match {
			r := rows[0]
			t.Errorf("%s (%s): Plume has %s %s %q, Apache's %s has %s %s %s %q", s.Name, s.Module,
				s.Syntax, directives.OverrideString(s.ReqOverride), s.Help,
				r.Module, r.Name, r.Syntax, directives.OverrideString(r.ReqOverride), r.Help)
		}
	}
	if checked == 0 {
		t.Fatal("no Plume directive matched Apache's table: modules not linked?")
	}
}
