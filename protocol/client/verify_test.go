package client

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// signedLine returns the signed form and SIGN= of the license line text
// (one FEATURE, INCREMENT, UPGRADE or PACKAGE line) under priv.
func signedLine(t *testing.T, priv ed25519.PrivateKey, text string) protocol.GrantLine {
	t.Helper()
	f, err := licfile.Parse(strings.NewReader("VENDOR demo\n"+text+"\n"), "x.lic")
	if err != nil {
		t.Fatal(err)
	}
	l := f.Order[len(f.Order)-1]
	sign, err := licfile.Sign(priv, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.GrantLine{Text: licfile.SignedText(l, nil), Sign: sign}
}

// TestCheckGrant runs a job with the publisher's key against a fake
// vendor daemon that answers each checkout with the lines a case gives:
// the grant is taken only when a line signed by the publisher licenses
// the feature; any other grant is refused and its seat checked back in.
func TestCheckGrant(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	key := licfile.PublicKey{Vendor: "demo", Key: pub}
	good := signedLine(t, priv, "FEATURE f1 demo 1.0 permanent 4")
	altered := good
	altered.Text = strings.Replace(good.Text, " permanent 4\n", " permanent 100000\n", 1)
	signed := func(lines ...protocol.GrantLine) func(*protocol.Granted, uint64) protocol.Message {
		return func(g *protocol.Granted, _ uint64) protocol.Message {
			return &protocol.SignedGranted{Granted: *g, Form: protocol.SignedFormGolm1, Lines: lines}
		}
	}
	tests := []struct {
		name    string
		grant   func(*protocol.Granted, uint64) protocol.Message
		version string
		keys    []licfile.PublicKey
		code    lmerr.Code // 0: granted
	}{
		{name: "publisher's line", grant: signed(good)},
		{name: "one line of the pool is enough", grant: signed(signedLine(t, priv, "INCREMENT f1 demo 2.0 permanent 1"), good)},
		{name: "later version", grant: signed(signedLine(t, priv, "FEATURE f1 demo 3.0 1-jan-2999 1")), version: "2.0"},
		{name: "package component", grant: signed(signedLine(t, priv, `PACKAGE suite demo 1.0 COMPONENTS="f1 f9:2.0"`), signedLine(t, priv, "FEATURE suite demo 1.0 permanent 2"))},
		{name: "no lines: an older server", grant: nil, code: -8},
		{name: "empty line list", grant: signed(), code: -8},
		{name: "count altered", grant: signed(altered), code: -8},
		{name: "signed by another key", grant: signed(signedLine(t, other, "FEATURE f1 demo 1.0 permanent 100000")), code: -8},
		{name: "a forged line beside a good one", grant: signed(good, signedLine(t, other, "FEATURE f1 demo 1.0 permanent 100000")), code: -8},
		{name: "line of another feature", grant: signed(signedLine(t, priv, "FEATURE f2 demo 1.0 permanent 4")), code: -8},
		{name: "line of another vendor", grant: signed(signedLine(t, priv, "FEATURE f1 acme 1.0 permanent 4")), code: -8},
		{name: "line too old", grant: signed(good), version: "2.0", code: -8},
		{name: "line expired", grant: signed(signedLine(t, priv, "FEATURE f1 demo 1.0 1-jan-2001 4")), code: -10},
		{name: "line not started", grant: signed(signedLine(t, priv, "FEATURE f1 demo 1.0 permanent 4 START=1-jan-2999")), code: -31},
		{name: "package without its line", grant: signed(signedLine(t, priv, `PACKAGE suite demo 1.0 COMPONENTS="f1"`)), code: -8},
		{name: "package not listing the feature", grant: signed(signedLine(t, priv, `PACKAGE suite demo 1.0 COMPONENTS="f2"`), signedLine(t, priv, "FEATURE suite demo 1.0 permanent 2")), code: -8},
		{name: "unknown signed form", grant: func(g *protocol.Granted, _ uint64) protocol.Message {
			return &protocol.SignedGranted{Granted: *g, Form: 2, Lines: []protocol.GrantLine{good}}
		}, code: -8},
		{name: "grant names another feature", grant: func(g *protocol.Granted, _ uint64) protocol.Message {
			c := *g
			c.Feature = "f2"
			return &protocol.SignedGranted{Granted: c, Form: protocol.SignedFormGolm1, Lines: []protocol.GrantLine{good}}
		}, code: -8},
		{name: "no key of the vendor", grant: signed(good), keys: []licfile.PublicKey{{Vendor: "acme", Key: pub}}, code: -8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, map[string]int{"f1": 4})
			var flags uint64
			f.grant = func(g *protocol.Granted, fl uint64) protocol.Message {
				flags = fl
				if tt.grant == nil {
					return g
				}
				return tt.grant(g, fl)
			}
			keys := tt.keys
			if keys == nil {
				keys = []licfile.PublicKey{key}
			}
			opts := testOpts(WithHeartbeat(time.Hour))
			for _, k := range keys {
				opts = append(opts, WithPublicKey(k))
			}
			j, err := Open(context.Background(), f.spec(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			version := tt.version
			if version == "" {
				version = "1.0"
			}
			lic, err := j.Checkout(context.Background(), "f1", version, 1)
			f.mu.Lock()
			asked := flags&protocol.CheckoutSigned != 0
			f.mu.Unlock()
			if !asked {
				t.Errorf("checkout flags %#x lack CheckoutSigned", flags)
			}
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("Checkout = %v, want a grant", err)
				}
				if n := f.InUse("f1"); n != 1 {
					t.Errorf("f1 in use = %d, want 1", n)
				}
				if err := lic.Checkin(context.Background()); err != nil {
					t.Errorf("Checkin: %v", err)
				}
				return
			}
			if !codeIs(err, tt.code) {
				t.Fatalf("Checkout = %v, %v; want error %d", lic, err, tt.code)
			}
			if n := f.InUse("f1"); n != 0 {
				t.Errorf("f1 in use after the refusal = %d, want 0 (checked back in)", n)
			}
			f.mu.Lock()
			checkins := f.checkins
			f.mu.Unlock()
			if checkins != 1 {
				t.Errorf("checkins = %d, want 1", checkins)
			}
		})
	}
}

