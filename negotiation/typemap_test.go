package negotiation

import (
	"strconv"
	"strings"
	"testing"
)

func TestAtoq(t *testing.T) {
	tests := map[string]float32{"": 1, "1": 1, "0": 0, "0.5": 0.5, ".5": 0.5, "0.123": 0.123, "0.1239": 0.123,
		"0.120": 0.12, "0.100": 0.1, "2": 1, "x": 1, " 0.3": 0.3, "0.": 0, "0x": 0, "00.5": 0}
	for in, want := range tests {
		if got := atoq(in); got != want {
			t.Errorf("atoq(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestGetEntry(t *testing.T) {
	tests := []struct {
		in   string
		want acceptRec
		rest string
	}{
		{"text/html", acceptRec{name: "text/html", quality: 1, level: 2}, ""},
		{"Text/HTML;Level=3;q=0.5, x", acceptRec{name: "text/html", quality: 0.5, level: 3}, " x"},
		{"text/plain; charset=\"UTF-8\"; qs=0.25", acceptRec{name: "text/plain", quality: 0.25, charset: "utf-8"}, ""},
		{"a b", acceptRec{name: "a", quality: 1}, "b"},
		{"image/*;q", acceptRec{name: "image/*", quality: 1}, ""},
		{"x;q = 0.7", acceptRec{name: "x", quality: 0.7}, ""},
	}
	for _, tt := range tests {
		got, rest := getEntry(tt.in)
		if got != tt.want || rest != tt.rest {
			t.Errorf("getEntry(%q) = %+v, %q; want %+v, %q", tt.in, got, rest, tt.want, tt.rest)
		}
	}
	recs, ok := parseHeaderLine([]string{""})
	if !ok || len(recs) != 0 {
		t.Errorf("empty header: %v %v", recs, ok)
	}
	if _, ok := parseHeaderLine(nil); ok {
		t.Error("absent header reported present")
	}
	long := strings.Repeat("a,", 100000)
	if recs, _ := parseHeaderLine([]string{long}); len(recs) > maxHeaderItems {
		t.Errorf("%d items kept", len(recs))
	}
}

func TestParseTypeMap(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // fileName|type|langs|enc|qs|bytes|desc|body
		logs      []string
		status    int
	}{
		{name: "records", src: "URI: foo\n\nURI: foo.en.html\nContent-Type: text/html; qs=0.5\nContent-Language: EN, fr\n\nURI: foo.txt\ncontent-type: text/plain\n",
			want: []string{"foo.en.html|text/html|en,fr||0.5|-1||", "foo.txt|text/plain|||1|-1||"}},
		{name: "continuation and comments", src: "# c\nURI: a (x)\nContent-Type: text/plain\n  ;qs=0.3\n# mid\nDescription: one\n two\n",
			want: []string{"a|text/plain|||0.3|-1|one two|"}},
		{name: "no type means qs 0", src: "URI: a\nContent-Language: en\n", want: []string{"a||en||0|-1||"}},
		{name: "body", src: "URI: m\nContent-Type: text/plain\nBody:--X\nhello\n--X tail\n\nURI: b\nContent-Length: 4\n",
			want: []string{"m.var|text/plain|||1|6||hello\n", "b||||0|4||"}},
		{name: "no colon", src: "URI: a\nContent-Type text/plain\n", status: 500,
			logs: []string{"AH00681: Syntax error in type map, no ':' in /d/m.var for header content-type text/plain\n"}},
		{name: "no body", src: "URI: a\nContent-Type:   \n", status: 500,
			logs: []string{"AH00682: Syntax error in type map --- no header body: /d/m.var for content-type:   \n"}},
		{name: "bad length stops", src: "URI: a\nContent-Type: text/plain\n\nURI: b\nContent-Length: 1x\n\nURI: c\nContent-Type: text/plain\n",
			want: []string{"a|text/plain|||1|-1||"}, logs: []string{"AH00684: Parse error in type map, Content-Length: '1x' in /d/m.var is invalid."}},
		{name: "no end tag", src: "URI: a\nContent-Type: text/plain\n\nURI: b\nContent-Type: text/html\nBody:END\nxx\n",
			want: []string{"a|text/plain|||1|-1||"}, logs: []string{"AH00685: Syntax error in type map, no end tag 'END' found in /d/m.var for Body: content."}},
		{name: "empty length is zero", src: "URI: a\nContent-Length: ;\n", want: []string{"a||||0|0||"}},
		{name: "crlf", src: "URI: a\r\nContent-Type: text/plain\r\n\r\nURI: b\r\nContent-Type: image/png\r\n",
			want: []string{"a|text/plain|||1|-1||", "b|image/png|||1|-1||"}},
	}
	for _, tt := range tests {
		tm := parseTypeMap([]byte(tt.src), "/d/m.var")
		var got []string
		for _, v := range tm.variants {
			got = append(got, strings.Join([]string{v.fileName, v.mimeType, strings.Join(v.languages, ","), v.encoding,
				formatFloat(v.sourceQ), formatInt(v.bytes), v.description, string(v.body)}, "|"))
		}
		var logs []string
		for _, l := range tm.logs {
			logs = append(logs, l.code+": "+l.format("/d/m.var"))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || strings.Join(logs, "\n") != strings.Join(tt.logs, "\n") || tm.status != tt.status {
			t.Errorf("%s:\n got %q %q %d\nwant %q %q %d", tt.name, got, logs, tm.status, tt.want, tt.logs, tt.status)
		}
	}
}

func formatFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }
func formatInt(n int64) string     { return strconv.FormatInt(n, 10) }

func TestFormatQS(t *testing.T) {
	for in, want := range map[float32]string{1: "1", 0.5: "0.5", 0.25: "0.25", 0.001: "0.001", 0: "0", 0.01: "0.01"} {
		if got := formatQS(in); got != want {
			t.Errorf("formatQS(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestExceptionsCovered(t *testing.T) {
	tests := []struct {
		filp string
		exc  []string
		want bool
	}{
		{"index", []string{"index"}, true},
		{"index", []string{"index", "foo"}, false},
		{"index.foo", []string{"index", "foo"}, true},
		{"index.html.foo", []string{"index", "foo"}, true},
		{"index.foo.html", []string{"index", "html", "foo"}, false},
		{"a.b.c", []string{"a", "c"}, true},
	}
	for _, tt := range tests {
		if got := exceptionsCovered(tt.filp, tt.exc); got != tt.want {
			t.Errorf("exceptionsCovered(%q, %q) = %v", tt.filp, tt.exc, got)
		}
	}
}

func TestEscapes(t *testing.T) {
	if got := escapePathSegment("a b/c;d%é"); got != "a%20b%2fc%3bd%25%c3%a9" {
		t.Errorf("escapePathSegment: %q", got)
	}
	if got := escapeURI("/a b/;x"); got != "/a%20b/;x" {
		t.Errorf("escapeURI: %q", got)
	}
}
