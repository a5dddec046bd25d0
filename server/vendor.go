package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/options"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/state"
)

// A client that is stopped (SIGSTOP, a suspended laptop) keeps its seats
// while its connection lives, as in FLEXlm, unless the options file's
// TIMEOUT or TIMEOUTALL takes them back: the vendor daemon puts no read
// deadline on a client's connection. A host that died or dropped off the
// network is found by TCP keepalive on the client's connection: the
// first probe after ClientKeepAliveIdle of silence, then one every
// ClientKeepAliveInterval, and the connection, with its seats, goes after
// ClientKeepAliveCount unanswered probes (about three minutes in all).
const (
	ClientKeepAliveIdle     = 2 * time.Minute
	ClientKeepAliveInterval = 15 * time.Second
	ClientKeepAliveCount    = 4
)

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
	// ClientTimeout drops a client that sends nothing for this long; 0
	// means never (TCP keepalive finds a dead host; see
	// ClientKeepAliveIdle).
	ClientTimeout time.Duration
	// Trust decides on lmremove.
	Trust Trust
	// BuiltinKeys is the publisher's public key built into the vendor
	// daemon binary (BuiltinKeys' "vendor:hex" form), trusted before any
	// key file; "" when none is.
	BuiltinKeys string
	// Executable is the vendor daemon binary: without a built-in key, a
	// VENDOR.pub beside it is trusted, and only without either one a
	// VENDOR.pub beside a license file (see PublisherKey).
	Executable string
	// Identity is the daemon's own identity for its Hello.
	Identity protocol.Identity
	// TickInterval is how often lingering seats, idle TIMEOUTs and the
	// queue are looked at; 0 means DefaultTickInterval.
	TickInterval time.Duration
	// MinTimeout is the publisher's minimum for the options file's
	// TIMEOUT and TIMEOUTALL; 0 means the options package's default.
	MinTimeout time.Duration
	// Pools are the publisher's rules for grouping lines into pools.
	Pools PoolRules
	// MaxConnections bounds open client connections; 0 means
	// MaxConnectionsEnv or DefaultMaxConnections.
	MaxConnections int
	// AdminSocket makes the vendor daemon take admin requests on its
	// local admin socket, protocol.AdminSocket(Name, LmgrdPort), as well as on TCP;
	// RunVendorDaemon sets it. AdminSocketRetry is how often the name is
	// tried again while another process holds it (0: the default).
	AdminSocket      bool
	AdminSocketRetry time.Duration
	// LockDir is where RunVendorDaemon takes the vendor's lock (one
	// vendor daemon per name per host); "" means DefaultLockDir. A Vendor
	// built with NewVendor alone takes no lock.
	LockDir string
	// HandshakeTimeout bounds the wait for a new connection's HELLO; 0
	// means HandshakeTimeoutEnv or HandshakeTimeout.
	HandshakeTimeout time.Duration
	// ReportLog, when not nil, adjusts the report log writer's
	// configuration before it is opened (its fsync policy, its write
	// timeout; tests make writes fail).
	ReportLog func(*reportlog.Config)
	// Triad, when not nil, makes the vendor daemon a member of a
	// three-server triad (vendor_triad.go).
	Triad *TriadConfig
}

// DefaultTickInterval is how often a vendor daemon ends lingers, reclaims
// idle seats and serves its queue when nothing else happens.
const DefaultTickInterval = time.Second

