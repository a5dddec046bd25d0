package licfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allTestdataLines returns every license line of testdata/licenses.
func allTestdataLines(t testing.TB) []Line {
	t.Helper()
	var out []Line
	for _, path := range licenseFiles(t, "licenses") {
		f, err := ParseFile(path)
		if f == nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, f.Order...)
	}
	if len(out) == 0 {
		t.Fatal("no license lines in testdata")
	}
	return out
}

// TestDecimalRoundTrip writes every license line of testdata in decimal
// and reads it back: the same canonical line, for every kind of line.
func TestDecimalRoundTrip(t *testing.T) {
	kinds := map[Kind]bool{}
	for _, l := range allTestdataLines(t) {
		canon := l.String()
		t.Run(canon, func(t *testing.T) {
			dec, err := EncodeDecimal(l)
			if err != nil {
				t.Fatalf("EncodeDecimal: %v", err)
			}
			if !isDecimal(dec) {
				t.Errorf("isDecimal(%q) = false", dec)
			}
			if strings.Trim(dec[len(decimalName(l)):], "-0123456789") != "" {
				t.Errorf("decimal line %q has more than digits after its name", dec)
			}
			got, err := DecodeDecimal(dec)
			if err != nil {
				t.Fatalf("DecodeDecimal(%q): %v", dec, err)
			}
			if got != canon {
				t.Errorf("round trip:\ngot  %q\nwant %q", got, canon)
			}
			kinds[l.LineKind()] = true
		})
	}
	for _, k := range []Kind{KindServer, KindVendor, KindUseServer, KindFeature, KindIncrement, KindUpgrade, KindPackage} {
		if !kinds[k] {
			t.Errorf("no %s line in the round trip", kindKeyword(k))
		}
	}
}

