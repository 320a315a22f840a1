package server

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"plume/http1"
	"plume/request"
)

// statOnly maps r.Filename to the file when no Walker is configured: it
// finds the longest existing prefix (the rest is PathInfo) and opens it.
// It applies no <Directory>/<Files>/<Location> sections and no symlink
// policy; the walk package does that in a real server.
func statOnly(r *request.Request) int {
	name := r.Filename
	for tries := 0; tries < 256; tries++ {
		fi, err := os.Stat(name)
		if err == nil {
			if fi.IsDir() && name != r.Filename {
				break
			}
			r.PathInfo = r.Filename[len(name):]
			r.Filename = name
			r.Finfo = fi
			if !fi.IsDir() {
				f, err := request.OpenFile(name)
				if err != nil {
					r.LogError("core", "error", "AH00132", fmt.Sprintf("file permissions deny server access: %s", name))
					return http.StatusForbidden
				}
				r.File = f
			}
			return request.OK
		}
		i := strings.LastIndexByte(name, '/')
		if i <= 0 {
			break
		}
		name = name[:i]
	}
	return request.OK
}

// openFile returns the file to serve: the descriptor the walk opened.
func openFile(r *request.Request) (*request.File, error) {
	if r.File != nil {
		return r.File, nil
	}
	f, err := request.OpenFile(r.Filename)
	if err != nil {
		return nil, err
	}
	r.File = f
	return f, nil
}

// makeContentType is ap_make_content_type: AddDefaultCharset appends the
// charset to text/plain and text/html without one.
func makeContentType(r *request.Request, ct string) string {
	if ct == "" {
		return ""
	}
	d := coreDirOf(r)
	if d.AddDefaultCharset != On {
		return ct
	}
	lower := strings.ToLower(ct)
	if strings.Contains(lower, "charset=") {
		return ct
	}
	if strings.HasPrefix(lower, "text/plain") || strings.HasPrefix(lower, "text/html") {
		return ct + "; charset=" + d.DefaultCharset
	}
	return ct
}

// fileMtime returns the modification time, capped at the request time
// (ap_update_mtime / ap_rationalize_mtime).
func fileMtime(fi os.FileInfo, now time.Time) time.Time {
	m := fi.ModTime()
	if m.After(now) {
		return now
	}
	return m
}

// makeETag is ap_make_etag for a file.
func makeETag(r *request.Request, fi os.FileInfo, now time.Time) (string, bool) {
	return makeFileETag(r, nil, fi, now)
}

// makeFileETag is ap_make_etag_ex: f, when not nil, is the open file being
// served (read with pread, so its offset stays), else FileETag Digest
// opens r.Filename.
func makeFileETag(r *request.Request, f *request.File, fi os.FileInfo, now time.Time) (string, bool) {
	bits := coreDirOf(r).ETag()
	if bits&ETagNone != 0 {
		return "", false
	}
	if bits&ETagDigest != 0 {
		// Apache hashes the content on every request (no cache: the
		// content can change under an unchanged mtime), and a digest
		// ETag is strong however recent the file.
		if d, ok := contentDigest(r, f, fi); ok {
			return "\"" + d + "\"", true
		}
	}
	mtime := fi.ModTime()
	usec := mtime.UnixMicro()
	var b strings.Builder
	if now.Sub(mtime) <= time.Second {
		b.WriteString("W/")
	}
	b.WriteByte('"')
	sep := false
	if bits&ETagInode != 0 {
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		b.WriteString(strconv.FormatUint(ino, 16))
		sep = true
	}
	if bits&ETagSize != 0 {
		if sep {
			b.WriteByte('-')
		}
		b.WriteString(strconv.FormatUint(uint64(fi.Size()), 16))
		sep = true
	}
	if bits&ETagMTime != 0 {
		if sep {
			b.WriteByte('-')
		}
		b.WriteString(strconv.FormatUint(uint64(usec), 16))
	}
	b.WriteByte('"')
	return b.String(), true
}

// contentDigest is etag_digest: base64 of the SHA-1 of the file's bytes.
func contentDigest(r *request.Request, f *request.File, fi os.FileInfo) (string, bool) {
	if f == nil {
		g, err := request.OpenFile(r.Filename)
		if err != nil {
			return "", false
		}
		defer g.Close()
		f = g
	}
	h := sha1.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}

