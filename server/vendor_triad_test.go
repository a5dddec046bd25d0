package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/state"
)

// swapReplica is a Replica whose seat table a test replaces, as a Raft
// snapshot restored at run time replaces the FSM's.
type swapReplica struct {
	st      atomic.Pointer[state.State]
	standby atomic.Pointer[lmerr.Error] // nil: the master
}

func (r *swapReplica) Propose(_ context.Context, cmds []state.Command) ([]state.Result, error) {
	out := make([]state.Result, len(cmds))
	for i, c := range cmds {
		out[i] = r.st.Load().Apply(c)
	}
	return out, nil
}
func (r *swapReplica) Tick(context.Context, time.Duration) ([]state.Result, error) { return nil, nil }
func (r *swapReplica) Heartbeat(uint64)                                            {}
func (r *swapReplica) Touch([]uint64)                                              {}
func (r *swapReplica) SessionID() uint64                                           { return 1 }
func (r *swapReplica) IsLeader() bool                                              { return r.standby.Load() == nil }
func (r *swapReplica) Standby() error {
	if e := r.standby.Load(); e != nil {
		return e
	}
	return nil
}
func (r *swapReplica) Term() uint64        { return 1 }
func (r *swapReplica) HasMaster() bool     { return true }
func (r *swapReplica) State() *state.State { return r.st.Load() }
func (r *swapReplica) Reread(context.Context, [32]byte, [32]byte) ([]state.Result, error) {
	return nil, nil
}
func (r *swapReplica) RotateLog(context.Context, string, bool) error { return nil }
func (r *swapReplica) Shutdown() error                               { return nil }

// TestTriadSeatsFollowRestore: a triad member's vendor daemon reads the
// seat table through its replica, so a table the replica replaced at run
// time (a snapshot from the master) is the one it serves, not the one
// it started with.
func TestTriadSeatsFollowRestore(t *testing.T) {
	p := signedLicense(t, t.TempDir(), twoSeats)
	repl := &swapReplica{}
	var newState func() *state.State
	v, err := NewVendor(VendorConfig{
		Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0",
		ServerHost: "srv", LmgrdPort: 27000, Software: "0.1.0",
		Triad: &TriadConfig{Start: func(h ReplicaHooks) (Replica, error) {
			newState = h.NewState
			repl.st.Store(h.NewState())
			return repl, nil
		}},
	})
	if err != nil {
		t.Fatalf("NewVendor: %v", err)
	}
	t.Cleanup(func() { v.cs.ln.Close() })
	started := v.State()
	if started != repl.State() {
		t.Fatal("the vendor daemon does not serve its replica's table")
	}

	restored := newState()
	r := restored.Apply(state.Checkout{Session: 7, Client: state.Client{User: "joe", Host: "h", Display: "d"}, Feature: "f1", Version: "1.0", Count: 1})
	if r.Seat == nil {
		t.Fatalf("checkout on the restored table: %+v", r)
	}
	repl.st.Store(restored)

	if v.State() != restored {
		t.Error("after a restore the vendor daemon still serves the table it started with")
	}
	if seat, _ := v.lookup(7, r.Seat.Handle); seat == nil {
		t.Errorf("handle %d of the restored table not found", r.Seat.Handle)
	}
	if seat, _ := started.Lookup(7, r.Seat.Handle); seat != nil {
		t.Fatal("the table started with has the seat too; the test tests nothing")
	}
}

// TestTriadStandbyHeartbeat: a triad member that is not the master
// answers a heartbeat with its replica's -96 (naming the master, or no
// quorum), so that the client moves to the master; the master and a
// member that becomes master again acknowledge it.
func TestTriadStandbyHeartbeat(t *testing.T) {
	p := signedLicense(t, t.TempDir(), twoSeats)
	repl := &swapReplica{}
	v, err := NewVendor(VendorConfig{
		Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0",
		ServerHost: "srv", LmgrdPort: 27000, Software: "0.1.0",
		Triad: &TriadConfig{Start: func(h ReplicaHooks) (Replica, error) {
			repl.st.Store(h.NewState())
			return repl, nil
		}},
	})
	if err != nil {
		t.Fatalf("NewVendor: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	c := connect(t, v.Addr(), "joe")
	answer := func() string {
		t.Helper()
		m, err := c.Call(&protocol.Heartbeat{Seq: 1})
		var e *protocol.PeerError
		switch {
		case errors.As(err, &e):
			return fmt.Sprintf("%d,%d %v", e.Msg.Code, e.Msg.Minor, e.Msg.Detail)
		case err != nil:
			t.Fatalf("heartbeat: %v", err)
		}
		return fmt.Sprintf("%T", m)
	}
	for _, c := range []struct {
		name    string
		standby *lmerr.Error
		want    string
	}{
		{"master", nil, "*protocol.HeartbeatAck"},
		{"not the master", lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNotMaster, "Master: 27000@h2"), "-96,641 [Master: 27000@h2]"},
		{"no quorum", lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum), "-96,640 []"},
		{"master again", nil, "*protocol.HeartbeatAck"},
	} {
		repl.standby.Store(c.standby)
		if got := answer(); got != c.want {
			t.Errorf("%s: heartbeat answered %s, want %s", c.name, got, c.want)
		}
	}
}
