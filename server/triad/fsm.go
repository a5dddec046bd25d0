package triad

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"golm/lmutil/server/state"
)

// Commit is one committed command as a member applied it: what the
// report log of every member is written from. Replay is true for the
// commands a Restore applies after the snapshot's seat table: entries a
// member kept, unapplied, while it could not follow (see Snapshot):
// their records follow the snapshot's report log position.
type Commit struct {
	Index  uint64 // the Raft log index of the batch
	Cmd    Command
	Result state.Result
	Replay bool
	// Time is when the command happened by the master's clock: the time
	// it was stamped with, or for a command without one (a reread) when
	// the master appended its batch. Every member has the same, so that
	// their report logs do.
	Time time.Time
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
	// ReportMark, when set, is read by Snapshot, with the FSM's lock
	// held and so after OnCommit for every command applied: the
	// position of the report log's stream at the snapshot's index (the
	// sequence number of the next record and the hash of the last),
	// which the snapshot carries.
	ReportMark func() (next uint64, last string)
	// OnRestore, when set, is called by Restore with the FSM's lock
	// held, before the commands the snapshot kept are applied again:
	// the snapshot's index and the report log position it carries
	// (next 0: none, a snapshot of an earlier version). The member's
	// report log is to continue there.
	OnRestore func(index, next uint64, last string)
}

// mark is a report log position carried by a snapshot; next 0 is none.
type mark struct {
	next uint64
	last string
}

func (f *FSM) markLocked() mark {
	if f.cfg.ReportMark == nil {
		return mark{}
	}
	n, l := f.cfg.ReportMark()
	if len(l) > maxMarkHash {
		return mark{}
	}
	return mark{n, l}
}

// maxMarkHash bounds the hash of a mark in a snapshot.
const maxMarkHash = 64

// FSM is the Raft state machine of one vendor's seat table: it applies
// committed batches of commands to a state.State. Its snapshot is a dump
// of that state (see Snapshot).
type FSM struct {
	cfg   FSMConfig
	state atomic.Pointer[state.State]
	index atomic.Uint64

	mu sync.Mutex
	// files are the hashes of the license and options texts of the last
	// Reread and SetPolicy applied: what the state's pools and policy
	// are built from. Guarded by mu.
	files files
	// broken is why the FSM stopped applying; held is then the snapshot
	// payload of the state it stopped at and tail the entries it got
	// since, from the one it could not apply. Guarded by mu.
	broken error
	held   []byte
	tail   []entry
	// heldMark is the report log position at the state held.
	heldMark mark
}

// files names what a state's pools and policy are built from: the
// license files the member started with and no policy, until a Reread
// or SetPolicy names a text by its hash.
type files struct {
	pools, policy       Hash
	hasPools, hasPolicy bool
}

// entry is one log entry kept for a snapshot.
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

// Apply applies one committed log entry: a batch of commands, in order,
// all or none. Every member decodes the same bytes, so a corrupt entry
// is refused the same way everywhere and changes nothing.
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
	if f.broken != nil {
		f.tail = append(f.tail, entry{l.Index, l.Data})
		return applyResponse{err: f.broken}
	}
	var resolved []state.Command
	if err == nil {
		resolved, err = f.resolveAll(cmds)
	}
	if err != nil {
		// A newer codec wrote it, or this member lacks a file it
		// names: it can no longer follow. It keeps the entries from
		// this one, so that its snapshot, restored where the files
		// are, gives the whole state.
		f.breakLocked(err, entry{l.Index, l.Data})
		return applyResponse{err: err}
	}
	return applyResponse{results: f.applyLocked(f.state.Load(), &f.files, l.Index, l.AppendedAt, cmds, resolved, false)}
}

// breakLocked stops the FSM at its current state, keeping e.
func (f *FSM) breakLocked(err error, e entry) {
	f.broken = err
	f.held = f.payload(f.state.Load(), f.files)
	f.heldMark = f.markLocked()
	f.tail = []entry{e}
}

// resolveAll resolves every command of a batch before any is applied,
// so that a batch this member cannot apply changes nothing.
func (f *FSM) resolveAll(cmds []Command) ([]state.Command, error) {
	out := make([]state.Command, len(cmds))
	for i, c := range cmds {
		sc, err := f.resolve(c)
		if err != nil {
			return nil, err
		}
		out[i] = sc
	}
	return out, nil
}