// Vendor is a running vendor daemon: its listener, its license state and
// its client connections.
type Vendor struct {
	cfg   VendorConfig
	cs    *connServer // the TCP port and, with cfg.AdminSocket, the admin socket
	state *state.State
	runID uint64
	log   *DebugLog

	nextSession atomic.Uint64
	rereadMu    sync.Mutex
	stopTick    chan struct{} // closed by Shutdown: the tick and the request workers end
	nolog       atomic.Uint32 // options.NoLog of the options file
	limit       *connLimit
	stats       vendorStats
	report      reportState   // REPORTLOG and DEBUGLOG (report.go)
	deepAbove   atomic.Int64  // deepAbove, or what a test sets
	busyWithin  atomic.Int64  // busyWithin, or what a test sets
	deepSteps   atomic.Uint64 // requests handed to the request workers, for tests
	signed      atomic.Pointer[signedForms]
	// work hands a deep step (see run) to an idle request worker; it is
	// unbuffered, so a send succeeds only when a worker waits for it.
	work chan func()
	// triad is the vendor daemon's member of a triad, nil for one server.
	triad *triadVendor
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
	if cfg.Log == nil {
		cfg.Log = NewDebugLog(io.Discard, cfg.Name, cfg.Now)
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	cfg.HandshakeTimeout = handshakeTimeout(cfg.HandshakeTimeout)
	v := &Vendor{cfg: cfg, log: cfg.Log, runID: randomID(), stopTick: make(chan struct{}), work: make(chan func())}
	v.deepAbove.Store(deepAbove)
	v.busyWithin.Store(int64(busyWithin))
	v.limit = newConnLimit(cfg.MaxConnections, cfg.Log)
	v.cs = newConnServer(cfg.Log, v.limit, cfg.Trust, cfg.HandshakeTimeout)
	v.cs.handle = v.serveConn
	pools, policy, nolog, logs, closed, signed, err := v.load()
	if err != nil {
		return nil, err
	}
	v.signed.Store(signed)
	if len(pools) == 0 {
		v.log.Printf("No features to serve!")
		return nil, ErrNoFeatures
	}
	for _, c := range closed {
		// No earlier options to keep: what a bad line restricts is
		// served to nobody until the file is fixed and reread.
		what := c.Feature
		if what == "" {
			what = "Every feature"
		}
		v.log.Printf("%s is served to nobody until the options file is fixed: %v", what, c.Err)
	}
	v.state = state.NewState(pools)
	v.nolog.Store(uint32(nolog))
	v.logResult(v.state.Apply(state.SetPolicy{Policy: policy}))
	v.cs.ln = cfg.Listener
	if v.cs.ln == nil {
		// No TCP keepalive on accept: it is set once a connection has
		// proved to be a client (handshake), not on every probe.
		lc := net.ListenConfig{KeepAlive: -1}
		v.cs.ln, err = lc.Listen(context.Background(), "tcp", cfg.Addr)
		if err != nil {
			return nil, err
		}
	}
	if cfg.Triad != nil {
		if err := v.startTriad(cfg.Triad); err != nil {
			v.cs.ln.Close()
			return nil, err
		}
	}
	if cfg.AdminSocket && (cfg.Triad == nil || !cfg.Triad.SharedPort) {
		// A name someone else holds does not stop licensing (adminsock.go).
		v.cs.adminLn = listenAdmin(protocol.AdminSocket(cfg.Name, cfg.LmgrdPort), cfg.AdminSocketRetry, v.log)
	}
	v.stats.started = cfg.Now()
	v.openLogs(logs)
	v.logFeatures("Server started on "+cfg.ServerHost+" for:", pools)
	v.logReservations()
	return v, nil
}

// load reads the license files and the options file and builds the
// vendor's pools and policy; logs is what the options file says about the
// report and debug logs, closed what its bad restricting lines close,
// signed the signed forms of the lines grants carry.
func (v *Vendor) load() (pools []*state.Pool, policy state.Policy, nolog options.NoLog, logs logConfig, closed []*options.Closure, signed *signedForms, err error) {
	files, err := LoadLicenses(v.cfg.LicenseFiles, v.log)
	if err != nil {
		return nil, nil, 0, logConfig{}, nil, nil, err
	}
	pools, policy, nolog, logs, closed, signed = v.loadFiles(files)
	return pools, policy, nolog, logs, closed, signed, nil
}

// loadFiles is load of license files already read.
func (v *Vendor) loadFiles(files []*licfile.File) (pools []*state.Pool, policy state.Policy, nolog options.NoLog, logs logConfig, closed []*options.Closure, signed *signedForms) {
	keys := newKeyRing(v.cfg.Name, v.cfg.BuiltinKeys, v.cfg.Executable, v.log)
	lines := verifiedLines(v.cfg.Name, files, keys, v.cfg.Now(), v.log)
	pkgs := verifiedPackages(v.cfg.Name, files, keys, v.log)
	signed = newSignedForms(files, lines, pkgs)
	pools = v.cfg.Pools.Build(v.cfg.Name, lines, pkgs)
	policy = state.NoPolicy{}
	if len(v.cfg.LicenseFiles) > 0 {
		logs.Dir = filepath.Dir(v.cfg.LicenseFiles[0])
	}
	if path, named := optionsPath(v.cfg.Name, files); path != "" {
		logs = logConfigOf(path, nil)
		if o := LoadOptions(path, named, pkgs, v.cfg.MinTimeout, v.log); o != nil {
			if len(o.Closures) == 0 || !errors.Is(o.Closures[0].Err, options.ErrUnreadable) {
				v.log.Printf("Using options file: %q", path)
			}
			policy, nolog = OptionsPolicy{Opts: o}, o.NoLog
			logs = logConfigOf(path, o)
			closed = o.Closures
		}
	}
	return pools, policy, nolog, logs, closed, signed
}

// logs reports whether the options file leaves event e in the debug log.
func (v *Vendor) logs(e options.NoLog) bool { return !options.NoLog(v.nolog.Load()).Has(e) }

// logResult writes the debug log lines of what a command did: seats
// that went back (IN), were reclaimed as idle (IN ... INACTIVE), queued
// requests that left the queue (DEQUEUED) with a seat (OUT) or without,
// and the command's warnings.
func (v *Vendor) logResult(r state.Result) {
	for _, w := range r.Warnings {
		v.log.Printf("%s", w)
	}
	if v.logs(options.NoLogIn) {
		for _, st := range r.Freed {
			v.logUsage("IN", st.Pool.Feature, st.Client, st.Count, "")
		}
		for _, st := range r.Inactive {
			v.logUsage("IN", st.Pool.Feature, st.Client, st.Count, "(INACTIVE)")
		}
	}
	queued := v.logs(options.NoLogQueued)
	if queued {
		for _, w := range r.Dequeued {
			v.logUsage("DEQUEUED", w.Feature, w.Client, w.Count, "")
		}
	}
	for i := range r.Granted {
		st := &r.Granted[i]
		if queued {
			v.logUsage("DEQUEUED", st.Pool.Feature, st.Client, st.Count, "")
		}
		v.logOut(st)
	}
}

// logOut writes the OUT line of a granted seat, and the OUT line of the
// suite seat it took with it (OPTIONS=SUITE), whose IN line comes when
// both go back.
func (v *Vendor) logOut(st *state.Seat) {
	if !v.logs(options.NoLogOut) {
		return
	}
	v.logUsage("OUT", st.Pool.Feature, st.Client, st.Count, "")
	if st.Companion != 0 && st.Pool.Suite != nil {
		v.logUsage("OUT", st.Pool.Suite.Feature, st.Client, st.Count, "")
	}
}

// logUsage writes a usage line, `OUT: "f1" joe@box  (2 licenses)`: kind,
// the feature, the client, the count when more than one, then suffix.
// Every usage line is written: administrators count them.
func (v *Vendor) logUsage(kind, feature string, c state.Client, count int, suffix string) {
	v.log.Usage(kind, feature, c.User, c.Host, count, suffix)
}

// logReservations writes a RESERVE line for each reservation in effect,
// as the vendor daemon starts: `RESERVE f1 for USER joe`.
func (v *Vendor) logReservations() {
	now, st := v.cfg.Now(), v.seats()
	for _, name := range st.FeatureNames() {
		for _, ps := range st.FeatureStatusAt(now, name) {
			for _, r := range ps.Reservations {
				n := ""
				if r.Count > 1 {
					n = fmt.Sprintf(" (%d licenses)", r.Count)
				}
				v.log.Printf("RESERVE %s for %s %s%s", ps.Pool.Feature, r.Kind, r.Name, n)
			}
		}
	}
}

// logWidth is the width a debug log line that lists features wraps at,
// as FLEXlm's "Server started on HOST for:" line does: a license of
// thousands of features makes many short lines, never one line of
// hundreds of kilobytes.
const logWidth = 80

// logFeatures writes head followed by the names of pools' features, each
// once, in the order of the pools, over as many lines as it takes for
// each, with its "hh:mm:ss (daemon) " prefix, to fit in logWidth.
func (v *Vendor) logFeatures(head string, pools []*state.Pool) {
	prefix := len(" 0:00:00 () ") + len(v.log.Daemon())
	for _, l := range featureLines(head, pools, max(logWidth-prefix, 20)) {
		v.log.Printf("%s", l)
	}
}

// featureLines is head followed by " f1 f2 f3", the names of pools'
// features, each once, as lines of at most width bytes: the names that
// do not fit on a line go on the next, separated by spaces. A name
// longer than width has a line of its own.
func featureLines(head string, pools []*state.Pool, width int) []string {
	var lines []string
	line := []byte(head)
	seen := make(map[string]bool, len(pools))
	for _, p := range pools {
		if seen[p.Feature] {
			continue
		}
		seen[p.Feature] = true
		if len(line) > 0 && len(line)+1+len(p.Feature) > width {
			lines = append(lines, string(line))
			line = line[:0]
		}
		if len(line) > 0 {
			line = append(line, ' ')
		}
		line = append(line, p.Feature...)
	}
	return append(lines, string(line))
}

func randomID() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.BigEndian.Uint64(b[:]) | 1
}