// defaultHandler is core's default_handler: static files.
func (x *exchange) defaultHandler(r *request.Request) int {
	h := x.rw.Header()
	if r.Method == http.MethodOptions {
		h.Set("Allow", allowHeader)
		h.Set("Content-Length", "0")
		if ct := makeContentType(r, r.ContentType); ct != "" {
			h.Set("Content-Type", ct)
		} else {
			h["Content-Type"] = nil
		}
		x.rw.WriteHeader(http.StatusOK)
		return request.OK
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed
	}
	if st := x.discardBody(r); st != request.OK {
		return st
	}
	if r.Handler == "cgi-script" {
		// Plume does not run CGI; never send a script's source.
		x.log(r, "core", LevelError, "", "Plume does not execute CGI scripts (handler cgi-script): "+r.Filename)
		return http.StatusInternalServerError
	}
	if r.Finfo == nil {
		name := r.Filename + r.PathInfo
		x.log(r, "core", LevelInfo, "AH00128", "File does not exist: "+name)
		return http.StatusNotFound
	}
	if r.Finfo.IsDir() {
		x.log(r, "core", LevelInfo, "AH00129", "Attempt to serve directory: "+r.Filename)
		return http.StatusNotFound
	}
	if r.PathInfo != "" && coreDirOf(r).AcceptPathInfo != PathInfoAccept {
		x.log(r, "core", LevelInfo, "AH00130", "File does not exist: "+r.Filename+r.PathInfo)
		return http.StatusNotFound
	}
	f, err := openFile(r)
	if err != nil {
		x.log(r, "core", LevelError, "AH00132", "file permissions deny server access: "+r.Filename)
		return http.StatusForbidden
	}
	return x.serveFile(r, f, r.Finfo)
}

// serveFile sends a file with Last-Modified, ETag, conditional requests
// and byte ranges as Apache's default handler and filters do.
func (x *exchange) serveFile(r *request.Request, f *request.File, fi os.FileInfo) int {
	defer func() {
		f.Close()
		if r.File == f {
			r.File = nil
		}
	}()
	now := x.start
	h := x.rw.Header()
	for k, v := range r.Out {
		h[k] = v
	}
	for k, v := range r.ErrOut {
		h[k] = v
	}
	mtime := fileMtime(fi, now)
	lastMod := mtime.UTC().Format(http.TimeFormat)
	h.Set("Last-Modified", lastMod)
	etag, hasETag := makeFileETag(r, f, fi, now)
	if v := r.VListValidator; v != "" && hasETag {
		etag = structuredETag(etag, v)
	}
	if hasETag {
		h.Set("ETag", etag)
	}
	h.Set("Accept-Ranges", "bytes")
	ct := makeContentType(r, r.ContentType)
	if ct != "" {
		h.Set("Content-Type", ct)
	} else {
		h["Content-Type"] = nil
	}
	if len(r.ContentLanguage) > 0 {
		h.Set("Content-Language", strings.Join(r.ContentLanguage, ","))
	}
	if r.ContentEncoding != "" {
		h.Set("Content-Encoding", r.ContentEncoding)
	}
	size := fi.Size()
	if x.errorStatus != 0 {
		// An ErrorDocument page goes out with the error's status, whole.
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		x.rw.WriteHeader(x.errorStatus)
		if !x.rw.headerOnly {
			copyFile(x.rw, f, 0, size, coreDirOf(r).EnableSendfile != Off)
		}
		return request.Done
	}
	if st := meetsConditions(r, etag, mtime, now); st != request.OK {
		if st == http.StatusNotModified {
			delete(h, "Content-Type")
			delete(h, "Content-Language")
			delete(h, "Content-Encoding")
			x.rw.WriteHeader(st)
			return request.Done
		}
		h.Set("Content-Length", "0")
		x.rw.WriteHeader(st)
		return request.Done
	}
	ranges, rst := parseRanges(r, size, etag, lastMod)
	if rst == http.StatusRequestedRangeNotSatisfiable {
		return rst
	}
	sendfile := coreDirOf(r).EnableSendfile != Off
	switch {
	case len(ranges) == 0:
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		x.rw.WriteHeader(http.StatusOK)
		if x.rw.headerOnly {
			return request.Done
		}
		copyFile(x.rw, f, 0, size, sendfile)
	case len(ranges) == 1:
		rg := ranges[0]
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rg.start, rg.end, size))
		h.Set("Content-Length", strconv.FormatInt(rg.end-rg.start+1, 10))
		x.rw.WriteHeader(http.StatusPartialContent)
		if x.rw.headerOnly {
			return request.Done
		}
		copyFile(x.rw, f, rg.start, rg.end-rg.start+1, sendfile)
	default:
		boundary := strconv.FormatUint(uint64(now.UnixMicro()), 16) + strconv.FormatInt(int64(os.Getpid()), 16)
		ctype := "multipart/byteranges"
		if r.Header.Get("Request-Range") != "" || strings.Contains(r.Header.Get("User-Agent"), "MSIE 3") {
			ctype = "multipart/x-byteranges"
		}
		h.Set("Content-Type", ctype+"; boundary="+boundary)
		heads := make([]string, len(ranges))
		total := int64(0)
		for i, rg := range ranges {
			heads[i] = "\r\n--" + boundary + "\r\nContent-type: " + ct + "\r\nContent-range: bytes " +
				fmt.Sprintf("%d-%d/%d", rg.start, rg.end, size) + "\r\n\r\n"
			total += int64(len(heads[i])) + rg.end - rg.start + 1
		}
		tail := "\r\n--" + boundary + "--\r\n"
		total += int64(len(tail))
		h.Set("Content-Length", strconv.FormatInt(total, 10))
		x.rw.WriteHeader(http.StatusPartialContent)
		if x.rw.headerOnly {
			return request.Done
		}
		for i, rg := range ranges {
			io.WriteString(x.rw, heads[i])
			if copyFile(x.rw, f, rg.start, rg.end-rg.start+1, sendfile) != nil {
				return request.Done
			}
		}
		io.WriteString(x.rw, tail)
	}
	return request.Done
}

