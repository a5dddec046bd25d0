package state

import (
	"testing"
	"time"

	"golm/lmutil/licfile"
)

// Lines pooled together but with their own dates get a block each, with
// the seats filling the lines valid now in file order.
func TestLineBlocks(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	date := func(s string) licfile.Date {
		if s == "" {
			return licfile.Date{}
		}
		d, err := licfile.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	part := func(n int, start, expiry string) PoolPart {
		return PoolPart{Line: &licfile.Feature{}, Count: n, Start: date(start), Expiry: date(expiry)}
	}
	seats := func(counts ...int) []Seat {
		var out []Seat
		for i, n := range counts {
			out = append(out, Seat{Handle: uint32(i + 1), Count: n})
		}
		return out
	}
	type want struct {
		expiry  string
		issued  int
		handles []uint32
		first   bool
	}
	tests := []struct {
		name  string
		parts []PoolPart
		seats []Seat
		inUse int
		want  []want
	}{
		{"one line", []PoolPart{part(2, "", "permanent")}, seats(1, 1), 2,
			[]want{{"", 2, []uint32{1, 2}, true}}},
		{"same dates are one block", []PoolPart{part(2, "", "1-jan-2030"), part(3, "", "1-jan-2030")}, seats(1, 1, 1), 3,
			[]want{{"", 5, []uint32{1, 2, 3}, true}}},
		{"seats fill the lines in order", []PoolPart{part(2, "", "1-jan-2030"), part(3, "", "permanent")}, seats(1, 1, 1), 3,
			[]want{{"1-jan-2030", 2, []uint32{1, 2}, true}, {"permanent", 3, []uint32{3}, false}}},
		{"an expired line gets none", []PoolPart{part(2, "", "1-jan-2020"), part(3, "", "permanent")}, seats(1, 1), 2,
			[]want{{"1-jan-2020", 0, nil, false}, {"permanent", 3, []uint32{1, 2}, true}}},
		{"a line not started gets none", []PoolPart{part(3, "", "permanent"), part(4, "1-jan-2099", "permanent")}, seats(2, 1), 3,
			[]want{{"permanent", 3, []uint32{1, 2}, true}, {"permanent", 0, nil, false}}},
		{"a seat of two stays whole", []PoolPart{part(1, "", "1-jan-2030"), part(3, "", "permanent")}, seats(2), 2,
			[]want{{"1-jan-2030", 1, nil, true}, {"permanent", 3, []uint32{1}, false}}},
		{"overflow stays on the last valid line", []PoolPart{part(1, "", "1-jan-2030"), part(1, "", "permanent"), part(5, "", "1-jan-2020")}, seats(1, 1, 1), 3,
			[]want{{"1-jan-2030", 1, []uint32{1}, true}, {"permanent", 1, []uint32{2, 3}, false}, {"1-jan-2020", 0, nil, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issued := 0
			for _, pp := range tt.parts {
				if pp.validAt(now) {
					issued += pp.Count
				}
			}
			ps := PoolStatus{Pool: Pool{Feature: "f1", Count: issued, Parts: tt.parts}, Seats: tt.seats, InUse: tt.inUse, Issued: issued}
			got := LineBlocks(ps, now)
			if len(got) != len(tt.want) {
				t.Fatalf("%d blocks, want %d", len(got), len(tt.want))
			}
			total := 0
			for i, w := range tt.want {
				b := got[i]
				var handles []uint32
				for _, st := range b.Seats {
					handles = append(handles, st.Handle)
				}
				if b.Part.Expiry.Text != w.expiry || b.Issued != w.issued || b.First != w.first || !equalHandles(handles, w.handles) {
					t.Errorf("block %d = expiry %q issued %d handles %v first %v, want %q %d %v %v",
						i, b.Part.Expiry.Text, b.Issued, handles, b.First, w.expiry, w.issued, w.handles, w.first)
				}
				total += b.InUse
			}
			if total != tt.inUse {
				t.Errorf("blocks' in use add up to %d, want %d", total, tt.inUse)
			}
		})
	}
}

func equalHandles(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
