package server

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"plume/config"
	"plume/directives"
	"plume/parser"
)

// TestDirectiveErrors compares the message for bad arguments with
// apache2 -t's.
func TestDirectiveErrors(t *testing.T) {
	needApache(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "t.conf")
	pre := "ServerRoot " + dir + "\nErrorLog " + dir + "/e.log\nPidFile " + dir + "/pid\n" +
		"LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n" +
		"LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so\n" +
		"LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n" +
		"LoadModule autoindex_module /usr/lib/apache2/modules/mod_autoindex.so\n" +
		"LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so\n"
	os.WriteFile(conf, []byte(pre), 0o644)
	lines := []string{
		"FileETag Bogus", "FileETag INode -Size", "AcceptPathInfo x", "ServerSignature x", "ServerTokens x",
		"AddDefaultCharset", "ErrorDocument 999 x", "ErrorDocument 404", "ErrorDocument 200 /x",
		"KeepAlive x", "LogLevel foo", "LogLevel core:foo", "LogLevel nomod:info", "LogLevel info mime:debug",
		"AllowEncodedSlashes x", "LimitRequestBody x", "LimitRequestBody -1", "EnableSendfile x",
		"KeepAliveTimeout x", "UseCanonicalName x", "ForceType", "User a b", "PidFile", "ErrorLog",
		"AddType text/plain", "MultiviewsMatch bogus", "DirectorySlash maybe", "IndexOptions Bogus",
		"IndexOptions NameWidth=2", "IndexOrderDefault Up Name", "Redirect", "Redirect /a b",
		"Redirect gone /a http://x/", "Redirect 301 /a", "RedirectMatch (( http://x/", "AliasMatch",
		"LogFormat", "CustomLog x", "DirectoryIndex", "DirectoryIndex disabled x", "Timeout 5", "Timeout x", "Timeout 5ms",
		"KeepAliveTimeout 100ms", "KeepAliveTimeout 5x", "TraceEnable x", "TraceEnable", "Alias /a /b /c",
		"<Directory /x>\nServerTokens Prod\n</Directory>", "<VirtualHost *>\nUser x\n</VirtualHost>",
		"<Directory /x>\nTimeout 3\n</Directory>", "<Directory /x>\nTypesConfig x\n</Directory>",
		"<Directory /x>\nAliasMatch a b\n</Directory>", "Alias /x", "<Directory /x>\nAlias /y\n</Directory>",
		"<Directory /x>\nAlias /y /z\n</Directory>", "<Location /l>\nAlias /y /z\n</Location>", "<Location /l>\nAlias /y\n</Location>", "<Directory /x>\nCustomLog a b\n</Directory>",
	}
	for _, line := range lines {
		cmd := exec.Command(apacheBin, "-t", "-f", conf, "-C", "ServerName x")
		for _, l := range strings.Split(line, "\n") {
			cmd.Args = append(cmd.Args, "-c", l)
		}
		out, _ := cmd.CombinedOutput()
		want := apacheMessage(string(out))
		_, err := config.Load(conf, parser.Options{
			Pre:     []string{"ServerName x"},
			Post:    strings.Split(line, "\n"),
			Builtin: func(n string) bool { _, ok := directives.Implemented(n); return ok },
		})
		got := "Syntax OK"
		var pe *parser.Error
		if errors.As(err, &pe) {
			got = pe.Msg
		} else if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%q:\napache: %s\nplume:  %s", line, want, got)
		}
	}
}

// apacheMessage extracts the message of an AH00526 error (or "Syntax OK").
func apacheMessage(out string) string {
	ls := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range ls {
		if strings.HasPrefix(l, "AH00526:") && i+1 < len(ls) {
			return ls[i+1]
		}
		if strings.Contains(l, "Syntax error on line") {
			return l[strings.LastIndex(l, ": ")+2:]
		}
	}
	if strings.Contains(out, "Syntax OK") {
		return "Syntax OK"
	}
	return strings.TrimSpace(out)
}
