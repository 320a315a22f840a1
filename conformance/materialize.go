package conformance

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ApacheModuleDir is where Debian keeps Apache's loadable modules.
const ApacheModuleDir = "/usr/lib/apache2/modules"

// FixedMtime is given to every file and directory of a case tree so that
// Last-Modified, ETag and autoindex dates agree between the two copies.
var FixedMtime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// runAs is the unprivileged account both servers run as (and own the tree).
type runAs struct {
	Name, Group string
	UID, GID    int
	// Root is true when the harness itself runs as root, so it can chown
	// and switch credentials; otherwise everything runs as the caller.
	Root bool
}

func lookupRunAs(name string) (*runAs, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &runAs{Name: u.Username, Group: g.Name, UID: uid, GID: gid, Root: os.Geteuid() == 0}, nil
}

// expand replaces the case placeholders.
func expand(s, root string, port int, who *runAs) string {
	return strings.NewReplacer(
		"{{ROOT}}", root,
		"{{PORT}}", strconv.Itoa(port),
		"{{USER}}", who.Name,
		"{{GROUP}}", who.Group,
	).Replace(s)
}

// moduleLine is the LoadModule line for a short module name.
func moduleLine(short string) string {
	return fmt.Sprintf("LoadModule %s_module %s/mod_%s.so", short, ApacheModuleDir, short)
}

// preamble is the part of the configuration every case shares. It is a
// separate main file that Includes the case's httpd.conf, so line numbers
// in the case's messages are the case's own.
func preamble(c *Case) string {
	var b strings.Builder
	b.WriteString("# written by the conformance harness\n")
	b.WriteString("ServerRoot \"{{ROOT}}\"\n")
	b.WriteString("PidFile \"{{ROOT}}/logs/httpd.pid\"\n")
	b.WriteString("ErrorLog \"{{ROOT}}/logs/error.log\"\n")
	b.WriteString(moduleLine("mpm_event") + "\n")
	mime := false
	for _, m := range c.Modules {
		if m == "mpm_event" {
			continue
		}
		b.WriteString(moduleLine(m) + "\n")
		mime = mime || m == "mime"
	}
	if mime {
		b.WriteString("TypesConfig /etc/mime.types\n")
	}
	b.WriteString("User {{USER}}\nGroup {{GROUP}}\n")
	b.WriteString("ServerName 127.0.0.1\n")
	b.WriteString("Listen 127.0.0.1:{{PORT}}\n")
	b.WriteString("Include \"{{ROOT}}/httpd.conf\"\n")
	return b.String()
}

// MainConf is the name of the harness's main configuration file.
const MainConf = "main.conf"

// materialize writes case c under root for a server listening on port.
func materialize(c *Case, root string, port int, who *runAs) error {
	if err := os.MkdirAll(filepath.Join(root, "logs"), 0o755); err != nil {
		return err
	}
	write := func(name, data string) error {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(expand(data, root, port, who)), 0o644)
	}
	if err := write(MainConf, preamble(c)); err != nil {
		return err
	}
	for _, f := range c.Files {
		if err := write(f.Name, f.Data); err != nil {
			return err
		}
	}
	abs := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	for _, op := range c.Tree {
		var err error
		switch op.Kind {
		case "mkdir":
			err = os.MkdirAll(abs(op.Path), 0o755)
		case "link":
			if err = os.MkdirAll(filepath.Dir(abs(op.Path)), 0o755); err == nil {
				err = os.Symlink(expand(op.Target, root, port, who), abs(op.Path))
			}
		case "fifo":
			if err = os.MkdirAll(filepath.Dir(abs(op.Path)), 0o755); err == nil {
				err = syscall.Mkfifo(abs(op.Path), 0o644)
			}
		}
		if err != nil {
			return fmt.Errorf("tree line %d (%s %s): %w", op.Line, op.Kind, op.Path, err)
		}
	}
	if who.Root {
		if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, who.UID, who.GID)
		}); err != nil {
			return err
		}
		for _, op := range c.Tree {
			if op.Kind != "chown" {
				continue
			}
			uid, gid, err := lookupOwner(op.Owner)
			if err == nil {
				err = os.Lchown(abs(op.Path), uid, gid)
			}
			if err != nil {
				return fmt.Errorf("tree line %d (chown %s): %w", op.Line, op.Path, err)
			}
		}
	}
	if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&(fs.ModeSymlink|fs.ModeNamedPipe) != 0 {
			return err
		}
		return os.Chtimes(p, FixedMtime, FixedMtime)
	}); err != nil {
		return err
	}
	for _, op := range c.Tree {
		if op.Kind != "chmod" {
			continue
		}
		if err := os.Chmod(abs(op.Path), op.Mode); err != nil {
			return fmt.Errorf("tree line %d (chmod %s): %w", op.Line, op.Path, err)
		}
	}
	return nil
}

// lookupOwner resolves "user" or "user:group".
func lookupOwner(spec string) (uid, gid int, err error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	if hasGroup {
		g, err := user.LookupGroup(group)
		if err != nil {
			return 0, 0, err
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, nil
}
