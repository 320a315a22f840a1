package access

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"plume/directives"
)

// mod_authn_core (AuthType, AuthName), mod_auth_basic, mod_authn_file
// (AuthUserFile, htpasswd formats) and mod_authz_groupfile's AuthGroupFile.

type authnCoreConf struct {
	authType    string // "" for None
	authTypeSet bool
	authName    string
}

var authnCoreModule = directives.RegisterModule(&directives.Module{
	Name:      "authn_core_module",
	Source:    "mod_authn_core.c",
	CreateDir: func(string) any { return &authnCoreConf{} },
	MergeDir: func(basev, addv any) any {
		base, add := basev.(*authnCoreConf), addv.(*authnCoreConf)
		out := *base
		if add.authTypeSet {
			out.authType, out.authTypeSet = add.authType, true
		}
		if add.authName != "" {
			out.authName = add.authName
		}
		return &out
	},
	Restricts: true,
})

type authBasicConf struct {
	providers     []string // nil: the default "file"
	authoritative int8     // -1 unset (On)
}

var authBasicModule = directives.RegisterModule(&directives.Module{
	Name:      "auth_basic_module",
	Source:    "mod_auth_basic.c",
	CreateDir: func(string) any { return &authBasicConf{authoritative: -1} },
	MergeDir: func(basev, addv any) any {
		base, add := basev.(*authBasicConf), addv.(*authBasicConf)
		out := *base
		if add.providers != nil {
			out.providers = add.providers
		}
		if add.authoritative != -1 {
			out.authoritative = add.authoritative
		}
		return &out
	},
	Restricts: true,
})

type authnFileConf struct{ file string }

// mod_authn_file and mod_authz_groupfile have no merger: the innermost
// section naming a file wins.
var authnFileModule = directives.RegisterModule(&directives.Module{
	Name:      "authn_file_module",
	Source:    "mod_authn_file.c",
	CreateDir: func(string) any { return &authnFileConf{} },
})

type groupFileConf struct{ file string }

var groupFileModule = directives.RegisterModule(&directives.Module{
	Name:      "authz_groupfile_module",
	Source:    "mod_authz_groupfile.c",
	CreateDir: func(string) any { return &groupFileConf{} },
	Restricts: true,
})

// mod_authz_user and mod_authz_host only provide Require providers.
var (
	_ = directives.RegisterModule(&directives.Module{Name: "authz_user_module", Source: "mod_authz_user.c", Restricts: true})
	_ = directives.RegisterModule(&directives.Module{Name: "authz_host_module", Source: "mod_authz_host.c", Restricts: true})
)

func init() {
	directives.Register(
		&directives.Spec{Name: "AuthType", Module: authnCoreModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrAuthCfg, Help: `an HTTP authorization type (e.g., "Basic")`,
			Func: func(c *directives.Cmd, a []string) error {
				conf := c.DirConfig(authnCoreModule).(*authnCoreConf)
				conf.authTypeSet = true
				conf.authType = a[0]
				if strings.EqualFold(a[0], "None") {
					conf.authType = ""
				}
				return nil
			}},
		&directives.Spec{Name: "AuthName", Module: authnCoreModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrAuthCfg, Help: `the authentication realm (e.g. "Members Only")`,
			Func: func(c *directives.Cmd, a []string) error {
				c.DirConfig(authnCoreModule).(*authnCoreConf).authName = a[0]
				return nil
			}},
		&directives.Spec{Name: "AuthBasicProvider", Module: authBasicModule.Name, Syntax: directives.Iterate,
			ReqOverride: directives.OrAuthCfg, Help: "specify the auth providers for a directory or location",
			Func: func(c *directives.Cmd, a []string) error {
				conf := c.DirConfig(authBasicModule).(*authBasicConf)
				if a[0] != "file" {
					return fmt.Errorf("Unknown Authn provider: %s", a[0])
				}
				conf.providers = append(conf.providers, a[0])
				return nil
			}},
		&directives.Spec{Name: "AuthBasicAuthoritative", Module: authBasicModule.Name, Syntax: directives.Flag,
			ReqOverride: directives.OrAuthCfg, Help: "Set to 'Off' to allow access control to be passed along to lower modules if the UserID is not known to this module",
			Func: func(c *directives.Cmd, a []string) error {
				conf := c.DirConfig(authBasicModule).(*authBasicConf)
				conf.authoritative = 0
				if a[0] == "On" {
					conf.authoritative = 1
				}
				return nil
			}},
		&directives.Spec{Name: "AuthUserFile", Module: authnFileModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrAuthCfg, Help: "text file containing user IDs and passwords",
			Func: func(c *directives.Cmd, a []string) error {
				c.DirConfig(authnFileModule).(*authnFileConf).file = authFilePath(c, a[0])
				return nil
			}},
		&directives.Spec{Name: "AuthGroupFile", Module: groupFileModule.Name, Syntax: directives.Take1,
			ReqOverride: directives.OrAuthCfg, Help: "text file containing group names and member user IDs",
			Func: func(c *directives.Cmd, a []string) error {
				c.DirConfig(groupFileModule).(*groupFileConf).file = authFilePath(c, a[0])
				return nil
			}},
	)
}

