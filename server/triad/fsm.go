package triad

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"golm/lmutil/server/state"
)

// Commit is one committed command as a member applied it: what the
// report log of every member is written from. Replay is true while a
// member rebuilds its state from a snapshot, for commands it applied
// before (a report log writer skips indexes it has written).
type Commit struct {
	Index  uint64 // the Raft log index of the batch
	Cmd    Command
	Result state.Result
	Replay bool
	// State is the state the command was applied to (during a Restore,
	// not yet the FSM's State).
	State *state.State
}

// FSMConfig is what an FSM builds states, pools and policies with.
type FSMConfig struct {
	// NewState returns the state before any command: the pools of the
	// license files the member started with, no policy. Every member
	// must start from the same files.
	NewState func() *state.State
	// PoolsByHash returns new pools built from the license text with
	// hash h, for a Reread; PolicyByHash the policy of the options text
	// with hash h, for a SetPolicy. Each call must build new pools: a
	// State keeps pointers to them.
	PoolsByHash  func(h Hash) ([]*state.Pool, error)
	PolicyByHash func(h Hash) (state.Policy, error)
	// OnCommit, when set, is called for every command applied, in log
	// order, with the FSM's lock held: it must not call the FSM back.
	OnCommit func(Commit)
}

// FSM is the Raft state machine of one vendor's seat table: it applies
// committed batches of commands to a state.State. Its snapshot is the
// list of batches applied since the group started (see Snapshot).
type FSM struct {
	cfg   FSMConfig
	state atomic.Pointer[state.State]
	index atomic.Uint64

	mu      sync.Mutex
	history []entry // guarded by mu; append-only between Restores
	broken  error   // guarded by mu
}

// entry is one applied batch, kept for snapshots.
type entry struct {
	index uint64
	data  []byte
}

// applyResponse is what Apply returns to the proposer on the master:
// one result per command of the batch, or why none was applied.
type applyResponse struct {
	results []state.Result
	err     error
}

// NewFSM returns an FSM on a new state from cfg.NewState.
func NewFSM(cfg FSMConfig) *FSM {
	f := &FSM{cfg: cfg}
	f.state.Store(cfg.NewState())
	return f
}

// State is the member's current seat table, for status requests. A
// Restore replaces it, so callers must not keep it for long.
func (f *FSM) State() *state.State { return f.state.Load() }

// AppliedIndex is the log index of the last batch applied.
func (f *FSM) AppliedIndex() uint64 { return f.index.Load() }

// Err is why the FSM stopped applying (a Reread it could not build the
// pools for), or nil.
func (f *FSM) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.broken
}

// Apply applies one committed log entry: a batch of commands, in order.
// Every member decodes the same bytes, so a corrupt entry is refused the
// same way everywhere and changes nothing.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.index.Store(l.Index)
	cmds, err := Decode(l.Data)
	if errors.Is(err, ErrCorrupt) {
		return applyResponse{err: err}
	}
	// Every other entry is history, whether this member can apply it
	// or not: a snapshot must hold the whole log, so that a member that
	// restores it with the right files (or a newer codec) applies it all.
	f.history = append(f.history, entry{l.Index, l.Data})
	if f.broken != nil {
		return applyResponse{err: f.broken}
	}
	if err != nil {
		// A newer codec wrote it: this member can no longer follow.
		f.broken = err
		return applyResponse{err: err}
	}
	results, err := f.applyLocked(f.state.Load(), l.Index, cmds, false)
	if err != nil {
		f.broken = err
		return applyResponse{err: err}
	}
	return applyResponse{results: results}
}

func (f *FSM) applyLocked(st *state.State, index uint64, cmds []Command, replay bool) ([]state.Result, error) {
	results := make([]state.Result, 0, len(cmds))
	for _, c := range cmds {
		sc, err := f.resolve(c)
		if err != nil {
			return nil, err
		}
		r := st.Apply(sc)
		if f.cfg.OnCommit != nil {
			f.cfg.OnCommit(Commit{Index: index, Cmd: c, Result: r, Replay: replay, State: st})
		}
		results = append(results, r)
	}
	return results, nil
}

