package reportlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// streamRecs are n deterministic records: what the members of a triad
// hand their writers for the same commands.
func streamRecs(n int) []Record {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	out := make([]Record, n)
	for i := range out {
		out[i] = Record{Time: t0.Add(time.Duration(i) * time.Second), Event: EventOut, Feature: "f1", User: "u", Count: 1, Handle: uint64(i + 1)}
	}
	return out
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// A writer told the stream is behind it skips the records its file
// holds, gives them the seq and hash they were written with, and writes
// the first one it does not hold: a replay writes nothing twice.
func TestStreamSkipsReplay(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	recs := streamRecs(8)
	w := openTest(t, Config{Path: path, Vendor: "demo"})
	var written []Record
	for _, r := range recs[:5] {
		got, err := w.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, got)
	}
	if err := w.SetStream(9, Genesis); !errors.Is(err, ErrStreamGap) {
		t.Fatalf("SetStream past the log: %v, want ErrStreamGap", err)
	}
	if err := w.SetStream(1, Genesis); err != nil {
		t.Fatal(err)
	}
	if next, last := w.Stream(); next != 1 || last != Genesis {
		t.Fatalf("Stream = %d %s, want 1 genesis", next, last)
	}
	for i, r := range recs {
		rec, kept, err := w.Keep(r)
		if err != nil || kept {
			t.Fatal(kept, err)
		}
		if i < 5 && (rec.Seq != written[i].Seq || rec.Hash != written[i].Hash) {
			t.Fatalf("skipped record %d = seq %d %s, written as %d %s", i, rec.Seq, rec.Hash, written[i].Seq, written[i].Hash)
		}
		if i >= 5 && rec.Seq != uint64(i+1) {
			t.Fatalf("record %d got seq %d", i, rec.Seq)
		}
	}
	if w.Next() != 9 {
		t.Fatalf("Next = %d, want 9", w.Next())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := mustVerify(t, path)
	if s.Records != 8 {
		t.Fatalf("%d records, want 8 (none twice)", s.Records)
	}
	// The same records written straight: the same file.
	path2 := filepath.Join(dir, "straight.log")
	w2 := openTest(t, Config{Path: path2, Vendor: "demo"})
	for _, r := range recs {
		if _, err := w2.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	w2.Close()
	a, b := fileLines(t, path), fileLines(t, path2)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("replayed log differs from a straight one:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// A skipped rotation is not done again.
func TestStreamSkipsSwitch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	w := openTest(t, Config{Path: path, Vendor: "demo", Now: func() time.Time { return at }})
	recs := streamRecs(2)
	w.Append(recs[0])
	if err := w.Switch(filepath.Join(dir, "s.log")); err != nil {
		t.Fatal(err)
	}
	w.Append(recs[1])
	_, last := w.Stream()
	if err := w.SetStream(1, Genesis); err != nil {
		t.Fatal(err)
	}
	w.Append(recs[0])
	if err := w.Switch(filepath.Join(dir, "s.log")); err != nil {
		t.Fatal(err)
	}
	w.Append(recs[1])
	if next, l := w.Stream(); next != 4 || l != last {
		t.Fatalf("Stream = %d %s after the replay, want 4 %s", next, l, last)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.log.1")); err == nil || w.Path() != filepath.Join(dir, "s.log") {
		t.Fatal("a skipped SWITCH rotated the log")
	}
	w.Close()
	mustVerify(t, logFiles(t, dir)...)
}

// AppendLines copies another writer's records verbatim, and refuses a
// line that does not continue the chain: a wrong prev hash, a seq gap,
// an altered record, a SWITCH.
func TestAppendLines(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.log")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ws := openTest(t, Config{Path: src, Vendor: "demo", Now: func() time.Time { return at }})
	for _, r := range streamRecs(6) {
		if _, err := ws.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.Switch(filepath.Join(dir, "src2.log")); err != nil {
		t.Fatal(err)
	}
	ws.Close()
	lines := fileLines(t, src)[1:] // seq 1..7, 7 the SWITCH

	dst := filepath.Join(t.TempDir(), "dst.log")
	w := openTest(t, Config{Path: dst, Vendor: "demo"})
	if n, err := w.AppendLines(lines[:2]); n != 2 || err != nil {
		t.Fatalf("AppendLines(1..2) = %d %v", n, err)
	}
	for _, c := range []struct {
		name string
		line string
	}{
		{"seq gap", lines[3]},
		{"wrong prev", rehash(t, lines[2], Genesis)},
		{"altered", strings.Replace(lines[2], "user=u", "user=v", 1)},
		{"not a record", "hello"},
	} {
		if n, err := w.AppendLines([]string{c.line}); n != 0 || !errors.Is(err, ErrVerbatim) {
			t.Errorf("%s: AppendLines = %d %v, want 0 ErrVerbatim", c.name, n, err)
		}
	}
	if n, err := w.AppendLines(lines[2:]); n != 4 || !errors.Is(err, ErrVerbatimSwitch) {
		t.Fatalf("AppendLines(3..7) = %d %v, want 4 and ErrVerbatimSwitch", n, err)
	}
	if w.Next() != 7 {
		t.Fatalf("Next = %d, want 7", w.Next())
	}
	w.Close()
	got := fileLines(t, dst)[1:]
	if strings.Join(got, "\n") != strings.Join(lines[:6], "\n") {
		t.Fatalf("copied lines differ:\n%s\n---\n%s", strings.Join(got, "\n"), strings.Join(lines[:6], "\n"))
	}
	mustVerify(t, dst)
}

// rehash is line with seq and body kept, its hash computed from prev:
// a record that chains to another one.
func rehash(t *testing.T, line, prev string) string {
	t.Helper()
	body := Body(line)
	return body + "\thash=" + ChainHash(prev, body)
}

// Gap keeps the file and starts a new one at the stream's position: the
// set fails Verify naming the gap, and the chain goes on.
func TestGap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	w := openTest(t, Config{Path: path, Vendor: "demo"})
	appendN(t, w, 3, "u")
	last := strings.Repeat("ab", HashLen/2)
	if err := w.Gap(3, last); err == nil {
		t.Fatal("Gap at the writer's own position accepted")
	}
	if err := w.Gap(10, last); err != nil {
		t.Fatal(err)
	}
	rec, err := w.Append(Record{Event: EventIn, Feature: "f1"})
	if err != nil || rec.Seq != 10 {
		t.Fatalf("Append after the gap = seq %d %v, want 10", rec.Seq, err)
	}
	w.Close()
	files := logFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("files %v, want the kept one and the new one", files)
	}
	if _, err := Verify(files...); !errors.Is(err, ErrGap) {
		t.Fatalf("Verify = %v, want ErrGap", err)
	}
	mustVerify(t, path)
}

// ReadLines reads a range across a rotated pair of files, stops at its
// bounds and limits, and returns nothing for a range no file holds.
func TestReadLinesAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	w := openTest(t, Config{Path: path, Vendor: "demo"})
	appendN(t, w, 4, "u")
	if err := w.NewLog(filepath.Join(dir, "r.old")); err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 4, "v") // seq 6..9
	var all []string
	all = append(all, fileLines(t, filepath.Join(dir, "r.old"))[1:]...)
	all = append(all, fileLines(t, path)[1:]...)
	if len(all) != 9 {
		t.Fatalf("%d lines, want 9", len(all))
	}
	got, err := ReadLines(path, "demo", 3, 9, 0, 0)
	if err != nil || strings.Join(got, "\n") != strings.Join(all[2:8], "\n") {
		t.Fatalf("ReadLines(3, 9) = %q %v, want seq 3..8", got, err)
	}
	if got, _ := ReadLines(path, "demo", 2, 100, 3, 0); len(got) != 3 {
		t.Fatalf("ReadLines with 3 records at most = %d lines", len(got))
	}
	if got, _ := ReadLines(path, "demo", 1, 100, 0, len(all[0])+1); len(got) != 1 {
		t.Fatalf("ReadLines with one line's bytes = %d lines", len(got))
	}
	if got, _ := ReadLines(path, "demo", 10, 20, 0, 0); len(got) != 0 {
		t.Fatalf("ReadLines past the end = %q", got)
	}
	if got, _ := ReadLines(path, "other", 1, 20, 0, 0); len(got) != 0 {
		t.Fatalf("ReadLines of another vendor = %q", got)
	}
}