// copyFile sends n bytes of f from off; with sendfile allowed the copy
// goes through net/http's ReadFrom, which uses sendfile(2) on TCP.
func copyFile(w *ResponseWriter, f *request.File, off, n int64, sendfile bool) error {
	// A section reader reads with pread(2): no lseek per request, and
	// http1 reads a small file straight into the response buffer.
	src := io.NewSectionReader(f, off, n)
	var err error
	if sendfile {
		_, err = w.ReadFrom(src)
	} else {
		_, err = io.CopyBuffer(writerOnly{w}, src, make([]byte, 32*1024))
	}
	return err
}

type byteRange struct{ start, end int64 }

// parseRanges is ap_set_byterange (2.4): it returns the merged ranges to
// send, none for a full response, or 416 when none is satisfiable.
func parseRanges(r *request.Request, size int64, etag, lastMod string) ([]byteRange, int) {
	rh := r.Header.Get("Range")
	if rh == "" {
		rh = r.Header.Get("Request-Range")
	}
	if len(rh) < 6 || !strings.EqualFold(rh[:6], "bytes=") || size == 0 {
		return nil, request.OK
	}
	if ir := r.Header.Get("If-Range"); ir != "" {
		if strings.HasPrefix(ir, "\"") {
			if etag == "" || ir != etag {
				return nil, request.OK
			}
		} else if ir != lastMod {
			return nil, request.OK
		}
	}
	spec := rh[6:]
	if strings.Count(spec, ",")+1 > 200 {
		return nil, request.OK
	}
	var out []byteRange
	unsatisfiable := 0
	var sum int64
	inMerge := false
	var ostart, oend int64
	// MaxRangeOverlaps and MaxRangeReversals (default 20): past them the
	// Range header is ignored.
	overlaps, reversals := 0, 0
	for _, cur := range strings.Split(spec, ",") {
		if cur == "" {
			break
		}
		dash := strings.IndexByte(cur, '-')
		if dash < 0 {
			return nil, request.OK
		}
		var start, end int64
		if dash == 0 {
			n, err := strconv.ParseInt(cur[1:], 10, 64)
			if err != nil || n < 0 {
				return nil, request.OK
			}
			if n == 0 {
				return nil, request.OK
			}
			start, end = size-n, size-1
			if start < 0 {
				start = 0
			}
		} else {
			n, err := strconv.ParseInt(cur[:dash], 10, 64)
			if err != nil || n < 0 {
				return nil, request.OK
			}
			start = n
			if cur[dash+1:] != "" {
				e, err := strconv.ParseInt(cur[dash+1:], 10, 64)
				if err != nil || e < 0 {
					return nil, request.OK
				}
				end = e
				if start > end {
					return nil, request.OK
				}
			} else {
				end = size - 1
			}
		}
		if start >= size {
			unsatisfiable++
			continue
		}
		if end >= size {
			end = size - 1
		}
		if !inMerge {
			ostart, oend, inMerge = start, end, true
			continue
		}
		if start <= oend+1 && end >= ostart-1 {
			if start < ostart {
				ostart = start
			}
			if end > oend {
				oend = end
			}
			if overlaps++; overlaps > 20 {
				return nil, request.OK
			}
			continue
		}
		if start < ostart {
			if reversals++; reversals > 20 {
				return nil, request.OK
			}
		}
		out = append(out, byteRange{ostart, oend})
		sum += oend - ostart + 1
		ostart, oend = start, end
	}
	if inMerge {
		out = append(out, byteRange{ostart, oend})
		sum += oend - ostart + 1
	}
	if len(out) == 0 {
		if unsatisfiable > 0 {
			return nil, http.StatusRequestedRangeNotSatisfiable
		}
		return nil, request.OK
	}
	if sum > size {
		return nil, request.OK
	}
	return out, request.OK
}

