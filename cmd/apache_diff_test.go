package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"plume/directives"
)

// corpusDir holds real-world configurations (read at test time, never
// copied into the repository).
const corpusDir = "../../shared/corpus"

// allModulesPreamble loads every module Debian ships (one MPM), so that a
// corpus file's directives are known to Apache whatever modules it needs.
func allModulesPreamble(dir string) (string, error) {
	so, err := filepath.Glob("/usr/lib/apache2/modules/mod_*.so")
	if err != nil {
		return "", err
	}
	sort.Strings(so)
	var b strings.Builder
	fmt.Fprintf(&b, "ServerName localhost\nErrorLog %s/error.log\nPidFile %s/pid\n", dir, dir)
	for _, f := range so {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "mod_"), ".so")
		if name == "mpm_prefork" || name == "mpm_worker" {
			continue
		}
		fmt.Fprintf(&b, "LoadModule %s_module %s\n", name, f)
	}
	return b.String(), nil
}

var (
	apacheErrorAt = regexp.MustCompile(`(?m)^AH00526: Syntax error on line (\d+) of (\S+):\n(.*)$`)
	structuralErr = regexp.MustCompile(`(?m)^\$ARGV0: Syntax error .*$`)
	apacheWarning = regexp.MustCompile(`(?m)^(\[\$TIME\] \[\w+:warn\] \[pid \$PID\] )?AH\d{5}: .*$`)
)

// directiveAt returns the first word of a configuration line.
func directiveAt(file string, line int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	f := strings.Fields(lines[line-1])
	if len(f) == 0 {
		return ""
	}
	return strings.TrimSuffix(f[0], ">")
}

// ignoredByPlume reports whether Plume accepts the directive without
// implementing it (so it cannot run the module's own checks).
func ignoredByPlume(name string) bool {
	if _, ok := directives.Registered(name); ok {
		return false
	}
	return len(directives.ApacheSpecs(name)) > 0
}

// compareWithApache runs one configuration through both. The directive
// walk (names, contexts, arity, and every handler Plume implements) must
// agree with Apache: the same verdict and the same error. Differences that
// belong to checks Plume does not make are returned (the kind of
// difference; "" when the outputs are equal), for the caller's list of
// known exceptions:
//   - Apache rejects a directive of a module Plume ignores (its handler
//     checks more, e.g. that the suexec binary exists);
//   - Apache's post-configuration checks of modules Plume lacks (AH00014);
//   - LoadModule's own failures (a missing .so).
func compareWithApache(t *testing.T, apache string, args []string, dir string) (known string) {
	t.Helper()
	out, code := runPlume(append([]string{"configtest"}, args...))
	ours := fmt.Sprintf("exit %d\n%s", code, normalise(out, dir))
	aout, acode := runApache(t, apache, append([]string{"-t"}, args...))
	theirs := fmt.Sprintf("exit %d\n%s", acode, normalise(aout, dir))
	if apacheLines(ours) == theirs {
		return ""
	}
	disagree := func(why string) {
		t.Errorf("%s\nplume:\n%s\napache2:\n%s", why, apacheLines(ours), theirs)
	}
	defer func() {
		if known != "" {
			t.Logf("known difference (%s):\nplume:\n%s\napache2:\n%s", known, apacheLines(ours), theirs)
		}
	}()
	switch {
	case acode == 0 && code != 0:
		disagree("plume rejects a configuration apache2 accepts")
	case acode != 0:
		if m := apacheErrorAt.FindStringSubmatch(theirs); m != nil {
			line, _ := strconv.Atoi(m[1])
			if name := directiveAt(m[2], line); ignoredByPlume(name) {
				return "apache2's " + name + " handler rejects it; Plume ignores " + name
			}
			if !strings.Contains(ours, m[0]) {
				disagree("a different directive error")
			}
			return ""
		}
		if m := structuralErr.FindString(theirs); m != "" {
			if strings.Contains(m, "Cannot load ") || strings.Contains(m, "built-in and can't be loaded") {
				return "LoadModule of a module file"
			}
			if !strings.Contains(ours, m) {
				disagree("a different structural error")
			}
			return ""
		}
		if strings.Contains(theirs, "AH00014: Configuration check failed") {
			return "post-configuration check"
		}
		disagree("apache2 fails in a way this test does not know")
	default:
		// Both accept: every Apache warning Plume prints must be one
		// Apache prints; warnings only Apache prints are logged.
		want := map[string]bool{}
		for _, w := range apacheWarning.FindAllString(theirs, -1) {
			want[w] = true
		}
		for _, w := range apacheWarning.FindAllString(apacheLines(ours), -1) {
			if !want[w] {
				disagree("plume prints a warning apache2 does not: " + w)
				return ""
			}
		}
		return "warnings only apache2 prints"
	}
	return ""
}

