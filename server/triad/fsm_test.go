package triad

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

// feed applies cmds to f as log entries of three commands each.
func feed(t *testing.T, f *FSM, cmds []Command) { feedFrom(t, f, cmds, 1) }

// feedFrom is feed with the first entry at log index first.
func feedFrom(t *testing.T, f *FSM, cmds []Command, first uint64) {
	t.Helper()
	for i := 0; i < len(cmds); i += 3 {
		data, err := Encode(nil, cmds[i:min(i+3, len(cmds))])
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(&raft.Log{Index: first + uint64(i/3), Type: raft.LogCommand, Data: data})
	}
}

func snapshotOf(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil || !sink.closed {
		t.Fatalf("Persist: %v, closed %v", err, sink.closed)
	}
	snap.Release()
	return sink.Bytes()
}

// TestSnapshotRestore: a member restored from another's snapshot serves
// the same seats and answers the commands that follow as the other does,
// its report log is told of no command (the snapshot is a seat table,
// not a log), the snapshot does not grow with the log, and a snapshot
// that does not decode is refused.
func TestSnapshotRestore(t *testing.T) {
	t.Parallel() // a cluster of its own
	lic := newLicenses(baseLicense, rereadLicense)
	cmds := randomCommands(9, 300)
	src := NewFSM(fsmConfig(t, lic))
	feed(t, src, cmds)
	data := snapshotOf(t, src)

	cfg := fsmConfig(t, lic)
	var replays, live int
	cfg.OnCommit = func(c Commit) {
		if c.Replay {
			replays++
		} else {
			live++
		}
	}
	dst := NewFSM(cfg)
	if err := dst.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if got, want := digest(dst.State()), digest(src.State()); got != want {
		t.Errorf("restored state\n%s\nwant\n%s", got, want)
	}
	if replays != 0 || live != 0 {
		t.Errorf("OnCommit saw %d replayed and %d live commands, want none", replays, live)
	}
	if got, want := dst.AppliedIndex(), src.AppliedIndex(); got != want {
		t.Errorf("AppliedIndex %d after restore, want %d", got, want)
	}
	if again := snapshotOf(t, dst); !bytes.Equal(again, data) {
		t.Errorf("the restored member's snapshot differs from the one it restored (%d and %d bytes)", len(again), len(data))
	}
	// Both go on alike, from the same commands.
	more := randomCommands(10, 150)
	feedFrom(t, src, more, src.AppliedIndex()+1)
	feedFrom(t, dst, more, dst.AppliedIndex()+1)
	if got, want := digest(dst.State()), digest(src.State()); got != want {
		t.Errorf("after more commands the restored member serves\n%s\nwant\n%s", got, want)
	}
	if !bytes.Equal(snapshotOf(t, dst), snapshotOf(t, src)) {
		t.Error("after more commands the two snapshots differ")
	}
	// The snapshot is the seat table's size: the same commands again,
	// checking in what they check out, leave it about as big.
	if n := len(snapshotOf(t, src)); n > 4*len(data)+1024 {
		t.Errorf("snapshot %d bytes after 450 commands, %d after 300", n, len(data))
	}

	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, data[1:]...)},
		{"truncated", data[:len(data)/2]},
		{"a bit flipped in the seat table", func() []byte {
			b := bytes.Clone(data)
			b[len(b)/2] ^= 0x10
			return b
		}()},
		{"trailing bytes", append(bytes.Clone(data), 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFSM(fsmConfig(t, lic))
			if err := f.Restore(io.NopCloser(bytes.NewReader(tt.data))); !errors.Is(err, ErrSnapshot) {
				t.Errorf("Restore = %v, want ErrSnapshot", err)
			}
		})
	}
}

