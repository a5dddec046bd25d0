package licfile

import (
	"crypto/ed25519"
	"regexp"
	"strings"
	"testing"
)

// mustParse parses src and fails the test on any error.
func mustParse(t testing.TB, src string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(src), "license.dat")
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", src, err)
	}
	return f
}

// TestSignedTextParsed checks the normalisation on lines as the parser
// reads them: each pair of spellings must (or must not) share a signed form.
func TestSignedTextParsed(t *testing.T) {
	const server = "SERVER speedy 08002b32b161 2837\n"
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"version 2.300 and 2.3",
			"FEATURE f1 xyzd 2.300 1-jan-2005 5",
			"FEATURE f1 xyzd 2.3 1-jan-2005 5", true},
		{"permanent and 1-jan-0",
			"FEATURE f1 xyzd 1 permanent 5",
			"FEATURE f1 xyzd 1 1-jan-0 5", true},
		{"1-jan-0 and 1-jan-0000",
			"FEATURE f1 xyzd 1 1-jan-0 5",
			"FEATURE f1 xyzd 1 1-jan-0000 5", true},
		{"uncounted and 0",
			"FEATURE f1 xyzd 1 1-jan-2005 uncounted HOSTID=ANY",
			"FEATURE f1 xyzd 1 1-jan-2005 0 HOSTID=ANY", true},
		{"date spelling",
			"FEATURE f1 xyzd 1 01-JAN-2005 5",
			"FEATURE f1 xyzd 1 1-jan-2005 5", true},
		{"keyword case",
			"feature f1 xyzd 1 1-jan-2005 5",
			"FEATURE f1 xyzd 1 1-jan-2005 5", true},
		{"hex hostid case",
			"FEATURE f1 xyzd 1 1-jan-2005 5 HOSTID=08002B32B161",
			"FEATURE f1 xyzd 1 1-jan-2005 5 HOSTID=08002b32b161", true},
		{"ID= dashes",
			"FEATURE f1 xyzd 1 1-jan-2005 5 HOSTID=ID=1234-5678",
			"FEATURE f1 xyzd 1 1-jan-2005 5 HOSTID=ID=12345678", true},
		{"attribute order",
			`FEATURE f1 xyzd 1 1-jan-2005 5 NOTICE="n" ISSUER="i"`,
			`FEATURE f1 xyzd 1 1-jan-2005 5 ISSUER="i" NOTICE="n"`, true},
		{"lowercase attributes, ck and SIGN",
			`FEATURE f1 xyzd 1 1-jan-2005 5 vendor_info="a" ck=12 SIGN=AAAA`,
			`FEATURE f1 xyzd 1 1-jan-2005 5 asset_info="b"`, true},
		{"license key",
			"FEATURE f1 xyzd 1 1-jan-2005 5 1EF890030EAB",
			"FEATURE f1 xyzd 1 1-jan-2005 5 084561FE98B3", true},
		{"v2 vendor string and VENDOR_STRING",
			`FEATURE f1 xyzd 1 1-jan-2005 5 1EF890030EAB "abc"`,
			`FEATURE f1 xyzd 1 1-jan-2005 5 VENDOR_STRING="abc"`, true},
		{"count",
			"FEATURE f1 xyzd 1 1-jan-2005 5",
			"FEATURE f1 xyzd 1 1-jan-2005 6", false},
		{"version",
			"FEATURE f1 xyzd 1.1 1-jan-2005 5",
			"FEATURE f1 xyzd 1.10 1-jan-2005 5", true},
		{"version 1.1 and 1.2",
			"FEATURE f1 xyzd 1.1 1-jan-2005 5",
			"FEATURE f1 xyzd 1.2 1-jan-2005 5", false},
		{"expiry",
			"FEATURE f1 xyzd 1 1-jan-2005 5",
			"FEATURE f1 xyzd 1 2-jan-2005 5", false},
		{"hostid",
			"FEATURE f1 xyzd 1 1-jan-2005 5 HOSTID=08002b32b161",
			"FEATURE f1 xyzd 1 1-jan-2005 5 HOSTID=08002b32b162", false},
		{"uppercase attribute",
			`FEATURE f1 xyzd 1 1-jan-2005 5 NOTICE="a"`,
			`FEATURE f1 xyzd 1 1-jan-2005 5 NOTICE="b"`, false},
		{"FEATURE and INCREMENT",
			"FEATURE f1 xyzd 1 1-jan-2005 5",
			"INCREMENT f1 xyzd 1 1-jan-2005 5", false},
		{"feature name case",
			"FEATURE f1 xyzd 1 1-jan-2005 5",
			"FEATURE F1 xyzd 1 1-jan-2005 5", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa, fb := mustParse(t, server+tt.a+"\n"), mustParse(t, server+tt.b+"\n")
			a := SignedText(fa.Features[0], fa.Servers)
			b := SignedText(fb.Features[0], fb.Servers)
			if (a == b) != tt.same {
				t.Errorf("same signed form = %v, want %v:\n%s\nvs\n%s", a == b, tt.same, a, b)
			}
		})
	}
}