// ServerRootRelative resolves a relative AuthUserFile/AuthGroupFile path
// against ServerRoot (ap_server_root_relative). The config package sets it
// while loading; when it is nil, relative paths are kept as written and
// can never be opened (they fail closed with 500 at request time) rather
// than being read relative to Plume's working directory.
var ServerRootRelative func(c *directives.Cmd, path string) string

func authFilePath(c *directives.Cmd, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if ServerRootRelative != nil {
		return ServerRootRelative(c, p)
	}
	c.Warn("authn_file", "", "%s %s is relative and Plume does not know ServerRoot here: requests needing it fail with 500", c.Spec.Name, p)
	return p
}

// authType is ap_auth_type: "" when unset or None.
func (ev *evaluation) authType() string {
	return directives.DirOf(ev.r.PerDir, authnCoreModule, &authnCoreConf{}).authType
}

func (ev *evaluation) authName() string {
	return directives.DirOf(ev.r.PerDir, authnCoreModule, &authnCoreConf{}).authName
}

// noteAuthFailure is ap_note_auth_failure for Basic: the challenge goes in
// the error headers so it survives the error response.
func (ev *evaluation) noteAuthFailure() {
	if !strings.EqualFold(ev.authType(), "Basic") {
		return
	}
	if ev.r.ErrOut == nil {
		ev.r.ErrOut = make(map[string][]string)
	}
	ev.r.ErrOut.Set("WWW-Authenticate", `Basic realm="`+ev.authName()+`"`)
}

// checkUserID runs the check_user_id hooks: mod_auth_basic, then
// mod_authn_core's catch-all.
func (ev *evaluation) checkUserID() int {
	r := ev.r
	at := ev.authType()
	if at == "" {
		return phaseOK
	}
	if strings.EqualFold(at, "Basic") {
		if st := ev.authenticateBasic(); st != phaseDeclined {
			return st
		}
	}
	r.LogError("authn_core", "error", "AH01796", fmt.Sprintf("AuthType %s configured without corresponding module", at))
	return 500
}

type authnResult int

const (
	authDenied authnResult = iota
	authGranted
	authUserNotFound
	authGeneralError
)

// authenticateBasic is authenticate_basic_user.
func (ev *evaluation) authenticateBasic() int {
	r := ev.r
	if ev.authName() == "" {
		r.LogError("auth_basic", "error", "AH01615", "need AuthName: "+r.URI)
		return 500
	}
	line := r.Header.Get("Authorization")
	if line == "" {
		ev.noteAuthFailure()
		return 401
	}
	scheme, cred, _ := strings.Cut(line, " ")
	if !strings.EqualFold(scheme, "Basic") {
		r.LogError("auth_basic", "error", "AH01614", "client used wrong authentication scheme: "+r.URI)
		ev.noteAuthFailure()
		return 401
	}
	decoded := base64DecodeLenient(strings.TrimLeft(cred, " \t"))
	user, pw, _ := strings.Cut(decoded, ":")
	r.User = user

	conf := directives.DirOf(r.PerDir, authBasicModule, &authBasicConf{authoritative: -1})
	// Only the "file" provider exists in Plume, so the provider list is
	// either empty (default file) or file.
	res := ev.checkPasswordFile(user, pw)
	if res == authGranted {
		return phaseOK
	}
	if conf.authoritative == 0 && res != authDenied {
		return phaseDeclined
	}
	switch res {
	case authDenied:
		r.LogError("auth_basic", "error", "AH01617", fmt.Sprintf("user %s: authentication failure for \"%s\": Password Mismatch", user, r.URI))
	case authUserNotFound:
		r.LogError("auth_basic", "error", "AH01618", fmt.Sprintf("user %s not found: %s", user, r.URI))
	default:
		return 500
	}
	ev.noteAuthFailure()
	return 401
}

// base64DecodeLenient is apr_base64_decode: it decodes up to the first
// character outside the alphabet and never fails.
func base64DecodeLenient(s string) string {
	n := 0
	for n < len(s) && strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[n]) >= 0 {
		n++
	}
	s = s[:n]
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}

// checkPasswordFile is mod_authn_file's check_password.
func (ev *evaluation) checkPasswordFile(user, pw string) authnResult {
	r := ev.r
	file := directives.DirOf(r.PerDir, authnFileModule, &authnFileConf{}).file
	if file == "" {
		r.LogError("authn_file", "error", "AH01619", "AuthUserFile not specified in the configuration")
		return authGeneralError
	}
	entries, err := loadTextFile(file)
	if err != nil {
		r.LogError("authn_file", "error", "AH01620", "Could not open password file: "+file)
		return authGeneralError
	}
	hash, ok := entries.passwords[user]
	if !ok {
		return authUserNotFound
	}
	match, supported := validatePassword(pw, hash)
	if !supported {
		r.LogError("authn_file", "error", "", fmt.Sprintf("password of user %s in %s uses a hash format Plume does not support (crypt); use bcrypt, $apr1$ or {SHA}", user, file))
	}
	if !match {
		return authDenied
	}
	return authGranted
}

