package options

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse or the policy methods
// panic, that every error is a positioned *ParseError with a FlexLM
// code, that only a file with errors closes features (and those for
// everyone), and that a file without errors or quotes renders (dump) to
// text that parses back to the same options. The seed corpus is every
// options file of testdata, run by plain go test.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{".", "malformed"} {
		for _, path := range optionFiles(f, dir) {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(data))
		}
	}
	f.Add("GROUP a b a\nGROUP b a\nINCLUDE f GROUP a\n")
	f.Add("RESERVE 1 f:VERSION=1.0 INTERNET *.*.*.*\nMAX 0 f HOST_GROUP h\nHOST_GROUP h x\n")
	f.Add("EXCLUDE f \\\n\\\n\"")
	f.Fuzz(func(t *testing.T, src string) {
		o, err := Parse(strings.NewReader(src), "fuzz.opt")
		if o == nil {
			t.Fatalf("Parse returned nil Options (err %v)", err)
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Column < 1 || e.Code >= 0 {
					t.Errorf("bad position or code in %v", e)
				}
			}
		}
		r := Requester{User: "b", Host: "x", Display: ":0", IP: netip.MustParseAddr("10.0.0.1"), Project: "p"}
		for _, feat := range []string{"f", "f1", "a"} {
			o.Allowed(feat, nil, r)
			o.maxFor(feat, nil, r)
			o.Timeout(feat, nil)
			for _, rv := range o.Reservations(feat, nil) {
				rv.Matches(r)
			}
		}
		if err == nil && len(o.Closures) > 0 {
			t.Fatalf("closures without errors: %v", o.Closures)
		}
		for _, c := range o.Closures {
			// A closed feature is closed for everyone.
			if ok, _ := o.Allowed(c.Feature, nil, r); ok {
				t.Fatalf("closure %v, but Allowed(%q) admits", c, c.Feature)
			}
			var pe *ParseError
			if !errors.As(c.Err, &pe) || pe.Line < 1 {
				t.Fatalf("closure %v has no position", c)
			}
		}
		if err != nil || strings.Contains(src, `"`) {
			return
		}
		text := dump(o)
		for _, line := range strings.Split(text, "\n") {
			if len(line) > MaxLineLength {
				return // concatenated GROUP lines may outgrow a line
			}
		}
		o2, err := Parse(strings.NewReader(text), "dump.opt")
		if err != nil {
			t.Fatalf("the dump does not parse: %v\n%s", err, text)
		}
		if again := dump(o2); again != text {
			t.Fatalf("the dump changes when parsed again:\n%s\nthen:\n%s", text, again)
		}
	})
}
