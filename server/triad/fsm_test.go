package triad

import (
	"bytes"
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
func feed(t *testing.T, f *FSM, cmds []Command) {
	t.Helper()
	for i := 0; i < len(cmds); i += 3 {
		data, err := Encode(nil, cmds[i:min(i+3, len(cmds))])
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(&raft.Log{Index: uint64(i/3 + 1), Type: raft.LogCommand, Data: data})
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
// the same seats, tells its report log the commands are a replay, and a
// snapshot that does not decode is refused.
func TestSnapshotRestore(t *testing.T) {
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
	if replays != len(cmds) || live != 0 {
		t.Errorf("OnCommit saw %d replayed and %d live commands, want %d and 0", replays, live, len(cmds))
	}
	if got, want := dst.AppliedIndex(), src.AppliedIndex(); got != want {
		t.Errorf("AppliedIndex %d after restore, want %d", got, want)
	}

	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, data[1:]...)},
		{"truncated", data[:len(data)/2]},
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
// (it lacks the license file) still keeps every later entry, so that its
// snapshot, restored where the file is, gives the full state.
func TestBrokenMemberKeepsHistory(t *testing.T) {
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
	if got := len(seatsOf(broken.State())); got != 1 {
		t.Errorf("broken member serves %d seats, want the 1 it had before the reread", got)
	}
	fixed := NewFSM(fsmConfig(t, newLicenses(baseLicense, rereadLicense)))
	if err := fixed.Restore(io.NopCloser(bytes.NewReader(snapshotOf(t, broken)))); err != nil {
		t.Fatal(err)
	}
	if fixed.Err() != nil {
		t.Errorf("restored with the file: %v", fixed.Err())
	}
	if got, want := digest(fixed.State()), digest(good.State()); got != want {
		t.Errorf("restored from the broken member's snapshot:\n%s\nwant\n%s", got, want)
	}
	if got := len(seatsOf(good.State())); got != 4 {
		t.Errorf("good member serves %d seats of f1, want 4 after the reread", got)
	}

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
