package triad

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/state"
)

// Minor numbers of the errors a member answers with while it cannot
// grant. The code is -96 ("License server machine is down or not
// responding") for the first two, as a FlexLM triad without a quorum
// serves no licenses; -97 for a member that is shutting down.
// The minors of the triad's errors are lmerr's (protocol/lmerr/minors.go).
const (
	MinorNoQuorum  = lmerr.MinorTriadNoQuorum
	MinorNotMaster = lmerr.MinorTriadNotMaster
	MinorShutdown  = lmerr.MinorTriadShutdown
	MinorBroken    = lmerr.MinorTriadBroken
)

func errNoQuorum(detail ...string) error {
	return lmerr.New(lmerr.ServerDown, MinorNoQuorum, detail...)
}
func errNotMaster(leader string) error {
	if leader == "" {
		return errNoQuorum()
	}
	return lmerr.New(lmerr.ServerDown, MinorNotMaster, "Master: "+leader)
}
func errShutdown() error { return lmerr.New(lmerr.VendorDown, MinorShutdown) }

// Peer is one member of the group, from one SERVER line.
type Peer struct {
	ID   string // the SERVER line's host name
	Addr string // host:port of the member's Raft transport
}

// Config configures a Member.
type Config struct {
	// ID is this member's Peer.ID; it must be one of Peers.
	ID string
	// BindAddr is where the TCP transport listens when Transport is nil;
	// it must be the Addr of this member's Peer.
	BindAddr string
	// Peers are the three members, fixed by the SERVER lines.
	Peers [3]Peer
	// DataDir holds the Raft log and stable store (raft.db) and the
	// snapshots. Empty keeps them in memory, which tests of faults use:
	// such a member forgets everything when it stops.
	DataDir string
	// Transport, when set, is used instead of a TCP transport on
	// BindAddr. The member closes it on Shutdown.
	Transport raft.Transport
	// ReportLines, when set, serves the other members' fetches of
	// report log records on the TCP transport's port (see fetch.go).
	ReportLines ReportLines
	// Logf receives the member's lines for the debug log (a refused
	// fetch); nil drops them.
	Logf func(format string, args ...any)

	FSMConfig

	// Raft, when set, is the Raft configuration to start from (its
	// timeouts; tests make them short); LocalID and logging are set by
	// New. Nil: raft.DefaultConfig().
	Raft *raft.Config
	// Log receives Raft's warnings and errors; nil discards them.
	Log io.Writer
	// Now stamps every proposed command (nil: time.Now).
	Now func() time.Time
	// BatchMax is the most commands one log entry carries (0: 512);
	// BatchWait how long a batch waits for more commands after the
	// first when it is not full (0: no wait; concurrent proposals are
	// still batched while earlier entries are being committed).
	BatchMax  int
	BatchWait time.Duration
	// ApplyTimeout bounds how long a batch may wait to be handed to
	// Raft (0: 5s).
	ApplyTimeout time.Duration
}

// Member is one member of a vendor's three-member Raft group.
type Member struct {
	cfg   Config
	fsm   *FSM
	raft  *raft.Raft
	trans raft.Transport
	store io.Closer // the bolt store, nil in memory

	live     *liveness
	sessions atomic.Uint64 // the counter of SessionID

	reqs     chan *proposal
	inflight chan struct{} // a token per batch being committed
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	stopErr  error
}

// proposal is one Propose call waiting for its batch.
type proposal struct {
	cmds []Command
	done chan proposed
}

type proposed struct {
	results []state.Result
	err     error
}

// maxInflight is how many batches may be in Raft at once: enough to keep
// the disk and network busy, few enough that proposals arriving
// meanwhile gather into the next batch.
const maxInflight = 4