// Addr is the address the vendor daemon listens on.
func (v *Vendor) Addr() net.Addr { return v.cs.ln.Addr() }

// Port is the TCP port the vendor daemon listens on.
func (v *Vendor) Port() int {
	if a, ok := v.cs.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// State is the vendor daemon's license state (for tests and status).
func (v *Vendor) State() *state.State { return v.seats() }

// Serve accepts clients until ctx ends or Shutdown is called, and
// returns once it stopped accepting and its tick and request workers
// ended. Temporary accept errors are retried with a growing pause.
func (v *Vendor) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { v.Shutdown(context.Background()) })
	defer stop()
	v.cs.spawn(v.tickLoop)
	for range requestWorkers() {
		v.cs.spawn(v.requestWorker)
	}
	v.cs.serve()
	return v.cs.waitBackground(context.Background())
}

// tickLoop ends lingers, reclaims idle seats and serves the queue every
// TickInterval until Shutdown.
func (v *Vendor) tickLoop() {
	t := time.NewTicker(v.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-v.stopTick:
			return
		case <-t.C:
			if v.triad != nil {
				v.tickTriad()
				continue
			}
			v.logResult(v.apply(state.Tick{Now: v.cfg.Now()}))
		}
	}
}

// ServeHandedOff serves a client connection that lmgrd handed over
// (protocol.HandedOff): fd is the vendor daemon's own descriptor of it,
// which ServeHandedOff takes.
func (v *Vendor) ServeHandedOff(fd int) {
	f := os.NewFile(uintptr(fd), "client")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		v.log.Limited("accept", "handed-off connection: %v", err)
		return
	}
	v.cs.serveNew(nc, false)
}

// Shutdown closes the listener and every connection and waits for
// their handlers and for the tick, or for ctx; then it writes the report
// log's STOP record and flushes the debug log, so that nothing the
// vendor daemon did is logged after them.
func (v *Vendor) Shutdown(ctx context.Context) error {
	v.report.stopping.Store(true)
	if v.cs.close() {
		close(v.stopTick)
	}
	return waitFunc(ctx, func() {
		v.cs.wait(context.Background())
		v.cs.waitBackground(context.Background())
		v.stopTriad()
		v.closeLogs()
		v.log.Flush()
	})
}

