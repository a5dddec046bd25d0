package licfile

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// manifestKeys are two vendors' fixed test keys.
func manifestKeys(t testing.TB) (xyzd, abcd ed25519.PrivateKey) {
	t.Helper()
	_, a, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{2}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// signText parses and signs src with keys and returns the signed file.
func signText(t testing.TB, src string, keys map[string]ed25519.PrivateKey) string {
	t.Helper()
	out, _, err := SignFile([]byte(src), mustParse(t, src), keys)
	if err != nil {
		t.Fatalf("SignFile: %v", err)
	}
	return string(out)
}

// signedLinesOf returns the FEATURE, INCREMENT, UPGRADE and PACKAGE lines
// of f whose vendor is vendor.
func signedLinesOf(f *File, vendor string) []Line {
	var out []Line
	for _, l := range f.Order {
		if Signable(l) && lineVendor(l) == vendor {
			out = append(out, l)
		}
	}
	return out
}

// badLines runs VerifyAll on vendor's lines of src and returns the file
// line numbers it refused. It fails the test when any answer differs
// from Verify's for the same line.
func badLines(t *testing.T, src string, pub ed25519.PublicKey, vendor string) []int {
	t.Helper()
	f, _ := Parse(strings.NewReader(src), "license.dat")
	lines := signedLinesOf(f, vendor)
	errs := VerifyAll(pub, f, lines)
	var bad []int
	for i, l := range lines {
		want := Verify(pub, f, l)
		if fmt.Sprint(errs[i]) != fmt.Sprint(want) {
			t.Errorf("line %d: VerifyAll %v, Verify %v", l.LineSpan().Pos.Line, errs[i], want)
		}
		if errs[i] != nil {
			bad = append(bad, l.LineSpan().Pos.Line)
		}
	}
	return bad
}

// manifestHolds reports whether every manifest of vendor in src holds;
// false when there is none.
func manifestHolds(t *testing.T, src string, pub ed25519.PublicKey, vendor string) bool {
	t.Helper()
	f, _ := Parse(strings.NewReader(src), "license.dat")
	checks := VerifyManifests(pub, f, vendor)
	for _, c := range checks {
		if c.Err != nil {
			return false
		}
	}
	return len(checks) > 0
}

const manifestSrc = `SERVER speedy 08002b32b161 27000
VENDOR xyzd
FEATURE f1 xyzd 1.0 permanent 5 vendor_info="blue"
INCREMENT f2 xyzd 2.0 1-jan-2030 2 \
	NOTICE="x y"
FEATURE g1 abcd 1.0 permanent 1
PACKAGE p1 xyzd 1.0 COMPONENTS="f1 f2"
FEATURE f3 xyzd 1.0 permanent 7
`

// TestManifest signs a file, edits it in each way an administrator or an
// attacker might, and checks that VerifyAll gives every line Verify's own
// answer: the manifest holds only for the untouched block, and exactly
// the tampered lines are refused.
func TestManifest(t *testing.T) {
	xyzd, abcd := manifestKeys(t)
	pub := xyzd.Public().(ed25519.PublicKey)
	signed := signText(t, manifestSrc, map[string]ed25519.PrivateKey{"xyzd": xyzd, "abcd": abcd})
	other := signText(t, "SERVER speedy 08002b32b161 27000\nFEATURE h1 xyzd 1.0 permanent 9\n", map[string]ed25519.PrivateKey{"xyzd": xyzd})
	otherLine := strings.Split(other, "\n")[1]
	lines := strings.SplitAfter(signed, "\n")
	// lines[i] is file line i+1: [2] f1, [3:5] f2, [5] g1, [6] p1, [7] f3,
	// [8] the xyzd manifest, [9] the abcd manifest.
	join := func(parts ...string) string { return strings.Join(parts, "") }
	swap := func(i, j int) string {
		l := append([]string(nil), lines...)
		l[i], l[j] = l[j], l[i]
		return join(l...)
	}
	tests := []struct {
		name  string
		src   string
		holds bool
		bad   []int // file lines VerifyAll refuses
	}{
		{"as signed", signed, true, nil},
		{"lowercase attribute edited", strings.Replace(signed, `vendor_info="blue"`, `vendor_info="green"`, 1), true, nil},
		{"server host and port edited", strings.Replace(signed, "speedy 08002b32b161 27000", "other 08002b32b161 1700", 1), true, nil},
		{"count edited", strings.Replace(signed, "permanent 5 ", "permanent 6 ", 1), false, []int{3}},
		{"unsigned line added", join(lines[:7]...) + "FEATURE f9 xyzd 1.0 permanent 99\n" + join(lines[7:]...), false, []int{8}},
		{"line of another file added", join(lines[:7]...) + otherLine + "\n" + join(lines[7:]...), false, nil},
		{"line removed", join(lines[:7]...) + join(lines[8:]...), false, nil},
		{"lines reordered", swap(2, 7), false, nil},
		{"line duplicated", join(lines[:8]...) + lines[7] + join(lines[8:]...), false, nil},
		{"SIGN= of a line replaced", strings.Replace(signed, "permanent 7 SIGN=", "permanent 7 SIGN=A", 1), false, []int{8}},
		{"SERVER hostid edited", strings.Replace(signed, "speedy 08002b32b161", "speedy 08002b32b162", 1), false, []int{3, 4, 8}},
		{"manifest removed", join(lines[:8]...) + join(lines[9:]...), false, nil},
		{"manifest edited", strings.Replace(signed, "# golm-manifest xyzd lines=4 SIGN=", "# golm-manifest xyzd lines=4 SIGN=A", 1), false, nil},
		{"manifest moved before its lines", join(lines[:2]...) + lines[8] + join(lines[2:8]...) + join(lines[9:]...), false, nil},
		{"manifest of abcd renamed to xyzd", strings.Replace(signed, "# golm-manifest abcd", "# golm-manifest xyzd", 1), false, nil},
		// f3 then swallows the manifest line and no longer parses.
		{"manifest inside a continuation", join(lines[:7]...) + strings.TrimSuffix(lines[7], "\n") + " \\\n" + join(lines[8:]...), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := manifestHolds(t, tt.src, pub, "xyzd"); got != tt.holds {
				t.Errorf("manifests hold = %v, want %v", got, tt.holds)
			}
			if got := badLines(t, tt.src, pub, "xyzd"); fmt.Sprint(got) != fmt.Sprint(tt.bad) {
				t.Errorf("refused lines %v, want %v\n%s", got, tt.bad, tt.src)
			}
		})
	}
}