// New starts a member: it opens (or creates) the stores in DataDir,
// bootstraps the fixed three-member configuration on first start, and
// joins the group. It returns once Raft runs; a master is elected in the
// background (see Leader).
func New(cfg Config) (*Member, error) {
	if cfg.NewState == nil {
		return nil, errors.New("triad: no NewState")
	}
	var self *Peer
	for i := range cfg.Peers {
		if cfg.Peers[i].ID == "" || cfg.Peers[i].Addr == "" {
			return nil, fmt.Errorf("triad: peer %d has no id or address", i+1)
		}
		for j := range i {
			if cfg.Peers[j].ID == cfg.Peers[i].ID {
				return nil, fmt.Errorf("triad: peer %q listed twice", cfg.Peers[i].ID)
			}
		}
		if cfg.Peers[i].ID == cfg.ID {
			self = &cfg.Peers[i]
		}
	}
	if self == nil {
		return nil, fmt.Errorf("triad: %q is not one of the peers", cfg.ID)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = 512
	}
	if cfg.ApplyTimeout <= 0 {
		cfg.ApplyTimeout = 5 * time.Second
	}
	logOut := cfg.Log
	if logOut == nil {
		logOut = io.Discard
	}
	rc := raft.DefaultConfig()
	if cfg.Raft != nil {
		c := *cfg.Raft
		rc = &c
	}
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.LogOutput = logOut
	rc.LogLevel = "WARN"
	rc.Logger = nil

	m := &Member{
		cfg:      cfg,
		live:     newLiveness(),
		reqs:     make(chan *proposal, 1024),
		inflight: make(chan struct{}, maxInflight),
		stop:     make(chan struct{}),
	}
	m.fsm = NewFSM(cfg.FSMConfig)
	var (
		logs   raft.LogStore
		stable raft.StableStore
		snaps  raft.SnapshotStore
	)
	if cfg.DataDir == "" {
		mem := raft.NewInmemStore()
		logs, stable, snaps = mem, mem, raft.NewInmemSnapshotStore()
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("triad: %w", err)
		}
		bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.DataDir, "raft.db")})
		if err != nil {
			return nil, fmt.Errorf("triad: raft log: %w", err)
		}
		m.store = bolt
		logs, stable = bolt, bolt
		fs, err := raft.NewFileSnapshotStore(cfg.DataDir, 2, logOut)
		if err != nil {
			bolt.Close()
			return nil, fmt.Errorf("triad: snapshots: %w", err)
		}
		snaps = fs
	}
	m.trans = cfg.Transport
	if m.trans == nil {
		// Raft's connections and the report log fetches share the
		// port (fetch.go).
		hosts := newPeerHosts(cfg.Peers)
		logf := cfg.Logf
		if logf == nil {
			logf = func(string, ...any) {}
		}
		stream, err := newStreamLayer(cfg.BindAddr, func(c net.Conn) { serveFetch(c, hosts, cfg.ReportLines, logf) })
		if err != nil {
			m.closeStores()
			return nil, fmt.Errorf("triad: %w", err)
		}
		m.trans = raft.NewNetworkTransport(stream, 3, 10*time.Second, logOut)
	}
	has, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		m.closeStores()
		return nil, fmt.Errorf("triad: %w", err)
	}
	if !has {
		// Every member bootstraps the same configuration, which Raft
		// allows: membership is fixed by the SERVER lines, not joined.
		var conf raft.Configuration
		for _, p := range cfg.Peers {
			conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr)})
		}
		if err := raft.BootstrapCluster(rc, logs, stable, snaps, m.trans, conf); err != nil {
			m.closeStores()
			return nil, fmt.Errorf("triad: bootstrap: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, m.fsm, logs, stable, snaps, m.trans)
	if err != nil {
		m.closeStores()
		return nil, fmt.Errorf("triad: %w", err)
	}
	m.raft = r
	m.wg.Add(1)
	go m.batcher()
	return m, nil
}

func (m *Member) closeStores() {
	if c, ok := m.trans.(io.Closer); ok {
		c.Close()
	}
	if m.store != nil {
		m.store.Close()
	}
}

// SessionID returns a session number for a new client connection to
// this master that no session of an earlier master can have: the seat
// table outlives a master, and the seats of an old master's sessions must
// not be taken for those of a new connection. It is the Raft term in the
// high 24 bits and a counter in the low 40.
func (m *Member) SessionID() uint64 {
	return m.raft.CurrentTerm()<<40 | m.sessions.Add(1)&(1<<40-1)
}

// ID is the member's ID.
func (m *Member) ID() string { return m.cfg.ID }

// State is the member's seat table (see FSM.State).
func (m *Member) State() *state.State { return m.fsm.State() }

// FSM is the member's state machine.
func (m *Member) FSM() *FSM { return m.fsm }

// Raft is the member's Raft node, for status and tests.
func (m *Member) Raft() *raft.Raft { return m.raft }

// IsLeader reports whether this member is the master now. It may be
// stale by up to the leader lease; Propose never is (a grant is only
// answered once committed by a quorum).
func (m *Member) IsLeader() bool { return m.raft.State() == raft.Leader }

// Standby is nil when this member is the master; else the -96 a client
// is answered: naming the master, or saying that no master has a quorum.
func (m *Member) Standby() error {
	if m.IsLeader() {
		return nil
	}
	id, _ := m.Leader()
	return errNotMaster(id)
}

// Leader is the master's ID and Raft address, "" while there is none.
func (m *Member) Leader() (id, addr string) {
	a, i := m.raft.LeaderWithID()
	return string(i), string(a)
}

// VerifyLeader confirms with a quorum that this member is still the
// master, for answers that read the seat table without changing it
// (lmstat): a master cut off from the others fails it, and steps down
// within the leader lease.
func (m *Member) VerifyLeader(ctx context.Context) error {
	f := m.raft.VerifyLeader()
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return m.mapErr(err)
	case <-ctx.Done():
		return errNoQuorum("Master not confirmed")
	}
}

