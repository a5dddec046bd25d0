package client

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/servertest"
)

func noEnv(string) string { return "" }

func testOpts(extra ...Option) []Option {
	return append([]Option{
		WithGetenv(noEnv), WithUser("joe"), WithHost("pc1"), WithDisplay("/dev/pts/1"),
		WithDialTimeout(2 * time.Second), WithMachine(&licfile.Machine{Hostname: "pc1", User: "joe"}),
		WithDiagnostics(new(bytes.Buffer)),
	}, extra...)
}

func openJob(t *testing.T, path string, opts ...Option) *Job {
	t.Helper()
	j, err := Open(context.Background(), path, testOpts(opts...)...)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	servertest.Poll(t, what, 10*time.Second, cond)
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func TestCheckoutCounts(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 2})
	ctx := context.Background()
	j := openJob(t, srv.spec())
	tests := []struct {
		name     string
		feature  string
		count    int
		wantCode lmerr.Code
	}{
		{"first seat", "f1", 1, 0},
		{"second seat", "f1", 1, 0},
		{"third seat denied", "f1", 1, -4},
		{"unknown feature", "nope", 1, -5},
		{"zero count", "f1", 0, -42},
		{"empty feature", "", 1, -42},
	}
	var held []*License
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lic, err := j.Checkout(ctx, tt.feature, "1.0", tt.count)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Checkout: %v, want a license", err)
				}
				held = append(held, lic)
				return
			}
			if !codeIs(err, tt.wantCode) {
				t.Fatalf("Checkout: got %v, want code %d", err, tt.wantCode)
			}
		})
	}
	if got := len(j.conns); got != 1 {
		t.Errorf("job has %d vendor connections, want 1", got)
	}
	if len(held) != 2 {
		t.Fatalf("held %d licenses, want 2", len(held))
	}
	if err := held[0].Checkin(ctx); err != nil {
		t.Fatalf("Checkin: %v", err)
	}
	if err := held[0].Checkin(ctx); !codeIs(err, -41) {
		t.Errorf("second Checkin: got %v, want -41", err)
	}
	if _, err := j.Checkout(ctx, "f1", "1.0", 1); err != nil {
		t.Errorf("Checkout after a checkin: %v", err)
	}
	j.Close()
	waitFor(t, "seats freed by Close", func() bool { return srv.InUse("f1") == 0 })
	if _, err := j.Checkout(ctx, "f1", "1.0", 1); !codeIs(err, -42) {
		t.Errorf("Checkout after Close: got %v, want -42", err)
	}
}

func TestErrorForms(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 0})
	_, err := openJob(t, srv.spec()).Checkout(context.Background(), "f1", "1.0", 1)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Checkout: got %T %v, want *Error", err, err)
	}
	if got, want := e.Error(), "Licensed number of users already reached. (-4,342)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !strings.HasSuffix(e.Long(), "FLEXlm error: -4,342.") {
		t.Errorf("Long() = %q, want it to end with the FlexLM error line", e.Long())
	}
	if got := lmerr.CodeOf(err); got != -4 {
		t.Errorf("lmerr.CodeOf = %d, want -4 (the error must unwrap to *lmerr.Error)", got)
	}
}

func TestPathWalk(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 1})
	down := strconv.Itoa(closedPort(t)) + "@127.0.0.1"
	tests := []struct {
		name     string
		path     string
		wantCode lmerr.Code
	}{
		{"down server then good one", down + ":" + srv.spec(), 0},
		{"missing file then good server", filepath.Join(t.TempDir(), "none.lic") + ":" + srv.spec(), 0},
		{"only a down server", down, -15},
		{"only a missing file", filepath.Join(t.TempDir(), "none.lic"), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := openJob(t, tt.path)
			lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Checkout: %v", err)
				}
				if lic.Source != srv.spec() {
					t.Errorf("granted by %q, want %q", lic.Source, srv.spec())
				}
				j.Close()
				return
			}
			if !codeIs(err, tt.wantCode) {
				t.Fatalf("Checkout: got %v, want code %d", err, tt.wantCode)
			}
		})
	}
}

func TestDenialBeatsUnreachable(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 0})
	down := strconv.Itoa(closedPort(t)) + "@127.0.0.1"
	_, err := openJob(t, down+":"+srv.spec()).Checkout(context.Background(), "f1", "1.0", 1)
	if !codeIs(err, -4) {
		t.Fatalf("Checkout: got %v, want the -4 of the server that answered", err)
	}
}

// TestReconnectAfterVendorRestart: after the vendor daemon restarts, the
// job checks its seat out again on one new connection and keeps it there
// through the heartbeats that follow, so no other job gets it meanwhile.
func TestReconnectAfterVendorRestart(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 1})
	j := openJob(t, srv.spec(), WithHeartbeat(50*time.Millisecond))
	lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	srv.restartVendor()
	waitFor(t, "the seat to be checked out again", func() bool { return srv.InUse("f1") == 1 })
	counts := func() (heartbeats, conns, fresh int) {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.heartbeats, srv.vendorConns, srv.fresh
	}
	// Each heartbeat asks after the seat (QUEUE_POLL): that must neither
	// drop the new connection nor free the seat.
	hb, _, _ := counts()
	waitFor(t, "three heartbeats after the reconnect", func() bool {
		n, _, _ := counts()
		return n >= hb+3
	})
	if _, conns, fresh := counts(); conns != 2 || fresh != 2 {
		t.Errorf("vendor connections %d, seats granted afresh %d; want 2 and 2 (one each before and after the restart)", conns, fresh)
	}
	if err := lic.Err(); err != nil {
		t.Fatalf("license lost: %v", err)
	}
	// The seat is the job's: a second job is denied, so it is not counted twice.
	other := openJob(t, srv.spec())
	if _, err := other.Checkout(context.Background(), "f1", "1.0", 1); !codeIs(err, -4) {
		t.Errorf("second job's Checkout: got %v, want -4", err)
	}
	if err := lic.Checkin(context.Background()); err != nil {
		t.Errorf("Checkin after reconnect: %v", err)
	}
	waitFor(t, "the seat to be free", func() bool { return srv.InUse("f1") == 0 })
}

