package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golm/lmutil/options"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/reportlog"
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
	// IsLeader reports whether this member is the master now; Standby
	// is nil then, else the -96 a client is answered (naming the
	// master, or no quorum).
	IsLeader() bool
	Standby() error
	// Term is the Raft term; HasMaster whether a master with a quorum
	// is known to this member.
	Term() uint64
	HasMaster() bool
	// State is the replicated seat table.
	State() *state.State
	// Reread commits a reread of the license and options texts with
	// these hashes (each member builds its own pools from its copy).
	Reread(ctx context.Context, license, options [32]byte) ([]state.Result, error)
	// RotateLog commits lmswitchr (newLog false) or lmnewlog of path:
	// every member switches its report log as it commits it (OnRotate).
	RotateLog(ctx context.Context, path string, newLog bool) error
	// Shutdown stops the member.
	Shutdown() error
}

// ReplicaHooks is what a vendor daemon gives the Replica it starts.
type ReplicaHooks struct {
	// NewState builds the seat table before any command, from this
	// member's own license and options files.
	NewState func() *state.State
	// OnCommit is called for every committed command, in log order, on
	// every member, with the time it happened by the master's clock: the
	// report log is written from it, with that time, so that the three
	// members' logs hold the same records.
	OnCommit func(index uint64, at time.Time, cmd state.Command, r state.Result)
	// OnMaster is called with the master's member name ("port@host")
	// whenever it changes, "" while there is none.
	OnMaster func(master string)
	// OnRotate is called on every member for a committed lmswitchr or
	// lmnewlog, with the master's time of it.
	OnRotate func(at time.Time, path string, newLog bool)
	// PoolsByHash and PolicyByHash build the pools and policy of a
	// committed reread from this member's own files, when their hash is
	// the one the master reread.
	PoolsByHash  func(h [32]byte) ([]*state.Pool, error)
	PolicyByHash func(h [32]byte) (state.Policy, error)
	// ReportMark is the position of the report log's stream: the
	// sequence number the next committed record will have and the hash
	// of the one before it (reportlog.Writer.Stream); a snapshot
	// carries it.
	ReportMark func() (next uint64, last string)
	// ReportRestore says where the stream of committed records is: at
	// the start (record 1), or at a snapshot's position. The report log
	// skips the records it holds; those it lacks it copies from
	// another member with fetch (the lines of the records from ...
	// before to that one member has) or, failing that, gives up, in the
	// debug log. next 0: the position is not known (a snapshot of an
	// earlier version), the report log goes on at its own.
	ReportRestore func(next uint64, last string, fetch func(from, to uint64) ([]string, error))
	// ReportLines are the record lines from ... before to this
	// member's report log holds, for another member's fetch.
	ReportLines func(from, to uint64) ([]string, error)
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
	// SharedPort: another member has this member's SERVER port, so
	// that on one host their admin sockets, named after the port, would
	// be one name; the vendor daemon then takes admin requests on TCP
	// only (see Lmgrd.triadSharesPort).
	SharedPort bool
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
	// rotating serialises lmswitchr and lmnewlog on the master; rotated
	// and rotateErr are the outcome of the last one applied here.
	rotating  sync.Mutex
	rotated   *protocol.LogSwitched
	rotateErr *lmerr.Error
	// logsOpen is closed once the report log is open (openLogs): the
	// member starts before it, and its commits wait. opened and stash
	// (the stream's position told before, see ReportRestore) are
	// guarded by the report log's lock.
	logsOpen chan struct{}
	quit     chan struct{}
	quitOnce sync.Once
	opened   bool
	stash    *streamPos
}

// streamPos is a position of the stream of committed records.
type streamPos struct {
	next  uint64
	last  string
	fetch func(from, to uint64) ([]string, error)
}

