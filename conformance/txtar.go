package conformance

import (
	"bytes"
	"fmt"
	"strings"
)

// archiveFile is one "-- name --" member of a txtar-style archive.
type archiveFile struct {
	Name string
	Data string
}

// parseArchive splits txtar text into its leading comment and its members.
// The format is golang.org/x/tools/txtar's: a line "-- NAME --" starts a
// member that runs to the next such line. It is re-implemented here (a few
// lines) so the repository needs no x/tools dependency for a test reader.
func parseArchive(data []byte) (comment string, files []archiveFile, err error) {
	var cur *archiveFile
	var buf bytes.Buffer
	flush := func() {
		if cur == nil {
			comment = buf.String()
		} else {
			cur.Data = buf.String()
			files = append(files, *cur)
		}
		buf.Reset()
	}
	seen := map[string]bool{}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if name, ok := memberName(trimmed); ok {
			flush()
			if seen[name] {
				return "", nil, fmt.Errorf("member %q appears twice", name)
			}
			seen[name] = true
			cur = &archiveFile{Name: name}
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return comment, files, nil
}

// memberName recognises a "-- name --" marker line.
func memberName(line string) (string, bool) {
	if !strings.HasPrefix(line, "-- ") || !strings.HasSuffix(line, " --") || len(line) < 7 {
		return "", false
	}
	name := strings.TrimSpace(line[3 : len(line)-3])
	if name == "" {
		return "", false
	}
	return name, true
}