func TestReconnectAdoptsSeat(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 1})
	srv.mu.Lock()
	srv.sticky = true
	srv.mu.Unlock()
	j := openJob(t, srv.spec(), WithHeartbeat(time.Hour))
	lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	h := lic.Handle()
	// Break the client's side only: the fake still holds the seat for the
	// old connection when the client comes back, so it must re-adopt.
	vc := lic.vc
	vc.mu.Lock()
	vc.link.fail(errors.New("test break"))
	vc.mu.Unlock()
	waitFor(t, "the reconnect", func() bool {
		vc.mu.Lock()
		defer vc.mu.Unlock()
		return vc.alive()
	})
	if got := lic.Handle(); got != h {
		t.Errorf("handle after reconnect = %d, want %d", got, h)
	}
	if n := srv.InUse("f1"); n != 1 {
		t.Errorf("seats in use = %d, want 1", n)
	}
	srv.mu.Lock()
	adopted := srv.adopted
	srv.mu.Unlock()
	if adopted != 1 {
		t.Errorf("server adopted %d seats, want 1", adopted)
	}
}

func TestAdmin(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 2})
	ctx := context.Background()
	spec, err := licfile.ParseServerSpec(srv.spec())
	if err != nil {
		t.Fatal(err)
	}
	a, err := DialAdmin(ctx, spec, testOpts()...)
	if err != nil {
		t.Fatalf("DialAdmin: %v", err)
	}
	defer a.Close()
	st, vendors, err := a.ServerStatus(ctx)
	if err != nil {
		t.Fatalf("ServerStatus: %v", err)
	}
	if st.Host != "fake" || !st.Master {
		t.Errorf("server status = %+v, want host fake, master", st)
	}
	var names []string
	for v, err := range vendors {
		if err != nil {
			t.Fatalf("vendor stream: %v", err)
		}
		names = append(names, v.Name+":"+strconv.FormatBool(v.Up))
	}
	if got, want := strings.Join(names, " "), "demo:true gone:false"; got != want {
		t.Errorf("vendors = %q, want %q", got, want)
	}
	v, err := a.Vendor(ctx, "", "f1")
	if err != nil {
		t.Fatalf("Vendor: %v", err)
	}
	defer v.Close()
	var types []string
	for m, err := range v.FeatureStatus(ctx, "") {
		if err != nil {
			t.Fatalf("feature stream: %v", err)
		}
		types = append(types, m.Type().String())
	}
	if got, want := strings.Join(types, " "), "FEATURE_HEADER POOL_STATUS USER_ENTRY"; got != want {
		t.Errorf("feature stream = %q, want %q", got, want)
	}
	if n, err := v.RemoveHandle(ctx, "f1", 101); err != nil || n != 1 {
		t.Errorf("RemoveHandle = %d, %v, want 1, nil", n, err)
	}
	if n, err := a.Reread(ctx, ""); err != nil || n != 1 {
		t.Errorf("Reread = %d, %v, want 1, nil", n, err)
	}
	if n, err := a.Shutdown(ctx, "", false); err != nil || n != 2 {
		t.Errorf("Shutdown = %d, %v, want 2, nil", n, err)
	}
	if _, err := a.Vendor(ctx, "other", ""); !codeIs(err, -97) {
		t.Errorf("Vendor(other): got %v, want -97", err)
	}
}

func TestDiagnostics(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 0})
	tests := []struct {
		level int
		want  []string
		not   []string
	}{
		{0, nil, []string{"checkout error"}},
		{1, []string{"golm checkout error: Licensed number of users already reached. (-4,342)\n", "license file(s): " + srv.spec() + "\n"}, []string{"lm_checkout"}},
		{2, []string{"license file(s): ", `lm_checkout("f1", 1.0, 1, 0x0, ..., 0x0)`}, nil},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.level), func(t *testing.T) {
			var buf bytes.Buffer
			j := openJob(t, srv.spec(), WithDiagnostics(&buf), WithDiagnosticsLevel(tt.level))
			if _, err := j.Checkout(context.Background(), "f1", "1.0", 1); err == nil {
				t.Fatal("Checkout succeeded, want -4")
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("diagnostics %q lack %q", buf.String(), w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(buf.String(), w) {
					t.Errorf("diagnostics %q contain %q", buf.String(), w)
				}
			}
		})
	}
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"2s", 2 * time.Second}, {"3", 3 * time.Second}, {"0.5", 500 * time.Millisecond},
		{"-1", 0}, {"x", 0}, {"0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseInterval(tt.in); got != tt.want {
				t.Errorf("parseInterval(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
