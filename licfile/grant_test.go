package licfile

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"golm/lmutil/protocol/lmerr"
)

// TestVerifySignedText signs lines of every kind and checks that their
// signed forms verify and read back, and that an edited form, another
// key or a mangled SIGN= fail with -8.
func TestVerifySignedText(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	text := "SERVER this_host 17007ea8 27000\nVENDOR demo\n" +
		"FEATURE f1 demo 1.050 1-JAN-2099 5 START=1-feb-2020 VENDOR_STRING=\"a b\"\n" +
		"INCREMENT f1 demo 2.0 permanent uncounted HOSTID=ANY\n" +
		"UPGRADE f1 demo 1.0 3.0 31-dec-2030 2\n" +
		"PACKAGE suite demo COMPONENTS=\"c1 c2:2.5 c3:1.0:4\"\n"
	f, err := Parse(strings.NewReader(text), "x.lic")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line Line
		want SignedHead
	}{
		{f.Features[0], SignedHead{Kind: KindFeature, Name: "f1", Vendor: "demo", Version: mustVersion(t, "1.05"), Expiry: mustDate(t, "1-jan-2099"), Count: 5, Start: mustDate(t, "1-feb-2020")}},
		{f.Features[1], SignedHead{Kind: KindIncrement, Name: "f1", Vendor: "demo", Version: mustVersion(t, "2"), Expiry: mustDate(t, "permanent")}},
		{f.Features[2], SignedHead{Kind: KindUpgrade, Name: "f1", Vendor: "demo", FromVersion: mustVersion(t, "1"), Version: mustVersion(t, "3"), Expiry: mustDate(t, "31-dec-2030"), Count: 2}},
		{f.Packages[0], SignedHead{Kind: KindPackage, Name: "suite", Vendor: "demo", Components: []Component{
			{Name: "c1"}, {Name: "c2", Version: mustVersion(t, "2.5")}, {Name: "c3", Version: mustVersion(t, "1"), Count: 4}}}},
	}
	for _, tt := range tests {
		form := SignedText(tt.line, f.Servers)
		sign, err := Sign(priv, tt.line, f.Servers)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.SplitN(form, "\n", 3)[1], func(t *testing.T) {
			got, err := VerifySignedText(pub, form, sign)
			if err != nil {
				t.Fatalf("VerifySignedText: %v", err)
			}
			if !sameHead(got, tt.want) {
				t.Errorf("VerifySignedText = %+v, want %+v", got, tt.want)
			}
			bad := []struct {
				name       string
				pub        ed25519.PublicKey
				form, sign string
			}{
				{"count edited", pub, strings.Replace(form, " 5\n", " 500\n", 1), sign},
				{"item added", pub, form + "OVERDRAFT \"100\"\n", sign},
				{"other key", otherPub, form, sign},
				{"no key", nil, form, sign},
				{"SIGN= mangled", pub, form, sign[:len(sign)-2]},
				{"SIGN= empty", pub, form, ""},
			}
			for _, b := range bad {
				if b.name == "count edited" && !strings.Contains(form, " 5\n") {
					continue
				}
				_, err := VerifySignedText(b.pub, b.form, b.sign)
				if !errors.Is(err, ErrBadSignature) || lmerr.CodeOf(err) != -8 {
					t.Errorf("%s: VerifySignedText = %v, want a -8 signature error", b.name, err)
				}
			}
		})
	}
}

func sameHead(a, b SignedHead) bool {
	if len(a.Components) != len(b.Components) {
		return false
	}
	for i := range a.Components {
		x, y := a.Components[i], b.Components[i]
		if x.Name != y.Name || x.Count != y.Count || x.Version.Compare(y.Version) != 0 || x.Version.IsZero() != y.Version.IsZero() {
			return false
		}
	}
	return a.Kind == b.Kind && a.Name == b.Name && a.Vendor == b.Vendor && a.Count == b.Count &&
		a.FromVersion.Compare(b.FromVersion) == 0 && a.Version.Compare(b.Version) == 0 &&
		a.Expiry.Year == b.Expiry.Year && a.Expiry.Month == b.Expiry.Month && a.Expiry.Day == b.Expiry.Day &&
		a.Start.Year == b.Start.Year && a.Start.Month == b.Start.Month && a.Start.Day == b.Start.Day
}

func mustVersion(t *testing.T, s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustDate(t *testing.T, s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestParseSignedTextMalformed: forms that are not golm-sig-1 forms are
// errors, never panics.
func TestParseSignedTextMalformed(t *testing.T) {
	for _, s := range []string{
		"", "golm-sig-1", "golm-sig-2\nFEATURE \"f\" \"v\" 1 permanent 1\n",
		"golm-sig-1\nSERVER \"x\"\n", "golm-sig-1\nFEATURE \"f\" \"v\" 1 permanent\n",
		"golm-sig-1\nFEATURE \"f\" \"v\" x permanent 1\n", "golm-sig-1\nFEATURE \"f\" \"v\" 1 never 1\n",
		"golm-sig-1\nFEATURE \"f\" \"v\" 1 permanent -1\n", "golm-sig-1\nFEATURE \"f 1 permanent 1\n",
		"golm-sig-1\nFEATURE \"f\"\"v\" 1 permanent 1\n", "golm-sig-1\nUPGRADE \"f\" \"v\" 1 permanent 1\n",
		"golm-sig-1\nPACKAGE \"p\" \"v\" 1 2\n", "golm-sig-1\nPACKAGE \"p\" \"v\" *\nCOMPONENTS \"a:1\"\n",
		"golm-sig-1\nFEATURE \"f\" \"v\" 1 permanent 1\nSTART \"x\"\n",
	} {
		if h, err := ParseSignedText(s); err == nil {
			t.Errorf("ParseSignedText(%q) = %+v, want an error", s, h)
		}
	}
}

// FuzzParseSignedText: nothing panics, and a form that reads back names
// a known line kind.
func FuzzParseSignedText(f *testing.F) {
	f.Add("golm-sig-1\nFEATURE \"f1\" \"demo\" 1 permanent 4\nHOSTID \"ANY\"\nSERVER \"17007ea8\"\n")
	f.Add("golm-sig-1\nPACKAGE \"suite\" \"demo\" *\nCOMPONENTS \"c1:0:0 c2:2.5:3\"\n")
	f.Add("golm-sig-1\nUPGRADE \"f1\" \"demo\" 1 2 1-jan-2030 uncounted\nSTART 1-jan-2020\n")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseSignedText(s)
		if err == nil && h.Kind != KindFeature && h.Kind != KindIncrement && h.Kind != KindUpgrade && h.Kind != KindPackage {
			t.Errorf("ParseSignedText(%q) kind %v", s, h.Kind)
		}
	})
}

// TestFingerprint: 16 hex digits, the same for the same key, different
// for another; a PublicKey and its bare key agree.
func TestFingerprint(t *testing.T) {
	a, _, _ := ed25519.GenerateKey(nil)
	b, _, _ := ed25519.GenerateKey(nil)
	fa := KeyFingerprint(a)
	if len(fa) != 16 || strings.Trim(fa, "0123456789abcdef") != "" {
		t.Errorf("KeyFingerprint = %q, want 16 hex digits", fa)
	}
	if got := (PublicKey{Vendor: "demo", Key: a}).Fingerprint(); got != fa {
		t.Errorf("PublicKey.Fingerprint = %q, want %q", got, fa)
	}
	if KeyFingerprint(b) == fa {
		t.Error("two keys share a fingerprint")
	}
}