// TestBrokenMemberKeepsHistory: a member that could not apply a reread
// (it lacks the license file) applies nothing of that batch, keeps the
// seat table it stopped at and every later entry, so that its snapshot,
// restored where the file is, gives the full state.
func TestBrokenMemberKeepsHistory(t *testing.T) {
	t.Parallel() // a cluster of its own
	cmds := []Command{checkout(1, "a", "f1"), Reread{Hash: hashOf(rereadLicense)}}
	for s := uint64(2); s <= 6; s++ {
		cmds = append(cmds, checkout(s, "u", "f1"))
	}
	good := NewFSM(fsmConfig(t, newLicenses(baseLicense, rereadLicense)))
	feed(t, good, cmds)
	broken := NewFSM(fsmConfig(t, newLicenses(baseLicense)))
	feed(t, broken, cmds)
	if broken.Err() == nil {
		t.Fatal("a member without the license file applied the reread")
	}
	if got := len(seatsOf(broken.State())); got != 0 {
		t.Errorf("broken member serves %d seats, want none: the batch with the reread is applied whole or not at all", got)
	}
	brokenSnap := snapshotOf(t, broken)
	fixedCfg := fsmConfig(t, newLicenses(baseLicense, rereadLicense))
	replays := 0
	fixedCfg.OnCommit = func(c Commit) {
		if c.Replay {
			replays++
		}
	}
	fixed := NewFSM(fixedCfg)
	if err := fixed.Restore(io.NopCloser(bytes.NewReader(brokenSnap))); err != nil {
		t.Fatal(err)
	}
	if fixed.Err() != nil {
		t.Errorf("restored with the file: %v", fixed.Err())
	}
	if replays != len(cmds) {
		t.Errorf("OnCommit saw %d replayed commands, want the %d the broken member kept", replays, len(cmds))
	}
	if got, want := len(snapshotOf(t, fixed)), len(brokenSnap); got >= want {
		t.Errorf("the fixed member's snapshot is %d bytes, the broken one's %d: it should keep no entries", got, want)
	}
	if got, want := digest(fixed.State()), digest(good.State()); got != want {
		t.Errorf("restored from the broken member's snapshot:\n%s\nwant\n%s", got, want)
	}
	if got := len(seatsOf(good.State())); got != 4 {
		t.Errorf("good member serves %d seats of f1, want 4 after the reread", got)
	}

	t.Run("restored where the file is missing too", func(t *testing.T) {
		f := NewFSM(fsmConfig(t, newLicenses(baseLicense)))
		if err := f.Restore(io.NopCloser(bytes.NewReader(brokenSnap))); err != nil {
			t.Fatal(err)
		}
		if f.Err() == nil {
			t.Error("a member without the license file restored past the reread")
		}
		if got := snapshotOf(t, f); !bytes.Equal(got, brokenSnap) {
			t.Errorf("its snapshot differs from the one it restored (%d and %d bytes)", len(got), len(brokenSnap))
		}
	})
	t.Run("newer codec", func(t *testing.T) {
		f := NewFSM(fsmConfig(t, newLicenses(baseLicense)))
		data, _ := Encode(nil, []Command{checkout(1, "a", "f1")})
		data[0] = codecVersion + 1
		f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data})
		if !errors.Is(f.Err(), ErrVersion) {
			t.Errorf("Err = %v after an entry of a newer codec, want ErrVersion", f.Err())
		}
	})
	t.Run("corrupt entry", func(t *testing.T) {
		f := NewFSM(fsmConfig(t, newLicenses(baseLicense)))
		r := f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{codecVersion, 1, 200}}).(applyResponse)
		if !errors.Is(r.err, ErrCorrupt) || f.Err() != nil {
			t.Errorf("corrupt entry: response %v, Err %v; want ErrCorrupt and a member that goes on", r.err, f.Err())
		}
	})
}

// TestSnapshotReportMark: a snapshot carries the report log position
// ReportMark gives after the last command applied, and Restore hands it
// to OnRestore before anything else; a version-2 snapshot (none) still
// restores, with no position.
func TestSnapshotReportMark(t *testing.T) {
	t.Parallel()
	lic := newLicenses(baseLicense, rereadLicense)
	cfg := fsmConfig(t, lic)
	var records uint64
	cfg.OnCommit = func(Commit) { records++ }
	cfg.ReportMark = func() (uint64, string) { return records + 1, "0123456789abcdef0123456789abcdef" }
	src := NewFSM(cfg)
	cmds := randomCommands(11, 60)
	feed(t, src, cmds)
	data := snapshotOf(t, src)
	if data[0] != 3 {
		t.Fatalf("snapshot version %d, want 3", data[0])
	}

	restoreWith := func(data []byte) (index, next uint64, last string, f *FSM) {
		t.Helper()
		c := fsmConfig(t, lic)
		called := false
		c.OnRestore = func(i, n uint64, l string) { index, next, last, called = i, n, l, true }
		f = NewFSM(c)
		if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
			t.Fatal(err)
		}
		if !called {
			t.Fatal("OnRestore not called")
		}
		return
	}
	index, next, last, dst := restoreWith(data)
	if index != src.AppliedIndex() || next != uint64(len(cmds))+1 || last != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("OnRestore(%d, %d, %q), want (%d, %d, the hash)", index, next, last, src.AppliedIndex(), len(cmds)+1)
	}
	if got, want := digest(dst.State()), digest(src.State()); got != want {
		t.Errorf("restored state\n%s\nwant\n%s", got, want)
	}

	// The same snapshot as version 2 wrote it: no position.
	v2 := []byte{2}
	r := bytes.NewReader(data[1:])
	idx, _ := binary.ReadUvarint(r)
	binary.ReadUvarint(r) // next
	n, _ := r.ReadByte()
	r.Seek(int64(n), io.SeekCurrent)
	rest, _ := io.ReadAll(r)
	v2 = binary.AppendUvarint(v2, idx)
	v2 = append(v2, rest...)
	index, next, last, dst = restoreWith(v2)
	if index != src.AppliedIndex() || next != 0 || last != "" {
		t.Fatalf("version 2: OnRestore(%d, %d, %q), want (%d, 0, \"\")", index, next, last, src.AppliedIndex())
	}
	if got, want := digest(dst.State()), digest(src.State()); got != want {
		t.Errorf("restored from version 2\n%s\nwant\n%s", got, want)
	}
}
