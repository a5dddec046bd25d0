package licfile

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// addLicenseSeeds adds every license file of testdata (licenses and
// malformed) to f's seed corpus.
func addLicenseSeeds(f *testing.F) {
	f.Helper()
	for _, dir := range []string{"licenses", "malformed"} {
		for _, path := range licenseFiles(f, dir) {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(data))
		}
	}
}

// FuzzParse checks that no input makes Parse panic, that every error is a
// positioned *ParseError, and that every parsed line renders to canonical
// text that parses back to the same line and the same text. The seed
// corpus is every license file of testdata, run by plain go test.
func FuzzParse(f *testing.F) {
	addLicenseSeeds(f)
	f.Add("FEATURE f v 1 permanent 1 a\\\n\\\n\"")
	f.Add("DAEMON x C:\\dir\\ options=o\r\n")
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse(strings.NewReader(src), "fuzz.lic")
		if file == nil {
			t.Fatalf("Parse returned a nil File (err %v)", err)
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
		for _, line := range file.Order {
			sp := line.LineSpan()
			if sp.Offset < 0 || sp.End > len(src) || sp.Offset > sp.End || src[sp.Offset:sp.End] != sp.Raw {
				t.Fatalf("span %d:%d does not hold Raw %q", sp.Offset, sp.End, sp.Raw)
			}
			canon := line.String()
			again, err := Parse(strings.NewReader(canon), "canon.lic")
			if err != nil {
				t.Fatalf("canonical %q of %q does not parse: %v", canon, sp.Raw, err)
			}
			if len(again.Order) != 1 {
				t.Fatalf("canonical %q parses to %d lines, want 1", canon, len(again.Order))
			}
			if got := again.Order[0].String(); got != canon {
				t.Fatalf("canonical form not stable:\nfirst:  %q\nsecond: %q", canon, got)
			}
			if again.Order[0].LineKind() != line.LineKind() {
				t.Fatalf("canonical %q changed kind %v to %v", canon, line.LineKind(), again.Order[0].LineKind())
			}
		}
	})
}