// meetsConditions is ap_meets_conditions for a file.
func meetsConditions(r *request.Request, etag string, mtime, now time.Time) int {
	isGet := r.Method == http.MethodGet || r.Method == http.MethodHead
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagListMatches(im, etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && mtime.Truncate(time.Second).After(t) {
			return http.StatusPreconditionFailed
		}
	}
	notModified := false
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagListMatches(inm, etag, isGet) {
			if isGet {
				notModified = true
			} else {
				return http.StatusPreconditionFailed
			}
		} else {
			return request.OK
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && isGet {
		if t, err := http.ParseTime(ims); err == nil && !t.After(now) && !mtime.Truncate(time.Second).After(t) {
			notModified = true
		}
	}
	if notModified {
		return http.StatusNotModified
	}
	return request.OK
}

// etagListMatches checks an If-Match / If-None-Match list; weak
// comparison ignores W/ prefixes.
func etagListMatches(list, etag string, weak bool) bool {
	if strings.TrimSpace(list) == "*" {
		return etag != ""
	}
	if etag == "" {
		return false
	}
	if !weak && strings.HasPrefix(etag, "W/") {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if weak {
			t = strings.TrimPrefix(t, "W/")
		} else if strings.HasPrefix(t, "W/") {
			continue
		}
		if t == want {
			return true
		}
	}
	return false
}

// discardBody is ap_discard_request_body with LimitRequestBody: a body
// over the limit is 413 (AH01588 for a declared length, AH01591 when
// counted while reading a chunked body).
func (x *exchange) discardBody(r *request.Request) int {
	d := coreDirOf(r)
	body := x.hr.Body
	if body == nil || body == http.NoBody {
		return request.OK
	}
	limit := int64(-1)
	if d.limitSet && d.LimitRequestBody > 0 {
		limit = d.LimitRequestBody
	}
	if limit >= 0 && x.hr.ContentLength > limit {
		x.log(r, "http", LevelInfo, "AH01588", fmt.Sprintf("Requested content-length of %d is larger than the configured limit of %d", x.hr.ContentLength, limit))
		x.rw.Header().Set("Connection", "close")
		return http.StatusRequestEntityTooLarge
	}
	max := limit
	if max < 0 {
		max = 1 << 62
	}
	n, err := io.Copy(io.Discard, io.LimitReader(body, max+1))
	if err != nil {
		// ap_discard_request_body → ap_map_http_request_error: a chunk
		// size past apr_off_t is 413, a malformed chunk 400 (both logged
		// as AH01590), a body that stops coming within Timeout 408.
		x.rw.Header().Set("Connection", "close")
		var ne net.Error
		switch {
		case errors.Is(err, http1.ErrChunkOverflow):
			x.log(r, "http", LevelInfo, "AH01590", "Error reading/parsing chunk (overflow) ")
			return http.StatusRequestEntityTooLarge
		case errors.Is(err, http1.ErrBadChunk):
			x.log(r, "http", LevelInfo, "AH01590", "Error reading/parsing chunk  ")
			return http.StatusBadRequest
		case errors.As(err, &ne) && ne.Timeout():
			return http.StatusRequestTimeout
		default:
			return http.StatusBadRequest
		}
	}
	if limit >= 0 && n > limit {
		x.log(r, "http", LevelInfo, "AH01591", fmt.Sprintf("Read content length of %d is larger than the configured limit of %d", n, limit))
		x.rw.Header().Set("Connection", "close")
		return http.StatusRequestEntityTooLarge
	}
	return request.OK
}
