package server

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golm/lmutil/licfile"
	"golm/lmutil/server/state"
)

// reach counts what a vendor daemon's state and signed forms can reach,
// as far as the state's status shows it: pools, the license lines of
// those pools, and the readings of the license files (signed-form
// generations) kept. The state's own indexes are checked by its
// package's TestRereadRetainsNothing.
type reach struct {
	pools, lines, generations int
}

func reachOf(v *Vendor) reach {
	status := v.state.Status()
	pools := map[*state.Pool]bool{}
	lines := map[*licfile.Feature]bool{}
	addLines := func(p *state.Pool) {
		for _, l := range p.Lines {
			lines[l] = true
		}
		if p.Suite != nil {
			pools[p.Suite] = true
			for _, l := range p.Suite.Lines {
				lines[l] = true
			}
		}
	}
	for i := range status {
		addLines(&status[i].Pool)
		for _, st := range status[i].Seats {
			pools[st.Pool] = true
			addLines(st.Pool)
		}
	}
	gens := 0
	for sf := v.signed.Load(); sf != nil; sf = sf.prev {
		gens++
	}
	return reach{pools: len(status) + len(pools), lines: len(lines), generations: gens}
}

// TestRereadRetainsNothing checks that rereads do not make a vendor
// daemon hold more: after ten rereads of the same files, with seats out
// and lingering, the state reaches as many pools and lines as after the
// first, the signed forms keep one reading back, and the live heap is
// within a bound of what it was.
func TestRereadRetainsNothing(t *testing.T) {
	tests := []struct {
		name string
		// edit changes the license text before each reread (i is the
		// reread's number); nil rereads the same text.
		edit func(text string, i int) string
	}{
		{"same files", nil},
		{"a feature comes and goes", func(text string, i int) string {
			if i%2 == 0 {
				return text
			}
			return strings.Replace(text, "FEATURE f000001 demo 1.0 permanent 10\n", "", 1)
		}},
		{"counts change", func(text string, i int) string {
			return strings.ReplaceAll(text, "permanent 5\n", fmt.Sprintf("permanent %d\n", 5+i))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 400
			text := scaleLicense(n)
			h := newHarness(t, text, "LINGER f000003 3600\n")
			// Seats out: a plain one, one lingering, one of the feature
			// that may go away.
			c := h.client("u", "h", "d")
			for _, f := range []string{"f000000", "f000003", "f000001"} {
				handle := c.want(f, "1.0", 1, 0)
				if f == "f000003" {
					c.checkin(handle)
				}
			}
			reread := func(i int) {
				t.Helper()
				if tt.edit != nil {
					resign(t, h.dir, tt.edit(text, i))
				}
				if err := h.v.Reread(); err != nil {
					t.Fatalf("reread %d: %v", i, err)
				}
			}
			reread(0)
			first, heap1 := reachOf(h.v), liveHeap()
			for i := 1; i <= 10; i++ {
				reread(i)
			}
			got, heap10 := reachOf(h.v), liveHeap()
			if got.pools > first.pools+2 || got.lines > first.lines+1 {
				t.Errorf("after 10 rereads the state reaches %+v, after 1 %+v", got, first)
			}
			if got.generations > 2 {
				t.Errorf("signed forms keep %d readings, want at most 2", got.generations)
			}
			// The heap of the whole test binary: a generous bound, the
			// counts above are the exact check.
			if heap10 > heap1+heap1/4+4<<20 {
				t.Errorf("live heap after 10 rereads %d bytes, after 1 %d", heap10, heap1)
			}
		})
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
