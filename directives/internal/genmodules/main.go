// Command genmodules regenerates the Apache part of
// directives/apache-modules.tsv from the command tables compiled into an
// installed httpd: it reads each module structure (module_struct) exported
// by /usr/sbin/apache2 and /usr/lib/apache2/modules/*.so and walks its
// command_rec array, so names, syntaxes, override bits and help texts are
// exactly those of the server Plume is compared with. Third-party modules
// (mod_php, mod_security2, ...) are not installed here; their rows live in
// thirdparty.tsv next to this file and are appended verbatim.
//
// Usage (from the repository root):
//
//	go run ./directives/internal/genmodules > directives/apache-modules.tsv
//
// It only understands x86-64 ELF (the layout of Debian's amd64 build).
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cmdHow is Apache's enum cmd_how, in declaration order (http_config.h).
var cmdHow = []string{"RAW_ARGS", "TAKE1", "TAKE2", "ITERATE", "ITERATE2", "FLAG",
	"NO_ARGS", "TAKE12", "TAKE3", "TAKE23", "TAKE123", "TAKE13", "TAKE_ARGV"}

// overrideBits names req_override bits (http_config.h), low bit first.
var overrideBits = []struct {
	bit  int
	name string
}{
	{1 << 0, "OR_LIMIT"}, {1 << 1, "OR_OPTIONS"}, {1 << 2, "OR_FILEINFO"},
	{1 << 3, "OR_AUTHCFG"}, {1 << 4, "OR_INDEXES"}, {1 << 5, "OR_UNSET"},
	{1 << 6, "ACCESS_CONF"}, {1 << 7, "RSRC_CONF"}, {1 << 8, "EXEC_ON_READ"},
	{1 << 9, "NONFATAL_OVERRIDE"}, {1 << 10, "NONFATAL_UNKNOWN"}, {1 << 11, "PROXY_CONF"},
}

// restrictingModules lists the modules whose directives can deny or
// restrict a request (or change what access checks see, as mod_remoteip
// does): ignoring them would open access, so Plume fails closed.
var restrictingModules = map[string]bool{
	"access_compat_module": true, "allowmethods_module": true,
	"authz_core_module": true, "authz_host_module": true, "authz_user_module": true,
	"authz_groupfile_module": true, "authz_dbm_module": true, "authz_dbd_module": true,
	"authz_owner_module": true, "authnz_ldap_module": true, "authnz_fcgi_module": true,
	"authn_core_module": true, "authn_file_module": true, "authn_dbm_module": true,
	"authn_dbd_module": true, "authn_anon_module": true, "authn_socache_module": true,
	"auth_basic_module": true, "auth_digest_module": true, "auth_form_module": true,
	"rewrite_module": true, "remoteip_module": true, "lua_module": true,
}

// restrictingDirectives are single directives of otherwise harmless
// modules that restrict access.
var restrictingDirectives = map[string]bool{
	"SSLRequire": true, "SSLRequireSSL": true, "SSLVerifyClient": true,
}

func restricts(module, name string) bool {
	return restrictingModules[module] || restrictingDirectives[name]
}

type row struct {
	module, source, name, syntax, override, help string
	restricts                                    bool
}

type image struct {
	f      *elf.File
	relocs map[uint64]uint64 // address → value of R_X86_64_RELATIVE
}

func (im *image) read(addr uint64, n int) []byte {
	for _, p := range im.f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr+uint64(n) <= p.Vaddr+p.Filesz {
			b := make([]byte, n)
			if _, err := p.ReadAt(b, int64(addr-p.Vaddr)); err != nil {
				return nil
			}
			return b
		}
	}
	return nil
}

