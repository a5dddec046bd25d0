package reportlog

import (
	"math"
	"testing"
	"time"
)

func TestUsage(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	recs := []Record{
		{Time: h(0), Event: EventStart},
		{Time: h(1), Event: EventOut, Feature: "f", User: "a", Count: 2, Handle: 1},
		{Time: h(2), Event: EventOut, Feature: "f", User: "b", Count: 1, Handle: 2},
		{Time: h(2.5), Event: EventDeny, Feature: "f", User: "c", Code: -4},
		{Time: h(2.5), Event: EventDeny, Feature: "f", User: "c", Code: -4},
		{Time: h(2.6), Event: EventDeny, Feature: "f", User: "d", Code: -38},
		{Time: h(3), Event: EventIn, Feature: "f", User: "a", Count: 2, Handle: 1},
		{Time: h(3), Event: EventIn, Feature: "f", User: "a", Count: 2, Handle: 1}, // twice: ignored
		{Time: h(4), Event: EventQueue, Feature: "f", User: "c"},
		{Time: h(5), Event: EventStop}, // b's seat ends with the daemon
		{Time: h(6), Event: EventStart},
		{Time: h(7), Event: EventOut, Feature: "g", User: "a", Count: 1, Handle: 1},
	}
	tests := []struct {
		name      string
		filter    Filter
		feature   string
		checkouts int
		denials   int
		peak      int
		peakAt    time.Time
		seatHours float64
		topUser   string
	}{
		{"whole log", Filter{}, "f", 2, 3, 3, h(2), 2*2 + 3, "a"},
		{"window cuts seats", Filter{From: h(2.5), To: h(4)}, "f", 0, 3, 3, h(2.5), 2*0.5 + 1.5, "b"},
		{"window after the stop", Filter{From: h(5.5)}, "g", 1, 0, 1, h(7), 0, "a"},
		{"feature filter", Filter{Feature: "f"}, "f", 2, 3, 3, h(2), 7, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := NewUsage(tt.filter)
			for _, r := range recs {
				u.Add(r)
			}
			var got *FeatureUsage
			res := u.Result()
			for _, f := range res {
				if f.Feature == tt.feature {
					got = f
				}
				if tt.filter.Feature != "" && f.Feature != tt.filter.Feature {
					t.Errorf("feature %s reported with -feature %s", f.Feature, tt.filter.Feature)
				}
			}
			if got == nil {
				t.Fatalf("no usage of %s in %+v", tt.feature, res)
			}
			if got.Checkouts != tt.checkouts || got.DenialCount() != tt.denials || got.Peak != tt.peak || !got.PeakAt.Equal(tt.peakAt) {
				t.Errorf("checkouts %d denials %d peak %d at %v; want %d, %d, %d at %v",
					got.Checkouts, got.DenialCount(), got.Peak, got.PeakAt, tt.checkouts, tt.denials, tt.peak, tt.peakAt)
			}
			if math.Abs(got.SeatHours-tt.seatHours) > 1e-9 {
				t.Errorf("seat-hours %v, want %v", got.SeatHours, tt.seatHours)
			}
			if len(got.Users) == 0 || got.Users[0].User != tt.topUser {
				t.Errorf("users %+v, want %s first", got.Users, tt.topUser)
			}
		})
	}
}

func TestDenialCodesOrder(t *testing.T) {
	u := &FeatureUsage{Denials: map[int]int{-4: 1, -38: 3, -39: 1}}
	got := u.DenialCodes()
	want := []int{-38, -4, -39}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("DenialCodes = %v, want %v (most frequent first, then by code)", got, want)
		}
	}
}

// TestUsageKeptRecordsOutOfOrder: a checkin kept while the log could not
// be written follows, with its own earlier time, the SWITCH record that
// starts the next file: the seat counts up to the checkin, in a window
// that ends between the two as in the whole log, and the series is in
// time order.
func TestUsageKeptRecordsOutOfOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recs := []Record{
		{Time: t0, Event: EventStart},
		{Time: t0, Event: EventOut, Feature: "f", User: "a", Count: 1, Handle: 1, Detail: "total=4"},
		{Time: t0.Add(70 * time.Minute), Event: EventSwitch, Detail: "to=b.rl,from=a.rl"},
		{Time: t0.Add(60 * time.Minute), Event: EventIn, Feature: "f", User: "a", Count: 1, Handle: 1},
	}
	for _, f := range []Filter{{}, {To: t0.Add(65 * time.Minute)}} {
		u := NewUsage(f)
		u.TrackSeries()
		for _, r := range recs {
			u.Add(r)
		}
		res := u.Result()
		if len(res) != 1 {
			t.Fatalf("%+v: %d features", f, len(res))
		}
		got := res[0]
		if math.Abs(got.SeatHours-1) > 1e-9 || got.Peak != 1 || got.Total != 4 {
			t.Errorf("%+v: %v seat-hours, peak %d, total %d; want 1, 1, 4", f, got.SeatHours, got.Peak, got.Total)
		}
		if len(got.InUse) != 2 || got.InUse[0].N != 1 || got.InUse[1].N != 0 || !got.InUse[1].Time.Equal(t0.Add(time.Hour)) {
			t.Errorf("%+v: series %+v, want 1 at 09:00, 0 at 10:00", f, got.InUse)
		}
	}
}