// resolve turns a replicated command into the state.Command to apply.
func (f *FSM) resolve(c Command) (state.Command, error) {
	switch c := c.(type) {
	case Reread:
		if f.cfg.PoolsByHash == nil {
			return nil, fmt.Errorf("triad: reread %s: no license files", c.Hash)
		}
		pools, err := f.cfg.PoolsByHash(c.Hash)
		if err != nil {
			return nil, fmt.Errorf("triad: reread %s: %w", c.Hash, err)
		}
		return state.Reread{Pools: pools}, nil
	case SetPolicy:
		if f.cfg.PolicyByHash == nil {
			return nil, fmt.Errorf("triad: options %s: no options file", c.Hash)
		}
		p, err := f.cfg.PolicyByHash(c.Hash)
		if err != nil {
			return nil, fmt.Errorf("triad: options %s: %w", c.Hash, err)
		}
		return state.SetPolicy{Policy: p}, nil
	case TimedOut:
		return state.Disconnect{Session: c.Session, Now: c.Now}, nil
	case state.Command:
		return c, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrNotReplicated, c)
}

// Snapshot captures the batches applied so far. state.State does not
// export a dump of its sessions, queue, clocks and next handle, so the
// snapshot is the command log itself, replayed into a new state on
// Restore; State.Apply being deterministic, that gives the same state.
// It grows with the number of commands since the group started.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// history is append-only: the prefix stays valid while Apply goes on.
	return &snapshot{entries: f.history[:len(f.history):len(f.history)]}, nil
}

// Snapshot format version, the first byte of a snapshot.
const snapshotVersion = 1

type snapshot struct{ entries []entry }

// Persist writes the snapshot: the version, the number of batches, then
// each batch's log index, length and bytes.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	var buf []byte
	buf = append(buf, snapshotVersion)
	buf = binary.AppendUvarint(buf, uint64(len(s.entries)))
	if _, err := w.Write(buf); err != nil {
		sink.Cancel()
		return err
	}
	for _, e := range s.entries {
		buf = binary.AppendUvarint(buf[:0], e.index)
		buf = binary.AppendUvarint(buf, uint64(len(e.data)))
		if _, err := w.Write(buf); err != nil {
			sink.Cancel()
			return err
		}
		if _, err := w.Write(e.data); err != nil {
			sink.Cancel()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release is a no-op: the snapshot shares the FSM's immutable history.
func (s *snapshot) Release() {}

// ErrSnapshot is a snapshot that does not decode.
var ErrSnapshot = errors.New("triad: corrupt snapshot")

// Restore replaces the state with one rebuilt from a snapshot: a new
// state from NewState with every batch of the snapshot applied again.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	r := bufio.NewReader(rc)
	v, err := r.ReadByte()
	if err != nil || v != snapshotVersion {
		return ErrSnapshot
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return ErrSnapshot
	}
	var entries []entry
	for range n {
		idx, err := binary.ReadUvarint(r)
		if err != nil {
			return ErrSnapshot
		}
		size, err := binary.ReadUvarint(r)
		if err != nil || size > maxEntryBytes {
			return ErrSnapshot
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return ErrSnapshot
		}
		entries = append(entries, entry{idx, data})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.cfg.NewState()
	var broken error
	var last uint64
	for _, e := range entries {
		last = e.index
		if broken != nil {
			continue
		}
		cmds, err := Decode(e.data)
		if errors.Is(err, ErrCorrupt) {
			continue // refused when it was first applied too
		}
		if err != nil {
			broken = err
			continue
		}
		if _, err := f.applyLocked(st, e.index, cmds, true); err != nil {
			broken = err
		}
	}
	f.state.Store(st)
	f.history = entries
	f.broken = broken
	f.index.Store(last)
	return nil
}

// maxEntryBytes bounds one batch in a snapshot; Member never proposes
// more than this in one entry.
const maxEntryBytes = 64 << 20