// waitLogs holds a commit until the report log is open; false once the
// member stops.
func (t *triadVendor) waitLogs() bool {
	select {
	case <-t.logsOpen:
		return true
	case <-t.quit:
		return false
	}
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
	t := &triadVendor{cfg: *tc, live: map[uint64]struct{}{}, logsOpen: make(chan struct{}), quit: make(chan struct{})}
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
		OnCommit: func(index uint64, at time.Time, cmd state.Command, r state.Result) {
			if t.waitLogs() {
				v.onCommit(index, at, cmd, r)
			}
		},
		OnMaster: t.onMaster,
		OnRotate: func(at time.Time, path string, newLog bool) {
			if t.waitLogs() {
				v.onRotate(t, at, path, newLog)
			}
		},
		ReportMark: func() (uint64, string) { return v.reportMark(t) },
		ReportRestore: func(next uint64, last string, fetch func(from, to uint64) ([]string, error)) {
			v.reportRestore(t, streamPos{next, last, fetch})
		},
		ReportLines: v.reportLines,
		PoolsByHash: func(h [32]byte) ([]*state.Pool, error) {
			p, _, err := v.byHash(quiet, h, true)
			return p, err
		},
		PolicyByHash: func(h [32]byte) (state.Policy, error) {
			_, p, err := v.byHash(quiet, h, false)
			return p, err
		},
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

// seats is the seat table: a triad member's is its replica's, which a
// snapshot restored at run time replaces, so it is read anew each time.
func (v *Vendor) seats() *state.State {
	if v.triad != nil {
		return v.triad.repl.State()
	}
	return v.state
}

// onMaster tells lmgrd which member is the master, for lmstat.
func (t *triadVendor) onMaster(master string) {
	t.mu.Lock()
	t.master = master
	ctrl := t.ctrl
	t.mu.Unlock()
	if ctrl != nil {
		_ = ctrl.Send(&protocol.MasterChange{Master: master})
	}
}

// triadStandby is, for a member of a triad that is not the master now,
// the -96 its replica answers (naming the master, or no quorum); nil for
// the master and for one server.
func (v *Vendor) triadStandby() *lmerr.Error {
	if v.triad == nil {
		return nil
	}
	if err := v.triad.repl.Standby(); err != nil {
		return asFlexErr(err)
	}
	return nil
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
		_ = ctrl.Send(&protocol.MasterChange{Master: master})
	}
}

// onCommit writes the report log records of a committed command, on every
// member.
func (v *Vendor) onCommit(index uint64, at time.Time, cmd state.Command, r state.Result) {
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
	rs.at.Store(at.UnixNano())
	v.record(cmd, &r)
	rs.at.Store(0)
}

// onRotate switches this member's report log for a committed lmswitchr
// or lmnewlog, at the master's time of it; the master's outcome is what
// its client is told.
func (v *Vendor) onRotate(t *triadVendor, at time.Time, path string, newLog bool) {
	v.report.at.Store(at.UnixNano())
	r, e := v.switchReportLog(path, newLog)
	v.report.at.Store(0)
	t.mu.Lock()
	t.rotated, t.rotateErr = r, e
	t.mu.Unlock()
}

// triadRotate is lmswitchr or lmnewlog on a member of a triad: the
// master commits it and every member switches; a member that is not the
// master names it (-96), and the client goes there.
func (v *Vendor) triadRotate(path string, newLog bool) (*protocol.LogSwitched, *lmerr.Error) {
	t := v.triad
	if strings.TrimSpace(path) == "" {
		what := "lmswitchr"
		if newLog {
			what = "lmnewlog"
		}
		return nil, pathError(what, path, errors.New("empty path"))
	}
	t.rotating.Lock()
	defer t.rotating.Unlock()
	t.mu.Lock()
	t.rotated, t.rotateErr = nil, nil
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.CommitTimeout)
	defer cancel()
	if err := t.repl.RotateLog(ctx, path, newLog); err != nil {
		var e *lmerr.Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rotated == nil && t.rotateErr == nil {
		return nil, lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum)
	}
	return t.rotated, t.rotateErr
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
	case state.Reread, state.SetPolicy, state.Reload:
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
	role := uint64(protocol.TriadStandby)
	if leader {
		role = protocol.TriadMaster
	}
	v.SetTriad(role, t.repl.Term(), t.repl.HasMaster())
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
func (v *Vendor) closeClients() { v.cs.closeConns() }