// TestManifestRenamed: abcd's manifest renamed to xyzd is a second xyzd
// manifest over an empty block, which never holds; xyzd's own still does.
func TestManifestRenamed(t *testing.T) {
	xyzd, abcd := manifestKeys(t)
	signed := signText(t, manifestSrc, map[string]ed25519.PrivateKey{"xyzd": xyzd, "abcd": abcd})
	src := strings.Replace(signed, "# golm-manifest abcd", "# golm-manifest xyzd", 1)
	f := mustParse(t, src)
	checks := VerifyManifests(xyzd.Public().(ed25519.PublicKey), f, "xyzd")
	if len(checks) != 2 || checks[0].Err != nil || checks[1].Err == nil || len(checks[1].Lines) != 0 {
		t.Fatalf("checks %+v, want the first to hold and the second, empty, not", checks)
	}
}

// TestManifestVendor: a manifest covers only its own vendor's lines and
// holds only under its own vendor's key.
func TestManifestVendor(t *testing.T) {
	xyzd, abcd := manifestKeys(t)
	pubX, pubA := xyzd.Public().(ed25519.PublicKey), abcd.Public().(ed25519.PublicKey)
	signed := signText(t, manifestSrc, map[string]ed25519.PrivateKey{"xyzd": xyzd, "abcd": abcd})
	tests := []struct {
		name   string
		src    string
		pub    ed25519.PublicKey
		vendor string
		holds  bool
		bad    []int
	}{
		{"abcd with its key", signed, pubA, "abcd", true, nil},
		{"abcd with the key of xyzd", signed, pubX, "abcd", false, []int{6}},
		{"xyzd with the key of abcd", signed, pubA, "xyzd", false, []int{3, 4, 7, 8}},
		{"xyzd manifest relabelled abcd", strings.Replace(strings.Replace(signed, "# golm-manifest abcd", "# old", 1),
			"# golm-manifest xyzd lines=4", "# golm-manifest abcd lines=1", 1), pubA, "abcd", false, nil},
		{"abcd line renamed to xyzd", strings.Replace(signed, "FEATURE g1 abcd", "FEATURE g1 xyzd", 1), pubX, "xyzd", false, []int{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := manifestHolds(t, tt.src, tt.pub, tt.vendor); got != tt.holds {
				t.Errorf("manifests hold = %v, want %v", got, tt.holds)
			}
			if got := badLines(t, tt.src, tt.pub, tt.vendor); fmt.Sprint(got) != fmt.Sprint(tt.bad) {
				t.Errorf("refused lines %v, want %v", got, tt.bad)
			}
		})
	}
}