// validatePassword is apr_password_validate for the formats Plume
// supports: bcrypt ($2y$, $2a$, $2b$), APR1-MD5 ($apr1$) and {SHA}.
// crypt(3) hashes (DES, $1$, $5$, $6$...) are unsupported and never match.
func validatePassword(pw, hash string) (match, supported bool) {
	switch {
	case strings.HasPrefix(hash, "$apr1$"):
		return subtle.ConstantTimeCompare([]byte(apr1MD5(pw, hash)), []byte(hash)) == 1, true
	case len(hash) > 4 && hash[0] == '$' && hash[1] == '2' && strings.IndexByte("aby", hash[2]) >= 0 && hash[3] == '$':
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil, true
	case strings.HasPrefix(hash, "{SHA}"):
		sum := sha1.Sum([]byte(pw))
		want := "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
		return subtle.ConstantTimeCompare([]byte(want), []byte(hash)) == 1, true
	}
	return false, false
}

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// apr1MD5 is APR's apr_md5_encode with the "$apr1$" magic (the FreeBSD
// MD5-crypt algorithm). setting is a full hash or "$apr1$salt".
func apr1MD5(pw, setting string) string {
	const magic = "$apr1$"
	salt := strings.TrimPrefix(setting, magic)
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	ctx := md5.New()
	ctx.Write([]byte(pw + magic + salt))
	alt := md5.Sum([]byte(pw + salt + pw))
	for pl := len(pw); pl > 0; pl -= 16 {
		ctx.Write(alt[:min(pl, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write([]byte{pw[0]})
		}
	}
	final := ctx.Sum(nil)
	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write([]byte(pw))
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write([]byte(salt))
		}
		if i%7 != 0 {
			c.Write([]byte(pw))
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write([]byte(pw))
		}
		final = c.Sum(nil)
	}
	var out strings.Builder
	out.WriteString(magic + salt + "$")
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			out.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	f := func(i int) uint32 { return uint32(final[i]) }
	to64(f(0)<<16|f(6)<<8|f(12), 4)
	to64(f(1)<<16|f(7)<<8|f(13), 4)
	to64(f(2)<<16|f(8)<<8|f(14), 4)
	to64(f(3)<<16|f(9)<<8|f(15), 4)
	to64(f(4)<<16|f(10)<<8|f(5), 4)
	to64(f(11), 2)
	return out.String()
}

// textFile is a parsed htpasswd or group file, cached by path and
// re-read when its size or modification time changes.
type textFile struct {
	size      int64
	mtime     time.Time
	passwords map[string]string          // htpasswd: user → hash
	groups    map[string]map[string]bool // group file: user → groups
}

var (
	textFilesMu sync.Mutex
	textFiles   = map[string]*textFile{}
)

// maxAuthFileSize bounds what one request may make Plume read.
const maxAuthFileSize = 64 << 20

func loadTextFile(path string) (*textFile, error) {
	if !filepath.IsAbs(path) {
		return nil, errors.New("relative path")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	textFilesMu.Lock()
	tf := textFiles[path]
	textFilesMu.Unlock()
	if tf != nil && tf.size == st.Size() && tf.mtime.Equal(st.ModTime()) {
		return tf, nil
	}
	if st.Size() > maxAuthFileSize {
		return nil, errors.New("file too large")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tf = parseTextFile(data)
	tf.size, tf.mtime = st.Size(), st.ModTime()
	textFilesMu.Lock()
	textFiles[path] = tf
	textFilesMu.Unlock()
	return tf, nil
}

// parseTextFile reads both interpretations at once: as htpasswd lines
// (user:hash[:ignored], first entry for a user wins) and as group lines
// (group: user user ...).
func parseTextFile(data []byte) *textFile {
	tf := &textFile{passwords: map[string]string{}, groups: map[string]map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		user, rest, _ := strings.Cut(l, ":")
		hash, _, _ := strings.Cut(rest, ":")
		if _, dup := tf.passwords[user]; !dup {
			tf.passwords[user] = hash
		}
		// Group file: ap_getword(':') for the group, then members
		// separated by white space.
		for _, u := range strings.Fields(rest) {
			if tf.groups[u] == nil {
				tf.groups[u] = map[string]bool{}
			}
			tf.groups[u][user] = true
		}
	}
	return tf
}

// userGroups returns the groups the user belongs to in a group file.
func userGroups(path, user string) (map[string]bool, error) {
	tf, err := loadTextFile(path)
	if err != nil {
		return nil, err
	}
	return tf.groups[user], nil
}