// Propose stamps the commands with the member's clock, has them
// committed by a quorum in one batch with whatever else is being
// proposed, and returns their results in order. It fails with a -96
// FlexLM error, and nothing is granted, when this member is not the
// master or no quorum commits in time. When ctx ends first the outcome is
// unknown: the commands may still be committed.
func (m *Member) Propose(ctx context.Context, cmds []Command) ([]state.Result, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	for _, c := range cmds {
		if err := checkCommand(c); err != nil {
			return nil, err
		}
		// A master proposes only a reread or options change it can
		// apply itself; a member that cannot stops (see FSM.Err).
		if _, ok := c.(Reread); ok {
			if _, err := m.fsm.resolve(c); err != nil {
				return nil, err
			}
		}
		if _, ok := c.(SetPolicy); ok {
			if _, err := m.fsm.resolve(c); err != nil {
				return nil, err
			}
		}
	}
	if err := m.Standby(); err != nil {
		return nil, err
	}
	if err := m.fsm.Err(); err != nil {
		// A master that cannot apply what it commits would refuse
		// every command: hand the group to a member that can.
		m.raft.LeadershipTransfer()
		return nil, lmerr.New(lmerr.ServerDown, MinorBroken, err.Error())
	}
	p := &proposal{cmds: cmds, done: make(chan proposed, 1)}
	select {
	case m.reqs <- p:
	case <-m.stop:
		return nil, errShutdown()
	case <-ctx.Done():
		return nil, errNoQuorum("Commit not confirmed")
	}
	select {
	case r := <-p.done:
		if r.err == nil {
			m.forgetDisconnected(cmds)
		}
		return r.results, r.err
	case <-m.stop:
		return nil, errShutdown()
	case <-ctx.Done():
		return nil, errNoQuorum("Commit not confirmed")
	}
}

// forgetDisconnected drops from the liveness record the sessions whose
// Disconnect was just committed: their seats are back, and the next Tick
// neither carries a heartbeat for them nor times them out.
func (m *Member) forgetDisconnected(cmds []Command) {
	for _, c := range cmds {
		if d, ok := c.(state.Disconnect); ok {
			m.Forget(d.Session)
		}
	}
}

// checkCommand refuses, before it is queued, a command the codec would
// refuse, so that one bad command cannot fail a whole batch.
func checkCommand(c Command) error {
	if _, err := encodeOne(nil, c); err != nil {
		return err
	}
	return nil
}

// batcher gathers proposals into batches: it takes the first waiting
// proposal, then every other one already waiting (up to BatchMax
// commands, waiting up to BatchWait for more), stamps and encodes them
// and hands them to Raft. While maxInflight batches are being committed
// it waits, and proposals pile up for the next batch.
func (m *Member) batcher() {
	defer m.wg.Done()
	var timer *time.Timer
	for {
		var batch []*proposal
		n := 0
		select {
		case p := <-m.reqs:
			batch, n = append(batch, p), len(p.cmds)
		case <-m.stop:
			return
		}
		if m.cfg.BatchWait > 0 && n < m.cfg.BatchMax {
			if timer == nil {
				timer = time.NewTimer(m.cfg.BatchWait)
			} else {
				timer.Reset(m.cfg.BatchWait)
			}
		wait:
			for n < m.cfg.BatchMax {
				select {
				case p := <-m.reqs:
					batch, n = append(batch, p), n+len(p.cmds)
				case <-timer.C:
					break wait
				case <-m.stop:
					fail(batch, errShutdown())
					return
				}
			}
			timer.Stop()
		}
		select {
		case m.inflight <- struct{}{}:
		case <-m.stop:
			fail(batch, errShutdown())
			return
		}
	drain:
		for n < m.cfg.BatchMax {
			select {
			case p := <-m.reqs:
				batch, n = append(batch, p), n+len(p.cmds)
			default:
				break drain
			}
		}
		m.commit(batch, n)
	}
}

