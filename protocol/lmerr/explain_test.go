package lmerr

import (
	"strings"
	"testing"
)

// TestExplanations checks that every explanation belongs to an error golm
// knows and prints as appendix E.1.2 shows it: each line indented by one
// space between the text and the "FLEXlm error:" line.
func TestExplanations(t *testing.T) {
	if len(explanations) < 12 {
		t.Errorf("%d explanations, want every one of appendix E (12)", len(explanations))
	}
	for code, x := range explanations {
		e := New(code, 1)
		if !Known(code) {
			t.Errorf("explanation for unknown code %d", code)
		}
		want := Text(code) + "\n " + strings.ReplaceAll(x, "\n", "\n ") + "\n"
		if got := e.Long(); !strings.HasPrefix(got, want) {
			t.Errorf("New(%d, 1).Long() = %q, want it to start %q", code, got, want)
		}
		for _, l := range strings.Split(x, "\n") {
			if l == "" || strings.TrimSpace(l) != l {
				t.Errorf("code %d: line %q is empty or has surrounding spaces", code, l)
			}
		}
	}
	if got := Explanation(-4); got != "" {
		t.Errorf("Explanation(-4) = %q, want none", got)
	}
}

func TestLongCannotConnect(t *testing.T) {
	e := New(-15, 12, "Feature: f1", "Server name: localhost")
	want := "Cannot connect to license server system.\n" +
		" The server (lmgrd) has not been started yet, or the\n" +
		" wrong port@host or license file is being used, or the\n" +
		" port or host name in the license file has been changed.\n" +
		"Feature: f1\n" +
		"Server name: localhost\n" +
		"FLEXlm error: -15,12."
	if got := e.Long(); got != want {
		t.Errorf("Long() =\n%s\nwant\n%s", got, want)
	}
}

// The supporting information comes in the manual's order whatever order
// it was added in.
func TestLongDetailOrder(t *testing.T) {
	e := New(-15, 570, "License path: @localhost:license.dat", "Vendor: demo", "Server name: localhost", "Feature: f1")
	want := "Feature: f1\nServer name: localhost\nLicense path: @localhost:license.dat\nVendor: demo\nFLEXlm error: -15,570."
	if got := e.Long(); !strings.HasSuffix(got, want) {
		t.Errorf("Long() =\n%s\nwant it to end\n%s", got, want)
	}
}