// stopTriad stops the member, after the vendor daemon's connections.
func (v *Vendor) stopTriad() {
	if v.triad != nil {
		v.triad.quitOnce.Do(func() { close(v.triad.quit) })
		v.triad.repl.Shutdown()
	}
}

// triadLogsOpened is called once openLogs is done: the report log goes
// on at the stream's position told so far, and commits may be written.
// The report log's lock is not held while records are fetched from
// another member, whose own fetch may be waiting for this one's answer.
func (v *Vendor) triadLogsOpened() {
	t := v.triad
	if t == nil {
		return
	}
	rs := &v.report
	for {
		rs.mu.Lock()
		if t.opened {
			rs.mu.Unlock()
			return
		}
		p, w := t.stash, rs.w
		t.stash = nil
		if p == nil {
			t.opened = true
			close(t.logsOpen)
			rs.mu.Unlock()
			return
		}
		rs.mu.Unlock()
		// A position told meanwhile (a snapshot restored) is stashed,
		// and followed next.
		v.continueStream(w, *p)
	}
}

// reportMark is the report log's stream position, for a snapshot.
func (v *Vendor) reportMark(t *triadVendor) (uint64, string) {
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if !t.opened && t.stash != nil {
		return t.stash.next, t.stash.last
	}
	if rs.w == nil {
		return 0, ""
	}
	return rs.w.Stream()
}

// reportRestore is ReportRestore: before the report log is open, the
// position is kept for when it is. Records are written only by the
// commits, which wait for the restore, so the report log's lock is not
// held while records are fetched.
func (v *Vendor) reportRestore(t *triadVendor, p streamPos) {
	rs := &v.report
	rs.mu.Lock()
	if !t.opened {
		t.stash = &p
		rs.mu.Unlock()
		return
	}
	w := rs.w
	rs.mu.Unlock()
	v.continueStream(w, p)
}

// continueStream makes the report log w continue the stream of
// committed records at p: it skips the records it holds, copies those it
// lacks from another member, and gives up those it cannot copy, naming
// them in the debug log.
func (v *Vendor) continueStream(w *reportlog.Writer, p streamPos) {
	if w == nil {
		return
	}
	if p.next == 0 {
		// Unknown: the log goes on at its own position.
		_ = w.SetStream(w.Next(), "")
		return
	}
	r := w.Follow(p.next, p.last, p.fetch, func(sw reportlog.Record) error { return v.followSwitch(w, sw) })
	if r.FetchErr != nil {
		v.log.Printf("REPORTLOG: records %d to %d could not be fetched from another member: %v", r.MissingFrom, p.next-1, r.FetchErr)
	}
	if r.CopyErr != nil {
		v.log.Printf("REPORTLOG: record %d from another member not copied: %v", r.MissingFrom, trimLogPrefix(r.CopyErr))
	}
	if r.Copied > 0 {
		v.log.Printf("REPORTLOG: %d records copied from another member", r.Copied)
	}
	switch {
	case r.MissingFrom < p.next && r.GapErr != nil:
		v.log.Printf("REPORTLOG: records %d to %d are missing from this report log, and it cannot continue at record %d: %v", r.MissingFrom, p.next-1, p.next, trimLogPrefix(r.GapErr))
	case r.MissingFrom < p.next:
		v.log.Printf("REPORTLOG: records %d to %d are missing from this report log (the triad's snapshot compacted them and no other member gave them); it continues at record %d in %s", r.MissingFrom, p.next-1, p.next, w.Path())
	case r.Held > p.next:
		v.log.Printf("REPORTLOG: records %d to %d are in this report log already: they are not written again", p.next, r.Held-1)
	}
	if r.StreamErr != nil {
		v.log.Printf("REPORTLOG: %v", trimLogPrefix(r.StreamErr))
	}
}