// TestManifestConcatenated: two signed files one after the other keep
// two manifests, each holding for its own block and covering its lines.
func TestManifestConcatenated(t *testing.T) {
	xyzd, _ := manifestKeys(t)
	pub := xyzd.Public().(ed25519.PublicKey)
	keys := map[string]ed25519.PrivateKey{"xyzd": xyzd}
	a := signText(t, "FEATURE f1 xyzd 1.0 permanent 5\nFEATURE f2 xyzd 1.0 permanent 5\n", keys)
	b := signText(t, "INCREMENT f1 xyzd 1.0 permanent 3\n", keys)
	f := mustParse(t, a+b)
	checks := VerifyManifests(pub, f, "xyzd")
	if len(checks) != 2 {
		t.Fatalf("%d manifests, want 2", len(checks))
	}
	for i, want := range []int{2, 1} {
		if checks[i].Err != nil || len(checks[i].Lines) != want {
			t.Errorf("manifest %d: %v over %d lines, want to hold over %d", i, checks[i].Err, len(checks[i].Lines), want)
		}
	}
	lines := signedLinesOf(f, "xyzd")
	covered := manifestCovered(pub, f, lines)
	if fmt.Sprint(covered) != "[true true true]" {
		t.Errorf("covered %v, want every line", covered)
	}
	// Any subset of the lines, in any order, is found in the blocks; the
	// same line of another parse of the same text is not.
	foreign := signedLinesOf(mustParse(t, a+b), "xyzd")
	for _, tt := range []struct {
		name string
		some []Line
		want string
	}{
		{"in order", []Line{lines[0], lines[2]}, "[true true]"},
		{"reversed", []Line{lines[2], lines[1], lines[0]}, "[true true true]"},
		{"foreign, in order", []Line{lines[0], foreign[1], lines[2]}, "[true false true]"},
		{"foreign, out of order", []Line{foreign[2], lines[1], foreign[0]}, "[false true false]"},
		{"foreign only", foreign, "[]"},
	} {
		if got := fmt.Sprint(manifestCovered(pub, f, tt.some)); got != tt.want {
			t.Errorf("%s: covered %v, want %s", tt.name, got, tt.want)
		}
	}
	// Swapping the two files' lines breaks both blocks, not the lines.
	swapped := strings.Replace(a+b, "FEATURE f2 xyzd", "FEATURE fX xyzd", 1)
	if got := badLines(t, swapped, pub, "xyzd"); fmt.Sprint(got) != "[2]" {
		t.Errorf("refused lines %v, want [2]", got)
	}
	g := mustParse(t, swapped)
	if c := manifestCovered(pub, g, signedLinesOf(g, "xyzd")); fmt.Sprint(c) != "[false false true]" {
		t.Errorf("covered %v, want only the second file's line", c)
	}
}

// TestManifestResign: signing a signed file again gives the same bytes,
// with one manifest per vendor.
func TestManifestResign(t *testing.T) {
	xyzd, abcd := manifestKeys(t)
	keys := map[string]ed25519.PrivateKey{"xyzd": xyzd, "abcd": abcd}
	once := signText(t, manifestSrc, keys)
	twice := signText(t, once, keys)
	if once != twice {
		t.Errorf("signed twice:\n%s\nonce:\n%s", twice, once)
	}
	if n := strings.Count(twice, "# golm-manifest "); n != 2 {
		t.Errorf("%d manifest lines, want 2", n)
	}
	// Two concatenated files signed again: one manifest for all lines.
	joined := signText(t, once+once, keys)
	if n := strings.Count(joined, "# golm-manifest xyzd lines=8 "); n != 1 {
		t.Errorf("joined file:\n%s\nwant one xyzd manifest of 8 lines", joined)
	}
}

// TestManifestMovedLine: a line moved to another file verifies alone
// there, and the file it left falls back to line-by-line verification.
func TestManifestMovedLine(t *testing.T) {
	xyzd, _ := manifestKeys(t)
	pub := xyzd.Public().(ed25519.PublicKey)
	signed := signText(t, manifestSrc, map[string]ed25519.PrivateKey{"xyzd": xyzd})
	lines := strings.SplitAfter(signed, "\n")
	moved := "SERVER speedy 08002b32b161 27000\n" + lines[2]
	if got := badLines(t, moved, pub, "xyzd"); got != nil {
		t.Errorf("moved line refused: %v", got)
	}
	left := strings.Join(lines[:2], "") + strings.Join(lines[3:], "")
	if manifestHolds(t, left, pub, "xyzd") {
		t.Error("manifest still holds without one of its lines")
	}
	if got := badLines(t, left, pub, "xyzd"); got != nil {
		t.Errorf("remaining lines refused: %v", got)
	}
}

