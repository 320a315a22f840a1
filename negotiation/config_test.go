package negotiation

import (
	"strings"
	"testing"

	"plume/directives"
	"plume/parser"
)

func newTestCmd(path string) *directives.Cmd {
	return &directives.Cmd{
		Override: directives.OrAll | directives.AccessConf | directives.RsrcConf,
		Path:     path,
		Limited:  directives.LimitAll,
		Server:   &directives.Server{Config: directives.NewVector(), Defaults: directives.NewVector()},
		Dir:      directives.NewVector(),
	}
}

func TestDirectives(t *testing.T) {
	tests := []struct {
		lines   []string
		force   int
		prio    []string
		wantErr string
	}{
		{lines: []string{"LanguagePriority en fr", "LanguagePriority de"}, prio: []string{"en", "fr", "de"}},
		{lines: []string{"ForceLanguagePriority Prefer Fallback"}, force: ForcePrefer | ForceFallback},
		{lines: []string{"ForceLanguagePriority none"}, force: ForceNone},
		{lines: []string{"ForceLanguagePriority None None"}, force: ForceNone},
		{lines: []string{"ForceLanguagePriority Prefer None"}, wantErr: "Cannot combine ForceLanguagePriority options with None"},
		{lines: []string{"ForceLanguagePriority None Prefer"}, wantErr: "Cannot combine ForceLanguagePriority options None and Prefer"},
		{lines: []string{"ForceLanguagePriority None Fallback"}, wantErr: "Cannot combine ForceLanguagePriority options None and Fallback"},
		{lines: []string{"ForceLanguagePriority Sometimes"}, wantErr: "Invalid ForceLanguagePriority option Sometimes"},
		{lines: []string{"ForceLanguagePriority"}, wantErr: "ForceLanguagePriority requires at least one argument, Force LanguagePriority elections, either None, or Fallback and/or Prefer"},
		{lines: []string{"LanguagePriority"}, wantErr: "LanguagePriority requires at least one argument, space-delimited list of MIME language abbreviations"},
		{lines: []string{"CacheNegotiatedDocs maybe"}, wantErr: "CacheNegotiatedDocs must be On or Off"},
	}
	for _, tt := range tests {
		cmd := newTestCmd("/x")
		var err error
		for _, l := range tt.lines {
			name, args, _ := strings.Cut(l, " ")
			if err = directives.Walk([]*parser.Node{{Name: name, Args: args}}, cmd); err != nil {
				break
			}
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.lines, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.lines, err)
			continue
		}
		d := cmd.Dir.Get(Module).(*DirConfig)
		if d.ForceLanguagePriority != tt.force || strings.Join(d.LanguagePriority, " ") != strings.Join(tt.prio, " ") {
			t.Errorf("%q: got %+v", tt.lines, d)
		}
	}
}

func TestDirectiveContexts(t *testing.T) {
	// CacheNegotiatedDocs is server-only; the others are FileInfo.
	cmd := newTestCmd("/x")
	cmd.Override = directives.OrFileInfo
	if err := directives.Walk([]*parser.Node{{Name: "CacheNegotiatedDocs", Args: "On"}}, cmd); err == nil ||
		!strings.Contains(err.Error(), "CacheNegotiatedDocs not allowed here") {
		t.Errorf("CacheNegotiatedDocs in FileInfo context: %v", err)
	}
	cmd.Override = directives.OrIndexes
	if err := directives.Walk([]*parser.Node{{Name: "LanguagePriority", Args: "en"}}, cmd); err == nil {
		t.Error("LanguagePriority allowed without FileInfo")
	}
	// On then Off leaves the slot unset, so a virtual host inherits.
	srv := newTestCmd("")
	for _, a := range []string{"On", "off"} {
		if err := directives.Walk([]*parser.Node{{Name: "CacheNegotiatedDocs", Args: a}}, srv); err != nil {
			t.Fatal(err)
		}
	}
	if cacheNegotiatedDocs(srv.Server) {
		t.Error("CacheNegotiatedDocs Off did not clear")
	}
	directives.Walk([]*parser.Node{{Name: "CacheNegotiatedDocs", Args: "on"}}, srv)
	if !cacheNegotiatedDocs(srv.Server) {
		t.Error("CacheNegotiatedDocs On not set")
	}
}

func TestMergeDir(t *testing.T) {
	base := &DirConfig{ForceLanguagePriority: ForceFallback, LanguagePriority: []string{"en"}}
	got := mergeDir(base, &DirConfig{}).(*DirConfig)
	if got.ForceLanguagePriority != ForceFallback || len(got.LanguagePriority) != 1 {
		t.Errorf("empty child: %+v", got)
	}
	got = mergeDir(base, &DirConfig{ForceLanguagePriority: ForceNone, LanguagePriority: []string{"fr", "de"}}).(*DirConfig)
	if got.ForceLanguagePriority != ForceNone || strings.Join(got.LanguagePriority, ",") != "fr,de" {
		t.Errorf("child replaces: %+v", got)
	}
}
