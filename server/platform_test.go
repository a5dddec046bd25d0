package server

import (
	"testing"

	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// TestPlatformsAtTheVendorDaemon: a pool with PLATFORMS= serves only the
// clients whose HostInfo names a listed platform; a client that never
// says is on no list; a pool merged from INCREMENT lines serves the
// platforms of any of its lines, and of all when one line has no list.
func TestPlatformsAtTheVendorDaemon(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		`FEATURE unix demo 1.0 permanent 4 PLATFORMS="x64_lsb a64_lsb"`,
		`INCREMENT merged demo 1.0 permanent 1 PLATFORMS=x64_lsb`,
		`INCREMENT merged demo 1.0 permanent 1 PLATFORMS=i86_n3`,
		`INCREMENT open demo 1.0 permanent 1 PLATFORMS=x64_lsb`,
		`INCREMENT open demo 1.0 permanent 1`,
		`FEATURE plain demo 1.0 permanent 4`,
	), "")
	tests := []struct {
		name     string
		info     []*protocol.HostInfo // sent in order before the checkout
		feature  string
		wantCode lmerr.Code
	}{
		{"listed", []*protocol.HostInfo{{Platform: "x64_lsb"}}, "unix", 0},
		{"listed other case", []*protocol.HostInfo{{Platform: "A64_LSB"}}, "unix", 0},
		{"not listed", []*protocol.HostInfo{{Platform: "x64_n6"}}, "unix", -89},
		{"never said", nil, "unix", -89},
		{"said nothing", []*protocol.HostInfo{{}}, "unix", -89},
		{"the last one counts", []*protocol.HostInfo{{Platform: "x64_lsb"}, {Platform: "sun4_u5"}}, "unix", -89},
		{"merged pool first line", []*protocol.HostInfo{{Platform: "x64_lsb"}}, "merged", 0},
		{"merged pool second line", []*protocol.HostInfo{{Platform: "i86_n3"}}, "merged", 0},
		{"merged pool neither", []*protocol.HostInfo{{Platform: "a64_mac"}}, "merged", -89},
		{"a line without a list", []*protocol.HostInfo{{Platform: "a64_mac"}}, "open", 0},
		{"no list never said", nil, "plain", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client("u", "h", "d")
			for _, m := range tt.info {
				if _, err := c.c.Call(m); err != nil {
					t.Fatalf("HostInfo: %v", err)
				}
			}
			c.want(tt.feature, "1.0", 1, tt.wantCode)
		})
	}
}