func (im *image) ptr(addr uint64) uint64 {
	if v, ok := im.relocs[addr]; ok {
		return v
	}
	b := im.read(addr, 8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (im *image) u32(addr uint64) uint32 {
	b := im.read(addr, 4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (im *image) cstring(addr uint64) string {
	if addr == 0 {
		return ""
	}
	var out []byte
	for i := 0; i < 1<<16; i += 64 {
		b := im.read(addr+uint64(i), 64)
		if b == nil {
			// near the end of a segment: read byte by byte
			for j := 0; j < 64; j++ {
				c := im.read(addr+uint64(i+j), 1)
				if c == nil || c[0] == 0 {
					return string(out)
				}
				out = append(out, c[0])
			}
			continue
		}
		if k := bytes.IndexByte(b, 0); k >= 0 {
			return string(append(out, b[:k]...))
		}
		out = append(out, b...)
	}
	return string(out)
}

func open(path string) (*image, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	im := &image{f: f, relocs: map[uint64]uint64{}}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return nil, err
		}
		for i := 0; i+24 <= len(data); i += 24 {
			off := binary.LittleEndian.Uint64(data[i:])
			info := binary.LittleEndian.Uint64(data[i+8:])
			add := binary.LittleEndian.Uint64(data[i+16:])
			if elf.R_X86_64(info&0xffffffff) == elf.R_X86_64_RELATIVE {
				im.relocs[off] = add
			}
		}
	}
	return im, nil
}

func overrideNames(v int) string {
	var parts []string
	for _, b := range overrideBits {
		if v&b.bit != 0 {
			parts = append(parts, b.name)
			v &^= b.bit
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", v))
	}
	if len(parts) == 0 {
		return "OR_NONE"
	}
	return strings.Join(parts, "|")
}

func extract(path string) ([]row, error) {
	im, err := open(path)
	if err != nil {
		return nil, err
	}
	syms, err := im.f.DynamicSymbols()
	if err != nil {
		return nil, err
	}
	var out []row
	for _, s := range syms {
		if !strings.HasSuffix(s.Name, "_module") || elf.ST_TYPE(s.Info) != elf.STT_OBJECT || s.Size < 104 {
			continue
		}
		base := s.Value
		if im.ptr(base+40) != 0x41503234 { // MODULE_MAGIC_COOKIE "AP24"
			continue
		}
		source := im.cstring(im.ptr(base + 16))
		cmds := im.ptr(base + 88)
		if cmds == 0 || im.ptr(cmds) == 0 {
			// A module without directives still has a name and source
			// (LoadModule, <IfModule>, -M): an empty directive row.
			out = append(out, row{module: s.Name, source: source})
			continue
		}
		for i := 0; cmds != 0 && i < 1000; i++ {
			rec := cmds + uint64(i)*40
			nameAddr := im.ptr(rec)
			if nameAddr == 0 {
				break
			}
			how := int(im.u32(rec + 28))
			syntax := fmt.Sprintf("%d", how)
			if how < len(cmdHow) {
				syntax = cmdHow[how]
			}
			name := im.cstring(nameAddr)
			out = append(out, row{
				module: s.Name, source: source, name: name, syntax: syntax, restricts: restricts(s.Name, name),
				override: overrideNames(int(im.u32(rec + 24))),
				help:     im.cstring(im.ptr(rec + 32)),
			})
		}
	}
	return out, nil
}

func clean(s string) string {
	return strings.NewReplacer("\t", `\t`, "\n", `\n`, "\\", `\\`).Replace(s)
}

func main() {
	httpd := flag.String("httpd", "/usr/sbin/apache2", "httpd binary (core modules)")
	dir := flag.String("modules", "/usr/lib/apache2/modules", "directory of module .so files")
	extra := flag.String("thirdparty", "directives/internal/genmodules/thirdparty.tsv", "third-party rows appended verbatim")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	if err := generate(w, *httpd, *dir, *extra); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// generate writes the whole table.
func generate(w io.Writer, httpd, dir, extra string) error {
	files := []string{httpd}
	so, _ := filepath.Glob(filepath.Join(dir, "*.so"))
	sort.Strings(so)
	files = append(files, so...)
	fmt.Fprintln(w, "# Apache httpd 2.4 directive table. Generated by directives/internal/genmodules")
	fmt.Fprintln(w, "# from the command_rec tables of the installed httpd and modules; third-party rows")
	fmt.Fprintln(w, "# from thirdparty.tsv. Help texts use \\t, \\n and \\\\ escapes. A row with an empty")
	fmt.Fprintln(w, "# directive declares a module that has no directives.")
	fmt.Fprintln(w, "# module\tsource\tdirective\tsyntax\treq_override\trestricts\thelp")
	for _, path := range files {
		rows, err := extract(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, r := range rows {
			if r.name == "" {
				fmt.Fprintf(w, "%s\t%s\t\t\t\t\t\n", r.module, r.source)
				continue
			}
			rs := "no"
			if r.restricts {
				rs = "yes"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.module, r.source, r.name, r.syntax, r.override, rs, clean(r.help))
		}
	}
	data, err := os.ReadFile(extra)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