// Reread rereads the license files and applies the new pools: new
// features are served, changed counts apply, removed features stop being
// granted and existing seats stay out.
func (v *Vendor) Reread() error {
	v.rereadMu.Lock()
	defer v.rereadMu.Unlock()
	// The files are read once, strictly: a file with any bad line is
	// not served at all.
	files, err := parseRereadable(v.cfg.LicenseFiles)
	if err != nil {
		v.log.Printf("Reread of license file failed: %v; %v", err, ErrKeptLastGood)
		return fmt.Errorf("%w: %w", ErrKeptLastGood, err)
	}
	pools, policy, nolog, logs, closed, signed := v.loadFiles(files)
	if len(closed) > 0 {
		// A bad restricting line must not widen access: keep the
		// options in force (and the license files read with them).
		v.log.Printf("Reread of options file failed: %v; %v", closed[0].Err, ErrKeptOptions)
		return fmt.Errorf("%w: %w", ErrKeptOptions, closed[0].Err)
	}
	if len(pools) == 0 {
		v.log.Printf("Reread of license file failed: no features to serve; %v", ErrKeptLastGood)
		return fmt.Errorf("%w: %w", ErrKeptLastGood, ErrNoFeatures)
	}
	v.rereadLogs(logs)
	v.signed.Store(signed.with(v.signed.Load()))
	if v.triad != nil {
		return v.rereadTriad(pools, nolog) // vendor_triad.go
	}
	// The indexes of the new pools and policy are built before the
	// state's lock is taken; the lock is held only to move the seats
	// over, so checkouts go on meanwhile.
	prep := state.Prepare(pools, policy)
	v.nolog.Store(uint32(nolog))
	v.logResult(v.apply(state.Reload{Prepared: prep}))
	v.logFeatures("Rereading license file", pools)
	return nil
}

// session is one client connection's view.
type session struct {
	id     uint64
	conn   *protocol.Conn
	client state.Client
	peer   net.Addr
	linger time.Duration // the application's linger for its checkouts
	// signedGrants: the client asked for the license lines with its
	// grants (protocol.CheckoutSigned), so every grant on the connection
	// is a SignedGranted.
	signedGrants bool
	// refusals paces a connection that keeps asking to queue past its
	// bounds (see paceRefusals).
	refusals refusalPacer
}

// identity is the identity the client sent in its handshake. The
// session keeps it only as the client's fields, not the whole Hello.
func (s *session) identity() protocol.Identity {
	c := &s.client
	return protocol.Identity{User: c.User, Host: c.Host, Display: c.Display, PID: c.PID, Project: c.Project, Program: c.Program}
}

// maxLinger bounds the linger an application may ask for, in seconds.
const maxLinger = 7 * 24 * 3600

// serveConn serves one client connection. A vendor daemon keeps one
// goroutine per connected client, mostly waiting for the client's next
// heartbeat, so with many clients that goroutine's stack is most of what
// an idle client costs: a stack grows while a request is handled
// (decoding, the state, logging), and the runtime shrinks it back at a
// garbage collection only while less than a quarter of it is in use,
// never to its smallest. So the connection's goroutine waits on a
// shallow stack (serveConn, serveSession, protocol.Conn.Wait), and with
// many connections open each step that needs a deep stack (the
// handshake, a request, the disconnect) runs on one of a few long-lived
// request workers (see run); the waiting goroutine's stack then stays at
// the runtime's smallest, 2 KB instead of 8.
func (v *Vendor) serveConn(c *protocol.Conn, sl slot) {
	// connServer waited for the HELLO on this shallow stack.
	var s *session
	v.run(func() { s = v.handshake(c, sl) })
	if s == nil {
		return
	}
	v.serveSession(s)
	v.run(func() { v.disconnect(s) })
}

// deepAbove is how many open connections make a vendor daemon handle
// requests on its request workers. Below it memory is no concern and a
// request is answered on the connection's goroutine, which saves two
// goroutine switches per request.
const deepAbove = 1000

// requestWorkers is how many long-lived goroutines answer the requests of
// a vendor daemon with more than deepAbove connections: a few per
// processor, so that a worker waiting for a slow client's write does not
// leave the processors idle. Their stacks grow once and stay grown, which
// a goroutine started per request would grow anew each time (at 5,000
// busy clients stack growth and the collection of the dead stacks took a
// third of the daemon's CPU).
func requestWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

// requestWorker runs the deep steps handed to it until Shutdown.
func (v *Vendor) requestWorker() {
	for {
		select {
		case f := <-v.work:
			f()
		case <-v.stopTick:
			return
		}
	}
}

// run runs f and returns when f has. With more than deepAbove connections
// open f runs on an idle request worker, or on a goroutine of its own when
// every worker is busy (one may be waiting on a slow client's write, or
// on the rest of a frame), so that no request ever waits for another
// connection's: then f's deep stack is the worker's, not the stack of the
// goroutine that waits for the connection's next request.
func (v *Vendor) run(f func()) {
	if v.shallow() {
		f()
		return
	}
	done := make(chan struct{})
	v.runDeep(func() {
		defer close(done)
		f()
	})
	<-done
}