// followSwitch makes, while records are copied from another member,
// the lmswitchr whose SWITCH record is sw, at its time, so that this
// member's SWITCH record is the same and the copy goes on in the new
// file. An lmnewlog's record does not name the file the log was renamed
// to: it is not followed.
func (v *Vendor) followSwitch(w *reportlog.Writer, sw reportlog.Record) error {
	name, ok := strings.CutPrefix(sw.Detail, "to=")
	if sw.Reason != reportlog.ReasonSwitchr || !ok || name == "" || strings.Contains(name, ",") {
		return fmt.Errorf("the %s SWITCH record %d cannot be followed", sw.Reason, sw.Seq)
	}
	rs := &v.report
	rs.mu.Lock()
	p := rs.cfg.resolve(name)
	rs.mu.Unlock()
	rs.at.Store(sw.Time.UnixNano())
	err := w.Switch(p)
	rs.at.Store(0)
	if err != nil {
		return err
	}
	v.log.Printf("Report log switched to %s as the triad's record %d did (lmswitchr)", w.Path(), sw.Seq)
	return nil
}

// reportLines serves another member's fetch of records from ... before
// to, from this member's report log files.
func (v *Vendor) reportLines(from, to uint64) ([]string, error) {
	rs := &v.report
	rs.mu.Lock()
	w := rs.w
	rs.mu.Unlock()
	if w == nil {
		return nil, nil
	}
	return reportlog.ReadLines(w.Path(), v.cfg.Name, from, to, 0, 0)
}

// rereadTriad applies an lmreread to the triad: every member has checked
// its own copy of the files (Reread); the master commits a Reread and a
// SetPolicy naming the hashes of its license and options texts, and
// every member builds the new pools and policy from its own copy when it
// applies them. A member whose copy differs cannot, and stops applying
// (see package triad). A member that is not the master has nothing more
// to do: the master's reread reaches it through the log.
func (v *Vendor) rereadTriad(pools []*state.Pool, nolog options.NoLog) error {
	t := v.triad
	v.nolog.Store(uint32(nolog))
	if !t.repl.IsLeader() {
		v.log.Printf("Rereading license file: the master rereads for the triad")
		return nil
	}
	lic, opt, err := v.fileHashes(v.log)
	if err != nil {
		v.log.Printf("Reread of license file failed: %v", err)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.CommitTimeout)
	defer cancel()
	rs, err := t.repl.Reread(ctx, lic, opt)
	if err != nil {
		v.log.Printf("Reread of license file failed: %v", err)
		return err
	}
	for _, r := range rs {
		v.logResult(r)
	}
	v.logFeatures("Rereading license file", pools)
	return nil
}

// fileHashes are the SHA-256 of this member's license files (in order)
// and of its options file ("" when it has none): what a replicated
// reread names.
func (v *Vendor) fileHashes(log *DebugLog) (license, opts [32]byte, err error) {
	h := sha256.New()
	for _, p := range v.cfg.LicenseFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			return license, opts, err
		}
		h.Write(b)
		h.Write([]byte{0})
	}
	copy(license[:], h.Sum(nil))
	files, err := LoadLicenses(v.cfg.LicenseFiles, log)
	if err != nil {
		return license, opts, err
	}
	var text []byte
	if path, _ := optionsPath(v.cfg.Name, files); path != "" {
		text, _ = os.ReadFile(path) // none: the empty text
	}
	opts = sha256.Sum256(text)
	return license, opts, nil
}

// errDiffers is a member whose own files are not those the master
// reread.
var errDiffers = errors.New("this member's license or options file differs from the master's; copy the master's and restart this member")

// byHash builds, for a replicated reread, the pools (license) or the
// policy (options) from this member's own files when their hash is h.
func (v *Vendor) byHash(quiet *Vendor, h [32]byte, license bool) ([]*state.Pool, state.Policy, error) {
	lic, opt, err := quiet.fileHashes(quiet.log)
	if err != nil {
		return nil, nil, err
	}
	if license && lic != h || !license && opt != h {
		v.log.Printf("Reread refused: %v", errDiffers)
		return nil, nil, errDiffers
	}
	pools, policy, _, _, _, _, err := quiet.load()
	return pools, policy, err
}
