package server

import "testing"

// TestServeDeep runs the same conversation with requests answered on the
// connection's goroutine and, as with many clients connected, each on a
// goroutine of its own (Vendor.run): handshake, checkouts, a two-feature
// status stream, a checkin, and a disconnect that frees the seats.
func TestServeDeep(t *testing.T) {
	const license = "SERVER this_host ANY 27000\nVENDOR demo\n" +
		"FEATURE f1 demo 1.0 permanent 3\nFEATURE f2 demo 1.0 permanent 2\n"
	tests := []struct {
		name      string
		deepAbove int64
	}{
		{"inline", deepAbove},
		{"own goroutine", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, license, "")
			h.v.deepAbove.Store(tt.deepAbove)
			joe := h.client("joe", "h1", "d1")
			ann := h.client("ann", "h2", "d2")
			joe.want("f1", "1.0", 1, 0)
			joe.want("f2", "1.0", 2, 0)
			hAnn := ann.want("f1", "1.0", 1, 0)
			ann.want("f2", "1.0", 1, -4)
			h.wantStatus("", "f1 issued=3 inuse=2\n v1.0 floating issued=3 inuse=2\n  joe h1 d1 v1.0 x1\n  ann h2 d2 v1.0 x1\n"+
				"f2 issued=2 inuse=2\n v1.0 floating issued=2 inuse=2\n  joe h1 d1 v1.0 x2\n")
			if got := ann.checkin(hAnn); got != 0 {
				t.Fatalf("checkin: code %d, want 0", got)
			}
			joe.c.Close()
			h.eventuallyStatus("", "f1 issued=3 inuse=0\n v1.0 floating issued=3 inuse=0\nf2 issued=2 inuse=0\n v1.0 floating issued=2 inuse=0\n")
			h.wantStatus("nope", "nope error -5\n")
		})
	}
}