// corpusExceptions are the corpus configurations whose configtest verdict
// still differs from apache2's, each with the reason; every other corpus
// file must get Apache's verdict, and a listed file that agrees again
// fails the test until it is removed from the list. (File names below
// the corpus's github/ directory.)
var corpusExceptions = map[string]string{
	// Checks made by handlers of modules Plume does not implement (it
	// accepts their directives with a warning and cannot run the checks).
	"ClementBoudon__Apache-vhosts__vhosts.d__includes__default.conf":                                                                          "mod_rewrite's RewriteMap opens its map file",
	"DelfiSpace__apache2-secure__001-default-ssl.conf":                                                                                        "mod_ssl's SSLCertificateFile checks the file",
	"gitlabhq__gitlab-recipes__web-server__apache__gitlab-omnibus-ssl-apache24.conf":                                                          "mod_ssl's SSLCertificateFile checks the file",
	"h5bp__server-configs-apache__h5bp__tls__certificate_files.conf":                                                                          "mod_ssl's SSLCertificateFile checks the file",
	"zabbix__zabbix-docker__Dockerfiles__web-apache-mysql__alpine__conf__etc__zabbix__apache_ssl.conf":                                        "mod_ssl's SSLCertificateFile checks the file",
	"certbot__certbot__certbot__src__certbot___internal__tests__plugins__apache__testdata__centos7_apache__apache__httpd__conf.d__ssl.conf":   "mod_ssl's SSLPassPhraseDialog checks the program",
	"certbot__certbot__certbot__src__certbot___internal__tests__plugins__apache__apache-conf-files__failing__multivhost-1093.conf":            "mod_suexec's SuexecUserGroup needs the suexec binary",
	"certbot__certbot__certbot__src__certbot___internal__tests__plugins__apache__apache-conf-files__failing__multivhost-1093b.conf":           "mod_suexec's SuexecUserGroup needs the suexec binary",
	"certbot__certbot__certbot__src__certbot___internal__tests__plugins__apache__apache-conf-files__passing__section-continuations-2525.conf": "mod_remoteip's RemoteIPInternalProxy parses its addresses",
	// Plume loads no shared objects, so configtest does not require the
	// .so files a configuration names (parser.Options.CheckModuleFiles).
	"certbot__certbot__certbot__src__certbot___internal__tests__plugins__apache__testdata__centos7_apache__apache__httpd__conf.modules.d__00-mpm.conf":     "LoadModule of a .so not installed here",
	"certbot__certbot__certbot__src__certbot___internal__tests__plugins__apache__testdata__centos7_apache__apache__httpd__conf.modules.d__00-systemd.conf": "LoadModule of a .so not installed here",
	"graphite-project__graphite-web__examples__example-graphite-vhost.conf":                                                                                "LoadModule of a .so not installed here",
}

func TestConfigtestCorpus(t *testing.T) {
	apache := apachePath(t)
	if apache == "" {
		t.Skip("no apache2")
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.conf"))
	more, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*", "*.conf"))
	files = append(files, more...)
	if len(files) == 0 {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("no corpus under %s", corpusDir)
		}
		t.Skip("no corpus")
	}
	sort.Strings(files)
	dir := t.TempDir()
	pre, err := allModulesPreamble(dir)
	if err != nil {
		t.Fatal(err)
	}
	prePath := filepath.Join(dir, "preamble.conf")
	if err := os.WriteFile(prePath, []byte(pre), 0o644); err != nil {
		t.Fatal(err)
	}
	// Bounded parallelism: each case is two config reads.
	sem := make(chan struct{}, 4)
	var mu sync.Mutex
	seen := map[string]bool{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, corpusDir+"/")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			known := compareWithApache(t, apache, []string{"-d", dir, "-f", abs, "-C", "Include " + prePath}, dir)
			reason, listed := corpusExceptions[strings.TrimPrefix(name, "github/")]
			switch {
			case known != "" && !listed:
				t.Errorf("configtest differs from apache2 (%s) and the file is not in corpusExceptions", known)
			case known == "" && listed:
				t.Errorf("configtest now agrees with apache2: remove the file from corpusExceptions (%s)", reason)
			}
			mu.Lock()
			seen[strings.TrimPrefix(name, "github/")] = true
			mu.Unlock()
		})
	}
	t.Cleanup(func() {
		for name := range corpusExceptions {
			if !seen[name] {
				t.Errorf("corpusExceptions lists %s, which is not in the corpus", name)
			}
		}
	})
}