// sigRE matches a SIGN= value SignFile writes.
var sigRE = regexp.MustCompile(`SIGN=[A-Z2-7]{103}`)

func TestSignFile(t *testing.T) {
	const manifest1 = "# golm-manifest xyzd lines=1 SIGN=<sig>\n"
	priv := testKey()
	keys := map[string]ed25519.PrivateKey{"xyzd": priv}
	tests := []struct {
		name string
		in   string
		want string // with every SIGN= value written as SIGN=<sig>
	}{
		{"appended",
			"SERVER speedy 08002b32b161 2837\nDAEMON xyzd /etc/xyzd\nFEATURE f1 xyzd 1.0 1-jan-2005 5\n",
			"SERVER speedy 08002b32b161 2837\nDAEMON xyzd /etc/xyzd\nFEATURE f1 xyzd 1.0 1-jan-2005 5 SIGN=<sig> ck=<ck>\n" + manifest1},
		{"replaced in place",
			"FEATURE f1 xyzd 1.0 1-jan-2005 0 SIGN=\"0A1B 2C3D\" HOSTID=ANY ck=1 vendor_info=x\n",
			"FEATURE f1 xyzd 1.0 1-jan-2005 0 SIGN=<sig> HOSTID=ANY ck=<ck> vendor_info=x\n" + manifest1},
		{"ck added beside an old SIGN",
			"FEATURE f1 xyzd 1.0 1-jan-2005 0 HOSTID=ANY SIGN=AAAA\n",
			"FEATURE f1 xyzd 1.0 1-jan-2005 0 HOSTID=ANY SIGN=<sig> ck=<ck>\n" + manifest1},
		{"continuation kept",
			"# header comment\n\nINCREMENT f1 xyzd 1.0 1-jan-2005 0 \\\n\tHOSTID=ANY NOTICE=\"a b\"  \n# tail\n",
			"# header comment\n\nINCREMENT f1 xyzd 1.0 1-jan-2005 0 \\\n\tHOSTID=ANY NOTICE=\"a b\" SIGN=<sig> ck=<ck>  \n# tail\n" + manifest1},
		{"CRLF",
			"FEATURE f1 xyzd 1.0 1-jan-2005 0 HOSTID=ANY\r\nFEATURE f2 xyzd 1.0 1-jan-2005 0 HOSTID=ANY\r\n",
			"FEATURE f1 xyzd 1.0 1-jan-2005 0 HOSTID=ANY SIGN=<sig> ck=<ck>\r\nFEATURE f2 xyzd 1.0 1-jan-2005 0 HOSTID=ANY SIGN=<sig> ck=<ck>\r\n" +
				"# golm-manifest xyzd lines=2 SIGN=<sig>\r\n"},
		{"no final newline",
			"PACKAGE suite xyzd 1.0 COMPONENTS=\"c1 c2\"",
			"PACKAGE suite xyzd 1.0 COMPONENTS=\"c1 c2\" SIGN=<sig> ck=<ck>\n" + manifest1},
		{"continuation at the end",
			"FEATURE f1 xyzd 1.0 1-jan-2005 5 \\\n",
			"FEATURE f1 xyzd 1.0 1-jan-2005 5 SIGN=<sig> ck=<ck> \\\n\n" + manifest1},
		{"old manifest replaced",
			"# golm-manifest xyzd lines=1 SIGN=" + strings.Repeat("A", 103) + "\nFEATURE f1 xyzd 1.0 1-jan-2005 5\n" +
				"# golm-manifest abcd lines=1 SIGN=" + strings.Repeat("B", 103) + "\n",
			"FEATURE f1 xyzd 1.0 1-jan-2005 5 SIGN=<sig> ck=<ck>\n# golm-manifest abcd lines=1 SIGN=<sig>\n" + manifest1},
		{"other vendor untouched",
			"FEATURE f1 abcd 1.0 1-jan-2005 0 HOSTID=ANY ck=3\nUPGRADE f1 xyzd 1.0 2.0 1-jan-2005 2\n",
			"FEATURE f1 abcd 1.0 1-jan-2005 0 HOSTID=ANY ck=3\nUPGRADE f1 xyzd 1.0 2.0 1-jan-2005 2 SIGN=<sig> ck=<ck>\n" + manifest1},
	}
	ckRE := regexp.MustCompile(`ck=\d+`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.in)
			out, signed, err := SignFile([]byte(tt.in), f, keys)
			if err != nil {
				t.Fatalf("SignFile: %v", err)
			}
			// Every signed line must verify and carry its checksum.
			g := mustParse(t, string(out))
			n := 0
			for _, l := range g.Order {
				if !Signable(l) || lineVendor(l) != "xyzd" {
					continue
				}
				n++
				if err := Verify(priv.Public().(ed25519.PublicKey), g, l); err != nil {
					t.Errorf("line %d does not verify: %v", l.LineSpan().Pos.Line, err)
				}
				if ok, has := CheckCk(l, g.Servers); !ok || !has {
					t.Errorf("line %d: ck= ok %v, present %v", l.LineSpan().Pos.Line, ok, has)
				}
			}
			if n != len(signed) {
				t.Errorf("signed %d lines, found %d xyzd lines after", len(signed), n)
			}
			got := sigRE.ReplaceAllString(string(out), "SIGN=<sig>")
			want := tt.want
			got = replaceSignedCk(got, ckRE)
			if got != want {
				t.Errorf("SignFile output:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// replaceSignedCk writes ck=<ck> for the ck= values on the physical lines
// that carry a new signature, leaving the others as they are.
func replaceSignedCk(s string, ckRE *regexp.Regexp) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.Contains(line, "SIGN=<sig>") {
			line = ckRE.ReplaceAllString(line, "ck=<ck>")
		}
		b.WriteString(line)
	}
	return b.String()
}

func TestSignFileStaleSpan(t *testing.T) {
	src := "FEATURE f1 xyzd 1.0 1-jan-2005 0 HOSTID=ANY\n"
	f := mustParse(t, src)
	if _, _, err := SignFile([]byte("# changed\n"+src), f, map[string]ed25519.PrivateKey{"xyzd": testKey()}); err == nil {
		t.Error("SignFile with spans of other contents: no error")
	}
	out, signed, err := SignFile([]byte(src), f, nil)
	if err != nil || len(signed) != 0 || string(out) != src {
		t.Errorf("SignFile without keys = %q, %d signed, %v; want the input unchanged", out, len(signed), err)
	}
}

// FuzzSignFile signs whatever parses and checks that the result still
// parses to the same lines, each signed one verifying.
func FuzzSignFile(f *testing.F) {
	f.Add("SERVER speedy 08002b32b161 2837\nDAEMON xyzd\nFEATURE f1 xyzd 1.0 1-jan-2005 5\n")
	f.Add("FEATURE f1 xyzd 1.0 1-jan-2005 0 SIGN=\"0A 1B\" HOSTID=ANY ck=1 \\\r\n vendor_info=x\r\n")
	f.Add("INCREMENT f1 xyzd 1.0 permanent uncounted HOSTID=ID=12-34 \\\n")
	f.Add("PACKAGE p xyzd COMPONENTS=\"a:1.0:2 b\" SIGN=x\nUPGRADE f xyzd 1 2 1-jan-0 3 ck=1 ck=2\n")
	f.Add("FEATURE f1 xyzd 1 1-jan-0 1 2A3B \"ck=4\" 08002b32b161\n")
	f.Add("FEATURE f1 xyzd 1.0 1-jan-2005 5 \\\n\n\n# golm-manifest xyzd lines=1 SIGN=" + strings.Repeat("A", 103) + "\r\nFEATURE f2 abcd 1 1-jan-0 1")
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse(strings.NewReader(src), "fuzz")
		if err != nil || file == nil {
			return
		}
		keys := map[string]ed25519.PrivateKey{}
		for _, l := range file.Order {
			if Signable(l) {
				keys[lineVendor(l)] = priv
			}
		}
		out, signed, err := SignFile([]byte(src), file, keys)
		if err != nil {
			t.Fatalf("SignFile: %v", err)
		}
		g, err := Parse(strings.NewReader(string(out)), "fuzz")
		if err != nil {
			t.Fatalf("signed file does not parse: %v\n%q", err, out)
		}
		if len(g.Order) != len(file.Order) {
			t.Fatalf("signed file has %d lines, was %d", len(g.Order), len(file.Order))
		}
		n := 0
		for _, l := range g.Order {
			if !Signable(l) {
				continue
			}
			n++
			if err := Verify(pub, g, l); err != nil {
				t.Errorf("line %d does not verify after signing: %v\n%q", l.LineSpan().Pos.Line, err, out)
			}
		}
		if n != len(signed) {
			t.Errorf("signed %d lines, %d after", len(signed), n)
		}
		// One manifest per vendor, each holding; signing again changes
		// nothing.
		for v := range keys {
			checks := VerifyManifests(pub, g, v)
			if len(checks) != 1 || checks[0].Err != nil {
				t.Fatalf("vendor %s: manifests %+v, want one that holds\n%q", v, checks, out)
			}
		}
		again, _, err := SignFile(out, g, keys)
		if err != nil || string(again) != string(out) {
			t.Fatalf("signing again: %v\n%q\nwant\n%q", err, again, out)
		}
	})
}