// runDeep starts f on an idle request worker, else on a new goroutine
// that stays on as an extra worker while requests keep coming (see
// extraWorker).
func (v *Vendor) runDeep(f func()) {
	select {
	case v.work <- f:
	default:
		go v.extraWorker(f)
	}
}

// extraWorkerIdle is how long an extra request worker waits for another
// step before it ends.
const extraWorkerIdle = time.Second

// extraWorker runs f and then serves as a request worker until it has
// waited extraWorkerIdle for a step: under a burst of thousands of
// clients (a restarted vendor daemon's coming back, 5,000 jobs checking
// out at once) every long-lived worker is often busy, and a goroutine per
// step would grow a new stack each time; an extra worker grows its stack
// once for as long as the burst lasts.
func (v *Vendor) extraWorker(f func()) {
	f()
	t := time.NewTimer(extraWorkerIdle)
	defer t.Stop()
	for {
		select {
		case f := <-v.work:
			f()
			t.Reset(extraWorkerIdle)
		case <-t.C:
			return
		case <-v.stopTick:
			return
		}
	}
}

// shallow reports whether few enough connections are open for requests
// to be answered on their connection's goroutine (see run).
func (v *Vendor) shallow() bool { return v.limit.n.Load() <= v.deepAbove.Load() }

// handshake answers the client's Hello and makes its session; nil when
// the handshake failed or the client, which holds sl of the connection
// limit, is not admitted.
func (v *Vendor) handshake(c *protocol.Conn, sl slot) *session {
	c.ReadTimeout = v.cfg.HandshakeTimeout // a silent new connection is dropped
	hello, err := protocol.ServerHandshake(c)
	if err != nil {
		logNoise(v.log, c.NetConn().RemoteAddr(), err, true)
		return nil
	}
	if e := v.limit.admit(hello, c.NetConn(), sl); e != nil {
		_ = c.Send(protocol.ErrorOf(e))
		return nil
	}
	peer := c.NetConn().RemoteAddr()
	// An idle or stopped client keeps its connection; TCP keepalive,
	// set once per session, finds a host that is gone.
	c.ReadTimeout = v.cfg.ClientTimeout
	if c.ReadTimeout == 0 {
		c.ReadTimeout = -1
	}
	if tc, ok := c.NetConn().(*net.TCPConn); ok {
		_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: ClientKeepAliveIdle, Interval: ClientKeepAliveInterval, Count: ClientKeepAliveCount})
	}
	s := &session{
		id:   v.newSessionID(),
		conn: c,
		peer: peer,
		client: state.Client{
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
	mine := &protocol.Hello{
		Version:  protocol.Version,
		Role:     protocol.RoleServer,
		Identity: v.cfg.Identity,
		Daemon:   v.cfg.Name,
		Software: v.cfg.Software,
		RunID:    v.runID,
	}
	next, err := pipelined(c)
	if err != nil {
		// The Hello was good: answer it, as to a client that sent the
		// bad frame after it, and close.
		_ = c.Send(mine)
		return nil
	}
	if m, ok := next.(*protocol.HostIDs); ok {
		// A client sends its hostids right behind its Hello: both
		// answers go back in one write.
		if c.SendAll([]protocol.Message{mine, v.hostIDs(s, m)}) != nil {
			return nil
		}
		return s
	}
	if c.Send(mine) != nil {
		return nil
	}
	if next != nil && v.handle(s, next) != nil {
		// The request read behind the Hello was answered like any other;
		// an error closes the connection, and the session still ends
		// through disconnect.
		c.Close()
	}
	return s
}

// hostIDs takes the client's Ethernet hostids for its session.
func (v *Vendor) hostIDs(s *session, m *protocol.HostIDs) *protocol.OK {
	s.client.Ethers = normalEthers(m.Ethers)
	return &protocol.OK{Count: len(s.client.Ethers)}
}

// serveSession answers the session's requests until the connection
// closes, fails, or stays silent for the read timeout. With many
// connections open it waits for the whole of each frame on the
// connection's shallow stack (WaitFrame), so that a request worker is
// handed only requests it can read without waiting, and answers on the
// worker every request the connection has sent (a heartbeat comes with a
// seat question per seat held).
//
// A busy connection, whose last busyAfter requests each came within
// busyWithin of the answer before, is answered on its own goroutine at
// any count: its stack is in use anyway, and the hand-over would cost it
// two goroutine switches per request, so that throughput would step
// down as the connection count passes deepAbove. A client that connects,
// checks out and then only heartbeats never counts as busy, and keeps
// the small stack.
func (v *Vendor) serveSession(s *session) {
	var ok bool
	done := make(chan struct{}, 1)
	deep := func() {
		ok = v.serveOne(s)
		for ok && s.conn.Buffered() > 0 {
			ok = v.serveOne(s)
		}
		done <- struct{}{}
	}
	// With many connections open: when the last request was answered,
	// and how many requests in a row came soon after the answer before.
	var answered time.Time
	streak := 0
	for {
		if v.shallow() {
			if s.conn.Wait() != nil {
				return
			}
			ok = v.serveOne(s) // no hand-over per request
		} else {
			// Wait first: it lets go of the frame buffer of the last
			// request while the connection is idle, which WaitFrame
			// alone would keep (a kilobyte or two per client).
			if s.conn.Wait() != nil {
				return
			}
			if time.Since(answered) < time.Duration(v.busyWithin.Load()) {
				streak++
			} else {
				streak = 0
			}
			if streak >= busyAfter {
				ok = v.serveOne(s)
			} else {
				if s.conn.WaitFrame() != nil {
					return
				}
				v.deepSteps.Add(1)
				v.runDeep(deep)
				<-done
			}
			answered = time.Now()
		}
		if !ok {
			return
		}
	}
}

// busyWithin is how soon after its last answer a connection's next
// request must come, busyAfter times in a row, for the connection to
// count as busy (see serveSession): a client that loops on requests
// comes back within a round trip, or within a sweep of the daemon's
// other busy clients on a loaded machine; one that only heartbeats
// comes back after seconds.
const (
	busyWithin = time.Second
	busyAfter  = 4
)

// serveOne reads and answers one request; false when the connection is
// done.
func (v *Vendor) serveOne(s *session) bool {
	m, err := s.conn.Recv()
	if err != nil {
		logNoise(v.log, s.peer, err, false)
		return false
	}
	if err := v.handle(s, m); err != nil {
		logNoise(v.log, s.peer, err, false) // a request not allowed here
		return false
	}
	return true
}

// disconnect frees every seat of a closed session at once.
func (v *Vendor) disconnect(s *session) {
	v.logResult(v.apply(state.Disconnect{Session: s.id, Now: v.cfg.Now()}))
}

// handle answers one request. A returned error closes the connection.
func (v *Vendor) handle(s *session, m protocol.Message) error {
	switch m := m.(type) {
	case *protocol.Checkout:
		return v.checkout(s, m)
	case *protocol.Checkin:
		h, ok := handle32(m.Handle)
		if !ok {
			return s.conn.Send(protocol.ErrorOf(lmerr.New(lmerr.NeverCheckedOut, lmerr.MinorHandleRange)))
		}
		r := v.apply(state.Checkin{Session: s.id, Handle: h, Now: v.cfg.Now()})
		if r.Err != nil {
			return s.conn.Send(protocol.ErrorOf(r.Err))
		}
		v.logResult(r)
		return s.conn.Send(&protocol.OK{Count: len(r.Freed) + len(r.Lingering)})
	case *protocol.QueuePoll:
		h, _ := handle32(m.Handle)
		seat, pos := v.lookup(s.id, h)
		switch {
		case seat != nil:
			return s.conn.Send(v.grant(s, seat, false))
		case pos > 0:
			return s.conn.Send(&protocol.Queued{Handle: m.Handle, Position: pos})
		}
		return s.conn.Send(protocol.ErrorOf(lmerr.New(lmerr.NeverCheckedOut, lmerr.MinorNotQueued)))
	case *protocol.Idle:
		v.apply(state.SetIdle{Session: s.id, Idle: m.Idle, Now: v.cfg.Now()})
		return s.conn.Send(&protocol.OK{})
	case *protocol.Linger:
		s.linger = time.Duration(min(m.Seconds, maxLinger)) * time.Second
		return s.conn.Send(&protocol.OK{})
	case *protocol.HostIDs:
		return s.conn.Send(v.hostIDs(s, m))
	case *protocol.HostInfo:
		return s.conn.Send(v.hostInfo(s, m))
	case *protocol.Heartbeat:
		v.apply(state.Heartbeat{Session: s.id, Now: v.cfg.Now()})
		if e := v.triadStandby(); e != nil {
			// A triad member that is not the master (a partitioned old
			// master once its lease ran out, or a standby) does not
			// vouch for the client's seats: the client goes on to the
			// master before the new master's grace period ends.
			return s.conn.Send(protocol.ErrorOf(e))
		}
		return s.conn.Send(&protocol.HeartbeatAck{Seq: m.Seq})
	case *protocol.FeatureStatusRequest:
		return v.status(s, m.Feature)
	case *protocol.VendorStatsRequest:
		return s.conn.Send(v.stats.message(v.limit.n.Load()))
	case *protocol.VendorStatsExtRequest:
		return s.conn.Send(v.statsExt())
	case *protocol.UsageHistoryRequest:
		return s.conn.Send(v.usageHistory(m.Feature))
	case *protocol.Remove:
		if e := v.cfg.Trust.Authorize(m, s.conn.NetConn(), s.identity(), v.log); e != nil {
			return s.conn.Send(protocol.ErrorOf(e))
		}
		r := v.apply(state.Remove{Feature: m.Feature, User: m.User, Host: m.Host, Display: m.Display, Now: v.cfg.Now()})
		return v.removed(s, r)
	case *protocol.RemoveHandle:
		if e := v.cfg.Trust.Authorize(m, s.conn.NetConn(), s.identity(), v.log); e != nil {
			return s.conn.Send(protocol.ErrorOf(e))
		}
		h, ok := handle32(m.Handle)
		if !ok {
			return s.conn.Send(protocol.ErrorOf(lmerr.New(lmerr.NeverCheckedOut, lmerr.MinorHandleRange)))
		}
		r := v.apply(state.RemoveHandle{Feature: m.Feature, Handle: h, Now: v.cfg.Now()})
		return v.removed(s, r)
	case *protocol.SwitchReportLog, *protocol.NewReportLog, *protocol.SwitchDebugLog:
		if e := v.cfg.Trust.Authorize(m, s.conn.NetConn(), s.identity(), v.log); e != nil {
			return s.conn.Send(protocol.ErrorOf(e))
		}
		var r *protocol.LogSwitched
		var e *lmerr.Error
		switch m := m.(type) {
		case *protocol.SwitchReportLog:
			if v.triad != nil {
				r, e = v.triadRotate(m.Path, false)
				break
			}
			r, e = v.switchReportLog(m.Path, false)
		case *protocol.NewReportLog:
			if v.triad != nil {
				r, e = v.triadRotate(m.Path, true)
				break
			}
			r, e = v.switchReportLog(m.Path, true)
		case *protocol.SwitchDebugLog:
			r, e = v.switchDebugLog(m.Path)
		}
		if e != nil {
			return s.conn.Send(protocol.ErrorOf(e))
		}
		return s.conn.Send(r)
	case *protocol.Shutdown, *protocol.Reread:
		// These go to lmgrd, which passes them on over the control channel.
		return s.conn.Send(protocol.ErrorOf(lmerr.New(lmerr.NotSupported, lmerr.MinorVendorAdmin)))
	}
	return &protocol.Violation{Reason: fmt.Sprintf("%s not allowed on a vendor daemon connection", m.Type())}
}

func (v *Vendor) removed(s *session, r state.Result) error {
	if r.Err != nil {
		return s.conn.Send(protocol.ErrorOf(r.Err))
	}
	for _, st := range append(r.Freed, r.Lingering...) {
		v.log.Printf("REMOVING %s@%s from %s", st.Client.User, st.Client.Host, st.Pool.Feature)
	}
	n := len(r.Freed) + len(r.Lingering)
	r.Freed = nil // logged as REMOVING
	v.logResult(r)
	return s.conn.Send(&protocol.OK{Count: n})
}

// normalEthers keeps the well-formed Ethernet hostids of a client's
// report, lower-cased.
func normalEthers(ids []string) []string {
	var out []string
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if len(id) != 12 || strings.Trim(id, "0123456789abcdef") != "" {
			continue
		}
		out = append(out, id)
	}
	return out
}