// TestDecimalSignedFile is the acceptance test: a file signed by
// lmcrypt survives readable → decimal → readable byte for byte in
// canonical form, and every signature still verifies.
func TestDecimalSignedFile(t *testing.T) {
	path := filepath.Join("..", "testdata", "keys", "demo.lic")
	orig, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(filepath.Join("..", "testdata", "keys", "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	var dec strings.Builder
	for _, l := range orig.Order {
		d, err := EncodeDecimal(l)
		if err != nil {
			t.Fatalf("EncodeDecimal(%s): %v", l, err)
		}
		dec.WriteString(d + "\n")
	}
	readable, _, errs := ExpandDecimal(dec.String(), "dec.lic")
	if errs != nil {
		t.Fatal(errs)
	}
	back, err := Parse(strings.NewReader(readable), "dec.lic")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.String(), orig.String(); got != want {
		t.Errorf("canonical file after the round trip:\ngot:\n%s\nwant:\n%s", got, want)
	}
	signed := 0
	for _, l := range back.Order {
		if !Signable(l) {
			continue
		}
		signed++
		if err := Verify(pub.Key, back, l); err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
	if signed == 0 {
		t.Error("no signed line checked")
	}
}

// TestDammDetects proves, over every possible group, that a group's check
// digit catches any single wrong digit and any swap of two neighbouring
// different digits, check digit included.
func TestDammDetects(t *testing.T) {
	for n := 0; n < 10000; n++ {
		data := []byte{byte('0' + n/1000), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}
		group := string(append(data, '0'+dammDigit(string(data))))
		if dammDigit(group) != 0 {
			t.Fatalf("group %s does not check", group)
		}
		for i := 0; i < groupLen; i++ {
			for d := byte('0'); d <= '9'; d++ {
				if d == group[i] {
					continue
				}
				typo := group[:i] + string(d) + group[i+1:]
				if dammDigit(typo) == 0 {
					t.Fatalf("typo %s of %s not detected", typo, group)
				}
			}
			if i+1 < groupLen && group[i] != group[i+1] {
				swap := group[:i] + string(group[i+1]) + string(group[i]) + group[i+2:]
				if dammDigit(swap) == 0 {
					t.Fatalf("swap %s of %s not detected", swap, group)
				}
			}
		}
	}
}

// digitPositions returns the offsets of the digits after the name.
func digitPositions(dec string) []int {
	var out []int
	start := strings.IndexByte(dec, '-')
	for i := start; i < len(dec); i++ {
		if dec[i] >= '0' && dec[i] <= '9' {
			out = append(out, i)
		}
	}
	return out
}

// TestDecimalTypos types a real signed decimal line with every possible
// single-digit mistake and every swap of neighbouring digits (across a
// dash too): each one is caught, as ErrDecimal.
func TestDecimalTypos(t *testing.T) {
	f, err := ParseFile(filepath.Join("..", "testdata", "keys", "demo.lic"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := EncodeDecimal(f.Features[1])
	if err != nil {
		t.Fatal(err)
	}
	pos := digitPositions(dec)
	typos, swaps := 0, 0
	for k, i := range pos {
		for d := byte('0'); d <= '9'; d++ {
			if d == dec[i] {
				continue
			}
			typo := dec[:i] + string(d) + dec[i+1:]
			if _, err := DecodeDecimal(typo); !errors.Is(err, ErrDecimal) {
				t.Fatalf("digit %d typed %c: err = %v, want ErrDecimal", i, d, err)
			}
			typos++
		}
		if k+1 < len(pos) {
			j := pos[k+1]
			if dec[i] == dec[j] {
				continue
			}
			b := []byte(dec)
			b[i], b[j] = b[j], b[i]
			if _, err := DecodeDecimal(string(b)); !errors.Is(err, ErrDecimal) {
				t.Fatalf("digits %d and %d swapped: err = %v, want ErrDecimal", i, j, err)
			}
			swaps++
		}
	}
	if typos != 9*len(pos) || swaps < len(pos)/2 {
		t.Errorf("only %d typos and %d swaps tried on %q", typos, swaps, dec)
	}
}

// TestDecimalGroupErrors checks the other ways a line can be typed wrong.
func TestDecimalGroupErrors(t *testing.T) {
	dec, err := EncodeDecimal(mustLine(t, "FEATURE f1 xyzd 1.0 permanent 3 HOSTID=ANY"))
	if err != nil {
		t.Fatal(err)
	}
	name, groups, _ := splitDecimal(dec)
	join := func(gs ...string) string { return name + "-" + strings.Join(gs, "-") }
	swapped := append([]string{}, groups...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	tests := []struct {
		name, line, reason string
	}{
		{"group missing", join(groups[1:]...), "last group"},
		{"group twice", join(append([]string{groups[0]}, groups...)...), "last group"},
		{"groups swapped", join(swapped...), "last group"},
		{"short group", join(append([]string{groups[0][:4]}, groups[1:]...)...), "has 4 digits"},
		{"wrong name", "abcd" + dec[len(name):], "last group"},
		{"only a check group", join(groups[len(groups)-1]), "too few groups"},
		{"letters", dec + "x", "not a decimal line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeDecimal(tt.line)
			if !errors.Is(err, ErrDecimal) {
				t.Fatalf("err = %v, want ErrDecimal", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %q, want it to say %q", err, tt.reason)
			}
		})
	}
}

func mustLine(t testing.TB, text string) Line {
	t.Helper()
	l, err := parseOneLine(text)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return l
}

// TestEncodeDecimalRefuses lists lines the decimal format cannot hold.
func TestEncodeDecimalRefuses(t *testing.T) {
	tests := []struct{ name, line string }{
		{"vendor with a dash before a digit", "FEATURE f1 ab-1 1.0 permanent 3"},
		{"vendor with a colon", "VENDOR a:b"},
		{"too long", "FEATURE f1 xyzd 1.0 permanent 3 NOTICE=\"" + strings.Repeat("n", MaxDecimalText) + "\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeDecimal(mustLine(t, tt.line))
			if !errors.Is(err, ErrNotDecimal) || CodeOf(err) != -98 {
				t.Errorf("err = %v (code %d), want ErrNotDecimal (-98)", err, CodeOf(err))
			}
		})
	}
}

// TestExpandDecimal mixes decimal and readable lines, continuations and
// comments, and checks line numbers of the result and of errors.
func TestExpandDecimal(t *testing.T) {
	feat := "FEATURE f1 xyzd 1.0 permanent 3 HOSTID=ANY NOTICE=\"a b\""
	dec, err := EncodeDecimal(mustLine(t, feat))
	if err != nil {
		t.Fatal(err)
	}
	vend, _ := EncodeDecimal(mustLine(t, "VENDOR xyzd"))
	// Break the feature's decimal line after its third group.
	cut := len("xyzd") + 3*(groupLen+1)
	wrapped := dec[:cut] + "\\\n   " + dec[cut:]
	bad := []byte(dec)
	bad[len(dec)-8] = '0' + (bad[len(dec)-8]-'0'+1)%10
	src := "# comment\n" + vend + "\r\nSERVER h ANY \\\n 27000\n" + wrapped + "\n\n" + string(bad) + "\nUSE_SERVER\n"
	got, found, errs := ExpandDecimal(src, "m.lic")
	want := "# comment\nVENDOR xyzd\nSERVER h ANY \\\n 27000\n" + feat + "\n\n\n\nUSE_SERVER\n"
	if got != want {
		t.Errorf("expanded:\ngot  %q\nwant %q", got, want)
	}
	if len(found) != 3 || found[0].Line != 2 || found[1].Line != 5 || found[1].Lines != 2 || found[2].Text != "" {
		t.Errorf("found = %+v", found)
	}
	if len(errs) != 1 {
		t.Fatalf("errs = %v, want one", errs)
	}
	e := errs[0]
	if e.Line != 8 || e.Code != -99 || !errors.Is(e, ErrDecimal) {
		t.Errorf("error = %v (line %d, code %d), want line 8, -99", e, e.Line, e.Code)
	}
	if col := len(dec) - len(dec[strings.LastIndexByte(dec[:len(dec)-8], '-')+1:]) + 1; e.Column != col {
		t.Errorf("error column %d, want %d (the bad group)", e.Column, col)
	}
	f, err := Parse(strings.NewReader(got), "m.lic")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Order) != 4 || f.Features[0].Pos.Line != 5 {
		t.Errorf("parsed %d lines, feature at line %d", len(f.Order), f.Features[0].Pos.Line)
	}
}

// TestIsDecimal tells decimal lines from readable ones.
func TestIsDecimal(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"xyzd-12345-67890", true},
		{"my-vendor-12345-67890", true},
		{"USE_SERVER", false},
		{"FEATURE f1 xyzd-12345 1.0 permanent 1", false},
		{"xyzd-12345-6789a", false},
		{"-12345-67890", false},
		{"xyzd-", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if got := isDecimal(tt.line); got != tt.want {
				t.Errorf("isDecimal(%q) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

// FuzzDecimal checks that every line that parses goes through the decimal
// format and back unchanged, and that no input makes DecodeDecimal or
// ExpandDecimal panic or accept something that does not re-encode.
func FuzzDecimal(f *testing.F) {
	for _, path := range licenseFiles(f, "licenses") {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("xyzd-12345-67890")
	f.Add("FEATURE f1 xyzd 1.0 permanent 3 NOTICE=\"\x01\xff\"")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4*MaxDecimalText {
			return
		}
		file, _ := Parse(strings.NewReader(src), "fuzz.lic")
		for _, l := range file.Order {
			dec, err := EncodeDecimal(l)
			if err != nil {
				if !errors.Is(err, ErrNotDecimal) {
					t.Fatalf("EncodeDecimal(%q): %v is not ErrNotDecimal", l, err)
				}
				continue
			}
			got, err := DecodeDecimal(dec)
			if err != nil || got != l.String() {
				t.Fatalf("round trip of %q: got %q, %v", l.String(), got, err)
			}
		}
		if text, err := DecodeDecimal(src); err == nil {
			l, perr := parseOneLine(text)
			if perr != nil || l.String() != text {
				t.Fatalf("DecodeDecimal(%q) accepted %q, which is not a canonical line", src, text)
			}
		}
		_, _, errs := ExpandDecimal(src, "fuzz.lic")
		for _, e := range errs {
			if e.Line < 1 || e.Column < 1 || e.Code != -99 {
				t.Fatalf("bad error %v (line %d col %d)", e, e.Line, e.Column)
			}
		}
	})
}
