package server

import (
	"strings"
	"testing"
)

func TestStrcmpMatch(t *testing.T) {
	cases := []struct {
		str, pat string
		want     bool
	}{
		{"", "", true}, {"a", "", false}, {"", "*", true}, {"abc", "a*c", true},
		{"abc", "a?c", true}, {"ac", "a?c", false}, {"abcbc", "a*bc", true},
		{"x.v2.test", "*.v2.test", true}, {"v2.test", "*.v2.test", false},
		{"abc", "*b", false}, {"aXbXc", "a*b*c", true}, {"abd", "a*c", false},
		{"README.html", "README*", true}, {"readme", "README*", false},
	}
	for _, c := range cases {
		if got := strcmpMatch(c.str, c.pat); got != c.want {
			t.Errorf("strcmpMatch(%q, %q) = %v, want %v", c.str, c.pat, got, c.want)
		}
	}
	if !strcasecmpMatch("X.V2.Test", "*.v2.TEST") {
		t.Error("strcasecmpMatch is not case-blind")
	}
	// A hostile Host header against a many-star alias: a recursive
	// matcher never finishes this (the test would hit go test's timeout);
	// the backtracking one is quadratic at worst.
	if strcmpMatch(strings.Repeat("a", 4000), "*a*a*a*a*a*a*a*a*b") {
		t.Error("matched without a b")
	}
}
