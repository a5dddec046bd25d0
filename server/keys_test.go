package server

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// testKey is a key pair of vendor demo made for a test.
type testKey struct {
	priv ed25519.PrivateKey
	pub  licfile.PublicKey
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: priv, pub: licfile.PublicKey{Vendor: "demo", Key: pub}}
}

// builtin is the key in BuiltinKeys' form.
func (k testKey) builtin() string { return "demo:" + hex.EncodeToString(k.pub.Key) }

// writePub writes the public key as dir/demo.pub.
func (k testKey) writePub(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "demo.pub")
	if err := os.WriteFile(p, []byte(licfile.FormatPublicKey(k.pub)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// signedLines renders the license lines of head (SERVER, VENDOR) and then
// each FEATURE line of lines signed with its own key: lines[i] with
// keys[i].
func signedLines(t testing.TB, head string, lines []string, keys []testKey) string {
	t.Helper()
	text := head
	for i, l := range lines {
		f, err := licfile.Parse(strings.NewReader(head+l+"\n"), "x.lic")
		if err != nil {
			t.Fatal(err)
		}
		sig, err := licfile.Sign(keys[i].priv, f.Order[len(f.Order)-1], f.Servers)
		if err != nil {
			t.Fatal(err)
		}
		text += l + " SIGN=" + sig + "\n"
	}
	return text
}

const keyHead = "SERVER this_host ANY 27000\nVENDOR demo\n"

// TestPublisherKeyOrder builds a vendor daemon over every combination of
// a key built in, one beside the binary and one beside the license file,
// each of which signed a line of its own: only the winner's line is
// served, and the debug log names the key and its fingerprint.
func TestPublisherKeyOrder(t *testing.T) {
	builtin, binary, beside := newTestKey(t), newTestKey(t), newTestKey(t)
	text := signedLines(t, keyHead, []string{
		"FEATURE by_builtin demo 1.0 permanent 1",
		"FEATURE by_binary demo 1.0 permanent 1",
		"FEATURE by_license demo 1.0 permanent 1",
	}, []testKey{builtin, binary, beside})
	tests := []struct {
		name                     string
		builtin, binary, license bool
		want                     string // the feature served, "" for none
		wantSource               string // "built in", "binary" or "license"
	}{
		{"none", false, false, false, "", ""},
		{"license only", false, false, true, "by_license", "license"},
		{"binary only", false, true, false, "by_binary", "binary"},
		{"binary over license", false, true, true, "by_binary", "binary"},
		{"built in only", true, false, false, "by_builtin", "built in"},
		{"built in over license", true, false, true, "by_builtin", "built in"},
		{"built in over binary", true, true, false, "by_builtin", "built in"},
		{"built in over both", true, true, true, "by_builtin", "built in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			licDir, binDir := t.TempDir(), t.TempDir()
			lic := filepath.Join(licDir, "license.lic")
			if err := os.WriteFile(lic, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := VendorConfig{Name: "demo", LicenseFiles: []string{lic}, Addr: "127.0.0.1:0", Executable: filepath.Join(binDir, "demo")}
			sources := map[string]string{"built in": KeyBuiltIn}
			fingerprints := map[string]string{"built in": builtin.pub.Fingerprint(), "binary": binary.pub.Fingerprint(), "license": beside.pub.Fingerprint()}
			if tt.builtin {
				cfg.BuiltinKeys = "other:" + hex.EncodeToString(binary.pub.Key) + "," + builtin.builtin()
			}
			if tt.binary {
				sources["binary"] = binary.writePub(t, binDir)
			}
			if tt.license {
				sources["license"] = beside.writePub(t, licDir)
			}
			out := &logBuffer{}
			cfg.Log = unbufferedLog(out, "demo", nil)
			v, err := NewVendor(cfg)
			var got []string
			if err == nil {
				got = v.State().FeatureNames()
				v.Shutdown(context.Background())
			} else if !errors.Is(err, ErrNoFeatures) {
				t.Fatalf("NewVendor: %v", err)
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if !slices.Equal(got, want) {
				t.Errorf("features served = %q, want %q\n%s", got, want, out)
			}
			for _, f := range []string{"by_builtin", "by_binary", "by_license"} {
				if bad := strings.Contains(out.String(), "BAD CODE for "+f+"\n"); bad == (f == tt.want) {
					t.Errorf("BAD CODE for %s logged = %v, want %v\n%s", f, bad, !bad, out)
				}
			}
			if tt.wantSource != "" {
				line := "Trusting public key " + sources[tt.wantSource]
				if !strings.Contains(out.String(), line) || !strings.Contains(out.String(), "fingerprint "+fingerprints[tt.wantSource]) {
					t.Errorf("log lacks %q with fingerprint %s:\n%s", line, fingerprints[tt.wantSource], out)
				}
			} else if strings.Contains(out.String(), "Trusting public key") {
				t.Errorf("log names a trusted key though there is none:\n%s", out)
			}
			if tt.license && tt.wantSource != "license" && !strings.Contains(out.String(), "Ignoring public key "+sources["license"]) {
				t.Errorf("log does not say the key beside the license file is ignored:\n%s", out)
			}
		})
	}
}

// TestPublisherKeyBroken: a built-in key or a key beside the binary that
// cannot be used makes the vendor daemon trust no key at all; it never
// falls back to the key beside the license file.
func TestPublisherKeyBroken(t *testing.T) {
	beside := newTestKey(t)
	text := signedLines(t, keyHead, []string{"FEATURE f1 demo 1.0 permanent 1"}, []testKey{beside})
	other := newTestKey(t)
	other.pub.Vendor = "other"
	tests := []struct {
		name    string
		builtin string
		binPub  string // contents of demo.pub beside the binary, "" for none
	}{
		{"built-in key not hex", "demo:xyz", ""},
		{"built-in key short", "demo:" + strings.Repeat("ab", 31), ""},
		{"built-in entry without vendor", hex.EncodeToString(beside.pub.Key), ""},
		{"key beside binary not a key", "", "garbage\n"},
		{"key beside binary of another vendor", "", licfile.FormatPublicKey(other.pub)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			licDir, binDir := t.TempDir(), t.TempDir()
			lic := filepath.Join(licDir, "license.lic")
			if err := os.WriteFile(lic, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			beside.writePub(t, licDir)
			if tt.binPub != "" {
				if err := os.WriteFile(filepath.Join(binDir, "demo.pub"), []byte(tt.binPub), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := &logBuffer{}
			_, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{lic}, Addr: "127.0.0.1:0",
				BuiltinKeys: tt.builtin, Executable: filepath.Join(binDir, "demo"), Log: unbufferedLog(out, "demo", nil)})
			if !errors.Is(err, ErrNoFeatures) {
				t.Errorf("NewVendor = %v, want %v (the key beside the license file is not a fallback)\n%s", err, ErrNoFeatures, out)
			}
			if !strings.Contains(out.String(), "No public key trusted") || !strings.Contains(out.String(), "BAD CODE for f1") {
				t.Errorf("log lacks the refusal:\n%s", out)
			}
		})
	}
}

// TestCustomerKeyBesideLicense is the attack of the issue: the customer
// makes a key pair, puts its demo.pub beside the license file and signs a
// line of 100000 seats. With the publisher's key beside the vendor
// daemon the forged line is BAD CODE and not served, and the genuine
// line still is.
func TestCustomerKeyBesideLicense(t *testing.T) {
	publisher, customer := newTestKey(t), newTestKey(t)
	text := signedLines(t, keyHead, []string{
		"FEATURE f1 demo 1.0 permanent 2",
		"FEATURE f2 demo 1.0 permanent 100000",
	}, []testKey{publisher, customer})
	licDir, binDir := t.TempDir(), t.TempDir()
	lic := filepath.Join(licDir, "license.lic")
	if err := os.WriteFile(lic, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	customer.writePub(t, licDir)
	publisher.writePub(t, binDir)
	out := &logBuffer{}
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{lic}, Addr: "127.0.0.1:0",
		Executable: filepath.Join(binDir, "demo"), Log: unbufferedLog(out, "demo", nil)})
	if err != nil {
		t.Fatalf("NewVendor: %v\n%s", err, out)
	}
	defer v.Shutdown(context.Background())
	if got := v.State().FeatureNames(); !slices.Equal(got, []string{"f1"}) {
		t.Errorf("features served = %q, want [f1]", got)
	}
	if !strings.Contains(out.String(), "BAD CODE for f2") {
		t.Errorf("the forged line is not logged as BAD CODE:\n%s", out)
	}
	go v.Serve(context.Background())
	c := connect(t, v.Addr(), "joe")
	m, err := c.Call(&protocol.Checkout{Feature: "f2", Version: "1.0", Count: 1})
	var pe *protocol.PeerError
	if !errors.As(err, &pe) || pe.Msg.Code != -5 {
		t.Errorf("checkout of the forged f2 = %#v, %v; want error -5", m, err)
	}
}

// TestSignedGrants: a checkout with CheckoutSigned is answered
// SignedGranted with the pool's lines, which verify under the publisher's
// key and say what was granted; later QueuePolls on the connection carry
// the lines too; a checkout without the flag on another connection gets
// plain Granted; a PACKAGE component's grant carries the PACKAGE line first.
func TestSignedGrants(t *testing.T) {
	pub := newTestKey(t)
	text := signedLines(t, keyHead, []string{
		"FEATURE f1 demo 1.0 1-jan-2099 2",
		"INCREMENT f1 demo 1.0 1-jan-2099 3",
		"FEATURE suite demo 1.0 permanent 4",
		`PACKAGE suite demo 1.0 COMPONENTS="c1 c2:2.0"`,
	}, []testKey{pub, pub, pub, pub})
	licDir, binDir := t.TempDir(), t.TempDir()
	lic := filepath.Join(licDir, "license.lic")
	if err := os.WriteFile(lic, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &logBuffer{}
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{lic}, Addr: "127.0.0.1:0",
		BuiltinKeys: pub.builtin(), Executable: filepath.Join(binDir, "demo"), Log: unbufferedLog(out, "demo", nil)})
	if err != nil {
		t.Fatalf("NewVendor: %v\n%s", err, out)
	}
	defer v.Shutdown(context.Background())
	go v.Serve(context.Background())

	heads := func(t *testing.T, g *protocol.SignedGranted) []string {
		t.Helper()
		if g.Form != protocol.SignedFormGolm1 {
			t.Errorf("Form = %d, want %d", g.Form, protocol.SignedFormGolm1)
		}
		var out []string
		for _, l := range g.Lines {
			h, err := licfile.VerifySignedText(pub.pub.Key, l.Text, l.Sign)
			if err != nil {
				t.Errorf("line %q does not verify: %v", l.Text, err)
				continue
			}
			out = append(out, h.Name+" "+h.Version.Text+" "+strconv.Itoa(h.Count))
		}
		return out
	}
	t.Run("signed", func(t *testing.T) {
		c := connect(t, v.Addr(), "joe")
		m, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1, Flags: protocol.CheckoutSigned})
		g, ok := m.(*protocol.SignedGranted)
		if err != nil || !ok {
			t.Fatalf("signed checkout = %#v, %v; want SIGNED_GRANTED", m, err)
		}
		if got, want := heads(t, g), []string{"f1 1 2", "f1 1 3"}; !slices.Equal(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
		m, err = c.Call(&protocol.QueuePoll{Handle: g.Handle})
		if _, ok := m.(*protocol.SignedGranted); err != nil || !ok {
			t.Errorf("QueuePoll on the connection = %#v, %v; want SIGNED_GRANTED", m, err)
		}
		m, err = c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
		if _, ok := m.(*protocol.SignedGranted); err != nil || !ok {
			t.Errorf("a later checkout without the flag = %#v, %v; want SIGNED_GRANTED", m, err)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		c := connect(t, v.Addr(), "ann")
		m, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
		if _, ok := m.(*protocol.Granted); err != nil || !ok {
			t.Errorf("checkout without the flag = %#v, %v; want GRANTED", m, err)
		}
	})
	t.Run("package component", func(t *testing.T) {
		c := connect(t, v.Addr(), "bob")
		m, err := c.Call(&protocol.Checkout{Feature: "c2", Version: "2.0", Count: 1, Flags: protocol.CheckoutSigned})
		g, ok := m.(*protocol.SignedGranted)
		if err != nil || !ok {
			t.Fatalf("signed checkout of a component = %#v, %v; want SIGNED_GRANTED", m, err)
		}
		if got, want := heads(t, g), []string{"suite 1 0", "suite 1 4"}; !slices.Equal(got, want) {
			t.Errorf("lines = %q, want %q", got, want)
		}
	})
	t.Run("after lmreread", func(t *testing.T) {
		c := connect(t, v.Addr(), "cid")
		m, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1, Flags: protocol.CheckoutSigned})
		before, ok := m.(*protocol.SignedGranted)
		if err != nil || !ok {
			t.Fatalf("signed checkout = %#v, %v; want SIGNED_GRANTED", m, err)
		}
		reread := signedLines(t, keyHead, []string{"FEATURE f1 demo 1.0 1-jan-2099 9"}, []testKey{pub})
		if err := os.WriteFile(lic, []byte(reread), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := v.Reread(); err != nil {
			t.Fatalf("Reread: %v\n%s", err, out)
		}
		m, err = c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
		g, ok := m.(*protocol.SignedGranted)
		if err != nil || !ok {
			t.Fatalf("checkout after the reread = %#v, %v; want SIGNED_GRANTED", m, err)
		}
		if got, want := heads(t, g), []string{"f1 1 9"}; !slices.Equal(got, want) {
			t.Errorf("lines after the reread = %q, want %q", got, want)
		}
		m, err = c.Call(&protocol.QueuePoll{Handle: before.Handle})
		if g, ok := m.(*protocol.SignedGranted); err != nil || !ok || len(g.Lines) == 0 {
			t.Errorf("QueuePoll of the seat from before the reread = %#v, %v; want SIGNED_GRANTED with lines", m, err)
		}
	})
}
