package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// DefaultClientTimeout is how long a vendor daemon waits for the next
// frame of an idle client (its heartbeats) before it drops the client and
// frees its seats: several client heartbeat intervals.
const DefaultClientTimeout = 6 * time.Minute

// maxCheckoutCount bounds the count of one checkout request.
const maxCheckoutCount = 1 << 20

// VendorConfig configures a vendor daemon.
type VendorConfig struct {
	// Name is the vendor daemon's name (the DAEMON line's).
	Name string
	// LicenseFiles are the license files lmgrd was given.
	LicenseFiles []string
	// Addr is the address to listen on ("127.0.0.1:0", ":0", ":27001").
	Addr string
	// Listener, when not nil, is used instead of listening on Addr.
	Listener net.Listener
	// ServerHost and LmgrdPort are what lmstat shows for a seat:
	// "(host/27000 102)".
	ServerHost string
	LmgrdPort  int
	// Software is golm's version, sent in Hello.
	Software string
	// Log is the debug log; nil discards it.
	Log *DebugLog
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClientTimeout drops a client that sends nothing for this long;
	// 0 means DefaultClientTimeout.
	ClientTimeout time.Duration
	// Trust decides on lmremove.
	Trust Trust
	// DaemonPaths are where else to look for the vendor's public key
	// (the DAEMON line's path, the running binary).
	DaemonPaths []string
	// Identity is the daemon's own identity for its Hello.
	Identity protocol.Identity
}

// Vendor is a running vendor daemon: its listener, its license state and
// its client connections.
type Vendor struct {
	cfg     VendorConfig
	ln      net.Listener
	adminLn net.Listener // the -2 -p admin socket, nil without -2 -p
	state   *State
	runID   uint64
	log     *DebugLog

	nextSession atomic.Uint64
	mu          sync.Mutex
	conns       map[*protocol.Conn]struct{}
	closing     bool
	wg          sync.WaitGroup
	rereadMu    sync.Mutex
}

// ErrNoFeatures is returned by NewVendor when the license files hold no
// line the vendor daemon can serve ("No features to serve!").
var ErrNoFeatures = errors.New("no features to serve")

// NewVendor reads the license files, builds the pools and binds the
// listener. It fails with ErrNoFeatures when nothing can be served.
func NewVendor(cfg VendorConfig) (*Vendor, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientTimeout == 0 {
		cfg.ClientTimeout = DefaultClientTimeout
	}
	if cfg.Log == nil {
		cfg.Log = NewDebugLog(io.Discard, cfg.Name, cfg.Now)
	}
	v := &Vendor{cfg: cfg, log: cfg.Log, conns: map[*protocol.Conn]struct{}{}, runID: randomID()}
	pools, err := v.loadPools()
	if err != nil {
		return nil, err
	}
	if len(pools) == 0 {
		v.log.Printf("No features to serve!")
		return nil, ErrNoFeatures
	}
	v.state = NewState(pools)
	v.ln = cfg.Listener
	if v.ln == nil {
		v.ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, err
		}
	}
	if cfg.Trust.AdminOnly {
		v.adminLn, err = net.Listen("unix", AdminSocket(cfg.Name, cfg.LmgrdPort))
		if err != nil {
			v.ln.Close()
			return nil, err
		}
	}
	v.log.Printf("Server started on %s for:%s", cfg.ServerHost, featureList(pools))
	return v, nil
}

// loadPools reads the license files and builds the vendor's pools.
func (v *Vendor) loadPools() ([]*Pool, error) {
	files, err := LoadLicenses(v.cfg.LicenseFiles, v.log)
	if err != nil {
		return nil, err
	}
	lines := VendorLines(v.cfg.Name, files, v.cfg.DaemonPaths, v.cfg.Now(), v.log)
	return BuildPools(v.cfg.Name, lines), nil
}

// featureList renders " f1 f2 f3" for the "Server started" line.
func featureList(pools []*Pool) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, p := range pools {
		if !seen[p.Feature] {
			seen[p.Feature] = true
			b.WriteString(" " + p.Feature)
		}
	}
	return b.String()
}

func randomID() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.BigEndian.Uint64(b[:]) | 1
}