func granted(st *state.Seat, adopted bool) *protocol.Granted {
	return &protocol.Granted{
		Handle:       uint64(st.Handle),
		Feature:      st.Pool.Feature,
		Version:      st.Pool.Version.Text,
		Expiry:       st.Pool.Expiry.Text,
		VendorString: st.Pool.VendorString,
		Adopted:      adopted,
	}
}

func handle32(h uint64) (uint32, bool) {
	if h == 0 || h > 1<<32-1 {
		return 0, false
	}
	return uint32(h), true
}

func (v *Vendor) checkout(s *session, m *protocol.Checkout) error {
	if m.Feature == "" || m.Count < 0 || m.Count > maxCheckoutCount {
		return s.conn.Send(protocol.ErrorOf(lmerr.New(lmerr.BadParam, lmerr.MinorCheckoutParam)))
	}
	if m.Flags&protocol.CheckoutSigned != 0 {
		s.signedGrants = true
	}
	prev, _ := handle32(m.PrevHandle)
	start := time.Now()
	r := v.apply(state.Checkout{
		Session:    s.id,
		Client:     s.client,
		Feature:    m.Feature,
		Version:    m.Version,
		VendorData: m.VendorData,
		Count:      m.Count,
		Queue:      m.Flags&protocol.CheckoutQueue != 0,
		Linger:     s.linger,
		PrevHandle: prev,
		Adopt:      m.PrevRun == v.runID,
		Now:        v.cfg.Now(),
	})
	v.stats.checkout(time.Since(start), r)
	if r.Err != nil && (r.Err.Minor == lmerr.MinorInQueue || r.Err.Minor == lmerr.MinorQueueFull) {
		s.refusals.refused(time.Now())
	}
	v.logResult(r)
	if w := r.Queued; w != nil {
		if v.logs(options.NoLogQueued) {
			v.logUsage("QUEUED", w.Feature, w.Client, w.Count, "")
		}
		_, pos := v.seats().Lookup(s.id, w.Handle)
		return s.conn.Send(&protocol.Queued{Handle: uint64(w.Handle), Position: pos})
	}
	if r.Err != nil {
		v.logDenial(m.Feature, s.client, r.Err)
		e := *r.Err
		e.Detail = append(e.Detail, "Feature:       "+m.Feature)
		return s.conn.Send(protocol.ErrorOf(&e))
	}
	st := r.Seat
	if !r.Adopted || r.Resumed { // a lingering seat adopted again is out again
		v.logOut(st)
	}
	return s.conn.Send(v.grant(s, st, r.Adopted))
}

