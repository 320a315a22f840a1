package server

import (
	"testing"

	"plume/http1"
)

// TestProtocolOptionsWords checks set_http_protocol_options's word
// handling and merge_core_server_configs's inheritance.
func TestProtocolOptionsWords(t *testing.T) {
	tests := []struct {
		words []string
		err   string
		want  http1.ProtocolOptions
	}{
		{words: []string{"Unsafe"}, want: http1.ProtocolOptions{Unsafe: true}},
		{words: []string{"unsafe", "REGISTEREDMETHODS", "require1.0"}, want: http1.ProtocolOptions{Unsafe: true, RegisteredMethods: true, Require10: true}},
		{words: []string{"Strict", "LenientMethods", "Allow0.9"}},
		{words: []string{"Unsafe", "Unsafe"}, want: http1.ProtocolOptions{Unsafe: true}},
		{words: []string{"Foo"}, err: protocolOptionsHelp},
		{words: []string{"Unsafe", "Strict"}, err: "HttpProtocolOptions 'Strict' and 'Unsafe' are mutually exclusive"},
		{words: []string{"LenientMethods", "RegisteredMethods"}, err: "HttpProtocolOptions 'RegisteredMethods' and 'LenientMethods' are mutually exclusive"},
		{words: []string{"Require1.0", "Allow0.9"}, err: "HttpProtocolOptions 'Allow0.9' and 'Require1.0' are mutually exclusive"},
	}
	for _, tt := range tests {
		var o protocolOptions
		var err error
		for _, w := range tt.words {
			if err = setProtocolOption(&o, w); err != nil {
				break
			}
		}
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("%v: error %v, want %q", tt.words, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%v: %v", tt.words, err)
		case tt.err == "":
			got := o.http1Options()
			if got.Unsafe != tt.want.Unsafe || got.RegisteredMethods != tt.want.RegisteredMethods || got.Require10 != tt.want.Require10 {
				t.Errorf("%v: %+v, want %+v", tt.words, got, tt.want)
			}
		}
	}

	// A virtual host keeps what it sets and inherits each other pair.
	var main, vhost protocolOptions
	setProtocolOption(&main, "Unsafe")
	setProtocolOption(&main, "Require1.0")
	setProtocolOption(&vhost, "Strict")
	got := vhost.merge(main).http1Options()
	if got.Unsafe || !got.Require10 || got.RegisteredMethods {
		t.Errorf("merged %+v, want Strict LenientMethods Require1.0", got)
	}
}

// TestFixHostnameLegacy checks the Host names HttpProtocolOptions Unsafe
// takes, against the answers of apache2 2.4 with Unsafe.
func TestFixHostnameLegacy(t *testing.T) {
	tests := []struct {
		in, name, port string
		ok             bool
	}{
		{"x:", "x", "", true},
		{"x:0", "", "", false},
		{"x:70000", "", "", false},
		{"a..b", "", "", false},
		{"a/b", "", "", false},
		{`a\b`, "", "", false},
		{"[::1]", "[::1]", "", true},
		{"[zz]", "", "", false},
		{"[::1]:80", "[::1]", "80", true},
		{"123", "123", "", true},
		{"X.Example.", "x.example", "", true},
		{"a b", "a b", "", true},
		{"a b:80", "a b", "80", true},
		{"é", "é", "", true},
		{":80", "", "", false},
		{"", "", "", true},
	}
	for _, tt := range tests {
		name, port, ok := fixHostname(tt.in, false)
		if ok != tt.ok || ok && (name != tt.name || port != tt.port) {
			t.Errorf("%q: %q %q %v, want %q %q %v", tt.in, name, port, ok, tt.name, tt.port, tt.ok)
		}
	}
}