// TestNoKeyTrustsServer: a job without a key does not ask for lines and
// takes a plain grant, as before.
func TestNoKeyTrustsServer(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 1})
	var flags uint64
	f.grant = func(g *protocol.Granted, fl uint64) protocol.Message { flags = fl; return g }
	j, err := Open(context.Background(), f.spec(), testOpts(WithHeartbeat(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Checkout(context.Background(), "f1", "1.0", 1); err != nil {
		t.Fatalf("Checkout without a key = %v, want a grant", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if flags&protocol.CheckoutSigned != 0 {
		t.Errorf("a job without a key asked for signed grants (flags %#x)", flags)
	}
}

// TestWithPublicKeyFile: the key comes from a VENDOR.pub file; a file
// that cannot be read makes Open fail with -8.
func TestWithPublicKeyFile(t *testing.T) {
	dir := t.TempDir()
	_, pubPath, err := licfile.GenerateKey(dir, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := licfile.LoadPublicKey(pubPath)
	j, err := Open(context.Background(), "27000@localhost", testOpts(WithPublicKeyFile(pubPath))...)
	if err != nil {
		t.Fatalf("Open with %s: %v", pubPath, err)
	}
	if got := j.cfg.keys["demo"]; !got.Key.Equal(want.Key) {
		t.Errorf("key = %x, want %x", got.Key, want.Key)
	}
	j.Close()
	bad := filepath.Join(dir, "bad.pub")
	os.WriteFile(bad, []byte("not a key\n"), 0o644)
	for _, p := range []string{filepath.Join(dir, "missing.pub"), bad} {
		if _, err := Open(context.Background(), "27000@localhost", testOpts(WithPublicKeyFile(p))...); !codeIs(err, -8) {
			t.Errorf("Open with %s = %v, want -8", p, err)
		}
	}
}