func (v *Vendor) logDenial(feature string, c state.Client, e *lmerr.Error) {
	if !v.logs(options.NoLogDenied) || e.Minor == lmerr.MinorTriadNotMaster {
		return // a triad member that is not the master sent the client on
	}
	switch e.Code {
	case lmerr.NoFeature, lmerr.NoServerSupport:
		v.log.Printf("UNSUPPORTED: %q (PORT_AT_HOST_PLUS ) %s@%s (%v)", feature, c.User, c.Host, e)
	default:
		v.log.Printf("DENIED: %q %s@%s  (%v)", feature, c.User, c.Host, e)
	}
}

// usageText is the part of an OUT/IN line after the keyword:
// `"f1" user@host  ` or `"f1" user@host  (3 licenses)`.
func usageText(feature string, c state.Client, count int) string {
	s := fmt.Sprintf("%q %s@%s  ", feature, c.User, c.Host)
	if count > 1 {
		s += fmt.Sprintf("(%d licenses)", count)
	}
	return s
}

// status streams feature usage: per feature name a FeatureHeader, then
// per pool a PoolStatus and its UserEntry frames, then End. Every pool is
// sent, also those with no users; lmstat decides what to print. The
// state is read one feature at a time, so that the state lock is held
// only while one feature's pools are copied, and the frames go out in
// batches of about statusBatch bytes.
func (v *Vendor) status(s *session, only string) error {
	names := []string{only}
	if only == "" {
		names = v.seats().FeatureNames()
	}
	out := statusWriter{conn: s.conn}
	for _, name := range names {
		pools := v.seats().FeatureStatusAt(v.cfg.Now(), name)
		if len(pools) == 0 {
			if only == "" {
				continue // gone since the names were read (lmreread)
			}
			e := lmerr.New(lmerr.NoFeature, lmerr.MinorStatusNoFeature)
			out.add(&protocol.FeatureHeader{Name: only, Code: e.Code, Minor: e.Minor})
			break
		}
		h := &protocol.FeatureHeader{Name: name, Uncounted: true}
		for _, ps := range pools {
			if !ps.Pool.Uncounted {
				h.Uncounted = false
				h.Issued += ps.Issued // lines valid now only
			}
			h.InUse += ps.InUse
		}
		out.add(h)
		now := v.cfg.Now()
		for _, ps := range pools {
			for _, b := range state.LineBlocks(ps, now) {
				v.addPool(&out, ps, b)
			}
		}
		if err := out.flushIfFull(); err != nil {
			return err
		}
	}
	out.add(&protocol.End{})
	return out.flush()
}