// Addr is the address the vendor daemon listens on.
func (v *Vendor) Addr() net.Addr { return v.ln.Addr() }

// Port is the TCP port the vendor daemon listens on.
func (v *Vendor) Port() int {
	if a, ok := v.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// State is the vendor daemon's license state (for tests and status).
func (v *Vendor) State() *State { return v.state }

// Serve accepts clients until ctx ends or Shutdown is called. Temporary
// accept errors are retried with a growing pause.
func (v *Vendor) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { v.Shutdown(context.Background()) })
	defer stop()
	var loops sync.WaitGroup
	for _, ln := range v.listeners() {
		loops.Add(1)
		go func() {
			defer loops.Done()
			v.acceptLoop(ctx, ln)
		}()
	}
	loops.Wait()
	return nil
}

func (v *Vendor) listeners() []net.Listener {
	if v.adminLn != nil {
		return []net.Listener{v.ln, v.adminLn}
	}
	return []net.Listener{v.ln}
}

func (v *Vendor) acceptLoop(ctx context.Context, ln net.Listener) {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			v.mu.Lock()
			closing := v.closing
			v.mu.Unlock()
			if closing || errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			v.log.Limited("accept", "accept: %v", err)
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		pause = 0
		c := protocol.NewConn(nc)
		if !v.track(c) {
			c.Close()
			return
		}
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			defer v.untrack(c)
			v.serveConn(c)
		}()
	}
}

func (v *Vendor) track(c *protocol.Conn) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closing {
		return false
	}
	v.conns[c] = struct{}{}
	return true
}

func (v *Vendor) untrack(c *protocol.Conn) {
	v.mu.Lock()
	delete(v.conns, c)
	v.mu.Unlock()
	c.Close()
}