// TestParseManifestLine checks which comment lines are manifests.
func TestParseManifestLine(t *testing.T) {
	sig := strings.Repeat("A", 103)
	tests := []struct {
		text string
		ok   bool
	}{
		{"# golm-manifest xyzd lines=3 SIGN=" + sig, true},
		{"# golm-manifest xyzd lines=3 SIGN=" + strings.ToLower(sig) + " \t", true},
		{"# golm-manifest xyzd  lines=3\tSIGN=" + sig, true},
		{" # golm-manifest xyzd lines=3 SIGN=" + sig, false},
		{"#golm-manifest xyzd lines=3 SIGN=" + sig, false},
		{"# golm-manifest xyzd lines=0 SIGN=" + sig, false},
		{"# golm-manifest xyzd lines=-1 SIGN=" + sig, false},
		{"# golm-manifest xyzd lines=3 SIGN=" + sig[1:], false},
		{"# golm-manifest xyzd lines=3 SIGN=" + sig + "A", false},
		{"# golm-manifest xyzd lines=3 SIGN=" + sig[1:] + "1", false},
		{"# golm-manifest x=y lines=3 SIGN=" + sig, false},
		{"# golm-manifest xyzd lines=3", false},
		{"# golm-manifest xyzd lines=3 SIGN=" + sig + " extra", false},
		{"# golm-manifest lines=3 SIGN=" + sig, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			m, ok := ParseManifestLine(tt.text)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (m.Vendor != "xyzd" || m.Lines != 3) {
				t.Errorf("got vendor %q, %d lines; want xyzd, 3", m.Vendor, m.Lines)
			}
		})
	}
}

// TestManifestPositions: Parse records manifests with their place among
// the lines and nothing else as one.
func TestManifestPositions(t *testing.T) {
	sig := strings.Repeat("A", 103)
	src := "FEATURE f1 xyzd 1.0 permanent 5\n# golm-manifest xyzd lines=1 SIGN=" + sig + "\r\n" +
		"FEATURE f2 xyzd 1.0 permanent 5 \\\n# golm-manifest xyzd lines=1 SIGN=" + sig + "\n" +
		"\t# golm-manifest xyzd lines=1 SIGN=" + sig + "\n" +
		"# golm-manifest abcd lines=2 SIGN=" + sig + "\n"
	f, _ := Parse(strings.NewReader(src), "m.lic")
	var got []string
	for _, m := range f.Manifests {
		got = append(got, fmt.Sprintf("%s:%d before %d", m.Vendor, m.Pos.Line, m.Before))
		if src[m.Offset:m.End] != m.Raw || !strings.HasPrefix(m.Raw, "# golm-manifest ") || strings.HasSuffix(m.Raw, "\r") {
			t.Errorf("span %d:%d holds %q", m.Offset, m.End, m.Raw)
		}
	}
	if want := "[xyzd:2 before 1 abcd:6 before 1]"; fmt.Sprint(got) != want {
		t.Errorf("manifests %v, want %s", got, want)
	}
}

// FuzzManifestLine checks that ParseManifestLine never panics, accepts
// only lines of the manifest form, and reads back what String writes.
func FuzzManifestLine(f *testing.F) {
	sig := strings.Repeat("A", 103)
	f.Add("# golm-manifest xyzd lines=3 SIGN=" + sig)
	f.Add("# golm-manifest xyzd lines=3 SIGN=" + strings.ToLower(sig) + "\r")
	f.Add("# golm-manifest x lines=99999999999 SIGN=" + sig)
	f.Add("# golm-manifest \\ lines=1 SIGN=\"" + sig)
	f.Add("# comment")
	form := regexp.MustCompile(`^# golm-manifest [ \t\r\v\f]*[^ \t\r\v\f="]+[ \t\r\v\f]+lines=[0-9]+[ \t\r\v\f]+SIGN=[A-Za-z2-7]{103}[ \t\r\v\f]*$`)
	f.Fuzz(func(t *testing.T, text string) {
		m, ok := ParseManifestLine(text)
		if !ok {
			return
		}
		if !form.MatchString(text) {
			t.Fatalf("accepted %q", text)
		}
		again, ok := ParseManifestLine(m.String())
		if !ok || again != m {
			t.Fatalf("%q reads back as %+v, %v; want %+v", m.String(), again, ok, m)
		}
	})
}

