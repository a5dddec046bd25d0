package client_test

import (
	"context"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
)

// TestE2EQueue implements manual B.2.2's queue_flag against a real lmgrd:
// 2 ("non-blocking" queue) is CheckoutQueued, whose License.Wait blocks
// until the grant; 1 ("blocking" queue) is CheckoutWait. Waiters are
// granted in arrival order.
func TestE2EQueue(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 1\n")
	holder := s.open(t, "hold")
	held := checkout(t, holder, "f1")
	first := s.open(t, "first", client.WithQueuePoll(10*time.Millisecond))
	lic, err := first.CheckoutQueued(context.Background(), "f1", "1.0", 1)
	wantCode(t, err, -35)
	if lic == nil || !lic.Queued() {
		t.Fatalf("CheckoutQueued = %v, %v; want a queued license", lic, err)
	}
	// Without the queue flag a newcomer is told others are queued.
	_, err = s.open(t, "other").Checkout(context.Background(), "f1", "1.0", 1)
	wantCode(t, err, -24)
	// The blocking form waits behind the first waiter.
	second := s.open(t, "second", client.WithQueuePoll(10*time.Millisecond))
	got := make(chan error, 1)
	var secondLic *client.License
	go func() {
		var err error
		secondLic, err = second.CheckoutWait(context.Background(), "f1", "1.0", 1)
		got <- err
	}()
	poll(t, "two queued entries", func() bool {
		a := s.admin(t)
		defer a.Close()
		v, err := a.Vendor(context.Background(), "demo", "")
		if err != nil {
			return false
		}
		defer v.Close()
		n := 0
		for m, err := range v.FeatureStatus(context.Background(), "f1") {
			if u, ok := m.(*protocol.UserEntry); ok && err == nil && u.Queued {
				n++
			}
		}
		return n == 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if err := lic.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Wait while the seat is held = %v, want the deadline", err)
	}
	cancel()
	if err := held.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := lic.Wait(ctx); err != nil || lic.Queued() || lic.Version != "1.0" {
		t.Fatalf("Wait = %v (queued %v, version %q); want the grant", err, lic.Queued(), lic.Version)
	}
	select {
	case err := <-got:
		t.Fatalf("the second waiter was granted (%v) while the first holds the seat", err)
	default:
	}
	if err := lic.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil || secondLic == nil {
		t.Fatalf("CheckoutWait = %v", err)
	}
	s.waitLog(`QUEUED: "f1" first@`, 1)
}

// TestE2ESetIdle: the vendor daemon accepts an application's idle report
// (manual 6.2.13: "The application must explicitly declare itself idle")
// and, without a TIMEOUT in the options file, keeps its seat. The
// reclaiming itself is tested in the server package, where the clock and
// the minimum TIMEOUT can be set.
func TestE2ESetIdle(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 1\n")
	j := s.open(t, "idler")
	checkout(t, j, "f1")
	if err := j.SetIdle(context.Background(), true); err != nil {
		t.Fatalf("SetIdle: %v", err)
	}
	if n, _ := s.inUse(t, "f1"); n != 1 {
		t.Fatalf("in use %d after SetIdle without TIMEOUT, want 1", n)
	}
}

// TestE2ELingerAndHostIDs: the application's linger (WithLinger, FlexLM's
// LM_A_LINGER) keeps a checked-in seat out; a line locked to an Ethernet
// address serves a client on that machine.
func TestE2ELingerAndHostIDs(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 1\nFEATURE locked demo 1.0 permanent 1 HOSTID=08002b32b161\n")
	j := s.open(t, "joe", client.WithLinger(time.Hour), client.WithMachine(&licfile.Machine{Hostname: "pc", User: "joe", Ethers: []string{"08002b32b161"}}))
	lic := checkout(t, j, "f1")
	if err := lic.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.inUse(t, "f1"); n != 1 {
		t.Fatalf("in use %d after checking in a lingering seat, want 1", n)
	}
	_, err := s.open(t, "ann").Checkout(context.Background(), "f1", "1.0", 1)
	wantCode(t, err, -4)
	checkout(t, j, "locked")
	_, err = s.open(t, "ann", client.WithMachine(&licfile.Machine{Hostname: "pc2", User: "ann"})).Checkout(context.Background(), "locked", "1.0", 1)
	wantCode(t, err, -9)
}
