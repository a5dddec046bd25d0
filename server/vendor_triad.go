package server

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/state"
)

// Replica is a vendor daemon's member of a triad (three SERVER lines), as
// the vendor daemon sees it: package triad implements it over Raft. Every
// command that changes the seat table goes through Propose and is
// answered once a quorum committed it; the seat table is the replica's.
type Replica interface {
	// Propose commits cmds and returns their results in order, or a
	// FlexLM error (-96) when this member is not the master or no
	// quorum committed them.
	Propose(ctx context.Context, cmds []state.Command) ([]state.Result, error)
	// Tick is the master's periodic command: lingers, TIMEOUTs, the
	// queue, and the release of sessions silent for longer than grace.
	Tick(ctx context.Context, grace time.Duration) ([]state.Result, error)
	// Heartbeat records, on this member only, that session is alive;
	// Touch does the same for sessions whose connection is open.
	Heartbeat(session uint64)
	Touch(sessions []uint64)
	// SessionID is a session number no earlier master has given.
	SessionID() uint64
	// IsLeader reports whether this member is the master now.
	IsLeader() bool
	// State is the replicated seat table.
	State() *state.State
	// Shutdown stops the member.
	Shutdown() error
}

// ReplicaHooks is what a vendor daemon gives the Replica it starts.
type ReplicaHooks struct {
	// NewState builds the seat table before any command, from this
	// member's own license and options files.
	NewState func() *state.State
	// OnCommit is called for every committed command, in log order, on
	// every member: the report log is written from it.
	OnCommit func(index uint64, cmd state.Command, r state.Result)
	// OnMaster is called with the master's member name ("port@host")
	// whenever it changes, "" while there is none.
	OnMaster func(master string)
}

// TriadConfig makes a vendor daemon a member of a triad.
type TriadConfig struct {
	// Start starts the member (package triad's Raft group).
	Start func(ReplicaHooks) (Replica, error)
	// RunID is the run the triad's handles belong to: the same on the
	// three members and across their restarts, so that a client of a
	// master that died keeps its handles on the next one.
	RunID uint64
	// Grace is how long a new master waits for the sessions of the old
	// one to reattach before their seats go back (0: DefaultTriadGrace).
	Grace time.Duration
	// CommitTimeout bounds the wait for a quorum (0: 5s).
	CommitTimeout time.Duration
}

// DefaultTriadGrace is how long a new master of a triad keeps the seats of
// a session that has not reattached: three default heartbeat intervals.
const DefaultTriadGrace = 90 * time.Second

// triadVendor is a vendor daemon's triad part.
type triadVendor struct {
	cfg    TriadConfig
	repl   Replica
	mu     sync.Mutex
	live   map[uint64]struct{} // sessions with an open connection to this member
	master string              // the master last heard of
	ctrl   *protocol.Conn      // lmgrd's control channel, once Ready was sent
	leader bool                // this member was the master at the last tick
}

// startTriad starts the vendor daemon's member of the triad; its seat
// table becomes the vendor daemon's.
func (v *Vendor) startTriad(tc *TriadConfig) error {
	if tc.Grace <= 0 {
		tc.Grace = DefaultTriadGrace
	}
	if tc.CommitTimeout <= 0 {
		tc.CommitTimeout = 5 * time.Second
	}
	t := &triadVendor{cfg: *tc, live: map[uint64]struct{}{}}
	quiet := &Vendor{cfg: v.cfg, log: NewDebugLog(io.Discard, v.cfg.Name, v.cfg.Now)}
	quiet.cfg.Log = quiet.log
	repl, err := tc.Start(ReplicaHooks{
		NewState: func() *state.State {
			// Every member builds the same table from its own copy of
			// the files, and applies the same commands to it.
			pools, policy, _, _, _, _, err := quiet.load()
			if err != nil {
				pools, policy = nil, state.NoPolicy{}
			}
			st := state.NewState(pools)
			st.Apply(state.SetPolicy{Policy: policy})
			return st
		},
		OnCommit: v.onCommit,
		OnMaster: t.onMaster,
	})
	if err != nil {
		return err
	}
	t.repl = repl
	v.triad = t
	v.state = repl.State()
	v.runID = tc.RunID
	return nil
}