// Follow copies what another writer of the stream has, checks that the
// record before the position is the stream's, and leaves a gap for what
// it cannot copy.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.log")
	ws := openTest(t, Config{Path: src, Vendor: "demo"})
	for _, r := range streamRecs(10) {
		if _, err := ws.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	next, last := ws.Stream()
	fetch := func(from, to uint64) ([]string, error) { return ReadLines(src, "demo", from, to, 3, 0) }

	t.Run("copies", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "r.log")
		w := openTest(t, Config{Path: p, Vendor: "demo"})
		for _, r := range streamRecs(2) {
			w.Append(r)
		}
		r := w.Follow(next, last, fetch, nil)
		if r.Copied != 8 || r.MissingFrom != next || r.FetchErr != nil || r.CopyErr != nil || r.StreamErr != nil {
			t.Fatalf("Follow = %+v, want 8 copied in chunks of 3", r)
		}
		w.Close()
		if a, b := fileLines(t, p), fileLines(t, src); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatal("the copy differs from the source")
		}
	})
	t.Run("not the stream's last record", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "r.log")
		w := openTest(t, Config{Path: p, Vendor: "demo"})
		r := w.Follow(next, strings.Repeat("0", HashLen-1)+"1", fetch, nil)
		if !errors.Is(r.CopyErr, ErrVerbatim) || r.MissingFrom != 10 || r.GapErr != nil {
			t.Fatalf("Follow = %+v, want records 1..9 copied, 10 refused and a gap", r)
		}
	})
	t.Run("nothing to fetch", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "r.log")
		w := openTest(t, Config{Path: p, Vendor: "demo"})
		w.Append(streamRecs(1)[0])
		r := w.Follow(next, last, nil, nil)
		if r.MissingFrom != 2 || r.GapErr != nil || r.StreamErr != nil || w.Next() != next {
			t.Fatalf("Follow = %+v, Next %d; want a gap from 2 and the log at %d", r, w.Next(), next)
		}
	})
	t.Run("ahead", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "r.log")
		w := openTest(t, Config{Path: p, Vendor: "demo"})
		for _, r := range streamRecs(10) {
			w.Append(r)
		}
		r := w.Follow(4, "", fetch, nil)
		if r.Held != 11 || r.Copied != 0 {
			t.Fatalf("Follow = %+v, want records 4..10 held", r)
		}
		if n, _ := w.Stream(); n != 4 {
			t.Fatalf("Stream at %d, want 4", n)
		}
	})
}

