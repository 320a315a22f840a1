package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"plume/directives"
)

func TestHTTPDFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	bad := filepath.Join(dir, "bad.conf")
	// Without an ErrorLog the main error log is ServerRoot's logs/error_log,
	// and Apache's check_config fails when /etc/apache2/logs is missing.
	if err := os.WriteFile(good, []byte("ServerName localhost\nErrorLog /dev/stderr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("ServerName localhost\nBogus\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withRewrite := filepath.Join(dir, "rewrite.conf")
	if err := os.WriteFile(withRewrite, []byte("LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so\nErrorLog /dev/stderr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// check_config fails: the main error log's directory does not exist.
	badLog := filepath.Join(dir, "badlog.conf")
	if err := os.WriteFile(badLog, []byte("ServerName localhost\nErrorLog "+dir+"/nodir/error.log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want *regexp.Regexp
	}{
		{"-t post-config check", []string{"-t", "-f", badLog}, 1,
			regexp.MustCompile(`^\(2\)No such file or directory: AH02291: Cannot access directory '.*/nodir/' for main error log\nAH00014: Configuration check failed\n$`)},
		{"-S prints the vhosts before the check", []string{"-S", "-f", badLog}, 1,
			regexp.MustCompile(`^VirtualHost configuration:\n\(2\)No such file or directory: AH02291: .*\nAH00014: Configuration check failed\n$`)},
		{"-M post-config check", []string{"-M", "-f", badLog}, 1, regexp.MustCompile(`^\(2\)No such file or directory: AH02291: `)},
		{"dump does not run the check", []string{"dump", "-f", badLog}, 0, regexp.MustCompile(`ErrorLog`)},
		{"-v", []string{"-v"}, 0, regexp.MustCompile(`^Server version: Apache/2\.4\.71 \(Plume\)\nServer built:   .+\nPlume version:  `)},
		{"-V", []string{"-V"}, 0, regexp.MustCompile(`(?s)Server MPM: .* -D HTTPD_ROOT="/etc/apache2"\n -D DEFAULT_PIDLOG=.* -D SERVER_CONFIG_FILE="apache2.conf"\n$`)},
		{"-l", []string{"-l"}, 0, regexp.MustCompile(`^Compiled in modules:\n(  \S+\n)*$`)},
		{"-t ok", []string{"-t", "-f", good}, 0, regexp.MustCompile(`^Syntax OK\n$`)},
		{"-t combined -f", []string{"-t", "-f" + good}, 0, regexp.MustCompile(`^Syntax OK\n$`)},
		{"-t bad", []string{"-t", "-f", bad}, 1, regexp.MustCompile(`^AH00526: Syntax error on line 2 of .*bad.conf:\nInvalid command 'Bogus', perhaps misspelled`)},
		{"configtest bad", []string{"configtest", "-f", bad}, 1, regexp.MustCompile(`^AH00526: Syntax error on line 2 of `)},
		{"-D attached", []string{"-t", "-DFOO", "-f", good}, 0, regexp.MustCompile(`^Syntax OK\n$`)},
		{"-e and -k start accepted with -t", []string{"-t", "-e", "debug", "-k", "start", "-f", good}, 0, regexp.MustCompile(`^Syntax OK\n$`)},
		{"-k stop refused", []string{"-k", "stop", "-f", good}, 1, regexp.MustCompile(`-k stop is not supported`)},
		{"missing file", []string{"-t", "-f", filepath.Join(dir, "nope.conf")}, 1, regexp.MustCompile(`nope.conf`)},
		{"-M", []string{"-M", "-f", good}, 0, regexp.MustCompile(`^Loaded Modules:\n( \S+ \((static|shared)\)\n)*$`)},
		{"-M lists a loaded module Plume does not implement as shared", []string{"-M", "-f", withRewrite}, 0,
			regexp.MustCompile(`(?s)^Loaded Modules:\n.* rewrite_module \(shared\)\n$`)},
		{"-t -D DUMP_MODULES", []string{"-t", "-D", "DUMP_MODULES", "-f", withRewrite}, 0,
			regexp.MustCompile(`(?s)^Loaded Modules:\n.* rewrite_module \(shared\)\nSyntax OK\n$`)},
		{"-S", []string{"-S", "-f", good}, 0, regexp.MustCompile(`^VirtualHost configuration:\nServerRoot: .*\nMain DocumentRoot: .*\nDefine: DUMP_VHOSTS\nDefine: DUMP_RUN_CFG\n$`)},
		{"unknown flag", []string{"-Q"}, 1, regexp.MustCompile(`unknown shorthand flag: 'Q'`)},
		{"dump", []string{"dump", "-f", good}, 0, regexp.MustCompile(`(?s)^\S*good.conf:1: ServerName localhost\n\S*good.conf:2: ErrorLog /dev/stderr\n\nVirtualHost configuration:\n`)},
		{"dump --json", []string{"dump", "--json", "-f", good}, 0, regexp.MustCompile(`(?s)"tree": \[\s*\{\s*"name": "ServerName",\s*"args": "localhost"`)},
		{"dump bad", []string{"dump", "-f", bad}, 1, regexp.MustCompile(`Invalid command 'Bogus'`)},
		{"no args shows help", []string{}, 0, regexp.MustCompile(`httpd's own command line`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runPlume(tc.args)
			if code != tc.code || !tc.want.MatchString(out) {
				t.Errorf("plume %v: exit %d, output:\n%s\nwant exit %d matching %s", tc.args, code, out, tc.code, tc.want)
			}
		})
	}
}

func TestConfigtestJSON(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "x.conf")
	data := "ServerName localhost\nLoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so\nRewriteEngine On\nBogus\n"
	// Where the main error log can be written (check_config's AH02291).
	args := []string{"-C", "ErrorLog /dev/stderr"}
	if err := os.WriteFile(conf, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runPlume(append([]string{"configtest", "--json", "-f", conf}, args...))
	var v jsonVerdict
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 1 || v.OK || len(v.Errors) != 1 || v.Errors[0].Line != 4 ||
		!strings.HasPrefix(v.Errors[0].Message, "Invalid command 'Bogus'") {
		t.Fatalf("exit %d verdict %+v", code, v)
	}
	if err := os.WriteFile(conf, []byte(data[:len(data)-len("Bogus\n")]), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = runPlume(append([]string{"configtest", "--json", "-f", conf}, args...))
	v = jsonVerdict{}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 0 || !v.OK || v.Unsupported["mod_rewrite"] != 1 || len(v.Warnings) != 1 || v.Warnings[0].Line != 3 ||
		v.Summary != "1 directive of 1 module will not carry over: mod_rewrite (1)" {
		t.Fatalf("exit %d verdict %+v", code, v)
	}
}

func TestDelegateToServe(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "x.conf")
	if err := os.WriteFile(conf, []byte("ServerName localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A stand-in serve command records what it was given.
	var gotFile string
	var gotDefines []string
	root := NewRoot()
	for _, c := range root.Commands() {
		if c.Name() == "serve" {
			root.RemoveCommand(c)
		}
	}
	fake := &cobra.Command{Use: "serve", RunE: func(c *cobra.Command, args []string) error {
		gotFile, _ = c.Flags().GetString("config")
		gotDefines, _ = c.Flags().GetStringArray("define")
		return nil
	}}
	o := &httpdOptions{}
	addConfigFlags(fake.Flags(), o)
	root.AddCommand(fake)
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	if code := run(root, []string{"-f", conf, "-DFOREGROUND", "-D", "X", "-k", "start"}, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if gotFile != conf || strings.Join(gotDefines, ",") != "FOREGROUND,X" {
		t.Fatalf("serve got -f %q -D %v", gotFile, gotDefines)
	}
}

func TestCarryOverSummaryText(t *testing.T) {
	tests := []struct {
		mods []string
		want string
	}{
		{nil, ""},
		{[]string{"rewrite_module"}, "1 directive of 1 module will not carry over: mod_rewrite (1)"},
		{[]string{"ssl_module", "rewrite_module", "rewrite_module", "security2_module"},
			"4 directives of 3 modules will not carry over: mod_rewrite (2), mod_security2 (1), mod_ssl (1)"},
	}
	for _, tc := range tests {
		var list []directives.IgnoredDirective
		for _, m := range tc.mods {
			list = append(list, directives.IgnoredDirective{Module: m})
		}
		if got := carryOverSummary(list); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.mods, got, tc.want)
		}
	}
}

// TestServeLoadWarnings: serve reports a configuration's warnings once, when
// it loads it (startup, reload), as Apache does while reading, with the
// summary of what will not carry over; never per request.
func TestServeLoadWarnings(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "w.conf")
	data := "ServerName localhost\nErrorLog /dev/stderr\nLoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\nHeader set X y\n"
	if err := os.WriteFile(conf, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	res := load(&httpdOptions{File: conf})
	if res.postConfig(); res.Err != nil {
		t.Fatal(res.Err)
	}
	var out strings.Builder
	printLoadWarnings(&out, res)
	want := regexp.MustCompile(`^\[[^]]+\] \[plume:warn\] \[pid \d+:tid \d+\] \S+w\.conf:4: Header \(headers_module\) is not supported by Plume: ignored\n` +
		`1 directive of 1 module will not carry over: mod_headers \(1\)\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("got:\n%s", out.String())
	}
}
