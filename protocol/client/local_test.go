package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"

	"golm/lmutil/protocol/lmerr"
)

// writeSigned writes text as a license file signed with a fresh "demo"
// key (demo.pub beside it) and returns its path.
func writeSigned(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	keyPath, _, err := licfile.GenerateKey(dir, "demo", nil)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	priv, err := licfile.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	path := filepath.Join(dir, "license.lic")
	f, err := licfile.Parse(strings.NewReader(text), path)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	data, _, err := licfile.SignFile([]byte(text), f, map[string]ed25519.PrivateKey{"demo": priv.Key})
	if err != nil {
		t.Fatalf("SignFile: %v", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLocalUncounted(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		lines    string
		version  string
		tamper   func(string) string
		wantCode lmerr.Code
	}{
		{"granted", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=pc1\n", "1.0", nil, 0},
		{"any hostid", "FEATURE f1 demo 1.0 1-jan-2030 uncounted HOSTID=ANY\n", "0.5", nil, 0},
		// A line with no SIGN= at all is -114, one whose SIGN= does not
		// verify -8.
		{"no SIGN=", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY\n", "1.0", func(s string) string {
			return regexp.MustCompile(` SIGN=\S+`).ReplaceAllString(regexp.MustCompile(`(?m)^# golm-manifest.*\n`).ReplaceAllString(s, ""), "")
		}, -114},
		{"version too old", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY\n", "2.0", nil, -21},
		{"other host", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=elsewhere\n", "1.0", nil, -9},
		{"expired", "FEATURE f1 demo 1.0 1-jan-2020 uncounted HOSTID=ANY\n", "1.0", nil, -10},
		{"not started", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY START=1-jan-2030\n", "1.0", nil, -31},
		{"edited after signing", "FEATURE f1 demo 1.0 1-jan-2030 uncounted HOSTID=ANY\n", "1.0",
			func(s string) string { return strings.Replace(s, "1-jan-2030", "1-jan-2040", 1) }, -8},
		{"no such feature", "FEATURE f2 demo 1.0 permanent uncounted HOSTID=ANY\n", "1.0", nil, -5},
		{"platform not listed", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY PLATFORMS=\"sun4_u5 i86_n3\"\n", "1.0", nil, -89},
		{"upgraded", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=pc1\nUPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=pc1\n", "2.0", nil, 0},
		{"upgrade alone", "UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=pc1\n", "2.0", nil, -5},
		{"upgrade of a line too old", "FEATURE f1 demo 0.5 permanent uncounted HOSTID=HOSTNAME=pc1\nUPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=pc1\n", "2.0", nil, -21},
		{"upgrade takes the upgraded line's hostid", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=pc1\nUPGRADE f1 demo 1.0 2.0 permanent uncounted\n", "2.0", nil, 0},
		// Not granted: the upgrade is for another host (-9), and the line
		// it upgrades too old (-21), which is the error reported.
		{"upgrade keeps the upgraded line's hostid", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=elsewhere\nUPGRADE f1 demo 1.0 2.0 permanent uncounted\n", "2.0", nil, -21},
		{"upgrade before the line", "UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=pc1\nFEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=pc1\n", "2.0", nil, -21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSigned(t, "VENDOR demo\n"+tt.lines)
			if tt.tamper != nil {
				data, _ := os.ReadFile(path)
				os.WriteFile(path, []byte(tt.tamper(string(data))), 0o644)
			}
			var diag bytes.Buffer
			j := openJob(t, path, WithClock(func() time.Time { return now }), WithDiagnostics(&diag), WithDiagnosticsLevel(3))
			lic, err := j.Checkout(context.Background(), "f1", tt.version, 1)
			if tt.wantCode != 0 {
				if !codeIs(err, tt.wantCode) {
					t.Fatalf("Checkout: got %v, want code %d", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			if !lic.Local() || lic.Server != "" {
				t.Errorf("license local=%v server=%q, want a local grant", lic.Local(), lic.Server)
			}
			if !strings.Contains(diag.String(), "No server used") {
				t.Errorf("level 3 diagnostics %q lack \"No server used\"", diag.String())
			}
			if err := lic.Checkin(context.Background()); err != nil {
				t.Errorf("Checkin: %v", err)
			}
		})
	}
}

func TestUseServer(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 1})
	port := srv.lmgrd.Addr().String()[strings.LastIndexByte(srv.lmgrd.Addr().String(), ':')+1:]
	// The uncounted line after USE_SERVER is the server's business: the
	// client must not grant it locally but ask the server.
	path := writeSigned(t, "SERVER 127.0.0.1 ANY "+port+"\nVENDOR demo\nUSE_SERVER\nFEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY\n")
	lic, err := openJob(t, path).Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if lic.Local() {
		t.Errorf("license granted locally despite USE_SERVER")
	}
	if got := srv.InUse("f1"); got != 1 {
		t.Errorf("server seats in use = %d, want 1", got)
	}
}

func TestCountedNeedsServer(t *testing.T) {
	path := writeSigned(t, "VENDOR demo\nFEATURE f1 demo 1.0 permanent 5\n")
	_, err := openJob(t, path).Checkout(context.Background(), "f1", "1.0", 1)
	if !codeIs(err, -13) {
		t.Fatalf("Checkout of a counted line without SERVER: got %v, want -13", err)
	}
}

// TestLocalUncountedWithKey: with the publisher's key, an uncounted line
// is checked with it and not with the demo.pub beside the file (which
// writeSigned made, standing for the customer's); a vendor the job has no
// key of is refused too.
func TestLocalUncountedWithKey(t *testing.T) {
	path := writeSigned(t, "VENDOR demo\nFEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY\n")
	besideFile, err := licfile.LoadPublicKey(filepath.Join(filepath.Dir(path), "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	publisherKey, _, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		key  licfile.PublicKey
		code lmerr.Code
	}{
		{"the key that signed it", besideFile, 0},
		{"the publisher's key", licfile.PublicKey{Vendor: "demo", Key: publisherKey}, -8},
		{"a key of another vendor only", licfile.PublicKey{Vendor: "acme", Key: besideFile.Key}, -8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openJob(t, path, WithPublicKey(tt.key)).Checkout(context.Background(), "f1", "1.0", 1)
			if tt.code == 0 && err != nil {
				t.Fatalf("Checkout = %v, want a grant", err)
			}
			if tt.code != 0 && !codeIs(err, tt.code) {
				t.Fatalf("Checkout = %v, want code %d", err, tt.code)
			}
		})
	}
}

// The most specific error of a license path wins: a file that was read
// and lacks the feature (-5) over a server that cannot be reached (-15);
// files that cannot be read give -1 naming every path tried.
func TestPathErrorsMostSpecific(t *testing.T) {
	path := writeSigned(t, "FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY\n")
	dead := strconv.Itoa(freeTCPPort(t)) + "@127.0.0.1"
	for _, order := range [][]string{{path, dead}, {dead, path}} {
		j := openJob(t, strings.Join(order, ":"))
		_, err := j.Checkout(context.Background(), "f2", "1.0", 1)
		if !codeIs(err, -5) {
			t.Errorf("path %v: got %v, want -5", order, err)
		}
	}
	dir := t.TempDir()
	missing := []string{filepath.Join(dir, "a.lic"), filepath.Join(dir, "b.lic")}
	j := openJob(t, strings.Join(missing, ":"))
	_, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	var e *Error
	if !errors.As(err, &e) || e.Code != -1 || !strings.Contains(strings.Join(e.Detail, "\n"), "License path: "+strings.Join(missing, ":")) {
		t.Errorf("unreadable files: got %v (%v), want -1 naming both", err, e.Detail)
	}
}

// freeTCPPort is a loopback port nothing listens on.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