// Follow makes the rotation a copied SWITCH record stands for, through
// onSwitch, and copies on in the new file; without onSwitch it stops
// there and leaves a gap.
func TestFollowSwitch(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := func(p string) string { return filepath.Base(p) }
	srcDir := t.TempDir()
	src := filepath.Join(srcDir, "r.log")
	ws := openTest(t, Config{Path: src, Vendor: "demo", Now: func() time.Time { return at }, SwitchName: base})
	recs := streamRecs(6)
	for _, r := range recs[:3] {
		ws.Append(r)
	}
	if err := ws.Switch(filepath.Join(srcDir, "s.log")); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[3:] {
		ws.Append(r)
	}
	next, last := ws.Stream()
	cur := ws.Path()
	fetch := func(from, to uint64) ([]string, error) { return ReadLines(cur, "demo", from, to, 0, 0) }

	dstDir := t.TempDir()
	w := openTest(t, Config{Path: filepath.Join(dstDir, "r.log"), Vendor: "demo", Now: func() time.Time { return at }, SwitchName: base})
	w.Append(recs[0])
	r := w.Follow(next, last, fetch, func(sw Record) error {
		return w.Switch(filepath.Join(dstDir, strings.TrimPrefix(sw.Detail, "to=")))
	})
	if r.Copied != 6 || r.CopyErr != nil || r.MissingFrom != next {
		t.Fatalf("Follow = %+v, want 6 copied (the SWITCH too) and no gap", r)
	}
	w.Close()
	for _, f := range []string{"r.log", "s.log"} {
		if a, b := fileLines(t, filepath.Join(dstDir, f)), fileLines(t, filepath.Join(srcDir, f)); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s differs from the source's:\n%s\n---\n%s", f, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	mustVerify(t, logFiles(t, dstDir)...)

	w2 := openTest(t, Config{Path: filepath.Join(t.TempDir(), "r.log"), Vendor: "demo"})
	r = w2.Follow(next, last, fetch, nil)
	if !errors.Is(r.CopyErr, ErrVerbatimSwitch) || r.MissingFrom != 4 || r.GapErr != nil {
		t.Fatalf("Follow without onSwitch = %+v, want records 1..3 copied and a gap from the SWITCH", r)
	}
}

// Records skipped are checked against the file: a stream that is not
// the one the file was written from (a new history) stops the skipping
// at its first record that differs, which is written after the file's
// last record, and nothing of it is lost.
func TestStreamOtherHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.log")
	var reports []string
	w := openTest(t, Config{Path: path, Vendor: "demo", OnError: func(err error) { reports = append(reports, err.Error()) }})
	recs := streamRecs(6)
	for _, r := range recs[:4] {
		w.Append(r)
	}
	if err := w.SetStream(1, Genesis); err != nil {
		t.Fatal(err)
	}
	other := recs[1]
	other.User = "someone-else"
	for i, r := range []Record{recs[0], other, recs[2]} {
		got, err := w.Append(r)
		if err != nil {
			t.Fatal(err)
		}
		if want := []uint64{1, 5, 6}[i]; got.Seq != want {
			t.Fatalf("record %d got seq %d, want %d", i, got.Seq, want)
		}
	}
	if len(reports) != 1 || !strings.Contains(reports[0], "record 2 of the stream is not the one this log holds") {
		t.Fatalf("reports %q, want the difference at record 2", reports)
	}
	w.Close()
	if s := mustVerify(t, path); s.Records != 6 {
		t.Fatalf("%d records, want 6", s.Records)
	}
}