func fail(batch []*proposal, err error) {
	for _, p := range batch {
		p.done <- proposed{err: err}
	}
}

// commit stamps, encodes and applies one batch; a goroutine waits for
// the commit and answers the proposals, so the next batch can start.
func (m *Member) commit(batch []*proposal, n int) {
	cmds := make([]Command, 0, n)
	for _, p := range batch {
		now := m.cfg.Now()
		for _, c := range p.cmds {
			cmds = append(cmds, stamp(c, now))
		}
	}
	data, err := Encode(make([]byte, 0, 64*n), cmds)
	if err == nil && len(data) > maxEntryBytes {
		err = fmt.Errorf("%w: a %d-byte batch", ErrTooLarge, len(data))
	}
	if err != nil {
		<-m.inflight
		fail(batch, err)
		return
	}
	f := m.raft.Apply(data, m.cfg.ApplyTimeout)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer func() { <-m.inflight }()
		if err := f.Error(); err != nil {
			fail(batch, m.mapErr(err))
			return
		}
		resp, _ := f.Response().(applyResponse)
		if resp.err != nil {
			fail(batch, lmerr.New(lmerr.ServerDown, MinorBroken, resp.err.Error()))
			return
		}
		if len(resp.results) != len(cmds) {
			fail(batch, lmerr.New(lmerr.ServerDown, MinorBroken))
			return
		}
		i := 0
		for _, p := range batch {
			p.done <- proposed{results: resp.results[i : i+len(p.cmds) : i+len(p.cmds)]}
			i += len(p.cmds)
		}
	}()
}

// stamp sets a command's clock to now: the master's clock is the one
// every member applies, and stamping in log order keeps the times the
// log carries in order.
func stamp(c Command, now time.Time) Command {
	now = now.Round(0)
	switch c := c.(type) {
	case state.Checkout:
		c.Now = now
		return c
	case state.Checkin:
		c.Now = now
		return c
	case state.Heartbeat:
		c.Now = now
		return c
	case state.SetIdle:
		c.Now = now
		return c
	case state.Disconnect:
		c.Now = now
		return c
	case state.Tick:
		c.Now = now
		return c
	case TimedOut:
		c.Now = now
		return c
	case RotateLog:
		c.Now = now
		return c
	case state.Remove:
		c.Now = now
		return c
	case state.RemoveHandle:
		c.Now = now
		return c
	}
	return c
}

// stampOf is the time stamp set on c, zero for a command without one.
func stampOf(c Command) time.Time {
	switch c := c.(type) {
	case state.Checkout:
		return c.Now
	case state.Checkin:
		return c.Now
	case state.Heartbeat:
		return c.Now
	case state.SetIdle:
		return c.Now
	case state.Disconnect:
		return c.Now
	case state.Tick:
		return c.Now
	case TimedOut:
		return c.Now
	case RotateLog:
		return c.Now
	case state.Remove:
		return c.Now
	case state.RemoveHandle:
		return c.Now
	}
	return time.Time{}
}

// mapErr turns Raft's errors into the FlexLM errors a client is told.
func (m *Member) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrRaftShutdown):
		return errShutdown()
	case errors.Is(err, raft.ErrNotLeader):
		id, _ := m.Leader()
		return errNotMaster(id)
	default:
		// ErrLeadershipLost, ErrEnqueueTimeout, a failed VerifyLeader:
		// no quorum confirmed the master.
		return errNoQuorum()
	}
}

// Shutdown stops the member: proposals waiting fail with -97, Raft
// stops, and the transport and stores are closed. It is safe to call
// more than once.
func (m *Member) Shutdown() error {
	m.once.Do(func() {
		close(m.stop)
		m.stopErr = m.raft.Shutdown().Error()
		m.wg.Wait()
		// Proposals queued but never batched.
		for {
			select {
			case p := <-m.reqs:
				p.done <- proposed{err: errShutdown()}
				continue
			default:
			}
			break
		}
		m.closeStores()
	})
	return m.stopErr
}
