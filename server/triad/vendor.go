package triad

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"golm/lmutil/server"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/state"
)

// VendorReplica is a Member as a vendor daemon uses it (server.Replica):
// the vendor daemon proposes its commands through it, and writes its
// report log from the commands it hands back as they commit.
type VendorReplica struct {
	*Member
	logf     func(format string, args ...any)
	onMaster func(string)
	onRotate func(at time.Time, path string, newLog bool)

	// The report log follows the stream of committed records: it is
	// told where the stream starts (record 1 at index 0, a snapshot's
	// position after a Restore) and skips the records it holds
	// (server.ReplicaHooks.ReportRestore), so that a member that
	// applies its log again writes nothing twice. reported is the log
	// position of the last command handed to the report log, kept in
	// DataDir/reported: only after a snapshot that carries no position
	// (version 2), or for a report log that is not told the stream's
	// position (legacy), are the commands up to it not handed again.
	mu       sync.Mutex
	file     *os.File
	done     position // what the file says was reported before this start
	cur      position
	legacy   bool
	member   atomic.Pointer[Member] // for fetches, once started
	peers    [3]Peer
	id       string
	observer *raft.Observer
	obsStop  chan struct{}
	obsDone  chan struct{}

	stopOnce sync.Once
	stopErr  error
}

// position is a command's place in the log: the batch's index and the
// command's number in it, from 1.
type position struct{ index, n uint64 }

func (p position) after(q position) bool {
	return p.index > q.index || p.index == q.index && p.n > q.n
}

// StartVendor returns the function a vendor daemon starts its member with
// (server.TriadConfig.Start): cfg without its FSMConfig, which the vendor
// daemon's hooks fill in. logf receives the quorum messages of the
// debug log.
func StartVendor(cfg Config, logf func(format string, args ...any)) func(server.ReplicaHooks) (server.Replica, error) {
	return func(h server.ReplicaHooks) (server.Replica, error) {
		vr := &VendorReplica{peers: cfg.Peers, id: cfg.ID, legacy: h.ReportRestore == nil, logf: logf, onMaster: h.OnMaster, onRotate: h.OnRotate, obsStop: make(chan struct{}), obsDone: make(chan struct{})}
		if cfg.DataDir != "" {
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, err
			}
			f, err := os.OpenFile(filepath.Join(cfg.DataDir, "reported"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				return nil, err
			}
			var b [16]byte
			if n, _ := f.ReadAt(b[:], 0); n == 16 {
				vr.done = position{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
			}
			vr.file = f
		}
		cfg.NewState = h.NewState
		if h.PoolsByHash != nil {
			cfg.PoolsByHash = func(x Hash) ([]*state.Pool, error) { return h.PoolsByHash(x) }
		}
		if h.PolicyByHash != nil {
			cfg.PolicyByHash = func(x Hash) (state.Policy, error) { return h.PolicyByHash(x) }
		}
		cfg.OnCommit = func(c Commit) { vr.commit(c, h.OnCommit) }
		cfg.ReportMark = h.ReportMark
		if h.ReportLines != nil {
			cfg.ReportLines = ReportLines(h.ReportLines)
		}
		if cfg.Logf == nil {
			cfg.Logf = logf
		}
		cfg.OnRestore = func(index, next uint64, last string) { vr.restore(next, last, h.ReportRestore) }
		if h.ReportRestore != nil {
			// A new state machine, at index 0: record 1 comes next.
			h.ReportRestore(1, reportlog.Genesis, nil)
		}
		m, err := New(cfg)
		if err != nil {
			if vr.file != nil {
				vr.file.Close()
			}
			return nil, err
		}
		vr.Member = m
		vr.member.Store(m)
		vr.watch()
		return vr, nil
	}
}

// commit hands a committed command to the vendor daemon's report log,
// once: not again while a restarted member applies its log anew.
func (vr *VendorReplica) commit(c Commit, hook func(uint64, time.Time, state.Command, state.Result)) {
	vr.mu.Lock()
	if c.Index != vr.cur.index {
		vr.cur = position{c.Index, 0}
	}
	vr.cur.n++
	p := vr.cur
	legacy := vr.legacy
	vr.mu.Unlock()
	if hook == nil || legacy && (c.Replay || !p.after(vr.done)) {
		return
	}
	var cmd state.Command
	switch x := c.Cmd.(type) {
	case TimedOut:
		// Its seats go back for the timeout, not for an exit.
		cmd = state.Tick{Now: x.Now} // a Tick's reason: timeout
	case Reread:
		cmd = state.Reread{}
	case SetPolicy:
		return
	case RotateLog:
		if vr.onRotate != nil {
			vr.onRotate(c.Time, x.Path, x.New)
		}
		vr.markReported(p)
		return
	case state.Command:
		cmd = x
	default:
		return
	}
	hook(c.Index, c.Time, cmd, c.Result)
	vr.markReported(p)
}

// restore tells the report log where the stream is after a snapshot
// was restored: its records before next are copied from another member
// when the report log lacks them.
func (vr *VendorReplica) restore(next uint64, last string, hook func(uint64, string, func(from, to uint64) ([]string, error))) {
	vr.mu.Lock()
	vr.legacy = next == 0 || hook == nil
	vr.mu.Unlock()
	if hook == nil {
		return
	}
	hook(next, last, func(from, to uint64) ([]string, error) {
		if m := vr.member.Load(); m != nil {
			return m.FetchReport(from, to)
		}
		// Restored while the member starts: no master known yet.
		return fetchFromPeers(vr.peers, vr.id, "", from, to)
	})
}

// markReported notes in DataDir/reported that the command at p was
// handed to the report log.
func (vr *VendorReplica) markReported(p position) {
	if vr.file != nil {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], p.index)
		binary.BigEndian.PutUint64(b[8:], p.n)
		_, _ = vr.file.WriteAt(b[:], 0)
	}
}