// onMaster tells lmgrd which member is the master, for lmstat.
func (t *triadVendor) onMaster(master string) {
	t.mu.Lock()
	t.master = master
	ctrl := t.ctrl
	t.mu.Unlock()
	if ctrl != nil {
		_ = ctrl.Send(&protocol.TriadMaster{Master: master})
	}
}

// triadReady is called once the vendor daemon told lmgrd it is ready:
// from then on lmgrd hears of each change of master.
func (v *Vendor) triadReady(ctrl *protocol.Conn) {
	t := v.triad
	if t == nil {
		return
	}
	t.mu.Lock()
	t.ctrl = ctrl
	master := t.master
	t.mu.Unlock()
	if master != "" {
		_ = ctrl.Send(&protocol.TriadMaster{Master: master})
	}
}

// onCommit writes the report log records of a committed command, on every
// member.
func (v *Vendor) onCommit(index uint64, cmd state.Command, r state.Result) {
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.w == nil && rs.broken == nil {
		return
	}
	switch cmd.(type) {
	case state.Heartbeat, state.SetIdle:
		return
	}
	v.record(cmd, &r)
}

// applyTriad is apply for a member of a triad: the command is committed
// by a quorum before its result is used.
func (v *Vendor) applyTriad(cmd state.Command) state.Result {
	t := v.triad
	switch c := cmd.(type) {
	case state.Heartbeat:
		t.repl.Heartbeat(c.Session)
		return state.Result{}
	case state.Disconnect:
		t.mu.Lock()
		delete(t.live, c.Session)
		t.mu.Unlock()
		if v.report.stopping.Load() {
			// A member that stops keeps its sessions' seats: their
			// clients reattach to the next master.
			return state.Result{}
		}
	case state.Reread, state.SetPolicy:
		return state.Result{Err: lmerr.New(lmerr.NotSupported, lmerr.MinorTriadBroken, "lmreread of a three-server triad is not supported yet")}
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.CommitTimeout)
	defer cancel()
	rs, err := t.repl.Propose(ctx, []state.Command{cmd})
	if err != nil {
		return state.Result{Err: asFlexErr(err)}
	}
	if len(rs) != 1 {
		return state.Result{Err: lmerr.New(lmerr.ServerDown, lmerr.MinorTriadBroken)}
	}
	return rs[0]
}

func asFlexErr(err error) *lmerr.Error {
	var e *lmerr.Error
	if errors.As(err, &e) {
		return e
	}
	return lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum)
}

// newSessionID numbers a new client session.
func (v *Vendor) newSessionID() uint64 {
	if v.triad == nil {
		return v.nextSession.Add(1)
	}
	id := v.triad.repl.SessionID()
	v.triad.mu.Lock()
	v.triad.live[id] = struct{}{}
	v.triad.mu.Unlock()
	return id
}

// tickTriad is the tick of a member: only the master proposes one.
func (v *Vendor) tickTriad() {
	t := v.triad
	leader := t.repl.IsLeader()
	t.mu.Lock()
	was := t.leader
	t.leader = leader
	t.mu.Unlock()
	if was && !leader {
		// A master that lost its role while it runs (a partition, a
		// leadership transfer) sends its clients away, so that they
		// reattach to the new master within its grace period.
		v.closeClients()
	}
	if !leader {
		return
	}
	t.mu.Lock()
	ids := make([]uint64, 0, len(t.live))
	for id := range t.live {
		ids = append(ids, id)
	}
	t.mu.Unlock()
	t.repl.Touch(ids)
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.CommitTimeout)
	defer cancel()
	rs, err := t.repl.Tick(ctx, t.cfg.Grace)
	if err != nil {
		return
	}
	for _, r := range rs {
		v.logResult(r)
	}
}

// closeClients closes every client connection.
func (v *Vendor) closeClients() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for c := range v.conns {
		c.Close()
	}
}

// stopTriad stops the member, after the vendor daemon's connections.
func (v *Vendor) stopTriad() {
	if v.triad != nil {
		v.triad.repl.Shutdown()
	}
}

// errTriadReread is the refusal of an lmreread by a member of a triad.
var errTriadReread = errors.New("lmreread of a three-server triad is not supported yet; restart the members one at a time")

// rereadTriad refuses a reread: the members would have to build the same
// pools from their own copies, by the hash the log carries, which the
// vendor daemon does not do yet.
func (v *Vendor) rereadTriad() error {
	v.log.Printf("state.Reread of license file refused: %v", errTriadReread)
	return errTriadReread
}