// TestDebianStockConfig is the acceptance check: Debian's own
// /etc/apache2/apache2.conf, with envvars, is Syntax OK for both, and
// Plume's only extra output is "not supported" warnings.
func TestDebianStockConfig(t *testing.T) {
	apache := apachePath(t)
	if apache == "" {
		t.Skip("no apache2")
	}
	const conf = "/etc/apache2/apache2.conf"
	envvars := "/etc/apache2/envvars"
	for _, f := range []string{conf, envvars} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("Debian's apache2 is installed but %s is missing", f)
		}
	}
	// apache2ctl creates the run directory before starting Apache; rather
	// than touch /var/run, point the run, lock and log directories of a
	// copy of envvars at fresh directories.
	tmp := t.TempDir()
	stock, err := os.ReadFile(envvars)
	if err != nil {
		t.Fatal(err)
	}
	extra := ""
	for _, v := range []string{"APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"} {
		d := filepath.Join(tmp, strings.ToLower(v))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		extra += fmt.Sprintf("export %s=%s\n", v, d)
	}
	envvars = filepath.Join(tmp, "envvars")
	if err := os.WriteFile(envvars, append(stock, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runPlume([]string{"configtest", "-f", conf, "--envvars", envvars})
	if code != 0 || !strings.HasSuffix(out, "Syntax OK\n") {
		t.Fatalf("plume configtest %s: exit %d\n%s", conf, code, out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "Syntax OK" || summary.MatchString(line) {
			continue
		}
		if !strings.Contains(line, "[plume:warn]") || !strings.Contains(line, "is not supported by Plume") {
			t.Errorf("unexpected output line: %s", line)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aout, err := exec.CommandContext(ctx, "/bin/sh", "-c", `. "$1" && exec "$2" -t -f "$3"`, "sh", envvars, apache, conf).CombinedOutput()
	if err != nil || !strings.HasSuffix(string(aout), "Syntax OK\n") {
		t.Fatalf("apache2 -t on the stock config: %v\n%s", err, aout)
	}
}

// TestVhostsAgainstApache compares plume -S with apache2 -S on name- and
// address-based virtual hosts: the "VirtualHost configuration:" block, the
// ServerRoot and the main DocumentRoot (Plume does not print the log,
// mutex, pid and user lines).
func TestVhostsAgainstApache(t *testing.T) {
	apache := apachePath(t)
	if apache == "" {
		t.Skip("no apache2")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "ServerName main.example\nDocumentRoot " + dir + "\n" +
		"LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n" +
		"Listen 127.0.0.1:8081\n" +
		"<VirtualHost *:8081>\nServerName a.example\nServerAlias b.example c.example\nDocumentRoot " + dir + "\n</VirtualHost>\n" +
		"<VirtualHost *:8081>\nServerName d.example\nDocumentRoot " + dir + "\n</VirtualHost>\n" +
		"<VirtualHost 127.0.0.1:8081 [::1]:8082>\nServerName e.example\nDocumentRoot " + dir + "\n</VirtualHost>\n" +
		"<VirtualHost 10.0.0.1:80>\nServerName f.example\nDocumentRoot " + dir + "\n</VirtualHost>\n"
	path := filepath.Join(dir, "test.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runPlume([]string{"-S", "-d", dir, "-f", path})
	aout, acode := runApache(t, apache, []string{"-S", "-d", dir, "-f", path})
	if code != 0 || acode != 0 {
		t.Fatalf("exit %d / %d\n%s\n%s", code, acode, out, aout)
	}
	upToDocRoot := func(s string) string {
		i := strings.Index(s, "Main DocumentRoot: ")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return s
		}
		return s[:i+j+1]
	}
	ours, theirs := upToDocRoot(out), upToDocRoot(aout)
	if ours != theirs || !strings.Contains(theirs, "is a NameVirtualHost") {
		t.Errorf("plume -S:\n%s\napache2 -S:\n%s", out, aout)
	}
}

// TestMacroCorpus runs mod_macro's own test configurations (Apache's
// modules/core/test/conf, in the shared corpus) through plume configtest
// and apache2 -t with macro_module loaded: the output must be the same,
// warnings included.
func TestMacroCorpus(t *testing.T) {
	apache := apachePath(t)
	if apache == "" {
		t.Skip("no apache2")
	}
	root, err := filepath.Abs(filepath.Join(corpusDir, "upstream-httpd-2.4.68", "macro-tests"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "conf", "*.conf"))
	if len(files) == 0 {
		if os.Getenv("PLUME_REQUIRE_APACHE") == "1" {
			t.Fatalf("no macro tests under %s", root)
		}
		t.Skip("no corpus")
	}
	skip := map[string]string{
		// It includes ${PWD}/..., which the test's environment defines for
		// Plume (run in-process) but not for apache2 (run with PATH only).
		"test63.conf": "depends on the environment's PWD",
	}
	dir := t.TempDir()
	const mods = "/usr/lib/apache2/modules"
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			if why := skip[base]; why != "" {
				t.Skip(why)
			}
			args := []string{"-d", root,
				"-C", "LoadModule mpm_event_module " + mods + "/mod_mpm_event.so",
				"-C", "LoadModule authz_core_module " + mods + "/mod_authz_core.so",
				"-C", "LoadModule macro_module " + mods + "/mod_macro.so",
				"-C", "ServerName localhost", "-C", "ErrorLog " + dir + "/error.log",
				"-f", "./conf/" + base}
			out, code := runPlume(append([]string{"configtest"}, args...))
			ours := apacheLines(fmt.Sprintf("exit %d\n%s", code, normalise(out, dir)))
			aout, acode := runApache(t, apache, append([]string{"-t"}, args...))
			theirs := fmt.Sprintf("exit %d\n%s", acode, normalise(aout, dir))
			if ours != theirs {
				t.Errorf("plume:\n%s\napache2:\n%s", ours, theirs)
			}
		})
	}
}
