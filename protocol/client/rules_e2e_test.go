package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"

	"golm/lmutil/protocol/lmerr"
)

// TestE2EPlatforms: a line with PLATFORMS= serves only clients on a
// listed platform (-89 otherwise), counted lines at the vendor daemon,
// uncounted ones in the client.
func TestE2EPlatforms(t *testing.T) {
	s := startServer(t, `FEATURE served demo 1.0 permanent 4 PLATFORMS="x64_lsb sun4_u5"
FEATURE anywhere demo 1.0 permanent 4
FEATURE local demo 1.0 permanent uncounted HOSTID=ANY PLATFORMS=sun4_u5
`)
	tests := []struct {
		name, platform, feature string
		wantCode                lmerr.Code // 0: granted
	}{
		{"served listed", "x64_lsb", "served", 0},
		{"served listed other case", "SUN4_U5", "served", 0},
		{"served not listed", "i86_n3", "served", -89},
		{"served prefix of a listed one", "x64", "served", -89},
		{"no list any platform", "i86_n3", "anywhere", 0},
		{"local listed", "sun4_u5", "local", 0},
		{"local not listed", "x64_lsb", "local", -89},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := s.open(t, "joe", client.WithPlatform(tt.platform))
			lic, err := j.Checkout(context.Background(), tt.feature, "1.0", 1)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Checkout(%s) on %s: %v, want a license", tt.feature, tt.platform, err)
				}
				lic.Checkin(context.Background())
				return
			}
			wantCode(t, err, tt.wantCode)
		})
	}
}

// TestE2ELongHostIDs: counted lines node-locked to a 32-bit hostid, hex
// or #decimal, serve the client on that machine and no other.
func TestE2ELongHostIDs(t *testing.T) {
	s := startServer(t, `FEATURE hex demo 1.0 permanent 2 HOSTID=7f0101ab
FEATURE dec demo 1.0 permanent 2 HOSTID=#2130772395
FEATURE zeros demo 1.0 permanent 2 HOSTID=000101ab
FEATURE either demo 1.0 permanent 2 HOSTID="08002b32b161 7f0101ab"
`)
	tests := []struct {
		name, long, feature string
		wantCode            lmerr.Code
	}{
		{"hex", "7f0101ab", "hex", 0},
		{"hex reported in upper case", "7F0101AB", "hex", 0},
		{"decimal", "7f0101ab", "dec", 0},
		{"leading zeros", "000101ab", "zeros", 0},
		{"leading zeros dropped", "101ab", "zeros", 0},
		{"in a list", "7f0101ab", "either", 0},
		{"other host hex", "7f0101ac", "hex", -9},
		{"other host decimal", "12345678", "dec", -9},
		{"no 32-bit hostid", "", "hex", -9},
		{"not hex", "7f0101ab; x", "hex", -9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := s.open(t, "joe", client.WithMachine(&licfile.Machine{Hostname: "pc", User: "joe", Long: tt.long}))
			lic, err := j.Checkout(context.Background(), tt.feature, "1.0", 1)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Checkout(%s) with hostid %q: %v, want a license", tt.feature, tt.long, err)
				}
				lic.Checkin(context.Background())
				return
			}
			var e *client.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("Checkout(%s) with hostid %q = %v, want FlexLM code %d", tt.feature, tt.long, err, tt.wantCode)
			}
		})
	}
}

// TestE2ELossTimeout: a license whose vendor daemon stays out of reach
// for the loss timeout is lost, and Lost says so at once; a license
// checked in before is not.
func TestE2ELossTimeout(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 2\n")
	j := s.open(t, "joe", client.WithLossTimeout(300*time.Millisecond), client.WithHeartbeat(100*time.Millisecond))
	held := checkout(t, j, "f1")
	returned := checkout(t, j, "f1")
	if err := returned.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Lost():
		t.Fatalf("Lost closed while the server is up: %v", held.Err())
	default:
	}
	s.stop()
	select {
	case <-held.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("Lost not closed 30s after the server went away")
	}
	var e *client.Error
	if err := held.Err(); !errors.As(err, &e) || (e.Code != -15 && e.Code != -97) {
		t.Errorf("Err = %v, want -15 or -97", err)
	}
	if err := returned.Err(); err != nil {
		t.Errorf("the license checked in before is lost too: %v", err)
	}
	// Lost of a license already lost is closed at once.
	select {
	case <-held.Lost():
	default:
		t.Error("a second Lost is not closed")
	}
}