// applyLocked applies a resolved batch to st, noting in fs the texts of
// its rereads and options.
func (f *FSM) applyLocked(st *state.State, fs *files, index uint64, appended time.Time, cmds []Command, resolved []state.Command, replay bool) []state.Result {
	results := make([]state.Result, 0, len(cmds))
	for i, c := range cmds {
		switch c := c.(type) {
		case Reread:
			fs.pools, fs.hasPools = c.Hash, true
		case SetPolicy:
			fs.policy, fs.hasPolicy = c.Hash, true
		}
		var r state.Result
		if resolved[i] != nil { // a RotateLog changes no seat
			r = st.Apply(resolved[i])
		}
		if f.cfg.OnCommit != nil {
			at := stampOf(c)
			if at.IsZero() {
				at = appended
			}
			f.cfg.OnCommit(Commit{Index: index, Cmd: c, Result: r, Replay: replay, Time: at, State: st})
		}
		results = append(results, r)
	}
	return results
}

// resolve turns a replicated command into the state.Command to apply.
func (f *FSM) resolve(c Command) (state.Command, error) {
	switch c := c.(type) {
	case Reread:
		pools, err := f.pools(c.Hash)
		if err != nil {
			return nil, err
		}
		return state.Reread{Pools: pools}, nil
	case SetPolicy:
		p, err := f.policy(c.Hash)
		if err != nil {
			return nil, err
		}
		return state.SetPolicy{Policy: p}, nil
	case TimedOut:
		return state.Disconnect{Session: c.Session, Now: c.Now}, nil
	case RotateLog:
		return nil, nil
	case state.Command:
		return c, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrNotReplicated, c)
}

func (f *FSM) pools(h Hash) ([]*state.Pool, error) {
	if f.cfg.PoolsByHash == nil {
		return nil, fmt.Errorf("triad: reread %s: no license files", h)
	}
	pools, err := f.cfg.PoolsByHash(h)
	if err != nil {
		return nil, fmt.Errorf("triad: reread %s: %w", h, err)
	}
	return pools, nil
}

func (f *FSM) policy(h Hash) (state.Policy, error) {
	if f.cfg.PolicyByHash == nil {
		return nil, fmt.Errorf("triad: options %s: no options file", h)
	}
	p, err := f.cfg.PolicyByHash(h)
	if err != nil {
		return nil, fmt.Errorf("triad: options %s: %w", h, err)
	}
	return p, nil
}

// Snapshot captures the seat table: the hashes of the license and
// options texts its pools and policy were built from, and the state's
// dump (state.State.Snapshot), which holds everything else Apply depends
// on. Its size is that of the seat table, whatever the length of the
// log. A member that stopped applying (Err) snapshots the table it
// stopped at and every entry since, so that restored where the files
// are, its snapshot gives the whole state.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken != nil {
		return &snapshot{index: f.index.Load(), mark: f.heldMark, payload: f.held, tail: f.tail[:len(f.tail):len(f.tail)]}, nil
	}
	return &snapshot{index: f.index.Load(), mark: f.markLocked(), payload: f.payload(f.state.Load(), f.files)}, nil
}

