package options

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"golm/lmutil/licfile"
)

// benchOptions builds a sizeable options file: groups of a hundred
// users, host groups, INTERNET patterns and selectors, and a requester
// that goes through all of them before it is admitted.
func benchOptions(t testing.TB) (*Options, Requester, *licfile.Feature) {
	t.Helper()
	var b strings.Builder
	b.WriteString("GROUPCASEINSENSITIVE ON\n")
	for g := 0; g < 10; g++ {
		fmt.Fprintf(&b, "GROUP g%d", g)
		for u := 0; u < 100; u++ {
			fmt.Fprintf(&b, " user%d_%d", g, u)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "HOST_GROUP hg%d host%d-a host%d-b\n", g, g, g)
		fmt.Fprintf(&b, "EXCLUDE f1 GROUP g%d\nEXCLUDE f1 HOST_GROUP hg%d\n", g, g)
	}
	b.WriteString("EXCLUDE f1 INTERNET 10.9.*.* 10.8.*.*\nEXCLUDE f1:VERSION=3.0 USER x\n")
	b.WriteString("INCLUDE f1 GROUP g1\nINCLUDE f1 USER a b c\nINCLUDE f1 HOST Desk42\nMAX 3 f1 USER desk\n")
	o := mustParse(t, b.String())
	line := licenseLines(t, testLicense)[1]
	r := Requester{User: "Someone", Host: "DESK42.Example.COM", Display: ":0", IP: netip.MustParseAddr("10.1.2.3"), Project: "p"}
	if ok, code := o.Allowed("f1", line, r); !ok {
		t.Fatalf("the bench requester is denied: %d", code)
	}
	return o, r, line
}

func BenchmarkAllowed(b *testing.B) {
	o, r, line := benchOptions(b)
	b.ReportAllocs()
	for b.Loop() {
		o.Allowed("f1", line, r)
	}
}
