package parser

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"syscall"
)

const (
	// maxIncludeDepth is AP_MAX_INCLUDE_DEPTH: Include nesting.
	maxIncludeDepth = 128
	// maxIncludeDirDepth is AP_MAX_FNMATCH_DIR_DEPTH: directory nesting
	// under one Include of a directory.
	maxIncludeDirDepth = 128
	includePrefix      = "Include/IncludeOptional: "
)

// processConfigs is ap_process_fnmatch_configs: fname (absolute) is a
// file, a directory (read recursively, entries sorted by strcmp, dotfiles
// included) or a pattern with wildcards in any component. chain is the
// Include chain of the files it reads.
func (ld *loader) processConfigs(fname string, optional bool, chain []Pos) ([]*Node, error) {
	w := &dirMatch{ld: ld, optional: optional, chain: chain}
	if !hasWildcard(fname) {
		if err := w.noFnmatch(fname); err != nil {
			return nil, err
		}
		return w.nodes, nil
	}
	if !strings.HasPrefix(fname, "/") {
		return nil, errorf("Include must have an absolute path, %s", fname)
	}
	if err := w.fnmatch("/", fname[1:]); err != nil {
		return nil, err
	}
	return w.nodes, nil
}

type dirMatch struct {
	ld       *loader
	optional bool
	chain    []Pos
	depth    int
	nodes    []*Node
}

// fullPath is ap_make_full_path: one '/' between the parts.
func fullPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// noFnmatch is ap_dir_nofnmatch: a directory is read recursively, anything
// else is parsed as a file.
func (w *dirMatch) noFnmatch(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		w.depth++
		if w.depth > maxIncludeDirDepth {
			return errorf("%sDirectory %s exceeds the maximum include directory nesting level of %d. You have probably a recursion somewhere.",
				includePrefix, path, maxIncludeDirDepth)
		}
		names, err := readDirNames(path)
		if err != nil {
			return errorf("%sCould not open directory %s: %s", includePrefix, path, strerror(err))
		}
		sort.Strings(names)
		for _, n := range names {
			if err := w.noFnmatch(fullPath(path, n)); err != nil {
				return err
			}
		}
		w.depth--
		return nil
	} else if w.optional {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && isErrno(err, syscall.ENOENT) {
			return nil
		}
	}
	nodes, err := w.ld.processFile(path, w.chain)
	if err != nil {
		return err
	}
	w.nodes = append(w.nodes, nodes...)
	return nil
}

// fnmatch is ap_dir_fnmatch: the first component of fname is matched in
// path (when it has a wildcard) and the rest is followed in each match.
// hasRest distinguishes "a" from "a/" (a trailing slash leaves an empty
// last component, which makes the matches directories only).
func (w *dirMatch) fnmatch(path, fname string) error {
	comp, rest, hasRest := strings.Cut(fname, "/")
	if !hasWildcard(comp) {
		if path != "" {
			path = fullPath(path, comp)
		} else {
			path = comp
		}
		if !hasRest {
			return w.noFnmatch(path)
		}
		return w.fnmatch(path, rest)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && isErrno(err, syscall.ENOENT) && w.optional {
			return nil
		}
		return errorf("%sCould not open directory %s: %s", includePrefix, path, strerror(err))
	}
	var matches []string
	for _, e := range entries {
		name := e.Name()
		if name == "." || name == ".." || !fnmatchPeriod(comp, name) {
			continue
		}
		// Inside the path only directories go on; the directory entry's
		// type decides, so a symlink to a directory does not.
		if hasRest && !e.IsDir() {
			continue
		}
		matches = append(matches, fullPath(path, name))
	}
	if len(matches) == 0 {
		if !w.optional {
			return errorf("%sNo matches for the wildcard '%s' in '%s', failing", includePrefix, comp, path)
		}
		return nil
	}
	sort.Strings(matches)
	for _, m := range matches {
		var err error
		if !hasRest {
			err = w.noFnmatch(m)
		} else {
			err = w.fnmatch(m, rest)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func readDirNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func isErrno(err error, errno syscall.Errno) bool {
	var e syscall.Errno
	return errors.As(err, &e) && e == errno
}

// strerror renders an OS error as glibc's strerror does (Go's texts are
// the same, without the capital letter).
func strerror(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		s := e.Error()
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// processFile is ap_process_resource_config for one file: open it (only
// regular files and /dev/null), read it as a stream of its own and return
// its top-level nodes.
func (ld *loader) processFile(path string, chain []Pos) ([]*Node, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errorf("Could not open configuration file %s: %s", path, strerror(err))
	}
	if !fi.Mode().IsRegular() && path != "/dev/null" {
		ld.warn(Warning{Module: "core", Code: "AH00555",
			Msg: fmt.Sprintf("Access to file %s denied by server: not a regular file", path)})
		return nil, errorf("Could not open configuration file %s: Bad file descriptor", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf("Could not open configuration file %s: %s", path, strerror(err))
	}
	ld.files = append(ld.files, path)
	st := &stream{r: &lineReader{name: path, data: data, limit: ld.limit}, file: path, includes: chain}
	nodes, err := ld.buildConfig(st)
	if err != nil {
		return nil, positioned(st, err)
	}
	return nodes, nil
}