// statusBatch is about how many bytes of status frames the vendor daemon
// collects before it writes them.
const statusBatch = 32 << 10

// statusWriter collects status frames and writes them in batches.
type statusWriter struct {
	conn *protocol.Conn
	ms   []protocol.Message
	size int // a rough count of the bytes collected
}

func (w *statusWriter) add(m protocol.Message) {
	w.ms = append(w.ms, m)
	w.size += 64
}

func (w *statusWriter) flushIfFull() error {
	if w.size < statusBatch {
		return nil
	}
	return w.flush()
}

func (w *statusWriter) flush() error {
	err := w.conn.SendAll(w.ms)
	clear(w.ms)
	w.ms, w.size = w.ms[:0], 0
	return err
}

// addPool adds the frames of one license line block b of a pool (see
// state.LineBlocks): its PoolStatus, a UserEntry per seat
// (lingering ones with their linger), a ReservationEntry per reservation
// with unused seats, and a queued UserEntry per queued request.
func (v *Vendor) addPool(out *statusWriter, ps state.PoolStatus, b state.LineBlock) {
	m := poolStatus(ps)
	if b.Part.Line != nil || b.Part.Expiry.Text != "" {
		m.Expiry = b.Part.Expiry.Text
	}
	m.Issued, m.InUse = b.Issued, b.InUse
	out.add(m)
	for _, st := range b.Seats {
		u := &protocol.UserEntry{
			User:       st.Client.User,
			Host:       st.Client.Host,
			Display:    st.Client.Display,
			VendorData: st.VendorData,
			Version:    st.Version,
			ServerHost: v.cfg.ServerHost,
			Port:       v.cfg.LmgrdPort,
			Handle:     uint64(st.Handle),
			Start:      st.Start.Unix(),
			Count:      st.Count,
		}
		if st.Lingering() {
			u.LingerTotal = int(st.Linger / time.Second)
			u.LingerRemaining = int((st.LingerLeft + time.Second - 1) / time.Second)
		}
		out.add(u)
	}
	if !b.First {
		return
	}
	for _, r := range ps.Reservations {
		out.add(&protocol.ReservationEntry{Count: r.Count, Kind: r.Kind, Name: r.Name,
			ServerHost: v.cfg.ServerHost, Port: v.cfg.LmgrdPort})
	}
	for _, w := range ps.Queued {
		out.add(&protocol.UserEntry{
			User:       w.Client.User,
			Host:       w.Client.Host,
			Display:    w.Client.Display,
			VendorData: w.VendorData,
			Version:    w.Version,
			ServerHost: v.cfg.ServerHost,
			Port:       v.cfg.LmgrdPort,
			Handle:     uint64(w.Handle),
			Start:      w.Since.Unix(),
			Count:      w.Count,
			Queued:     true,
		})
	}
}

func poolStatus(ps state.PoolStatus) *protocol.PoolStatus {
	p := ps.Pool
	m := &protocol.PoolStatus{
		Feature:      p.Feature,
		Version:      p.Version.Text,
		Vendor:       p.Vendor,
		Expiry:       p.Expiry.Text,
		VendorString: p.VendorString,
		LicenseType:  protocol.Floating,
		Issued:       ps.Issued,
		InUse:        ps.InUse,
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