// RotateLog commits a switch of every member's report log to path
// (lmswitchr, or lmnewlog with newLog).
func (vr *VendorReplica) RotateLog(ctx context.Context, path string, newLog bool) error {
	_, err := vr.Member.Propose(ctx, []Command{RotateLog{Path: path, New: newLog}})
	return err
}

// Propose is Member.Propose for the vendor daemon's commands.
func (vr *VendorReplica) Propose(ctx context.Context, cmds []state.Command) ([]state.Result, error) {
	cs := make([]Command, len(cmds))
	for i, c := range cmds {
		cs[i] = c
	}
	return vr.Member.Propose(ctx, cs)
}

// Reread commits a reread of the license text with hash license and
// the options text with hash options, in one batch.
func (vr *VendorReplica) Reread(ctx context.Context, license, options [32]byte) ([]state.Result, error) {
	return vr.Member.Propose(ctx, []Command{Reread{Hash: license}, SetPolicy{Hash: options}})
}

// Term is the member's Raft term.
func (vr *VendorReplica) Term() uint64 { return vr.Member.raft.CurrentTerm() }

// HasMaster reports whether a master is known to this member.
func (vr *VendorReplica) HasMaster() bool {
	id, _ := vr.Member.Leader()
	return id != ""
}

// Tick is Member.Tick.
func (vr *VendorReplica) Tick(ctx context.Context, grace time.Duration) ([]state.Result, error) {
	return vr.Member.Tick(ctx, grace)
}

// Shutdown stops the member and closes its files. A vendor daemon may
// be shut down twice (a signal and the end of Serve): later calls only
// return the first one's error.
func (vr *VendorReplica) Shutdown() error {
	vr.stopOnce.Do(func() {
		vr.stopErr = vr.Member.Shutdown()
		close(vr.obsStop)
		<-vr.obsDone
		vr.Member.raft.DeregisterObserver(vr.observer)
		if vr.file != nil {
			vr.file.Close()
		}
	})
	return vr.stopErr
}

// watch writes the debug log's quorum messages, in the manual's words:
// "CONNECTED, master is host" when a master is known, "Lost quorum" when
// there is none, "Lost connection to host" when the master stops hearing
// from a member and "Connected to host" when it hears from it again.
func (vr *VendorReplica) watch() {
	ch := make(chan raft.Observation, 64)
	vr.observer = raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
			return true
		}
		return false
	})
	vr.Member.raft.RegisterObserver(vr.observer)
	logf := vr.logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	go func() {
		defer close(vr.obsDone)
		lost := map[raft.ServerID]bool{}
		for {
			select {
			case <-vr.obsStop:
				return
			case o := <-ch:
				switch d := o.Data.(type) {
				case raft.LeaderObservation:
					if d.LeaderID == "" {
						logf("Lost quorum")
					} else {
						logf("CONNECTED, master is %s", d.LeaderID)
					}
					if vr.onMaster != nil {
						vr.onMaster(string(d.LeaderID))
					}
				case raft.FailedHeartbeatObservation:
					if !lost[d.PeerID] {
						lost[d.PeerID] = true
						logf("Lost connection to %s", d.PeerID)
					}
				case raft.ResumedHeartbeatObservation:
					delete(lost, d.PeerID)
					logf("Connected to %s", d.PeerID)
				}
			}
		}
	}()
}

var _ server.Replica = (*VendorReplica)(nil)