// Shutdown closes the listener and every connection and waits for their
// handlers, or for ctx.
func (v *Vendor) Shutdown(ctx context.Context) error {
	v.mu.Lock()
	if !v.closing {
		v.closing = true
		for _, ln := range v.listeners() {
			ln.Close()
		}
		for c := range v.conns {
			c.Close()
		}
	}
	v.mu.Unlock()
	done := make(chan struct{})
	go func() { v.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reread rereads the license files and applies the new pools: new
// features are served, changed counts apply, removed features stop being
// granted and existing seats stay out.
func (v *Vendor) Reread() error {
	v.rereadMu.Lock()
	defer v.rereadMu.Unlock()
	pools, err := v.loadPools()
	if err != nil {
		v.log.Printf("Reread of license file failed: %v", err)
		return err
	}
	v.state.Apply(Reread{Pools: pools})
	v.log.Printf("Rereading license file%s", featureList(pools))
	return nil
}

// session is one client connection's view.
type session struct {
	id     uint64
	conn   *protocol.Conn
	hello  *protocol.Hello
	client Client
	peer   net.Addr
}

func (v *Vendor) serveConn(c *protocol.Conn) {
	hello, err := protocol.ServerHandshake(c)
	if err != nil {
		return
	}
	if err := c.Send(&protocol.Hello{
		Version:  protocol.Version,
		Role:     protocol.RoleServer,
		Identity: v.cfg.Identity,
		Daemon:   v.cfg.Name,
		Software: v.cfg.Software,
		RunID:    v.runID,
	}); err != nil {
		return
	}
	peer := c.NetConn().RemoteAddr()
	s := &session{
		id:    v.nextSession.Add(1),
		conn:  c,
		hello: hello,
		peer:  peer,
		client: Client{
			User:    hello.Identity.User,
			Host:    hello.Identity.Host,
			Display: hello.Identity.Display,
			Project: hello.Identity.Project,
			Program: hello.Identity.Program,
			PID:     hello.Identity.PID,
			IP:      peerIP(peer),
			JobID:   hello.JobID,
		},
	}
	// An idle client is bounded by its heartbeats: no frame for
	// ClientTimeout drops it.
	c.ReadTimeout = v.cfg.ClientTimeout
	defer v.disconnect(s)
	for {
		m, err := c.Recv()
		if err != nil {
			return
		}
		if err := v.handle(s, m); err != nil {
			return
		}
	}
}

// disconnect frees every seat of a closed session at once.
func (v *Vendor) disconnect(s *session) {
	r := v.state.Apply(Disconnect{Session: s.id})
	for _, st := range r.Freed {
		v.log.Limited("IN", "IN: %s", usageText(st.Pool.Feature, st.Client, st.Count))
	}
}

// handle answers one request. A returned error closes the connection.
func (v *Vendor) handle(s *session, m protocol.Message) error {
	switch m := m.(type) {
	case *protocol.Checkout:
		return v.checkout(s, m)
	case *protocol.Checkin:
		h, ok := handle32(m.Handle)
		if !ok {
			return s.conn.Send(protocol.ErrorOf(lmerr.New(-41, minorNoHandle)))
		}
		r := v.state.Apply(Checkin{Session: s.id, Handle: h})
		if r.Err != nil {
			return s.conn.Send(protocol.ErrorOf(r.Err))
		}
		for _, st := range r.Freed {
			v.log.Limited("IN", "IN: %s", usageText(st.Pool.Feature, st.Client, st.Count))
		}
		return s.conn.Send(&protocol.OK{Count: len(r.Freed)})
	case *protocol.Heartbeat:
		v.state.Apply(Heartbeat{Session: s.id, Now: v.cfg.Now()})
		return s.conn.Send(&protocol.HeartbeatAck{Seq: m.Seq})
	case *protocol.FeatureStatusRequest:
		return v.status(s, m.Feature)
	case *protocol.Remove:
		if e := v.cfg.Trust.Check(AdminLmremove, s.conn.NetConn()); e != nil {
			return s.conn.Send(protocol.ErrorOf(e))
		}
		r := v.state.Apply(Remove{Feature: m.Feature, User: m.User, Host: m.Host, Display: m.Display})
		return v.removed(s, r)
	case *protocol.RemoveHandle:
		if e := v.cfg.Trust.Check(AdminLmremove, s.conn.NetConn()); e != nil {
			return s.conn.Send(protocol.ErrorOf(e))
		}
		h, ok := handle32(m.Handle)
		if !ok {
			return s.conn.Send(protocol.ErrorOf(lmerr.New(-41, minorNoHandle)))
		}
		r := v.state.Apply(RemoveHandle{Feature: m.Feature, Handle: h})
		return v.removed(s, r)
	case *protocol.Shutdown, *protocol.Reread:
		// These go to lmgrd, which passes them on over the control channel.
		return s.conn.Send(protocol.ErrorOf(lmerr.New(-85, 1)))
	}
	return &protocol.Violation{Reason: fmt.Sprintf("%s not allowed on a vendor daemon connection", m.Type())}
}

func (v *Vendor) removed(s *session, r Result) error {
	if r.Err != nil {
		return s.conn.Send(protocol.ErrorOf(r.Err))
	}
	for _, st := range r.Freed {
		v.log.Printf("REMOVING %s@%s from %s", st.Client.User, st.Client.Host, st.Pool.Feature)
	}
	return s.conn.Send(&protocol.OK{Count: len(r.Freed)})
}

func handle32(h uint64) (uint32, bool) {
	if h == 0 || h > 1<<32-1 {
		return 0, false
	}
	return uint32(h), true
}

func (v *Vendor) checkout(s *session, m *protocol.Checkout) error {
	if m.Feature == "" || m.Count < 0 || m.Count > maxCheckoutCount {
		return s.conn.Send(protocol.ErrorOf(lmerr.New(-42, 1)))
	}
	prev, _ := handle32(m.PrevHandle)
	r := v.state.Apply(Checkout{
		Session:    s.id,
		Client:     s.client,
		Feature:    m.Feature,
		Version:    m.Version,
		Count:      m.Count,
		PrevHandle: prev,
		Adopt:      m.PrevRun == v.runID,
		Now:        v.cfg.Now(),
	})
	if r.Err != nil {
		v.logDenial(m.Feature, s.client, r.Err)
		e := *r.Err
		e.Detail = append(e.Detail, "Feature:       "+m.Feature)
		return s.conn.Send(protocol.ErrorOf(&e))
	}
	st := r.Seat
	if !r.Adopted {
		v.log.Limited("OUT", "OUT: %s", usageText(st.Pool.Feature, st.Client, st.Count))
	}
	return s.conn.Send(&protocol.Granted{
		Handle:       uint64(st.Handle),
		Feature:      st.Pool.Feature,
		Version:      st.Pool.Version.Text,
		Expiry:       st.Pool.Expiry.Text,
		VendorString: st.Pool.VendorString,
		Adopted:      r.Adopted,
	})
}

func (v *Vendor) logDenial(feature string, c Client, e *lmerr.Error) {
	switch e.Code {
	case -5, -18:
		v.log.Limited("UNSUPPORTED", "UNSUPPORTED: %q (PORT_AT_HOST_PLUS ) %s@%s (%v)", feature, c.User, c.Host, e)
	default:
		v.log.Limited("DENIED", "DENIED: %q %s@%s  (%v)", feature, c.User, c.Host, e)
	}
}

// usageText is the part of an OUT/IN line after the keyword:
// `"f1" user@host  ` or `"f1" user@host  (3 licenses)`.
func usageText(feature string, c Client, count int) string {
	s := fmt.Sprintf("%q %s@%s  ", feature, c.User, c.Host)
	if count > 1 {
		s += fmt.Sprintf("(%d licenses)", count)
	}
	return s
}

// status streams feature usage: per feature name a FeatureHeader, then
// per pool a PoolStatus and its UserEntry frames, then End. Every pool is
// sent, also those with no users; lmstat decides what to print.
func (v *Vendor) status(s *session, only string) error {
	pools := v.state.Status()
	var names []string
	byName := map[string][]PoolStatus{}
	for _, ps := range pools {
		if only != "" && ps.Pool.Feature != only {
			continue
		}
		if _, ok := byName[ps.Pool.Feature]; !ok {
			names = append(names, ps.Pool.Feature)
		}
		byName[ps.Pool.Feature] = append(byName[ps.Pool.Feature], ps)
	}
	if only != "" && len(names) == 0 {
		e := lmerr.New(-5, minorNoFeature)
		if err := s.conn.Send(&protocol.FeatureHeader{Name: only, Code: e.Code, Minor: e.Minor}); err != nil {
			return err
		}
		return s.conn.Send(&protocol.End{})
	}
	for _, name := range names {
		h := &protocol.FeatureHeader{Name: name, Uncounted: true}
		for _, ps := range byName[name] {
			if !ps.Pool.Uncounted {
				h.Uncounted = false
				if !ps.Pool.Removed {
					h.Issued += ps.Pool.Count
				}
			}
			h.InUse += ps.InUse
		}
		if err := s.conn.Send(h); err != nil {
			return err
		}
		for _, ps := range byName[name] {
			if err := s.conn.Send(poolStatus(ps)); err != nil {
				return err
			}
			for _, st := range ps.Seats {
				if err := s.conn.Send(&protocol.UserEntry{
					User:       st.Client.User,
					Host:       st.Client.Host,
					Display:    st.Client.Display,
					Version:    st.Version,
					ServerHost: v.cfg.ServerHost,
					Port:       v.cfg.LmgrdPort,
					Handle:     uint64(st.Handle),
					Start:      st.Start.Unix(),
					Count:      st.Count,
				}); err != nil {
					return err
				}
			}
		}
	}
	return s.conn.Send(&protocol.End{})
}

func poolStatus(ps PoolStatus) *protocol.PoolStatus {
	p := ps.Pool
	m := &protocol.PoolStatus{
		Feature:      p.Feature,
		Version:      p.Version.Text,
		Vendor:       p.Vendor,
		Expiry:       p.Expiry.Text,
		VendorString: p.VendorString,
		LicenseType:  protocol.Floating,
		Issued:       p.Count,
		InUse:        ps.InUse,
	}
	if p.Removed {
		m.Issued = 0
	}
	if len(p.HostID) > 0 {
		m.HostID = p.HostID.String()
		m.LicenseType = protocol.Nodelocked
		if p.Uncounted {
			m.LicenseType = protocol.UncountedNodelocked
		}
	}
	return m
}