// FuzzDecodeSignatureInto checks the allocation-free decoder against
// DecodeSignature: the same verdict and the same bytes for any text.
func FuzzDecodeSignatureInto(f *testing.F) {
	f.Add(strings.Repeat("A", 103))
	f.Add(strings.Repeat("7", 103))
	f.Add(strings.Repeat("Z", 102) + "B")
	f.Add(strings.Repeat("a", 103))
	f.Add(" " + strings.Repeat("Q", 103))
	f.Add(EncodeSignature(bytes.Repeat([]byte{0xa5}, 64)))
	f.Fuzz(func(t *testing.T, s string) {
		var got [ed25519.SignatureSize]byte
		ok := decodeSignatureInto(got[:], s)
		want, err := DecodeSignature(s)
		if ok != (err == nil) || (ok && !bytes.Equal(got[:], want)) {
			t.Fatalf("%q: decoded %x (%v), DecodeSignature %x (%v)", s, got, ok, want, err)
		}
	})
}

// TestDecodeSignatureIntoTrailingBits: every last character, whatever its
// three unused bits, decodes as DecodeSignature decodes it.
func TestDecodeSignatureIntoTrailingBits(t *testing.T) {
	prefix := EncodeSignature(bytes.Repeat([]byte{0x5c}, 64))[:102]
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" {
		s := prefix + string(c)
		var got [ed25519.SignatureSize]byte
		ok := decodeSignatureInto(got[:], s)
		want, err := DecodeSignature(s)
		if ok != (err == nil) || (ok && !bytes.Equal(got[:], want)) {
			t.Errorf("%c: decoded %x (%v), DecodeSignature %x (%v)", c, got, ok, want, err)
		}
	}
}

// TestParseLarge parses a file long enough to be parsed in pieces and
// checks that lines, errors, SERVER limits and manifests come out in file
// order, as for a short file.
func TestParseLarge(t *testing.T) {
	const n = 3 * parallelLines
	sig := strings.Repeat("A", 103)
	var b strings.Builder
	var wantBad, wantServers []int
	for i := 1; i <= n; i++ {
		switch {
		case i%97 == 0:
			fmt.Fprintf(&b, "FEATURE bad%d xyzd 1.0 1-foo-2005 1\n", i)
			wantBad = append(wantBad, i)
		case i%2000 == 0:
			fmt.Fprintf(&b, "SERVER host%d ANY\n", i)
			if len(wantServers) < 3 {
				wantServers = append(wantServers, i)
			} else {
				wantBad = append(wantBad, i)
			}
		case i == n/2:
			b.WriteString("# golm-manifest xyzd lines=1 SIGN=" + sig + "\n")
		default:
			fmt.Fprintf(&b, "FEATURE f%d xyzd 1.0 permanent %d\n", i, i)
		}
	}
	f, err := Parse(strings.NewReader(b.String()), "large.lic")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v, want an ErrorList", err)
	}
	var gotBad []int
	for _, e := range list {
		gotBad = append(gotBad, e.Line)
	}
	if fmt.Sprint(gotBad) != fmt.Sprint(wantBad) {
		t.Errorf("errors on lines %v, want %v", gotBad, wantBad)
	}
	var gotServers []int
	for _, s := range f.Servers {
		gotServers = append(gotServers, s.Pos.Line)
	}
	if fmt.Sprint(gotServers) != fmt.Sprint(wantServers) {
		t.Errorf("SERVER lines %v, want %v", gotServers, wantServers)
	}
	prev := 0
	for i, l := range f.Order {
		line := l.LineSpan().Pos.Line
		if line <= prev {
			t.Fatalf("line %d of Order is file line %d, after %d", i, line, prev)
		}
		if ft, ok := l.(*Feature); ok && ft.Name != fmt.Sprintf("f%d", line) {
			t.Fatalf("file line %d parsed as %s", line, ft.Name)
		}
		prev = line
	}
	if len(f.Order) != n-len(wantBad)-1 {
		t.Errorf("%d lines, want %d", len(f.Order), n-len(wantBad)-1)
	}
	if len(f.Manifests) != 1 || f.Manifests[0].Pos.Line != n/2 ||
		f.Order[f.Manifests[0].Before-1].LineSpan().Pos.Line != n/2-1 {
		t.Errorf("manifests %+v, want one at line %d after line %d", f.Manifests, n/2, n/2-1)
	}
}
