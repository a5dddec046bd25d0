package licfile

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/protocol/lmerr"
)

// testKey is a fixed key so that failures are reproducible.
func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
}

func testServers() []*Server {
	return []*Server{{
		Host:   "speedy",
		HostID: HostID{Type: HostIDEther, Text: "08002b32b161", Value: "08002b32b161"},
		Port:   2837,
	}}
}

// testFeature is
//
//	INCREMENT f1 xyzd 2.300 01-jan-2005 5 HOSTID=ID=1234-5678 \
//	    NOTICE="Licensed to XYZ corp" vendor_info="blue" SUPERSEDE
func testFeature() *Feature {
	return &Feature{
		Kind:    KindIncrement,
		Format:  FormatV71,
		Name:    "f1",
		Vendor:  "xyzd",
		Version: Version{Text: "2.300", Int: 2, Frac: "3"},
		Expiry:  Date{Text: "01-jan-2005", Day: 1, Month: time.January, Year: 2005},
		Count:   5, CountText: "5",
		HostID: HostIDList{{Type: HostIDID, Text: "ID=1234-5678", Value: "12345678"}},
		Attrs: []Attr{
			{Key: "HOSTID", Value: "ID=1234-5678", HasValue: true},
			{Key: "NOTICE", Value: "Licensed to XYZ corp", HasValue: true, Quoted: true},
			{Key: "vendor_info", Value: "blue", HasValue: true, Quoted: true},
			{Key: "SUPERSEDE"},
		},
		Superseded: true,
		UserBased:  -1,
		HostBased:  -1,
	}
}

func TestSignedText(t *testing.T) {
	want := `golm-sig-1
INCREMENT "f1" "xyzd" 2.3 1-jan-2005 5
HOSTID "ID=12345678"
NOTICE "Licensed to XYZ corp"
SUPERSEDE
SERVER "08002b32b161"
`
	if got := SignedText(testFeature(), testServers()); got != want {
		t.Errorf("SignedText =\n%s\nwant\n%s", got, want)
	}

	v2 := &Feature{
		Kind: KindFeature, Format: FormatV2, Name: "xyz_app", Vendor: "xyzd",
		Version: Version{Text: "2.300", Int: 2, Frac: "3"},
		Expiry:  Date{Text: "31-dec-2005", Day: 31, Month: time.December, Year: 2005},
		Count:   20, CountText: "20", Key: "123456789012", VendorString: "xyz",
	}
	wantV2 := `golm-sig-1
FEATURE "xyz_app" "xyzd" 2.3 31-dec-2005 20
VENDOR_STRING "xyz"
`
	if got := SignedText(v2, nil); got != wantV2 {
		t.Errorf("SignedText(v2) =\n%s\nwant\n%s", got, wantV2)
	}

	pkg := &Package{
		Name: "suite", Vendor: "xyzd", Version: Version{Text: "1.0", Int: 1},
		Components: []Component{{Name: "c1", Version: Version{Text: "1.5", Int: 1, Frac: "5"}, Count: 2}, {Name: "c2"}},
		Suite:      true,
		Attrs: []Attr{
			{Key: "OPTIONS", Value: "suite", HasValue: true},
			{Key: "COMPONENTS", Value: "c1:1.5:2 c2", HasValue: true, Quoted: true},
		},
	}
	wantPkg := `golm-sig-1
PACKAGE "suite" "xyzd" 1
COMPONENTS "c1:1.5:2 c2:0:0"
OPTIONS "SUITE"
`
	if got := SignedText(pkg, testServers()); got != wantPkg {
		t.Errorf("SignedText(PACKAGE) =\n%s\nwant\n%s", got, wantPkg)
	}
	if got := SignedText(testServers()[0], nil); got != "" {
		t.Errorf("SignedText(SERVER) = %q, want empty", got)
	}
}