// payload is the table part of a snapshot: which texts, then the dump.
func (f *FSM) payload(st *state.State, fs files) []byte {
	var b bytes.Buffer
	var flags byte
	if fs.hasPools {
		flags |= 1
	}
	if fs.hasPolicy {
		flags |= 2
	}
	b.WriteByte(flags)
	b.Write(fs.pools[:])
	b.Write(fs.policy[:])
	if err := st.Snapshot(&b); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// Snapshot format version, the first byte of a snapshot. Version 1 was
// the whole command log; version 2 had no report log position.
const snapshotVersion = 3

type snapshot struct {
	index   uint64
	mark    mark
	payload []byte
	tail    []entry
}

// Persist writes the snapshot: the version, the applied index, the
// report log position (the next sequence number, the last hash's length
// and bytes), the table's length and bytes, then the number of kept entries and each
// entry's log index, length and bytes.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	var buf []byte
	buf = append(buf, snapshotVersion)
	buf = binary.AppendUvarint(buf, s.index)
	buf = binary.AppendUvarint(buf, s.mark.next)
	buf = append(buf, byte(len(s.mark.last)))
	buf = append(buf, s.mark.last...)
	buf = binary.AppendUvarint(buf, uint64(len(s.payload)))
	buf = append(buf, s.payload...)
	buf = binary.AppendUvarint(buf, uint64(len(s.tail)))
	if _, err := w.Write(buf); err != nil {
		sink.Cancel()
		return err
	}
	for _, e := range s.tail {
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

// Release is a no-op: the snapshot's bytes are its own or immutable.
func (s *snapshot) Release() {}

// ErrSnapshot is a snapshot that does not decode.
var ErrSnapshot = errors.New("triad: corrupt snapshot")

// Restore replaces the state with the snapshot's: a new state from
// NewState with the snapshot's license and options texts, its dump
// restored, then any entries the snapshot kept applied. A member that
// lacks a text the snapshot names stops applying (Err), as it would have
// at the Reread, and keeps the snapshot for its own.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	r := bufio.NewReader(rc)
	v, err := r.ReadByte()
	if err != nil || v != snapshotVersion && v != 2 {
		return ErrSnapshot
	}
	index, err := binary.ReadUvarint(r)
	if err != nil {
		return ErrSnapshot
	}
	var mk mark
	if v >= 3 {
		if mk.next, err = binary.ReadUvarint(r); err != nil {
			return ErrSnapshot
		}
		n, err := r.ReadByte()
		if err != nil || n > maxMarkHash {
			return ErrSnapshot
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return ErrSnapshot
		}
		mk.last = string(b)
	}
	size, err := binary.ReadUvarint(r)
	if err != nil || size > uint64(state.MaxDumpBytes+1+2*len(Hash{})) || size < uint64(1+2*len(Hash{})) {
		return ErrSnapshot
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return ErrSnapshot
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return ErrSnapshot
	}
	var tail []entry
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
		tail = append(tail, entry{idx, data})
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return ErrSnapshot
	}

	flags := payload[0]
	if flags&^3 != 0 {
		return ErrSnapshot
	}
	fs := files{hasPools: flags&1 != 0, hasPolicy: flags&2 != 0}
	copy(fs.pools[:], payload[1:])
	copy(fs.policy[:], payload[1+len(Hash{}):])
	dump := payload[1+2*len(Hash{}):]

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.OnRestore != nil {
		f.cfg.OnRestore(index, mk.next, mk.last)
	}
	st := f.cfg.NewState()
	var broken error
	if fs.hasPools {
		pools, err := f.pools(fs.pools)
		if err != nil {
			broken = err
		} else {
			st.Apply(state.Reread{Pools: pools})
		}
	}
	if fs.hasPolicy && broken == nil {
		p, err := f.policy(fs.policy)
		if err != nil {
			broken = err
		} else {
			st.Apply(state.SetPolicy{Policy: p})
		}
	}
	if broken != nil {
		// The table cannot be built here: keep it, and the entries,
		// for a member that can.
		f.state.Store(f.cfg.NewState())
		f.files, f.broken, f.held, f.tail, f.heldMark = files{}, broken, payload, tail, mk
		f.index.Store(index)
		return nil
	}
	if err := st.Restore(bytes.NewReader(dump)); err != nil {
		return ErrSnapshot
	}
	f.broken, f.held, f.tail = nil, nil, nil
	for i, e := range tail {
		cmds, err := Decode(e.data)
		if errors.Is(err, ErrCorrupt) {
			continue // refused when it was first applied too
		}
		var resolved []state.Command
		if err == nil {
			resolved, err = f.resolveAll(cmds)
		}
		if err != nil {
			f.broken = err
			f.held = f.payload(st, fs)
			f.heldMark = f.markLocked()
			f.tail = tail[i:]
			break
		}
		f.applyLocked(st, &fs, e.index, time.Time{}, cmds, resolved, true)
	}
	f.state.Store(st)
	f.files = fs
	f.index.Store(index)
	return nil
}

// maxEntryBytes bounds one batch kept in a snapshot; Member never
// proposes more than this in one entry.
const maxEntryBytes = 64 << 20
