package reportlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeWeek writes a report log over a fake week ending at now, rotated
// once (lmnewlog), and returns the current file.
func writeWeek(t *testing.T, dir string, now time.Time, counters *Counters, seen *[]Record) string {
	t.Helper()
	path := filepath.Join(dir, "demo.rl")
	cfg := Config{Path: path, Vendor: "demo", Now: func() time.Time { return now }, Counters: counters}
	if seen != nil {
		cfg.OnRecord = func(r Record) { *seen = append(*seen, r) }
	}
	w, err := OpenWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return now.Add(-d) }
	recs := []Record{
		{Event: EventStart, Time: at(7*24*time.Hour - time.Hour)},
		{Event: EventOut, Feature: "f1", Count: 2, Handle: 1, Pool: "p", Detail: "total=5", Time: at(6 * 24 * time.Hour)},
		{Event: EventOut, Feature: "f2", Count: 1, Handle: 9, Time: at(6 * 24 * time.Hour)},
		{Event: EventStop, Time: at(5 * 24 * time.Hour)},
		{Event: EventStart, Time: at(5*24*time.Hour - time.Minute)},
		{Event: EventOut, Feature: "f1", Count: 1, Handle: 2, Pool: "p", Detail: "total=5", Time: at(3 * time.Hour)},
		{Event: EventOut, Feature: "f1", Count: 3, Handle: 3, Pool: "p", Detail: "total=5", Time: at(2 * time.Hour)},
		{Event: EventIn, Feature: "f1", Count: 3, Handle: 3, Time: at(90 * time.Minute)},
	}
	for _, r := range recs {
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.NewLog(filepath.Join(dir, "demo-old.rl")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(Record{Event: EventIn, Feature: "f1", Count: 1, Handle: 2, Time: at(30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHistorySeed(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var counters Counters
	var seen []Record
	path := writeWeek(t, dir, now, &counters, &seen)
	// A report log of another vendor, and one of this vendor not written
	// to for more than a week: neither is read.
	if err := os.WriteFile(filepath.Join(dir, "other.rl"), []byte(Header{Seq: 1, Prev: Genesis, Vendor: "other"}.Line()), 0o600); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "ancient.rl")
	line := (&Record{Event: EventOut, Seq: 1, Feature: "f9", Count: 4, Handle: 1, Time: now.Add(-time.Hour)}).Line(Genesis)
	if err := os.WriteFile(old, []byte(Header{Seq: 1, Prev: Genesis, Vendor: "demo"}.Line()+line), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(old, now.Add(-8*24*time.Hour), now.Add(-8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The files the writer wrote are touched now (the test's clock is
	// fake); they are in the window.
	for _, p := range []string{path, filepath.Join(dir, "demo-old.rl")} {
		os.Chtimes(p, now, now)
	}

	// START OUT OUT STOP START OUT OUT IN SWITCH IN: 10 records.
	if got := counters.Records.Load(); got != 10 {
		t.Errorf("Counters.Records = %d, want 10", got)
	}
	if got := counters.WriteErrors.Load(); got != 0 {
		t.Errorf("Counters.WriteErrors = %d, want 0", got)
	}
	if len(seen) != 10 || seen[1].Event != EventOut || seen[1].Seq != 2 || seen[1].Hash == "" {
		t.Errorf("OnRecord saw %d records, the second %+v; want 10, the OUT with seq 2 and a hash", len(seen), seen[min(1, len(seen)-1)])
	}

	h := NewHistory(0)
	if err := h.Seed(nil, path, "demo", 0, now); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Features(), []string{"f1", "f2"}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Features() = %q, want %q", got, want)
	}
	f1, ok := h.Feature("f1", now)
	if !ok {
		t.Fatal("no history of f1")
	}
	if f1.Total != 5 || f1.InUse != 0 {
		t.Errorf("f1 Total, InUse = %d, %d; want 5, 0", f1.Total, f1.InUse)
	}
	// The day: 1 seat from 3 h ago, 4 from 2 h ago, 1 from 90 min ago,
	// none from 30 min ago, up to now.
	day := f1.Day
	if day.Step != time.Minute || len(day.InUse) != HistoryDayLen {
		t.Fatalf("Day: step %v, %d buckets; want 1m, %d", day.Step, len(day.InUse), HistoryDayLen)
	}
	if want := now.Add(-HistoryDayLen*time.Minute + time.Minute); !day.Start.Equal(want) {
		t.Errorf("Day.Start = %v, want %v", day.Start, want)
	}
	dayAt := func(ago time.Duration) int {
		i := int(now.Add(-ago).Sub(day.Start) / time.Minute)
		return day.InUse[i]
	}
	for _, c := range []struct {
		ago  time.Duration
		want int
	}{
		{4 * time.Hour, 0}, {3 * time.Hour, 1}, {150 * time.Minute, 1}, {2 * time.Hour, 4}, {100 * time.Minute, 4},
		{90 * time.Minute, 4}, {89 * time.Minute, 1}, {31 * time.Minute, 1}, {30 * time.Minute, 1}, {29 * time.Minute, 0}, {0, 0},
	} {
		if got := dayAt(c.ago); got != c.want {
			t.Errorf("Day %v ago = %d, want %d", c.ago, got, c.want)
		}
	}
	// The week: 2 seats from 6 days ago until the STOP 5 days ago.
	week := f1.Week
	// It starts with f1's first record.
	if want := now.Add(-6 * 24 * time.Hour); week.Step != 15*time.Minute || !week.Start.Equal(want) || len(week.InUse) != 6*24*4+1 {
		t.Fatalf("Week: step %v, start %v, %d buckets; want 15m, %v, %d", week.Step, week.Start, len(week.InUse), want, 6*24*4+1)
	}
	weekAt := func(ago time.Duration) int {
		i := int(now.Add(-ago).Sub(week.Start) / (15 * time.Minute))
		if i < 0 || i >= len(week.InUse) {
			return -1 // no bucket
		}
		return week.InUse[i]
	}
	for _, c := range []struct {
		ago  time.Duration
		want int
	}{
		{6*24*time.Hour + time.Hour, -1}, {6 * 24 * time.Hour, 2}, {5*24*time.Hour + time.Hour, 2}, {5 * 24 * time.Hour, 2},
		{5*24*time.Hour - time.Hour, 0}, {2 * time.Hour, 4}, {time.Hour, 1}, {0, 0},
	} {
		if got := weekAt(c.ago); got != c.want {
			t.Errorf("Week %v ago = %d, want %d", c.ago, got, c.want)
		}
	}
	if f9, ok := h.Feature("f9", now); ok {
		t.Errorf("f9 of a file not written to in a week has a history: %+v", f9)
	}

	// The files read while the live records come: next bounds the
	// seed, and the seeded history goes behind the live one.
	seeded := NewHistory(0)
	if err := seeded.Seed(nil, path, "demo", 8, now); err != nil { // up to the OUT of handle 3, seq 7
		t.Fatal(err)
	}
	if f, _ := seeded.Feature("f1", now.Add(-time.Hour)); f.InUse != 4 {
		t.Errorf("seeded up to seq 8: in use %d, want 4", f.InUse)
	}
	live := NewHistory(0)
	live.Add(Record{Event: EventStart, Time: now.Add(-time.Minute)})
	live.Add(Record{Event: EventOut, Feature: "f1", Count: 1, Handle: 50, Time: now})
	stop := make(chan struct{})
	close(stop)
	if err := NewHistory(0).Seed(stop, path, "demo", 0, now); err != nil {
		t.Errorf("a stopped Seed: %v", err)
	}
	live.MergeOlder(seeded)
	f, _ := live.Feature("f1", now)
	d := f.Day.InUse
	if f.InUse != 1 || len(d) != HistoryDayLen || d[len(d)-1] != 1 || d[len(d)-2] != 4 || d[len(d)-120] != 4 || d[len(d)-150] != 1 {
		t.Errorf("merged: in use %d, %d buckets, now %d, 1 min ago %d, 2 h ago %d, 150 min ago %d; want 1, %d, 1, 4, 4, 1",
			f.InUse, len(d), d[len(d)-1], d[len(d)-2], d[len(d)-120], d[len(d)-150], HistoryDayLen)
	}
	if w := f.Week; !w.Start.Equal(now.Add(-6*24*time.Hour)) || w.InUse[0] != 2 {
		t.Errorf("merged week: start %v, first %v; want the seed's, 2", w.Start, w.InUse[:1])
	}
}

func TestHistoryBounds(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	h := NewHistory(2)
	for i, f := range []string{"a", "b", "c"} {
		h.Add(Record{Event: EventOut, Feature: f, Count: 1, Handle: uint64(i + 1), Time: now})
	}
	if got := h.Features(); len(got) != 2 {
		t.Errorf("Features() = %q, want the first 2", got)
	}
	// An IN for a handle never seen, a duplicate OUT, a record from
	// before the week: none changes anything.
	h.Add(Record{Event: EventIn, Feature: "a", Handle: 77, Time: now})
	h.Add(Record{Event: EventOut, Feature: "a", Count: 5, Handle: 1, Time: now})
	h.Add(Record{Event: EventOut, Feature: "a", Count: 5, Handle: 8, Time: now.Add(-30 * 24 * time.Hour)})
	f, _ := h.Feature("a", now)
	if f.InUse != 6 || f.Day.InUse[len(f.Day.InUse)-1] != 6 {
		t.Errorf("a: in use %d, last bucket %v; want 6 (the late OUT counts now), 6", f.InUse, f.Day.InUse)
	}
	// Days later, the series still covers one day and one week only.
	later := now.Add(30 * 24 * time.Hour)
	f, _ = h.Feature("a", later)
	if len(f.Day.InUse) != HistoryDayLen || len(f.Week.InUse) != HistoryWeekLen || f.Day.InUse[0] != 6 {
		t.Errorf("30 days later: %d day and %d week buckets, first %d; want %d, %d, 6", len(f.Day.InUse), len(f.Week.InUse), f.Day.InUse[0], HistoryDayLen, HistoryWeekLen)
	}
}

// BenchmarkHistorySeed reads a week of 100,000 checkouts (200,000
// records over 50 features) into a history, as a vendor daemon does at
// start.
func BenchmarkHistorySeed(b *testing.B) {
	dir := b.TempDir()
	now := time.Now().UTC()
	path := filepath.Join(dir, "demo.rl")
	w, err := OpenWriter(Config{Path: path, Vendor: "demo"})
	if err != nil {
		b.Fatal(err)
	}
	const checkouts = 100000
	step := HistoryWindow / (2 * checkouts)
	t := now.Add(-HistoryWindow)
	for i := range checkouts {
		f := "feature" + string(rune('a'+i%50/26)) + string(rune('a'+i%26))
		if _, err := w.Append(Record{Event: EventOut, Feature: f, Count: 1, Handle: uint64(i + 1), Detail: "total=100", Time: t}); err != nil {
			b.Fatal(err)
		}
		t = t.Add(step)
		if _, err := w.Append(Record{Event: EventIn, Feature: f, Count: 1, Handle: uint64(i + 1), Time: t}); err != nil {
			b.Fatal(err)
		}
		t = t.Add(step)
	}
	w.Close()
	fi, _ := os.Stat(path)
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
	for b.Loop() {
		h := NewHistory(0)
		if err := h.Seed(nil, path, "demo", 0, now); err != nil {
			b.Fatal(err)
		}
	}
}