// TestSignatureCovers edits a signed line and its file and checks which
// edits the signature notices.
func TestSignatureCovers(t *testing.T) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	tests := []struct {
		name   string
		edit   func(f *Feature, file *File)
		breaks bool
	}{
		{"unchanged", func(*Feature, *File) {}, false},
		{"count", func(f *Feature, _ *File) { f.Count = 6; f.CountText = "6" }, true},
		{"expiry", func(f *Feature, _ *File) { f.Expiry.Year = 2006; f.Expiry.Text = "01-jan-2006" }, true},
		{"version", func(f *Feature, _ *File) { f.Version = Version{Text: "2.4", Int: 2, Frac: "4"} }, true},
		{"hostid", func(f *Feature, _ *File) { f.HostID[0].Value = "12345679" }, true},
		{"name", func(f *Feature, _ *File) { f.Name = "f2" }, true},
		{"kind", func(f *Feature, _ *File) { f.Kind = KindFeature }, true},
		{"uppercase attribute value", func(f *Feature, _ *File) { f.Attrs[1].Value = "Licensed to ABC corp" }, true},
		{"uppercase attribute added", func(f *Feature, _ *File) {
			f.Attrs = append(f.Attrs, Attr{Key: "OVERDRAFT", Value: "5", HasValue: true})
		}, true},
		{"uppercase attribute removed", func(f *Feature, _ *File) { f.Attrs = f.Attrs[:3] }, true},
		{"SERVER hostid", func(_ *Feature, file *File) { file.Servers[0].HostID.Value = "08002b32b162" }, true},
		{"SERVER added", func(_ *Feature, file *File) { file.Servers = append(file.Servers, testServers()...) }, true},
		{"lowercase attribute value", func(f *Feature, _ *File) { f.Attrs[2].Value = "green" }, false},
		{"lowercase attribute added", func(f *Feature, _ *File) {
			f.Attrs = append(f.Attrs, Attr{Key: "asset_info", Value: "x", HasValue: true})
		}, false},
		{"ck changed", func(f *Feature, _ *File) { f.Ck, f.HasCk = 12, true }, false},
		{"SERVER host and port", func(_ *Feature, file *File) { file.Servers[0].Host = "other"; file.Servers[0].Port = 1700 }, false},
		{"DAEMON path", func(_ *Feature, file *File) { file.Vendors[0].Path = "/opt/xyzd" }, false},
		{"permanent for 1-jan-0", func(f *Feature, _ *File) {
			f.Expiry = Date{Text: "permanent"}
		}, true}, // a real date became permanent: must break
		{"2.3 for 2.300", func(f *Feature, _ *File) { f.Version = Version{Text: "2.3", Int: 2, Frac: "3"} }, false},
		{"zero-padded version fraction", func(f *Feature, _ *File) { f.Version = Version{Text: "2.30", Int: 2, Frac: "30"} }, false},
		{"1-JAN-2005 for 01-jan-2005", func(f *Feature, _ *File) { f.Expiry.Text = "1-JAN-2005" }, false},
		{"ID= with other dashes", func(f *Feature, _ *File) { f.HostID[0].Text = "ID=12-345678" }, false},
		{"attribute order", func(f *Feature, _ *File) { f.Attrs[1], f.Attrs[3] = f.Attrs[3], f.Attrs[1] }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testFeature()
			file := &File{Servers: testServers(), Vendors: []*Vendor{{Keyword: "DAEMON", Name: "xyzd", Path: "/etc/xyzd"}}}
			sig, err := Sign(priv, f, file.Servers)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			f.Sign = sig
			tt.edit(f, file)
			err = Verify(pub, file, f)
			if got := err != nil; got != tt.breaks {
				t.Errorf("after edit, Verify = %v; want broken %v\nsigned form now:\n%s", err, tt.breaks, SignedText(f, file.Servers))
			}
		})
	}
}

func TestEquivalentSpellings(t *testing.T) {
	tests := []struct {
		name string
		a, b func(f *Feature)
	}{
		{"permanent and 1-jan-0",
			func(f *Feature) { f.Expiry = Date{Text: "permanent"} },
			func(f *Feature) { f.Expiry = Date{Text: "1-jan-0", Day: 1, Month: time.January} }},
		{"1-jan-0 and 31-dec-0000",
			func(f *Feature) { f.Expiry = Date{Text: "1-jan-0", Day: 1, Month: time.January} },
			func(f *Feature) { f.Expiry = Date{Text: "31-dec-0000", Day: 31, Month: time.December} }},
		{"uncounted and 0",
			func(f *Feature) { f.Count, f.CountText = 0, "uncounted" },
			func(f *Feature) { f.Count, f.CountText = 0, "0" }},
		{"2.300 and 2.3",
			func(f *Feature) { f.Version = Version{Text: "2.300", Int: 2, Frac: "3"} },
			func(f *Feature) { f.Version = Version{Text: "2.3", Int: 2, Frac: "3"} }},
		{"1.0 and 1",
			func(f *Feature) { f.Version = Version{Text: "1.0", Int: 1} },
			func(f *Feature) { f.Version = Version{Text: "1", Int: 1} }},
		{"hex hostid case",
			func(f *Feature) {
				f.HostID = HostIDList{{Type: HostIDEther, Text: "08002B32B161", Value: "08002b32b161"}}
			},
			func(f *Feature) {
				f.HostID = HostIDList{{Type: HostIDEther, Text: "08002b32b161", Value: "08002b32b161"}}
			}},
		{"FEATURE keyword case",
			func(f *Feature) { f.Kind = KindFeature; f.Raw = "feature f1" },
			func(f *Feature) { f.Kind = KindFeature; f.Raw = "FEATURE f1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa, fb := testFeature(), testFeature()
			tt.a(fa)
			tt.b(fb)
			a, b := SignedText(fa, testServers()), SignedText(fb, testServers())
			if a != b {
				t.Errorf("signed forms differ:\n%s\nvs\n%s", a, b)
			}
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	signed := testFeature()
	sig, err := Sign(priv, signed, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed.Sign = sig
	lower := testFeature()
	lower.Sign = strings.ToLower(sig)
	tests := []struct {
		name string
		pub  ed25519.PublicKey
		line Line
		ok   bool
	}{
		{"good", pub, signed, true},
		{"good in lower case", pub, lower, true},
		{"unsigned", pub, testFeature(), false},
		{"wrong key", other, signed, false},
		{"no key", nil, signed, false},
		{"garbage SIGN", pub, &Feature{Kind: KindFeature, Sign: "0A1B-2C3D"}, false},
		{"SERVER line", pub, testServers()[0], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, &File{}, tt.line)
			if tt.ok {
				if err != nil {
					t.Errorf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify = %v, want an error wrapping ErrBadSignature", err)
			}
			if got := lmerr.CodeOf(err); got != -8 {
				t.Errorf("lmerr.CodeOf(Verify) = %d, want -8", got)
			}
		})
	}
}

func TestSignatureEncoding(t *testing.T) {
	sig, err := Sign(testKey(), testFeature(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 103 {
		t.Errorf("len(SIGN=) = %d, want 103", len(sig))
	}
	if strings.Trim(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("SIGN=%s has characters outside A-Z2-7", sig)
	}
	if _, err := Sign(ed25519.PrivateKey{1, 2}, testFeature(), nil); err == nil {
		t.Error("Sign with a short key: no error")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, err := GenerateKey(dir, "xyzd", nil)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{keyPath, 0o600}, {pubPath, 0o644}} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got&^c.mode != 0 || got&0o600 != 0o600 {
			t.Errorf("%s: mode %v, want at most %v", filepath.Base(c.path), got, c.mode)
		}
	}
	if _, _, err := GenerateKey(dir, "xyzd", nil); err == nil {
		t.Error("GenerateKey over an existing key: no error")
	}
	if _, _, err := GenerateKey(dir, "../evil", nil); err == nil {
		t.Error("GenerateKey with a path as vendor: no error")
	}
	priv, err := LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	if priv.Vendor != "xyzd" || pub.Vendor != "xyzd" {
		t.Errorf("vendors %q, %q; want xyzd", priv.Vendor, pub.Vendor)
	}
	if !pub.Key.Equal(priv.Key.Public()) {
		t.Error("public key file does not hold the private key's public half")
	}
	fromPriv, err := LoadPublicKey(keyPath)
	if err != nil || !fromPriv.Key.Equal(pub.Key) {
		t.Errorf("LoadPublicKey(private key file) = %v, %v; want the public key", fromPriv, err)
	}
	if _, err := LoadPrivateKey(pubPath); err == nil {
		t.Error("LoadPrivateKey(public key file): no error")
	}
}

func TestParseKeyErrors(t *testing.T) {
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"comments only", "# nothing\n"},
		{"other tag", "ssh-ed25519 AAAA xyzd\n"},
		{"short key", "golm-ed25519-public xyzd 0102\n"},
		{"not hex", "golm-ed25519-public xyzd " + strings.Repeat("zz", 32) + "\n"},
		{"extra field", "golm-ed25519-public xyzd " + strings.Repeat("00", 32) + " x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := ParsePublicKey([]byte(tt.data)); err == nil {
				t.Errorf("ParsePublicKey(%q) = %v, want an error", tt.data, k)
			}
		})
	}
}

func TestFindPublicKey(t *testing.T) {
	licDir, daemonDir := t.TempDir(), t.TempDir()
	_, _, err := GenerateKey(daemonDir, "xyzd", nil)
	if err != nil {
		t.Fatal(err)
	}
	lic := filepath.Join(licDir, "license.dat")
	daemon := filepath.Join(daemonDir, "xyzd")
	if _, p, err := FindPublicKey("xyzd", lic, daemon); err != nil || p != filepath.Join(daemonDir, "xyzd.pub") {
		t.Errorf("FindPublicKey beside the daemon = %q, %v; want %s", p, err, filepath.Join(daemonDir, "xyzd.pub"))
	}
	if _, _, err := GenerateKey(licDir, "xyzd", nil); err != nil {
		t.Fatal(err)
	}
	if _, p, err := FindPublicKey("xyzd", lic, daemon); err != nil || p != filepath.Join(licDir, "xyzd.pub") {
		t.Errorf("FindPublicKey beside the license = %q, %v; want %s", p, err, filepath.Join(licDir, "xyzd.pub"))
	}
	_, _, err = FindPublicKey("abcd", lic, daemon)
	if lmerr.CodeOf(err) != -8 {
		t.Errorf("FindPublicKey(missing) = %v, want a -8 error", err)
	}
	// A key file under the wrong name is refused.
	data, _ := os.ReadFile(filepath.Join(licDir, "xyzd.pub"))
	if err := os.WriteFile(filepath.Join(licDir, "abcd.pub"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FindPublicKey("abcd", lic); err == nil {
		t.Error("FindPublicKey accepted a key file of another vendor")
	}
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add([]byte("golm-ed25519-public xyzd " + strings.Repeat("ab", 32) + "\n"))
	f.Add([]byte("# c\ngolm-ed25519-private xyzd " + strings.Repeat("01", 32)))
	f.Add([]byte("golm-ed25519-public"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePublicKey(data); err == nil && len(k.Key) != ed25519.PublicKeySize {
			t.Errorf("ParsePublicKey accepted a %d-byte key", len(k.Key))
		}
		_, _ = ParsePrivateKey(data)
		_, _ = DecodeSignature(string(data))
	})
}
