package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// DefaultBindRetry is how long lmgrd keeps retrying a port that is in use
// (the manual says approximately six minutes).
const DefaultBindRetry = 6 * time.Minute

// DefaultBindRetryEvery is the pause between two bind attempts.
const DefaultBindRetryEvery = 2 * time.Second

// Config configures lmgrd.
type Config struct {
	// LicenseFiles are the license files to serve, in order.
	LicenseFiles []string
	// Log is the debug log; nil discards it.
	Log *DebugLog
	// VendorOutput is where vendor daemons write their debug log lines:
	// the log file lmgrd writes (opened O_APPEND) or lmgrd's stdout. nil
	// discards them.
	VendorOutput *os.File
	// Exe is the binary vendor daemons run when a DAEMON line has no
	// executable path.
	Exe string
	// Hostname is this host's name; Machine describes it for hostids.
	Hostname string
	Machine  *licfile.Machine
	// Trust decides on admin requests; it is passed on to vendor daemons.
	Trust Trust
	// BindRetry bounds the retries of a busy port; 0 means DefaultBindRetry.
	BindRetry time.Duration
	// BindRetryEvery is the pause between two tries of a busy port; 0
	// means DefaultBindRetryEvery.
	BindRetryEvery time.Duration
	// Software is golm's version, protocol.Software.
	Software string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Listener, when not nil, is used instead of binding the SERVER port.
	Listener net.Listener
	// Restart bounds vendor daemon restarts; zero values take defaults.
	Restart RestartPolicy
	// Env is the environment of vendor daemons; nil means lmgrd's own.
	Env []string
	// MaxConnections bounds open client connections; 0 means
	// MaxConnectionsEnv or DefaultMaxConnections.
	MaxConnections int
	// AdminSocketRetry is how often lmgrd tries again to bind its admin
	// socket while another process holds the name; 0 means
	// DefaultAdminSocketRetry. Vendor daemons read AdminSocketRetryEnv.
	AdminSocketRetry time.Duration
	// LockDir is the directory of the vendor daemons' locks (one vendor
	// daemon per name per host); "" means DefaultLockDir.
	LockDir string
	// Stderr is lmgrd's terminal, where it says why a vendor daemon
	// cannot run at all (another one of that name runs); nil discards it.
	Stderr io.Writer
	// HandshakeTimeout bounds the wait for a new connection's HELLO; 0
	// means HandshakeTimeoutEnv or HandshakeTimeout.
	HandshakeTimeout time.Duration
	// Bind is the IP address lmgrd and its vendor daemons listen on; ""
	// means every address.
	Bind string
	// DataDir is where the vendor daemons of a triad keep their Raft log
	// and snapshots; "" means DefaultDataDir (lmgrd_triad.go).
	DataDir string
}

// Lmgrd is a running license manager daemon.
type Lmgrd struct {
	cfg      Config
	log      *DebugLog
	cs       *connServer // the TCP port and the admin socket (adminsock.go)
	server   *licfile.Server
	host     string       // the name lmstat shows for this server
	lic      licenseIndex // what it serves of its license files
	identity protocol.Identity
	runID    uint64
	limit    *connLimit
	triad    *lmgrdTriad // nil unless the file has three SERVER lines

	mu      sync.Mutex
	vendors []*child
	byName  map[string]*child
	// stopped is set, under mu, once Serve stops the vendor daemons:
	// from then on none is added or started (see child.start).
	stopped  atomic.Bool
	shutdown chan struct{} // closed by an lmdown of everything
	downOnce sync.Once
}

// ConfigError is a license file problem that keeps lmgrd from starting,
// worded as the manual's log messages ("host: Not a valid server host,
// exiting"). It does not unwrap to its FlexLM error, so that lmgrd exits
// with status 1 rather than 256+code.
type ConfigError struct {
	Msg string
	Err *lmerr.Error // the FlexLM error behind it, if any
	// Status is lmgrd's exit status for it; 0 means 1. A license file
	// that cannot be found is 255, as lmutil's -1.
	Status int
}

func (e *ConfigError) Error() string { return e.Msg }

// New reads the license files, checks that a SERVER line names this host
// and binds the lmgrd port, retrying a busy port for cfg.BindRetry. It
// does not start vendor daemons: Serve does.
func New(ctx context.Context, cfg Config) (*Lmgrd, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = NewDebugLog(io.Discard, "lmgrd", cfg.Now)
	}
	if cfg.BindRetryEvery <= 0 {
		cfg.BindRetryEvery = DefaultBindRetryEvery
	}
	if cfg.BindRetry == 0 {
		cfg.BindRetry = DefaultBindRetry
	}
	if cfg.LockDir == "" {
		cfg.LockDir = DefaultLockDir(os.Getenv)
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	cfg.HandshakeTimeout = handshakeTimeout(cfg.HandshakeTimeout)
	l := &Lmgrd{
		cfg:      cfg,
		log:      cfg.Log,
		byName:   map[string]*child{},
		shutdown: make(chan struct{}),
		runID:    randomID(),
		limit:    newConnLimit(cfg.MaxConnections, cfg.Log),
	}
	l.cs = newConnServer(cfg.Log, l.limit, cfg.Trust, cfg.HandshakeTimeout)
	if len(cfg.LicenseFiles) == 0 {
		e := lmerr.New(lmerr.NoConfFile, lmerr.MinorLmgrdNoLicenseFile)
		return nil, &ConfigError{Msg: e.Error() + "\nNo license file given", Err: e, Status: e.ExitStatus()}
	}
	if os.Geteuid() == 0 {
		for _, line := range rootWarning {
			l.log.Printf("%s", line)
		}
	}
	l.log.Printf("License file(s): %s", strings.Join(cfg.LicenseFiles, " "))
	files, err := LoadLicenses(cfg.LicenseFiles, l.log)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			// As lmutil says it: the error, then the path it tried.
			e := lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorLmgrdOpenLicenseFile, err, "License path: "+strings.Join(cfg.LicenseFiles, ":"))
			l.log.Printf("Cannot open license file %s: %s", pe.Path, SystemError(err))
			msg := e.Error() + "\nLicense path: " + strings.Join(cfg.LicenseFiles, ":")
			if len(cfg.LicenseFiles) > 1 {
				msg += "\n" + pe.Path + ": " + SystemError(err)
			}
			return nil, &ConfigError{Msg: msg, Err: e, Status: e.ExitStatus()}
		}
		l.log.Printf("Cannot read license file: %v", err)
		return nil, &ConfigError{Msg: err.Error(), Err: lmerr.New(lmerr.BadFile, lmerr.MinorLmgrdSyntax)}
	}
	l.lic = indexLicenses(files)
	srv, err := l.findServer(ctx, files, &cfg)
	if err != nil {
		logUnknownHosts(ctx, l.log, files)
		for _, line := range strings.Split(err.Error(), "\n") {
			l.log.Printf("%s", line)
		}
		if bad := badLines(cfg.LicenseFiles); bad != "" {
			// A SERVER line that did not parse is why there is none:
			// the terminal hears that too, not only the debug log.
			var ce *ConfigError
			if errors.As(err, &ce) {
				return nil, &ConfigError{Msg: bad + "\n" + ce.Msg, Err: ce.Err, Status: ce.Status}
			}
		}
		return nil, err
	}
	l.server = srv
	l.host = srv.Host
	if strings.EqualFold(l.host, "this_host") || l.host == "" {
		l.host = cfg.Hostname
	}
	l.identity = protocol.Identity{User: currentUser(), Host: l.host, PID: os.Getpid(), Program: "lmgrd"}
	if len(vendorLines(files)) == 0 {
		l.log.Printf("No DAEMON lines, exiting")
		return nil, &ConfigError{Msg: "No DAEMON lines, exiting"}
	}
	// A lock directory the vendor daemons cannot use is lmgrd's error,
	// said once at start, not each vendor daemon's.
	if err := PrepareLockDir(cfg.LockDir); err != nil {
		l.log.Printf("%v", err)
		return nil, &ConfigError{Msg: err.Error()}
	}
	l.cs.ln = cfg.Listener
	if l.cs.ln == nil {
		l.cs.ln, err = l.bind(ctx, srv.Port)
		if err != nil {
			return nil, err
		}
	}
	l.log.Printf("lmgrd tcp-port %d", l.Port())
	if l.Port() != 0 && !l.triadSharesPort() {
		// A name someone else holds does not stop licensing (adminsock.go).
		l.cs.adminLn = listenAdmin(protocol.AdminSocket("lmgrd", l.Port()), cfg.AdminSocketRetry, l.log)
	}
	if cfg.Trust.AdminOnly {
		l.log.Printf("Admin commands restricted to members of group %s", cfg.Trust.adminGroupName())
	}
	return l, nil
}

// FindServerLine returns the SERVER line that names this host, as
// licfile.IsThisHost decides (this_host, localhost, a loopback address,
// the host name or its first label, or an address of this host), with a
// hostid that matches m (ANY matches). When no line names the host, a
// line whose specific hostid matches this machine is taken (the host was
// renamed). The errors are the manual's: "host: Not a
// valid server host, exiting" and "host: Wrong hostid, exiting".
func FindServerLine(files []*licfile.File, hostname string, m *licfile.Machine) (*licfile.Server, error) {
	var servers []*licfile.Server
	for _, f := range files {
		servers = append(servers, f.Servers...)
	}
	if len(servers) == 0 {
		return nil, &ConfigError{Msg: "No SERVER lines in license file, exiting", Err: lmerr.New(lmerr.NoServerLines, lmerr.MinorLmgrdNoServerLines)}
	}
	var wrongID *licfile.Server
	me := machineNamed(m, hostname)
	for _, s := range servers {
		if !licfile.IsThisHost(s.Host, me) {
			continue
		}
		if s.HostID.Matches(m) {
			return s, nil
		}
		if wrongID == nil {
			wrongID = s
		}
	}
	if wrongID != nil {
		// The manual's line, after what an administrator needs to fix
		// it: which line, which hostid it wants, and this host's.
		hint := fmt.Sprintf("%s:%d: SERVER line for host %s is locked to hostid %s, but this host's is %s (lmhostid prints this host's hostids)",
			wrongID.Pos.File, wrongID.Pos.Line, wrongID.Host, wrongID.HostID, ownHostID(wrongID.HostID.Type, m))
		return nil, &ConfigError{Msg: hint + fmt.Sprintf("\n%s: Wrong hostid, exiting", wrongID.Host), Err: lmerr.New(lmerr.NotThisHost, lmerr.MinorLmgrdWrongHostid)}
	}
	for _, s := range servers {
		switch s.HostID.Type {
		case licfile.HostIDAny, licfile.HostIDDemo, licfile.HostIDID, 0:
			continue
		}
		if s.HostID.Matches(m) {
			return s, nil
		}
	}
	s := servers[0]
	hint := fmt.Sprintf("%s:%d: SERVER line names host %s, which is not this host (%s): use this_host or this host's name", s.Pos.File, s.Pos.Line, s.Host, hostname)
	return nil, &ConfigError{Msg: hint + fmt.Sprintf("\n%s: Not a valid server host, exiting", s.Host), Err: lmerr.New(lmerr.NotThisHost, lmerr.MinorLmgrdNotServerHost)}
}

// badLines are the first bad lines of the license files, one a line
// (file:line:column: message), "" when every line parsed.
func badLines(paths []string) string {
	const most = 5
	var out []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		_, perr := licfile.Parse(f, p)
		f.Close()
		var list licfile.ErrorList
		if errors.As(perr, &list) {
			for _, e := range list {
				out = append(out, e.Error())
			}
		} else if perr != nil {
			out = append(out, perr.Error())
		}
	}
	if len(out) > most {
		out = append(out[:most], fmt.Sprintf("(%d more bad lines in the debug log)", len(out)-most))
	}
	return strings.Join(out, "\n")
}

// ownHostID is this machine's hostid of kind t, as lmhostid prints it;
// "unknown" when it has none of that kind.
func ownHostID(t licfile.HostIDType, m *licfile.Machine) string {
	if m == nil {
		return "unknown"
	}
	var id string
	switch t {
	case licfile.HostIDEther:
		id = strings.Join(m.Ethers, " or ")
	case licfile.HostIDLong, licfile.HostIDDecimal:
		id = m.Long
	case licfile.HostIDHostname:
		if m.Hostname != "" {
			id = "HOSTNAME=" + m.Hostname
		}
	case licfile.HostIDUser:
		if m.User != "" {
			id = "USER=" + m.User
		}
	case licfile.HostIDDisplay:
		if m.Display != "" {
			id = "DISPLAY=" + m.Display
		}
	case licfile.HostIDInternet:
		if len(m.IPs) > 0 {
			id = "INTERNET=" + strings.Join(m.IPs, " or INTERNET=")
		}
	}
	if id == "" {
		return "unknown"
	}
	return id
}

// machineNamed is m with hostname as its name, for licfile.IsThisHost:
// lmgrd's host name may be given apart from the machine it probed.
func machineNamed(m *licfile.Machine, hostname string) *licfile.Machine {
	if m != nil && (hostname == "" || m.Hostname == hostname) {
		return m
	}
	var named licfile.Machine
	if m != nil {
		named = *m
	}
	named.Hostname = hostname
	return &named
}

// vendorLines returns the DAEMON/VENDOR lines of files, one per vendor
// name, first one wins.
func vendorLines(files []*licfile.File) []*licfile.Vendor {
	var out []*licfile.Vendor
	seen := map[string]bool{}
	for _, f := range files {
		for _, v := range f.Vendors {
			if !seen[v.Name] {
				seen[v.Name] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// licenseIndex is what lmgrd keeps of its license files: the vendor
// lines and which vendors serve each feature, copied out of the parsed
// files, so that the files (every line, and the text the lines are cut
// from: hundreds of megabytes for 200,000 lines) are collected once read.
type licenseIndex struct {
	vendors []*licfile.Vendor // vendorLines, detached from the files' text
	// servedBy lists, for each feature name, the vendors of the lines
	// that serve it (its FEATURE lines, and PACKAGE lines with it as a
	// component), in the order of the files and of their lines.
	servedBy map[string][]string
}

func indexLicenses(files []*licfile.File) licenseIndex {
	names := map[string]string{} // one copy of each vendor name
	name := func(s string) string {
		if c, ok := names[s]; ok {
			return c
		}
		c := strings.Clone(s)
		names[c] = c
		return c
	}
	n := 0
	for _, f := range files {
		n += len(f.Features)
	}
	ix := licenseIndex{servedBy: make(map[string][]string, n)}
	add := func(feature, vendor string) {
		vs, ok := ix.servedBy[feature]
		if slices.Contains(vs, vendor) {
			return
		}
		if !ok {
			feature = strings.Clone(feature)
		}
		ix.servedBy[feature] = append(vs, name(vendor))
	}
	for _, f := range files {
		for _, ft := range f.Features {
			add(ft.Name, ft.Vendor)
		}
		for _, pk := range f.Packages {
			for _, c := range pk.Components {
				add(c.Name, pk.Vendor)
			}
		}
	}
	for _, v := range vendorLines(files) {
		d := *v
		d.Raw, d.Keyword, d.Name = strings.Clone(v.Raw), strings.Clone(v.Keyword), name(v.Name)
		d.Path, d.Options = strings.Clone(v.Path), strings.Clone(v.Options)
		ix.vendors = append(ix.vendors, &d)
	}
	return ix
}

// bind listens on port (the first free of 27000-27009 when 0), retrying
// while the address is in use for at most BindRetry.
func (l *Lmgrd) bind(ctx context.Context, port int) (net.Listener, error) {
	ports := []int{port}
	if port == 0 {
		ports = ports[:0]
		for p := licfile.DefaultPortFirst; p <= licfile.DefaultPortLast; p++ {
			ports = append(ports, p)
		}
	}
	// No TCP keepalive: a client asks where its vendor daemon is and
	// hangs up, an admin tool asks for a status or a shutdown, and a
	// connection left idle is dropped after Conn's read timeout anyway,
	// so the socket options keepalive sets on every accepted connection
	// would buy nothing.
	lc := net.ListenConfig{KeepAlive: -1}
	deadline := time.Now().Add(l.cfg.BindRetry)
	for {
		var lastErr error
		for _, p := range ports {
			ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(l.cfg.Bind, strconv.Itoa(p)))
			if err == nil {
				return ln, nil
			}
			lastErr = err
			if !errors.Is(err, syscall.EADDRINUSE) {
				where := fmt.Sprintf("port %d", p)
				if l.cfg.Bind != "" {
					where = l.cfg.Bind + " " + where
				}
				l.log.Printf("Cannot listen on %s: %s", where, SystemError(err))
				return nil, &ConfigError{Msg: fmt.Sprintf("cannot listen on %s: %s", where, SystemError(err)), Err: lmerr.FromOS(lmerr.SocketFailed, lmerr.MinorLmgrdListen, err)}
			}
		}
		if !time.Now().Before(deadline) {
			l.log.Printf("Failed to open the TCP port number in the license.")
			return nil, &ConfigError{
				Msg: fmt.Sprintf("cannot bind port %s: address in use (gave up after %s)", portList(ports), l.cfg.BindRetry),
				Err: lmerr.FromOS(lmerr.SocketFailed, lmerr.MinorLmgrdPortInUse, lastErr),
			}
		}
		// Say at once, and at every retry, which port is busy: on the
		// terminal as well as in the debug log.
		busy := fmt.Sprintf("port %s is in use by another process; retrying until %s", portList(ports), deadline.Format("15:04:05"))
		l.log.Printf("Retrying socket bind (address in use): %s", busy)
		fmt.Fprintf(l.cfg.Stderr, "lmgrd: %s\n", busy)
		t := time.NewTimer(min(l.cfg.BindRetryEvery, max(time.Until(deadline), time.Millisecond)))
		select {
		case <-ctx.Done():
			t.Stop()
			l.log.Printf("Stopped while port %s was in use", portList(ports))
			return nil, &ConfigError{Msg: fmt.Sprintf("stopped while port %s was in use", portList(ports)), Err: lmerr.FromOS(lmerr.SocketFailed, lmerr.MinorLmgrdStoppedPortInUse, lastErr)}
		case <-t.C:
		}
	}
}

// SystemError is the operating system's words for err ("no such file or
// directory"), without the Go call and path that an *os.PathError or a
// *net.OpError wraps around them.
func SystemError(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

func portList(ports []int) string {
	if len(ports) == 1 {
		return strconv.Itoa(ports[0])
	}
	return fmt.Sprintf("%d-%d", ports[0], ports[len(ports)-1])
}

// Addr is lmgrd's listening address.
func (l *Lmgrd) Addr() net.Addr { return l.cs.ln.Addr() }

// Port is lmgrd's TCP port.
func (l *Lmgrd) Port() int {
	if a, ok := l.cs.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Host is the server host name lmstat shows.
func (l *Lmgrd) Host() string { return l.host }

// Serve starts the vendor daemons and answers clients until ctx ends or
// an lmdown stops everything; then it stops accepting, stops the vendor
// daemons (none is started again after that, by a restart, an lmreread
// or a new DAEMON line), closes the connections still open and waits for
// their handlers. The caller logs why it stopped (EXITING DUE TO SIGNAL
// 15) before cancelling.
func (l *Lmgrd) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.cs.handle = func(c *protocol.Conn, sl slot) { l.serveConn(ctx, c, sl) }
	l.log.Printf("Starting vendor daemons ... ")
	for _, vl := range l.lic.vendors {
		l.addVendor(ctx, vl)
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-l.shutdown:
		}
		l.cs.stopAccepting()
	}()
	l.cs.serve()
	l.stopVendors()
	l.cs.closeConns()
	return l.cs.wait(context.Background())
}

// RequestShutdown stops lmgrd and every vendor daemon, as lmdown does.
func (l *Lmgrd) RequestShutdown() {
	l.downOnce.Do(func() { close(l.shutdown) })
}

// addVendor supervises the vendor daemon of vl, unless it is known
// already or lmgrd has stopped its vendor daemons.
func (l *Lmgrd) addVendor(ctx context.Context, vl *licfile.Vendor) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped.Load() || l.byName[vl.Name] != nil {
		return
	}
	c := newChild(l, vl)
	l.vendors = append(l.vendors, c)
	l.byName[vl.Name] = c
	c.start(ctx)
}

func (l *Lmgrd) vendorList() []*child {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*child(nil), l.vendors...)
}

// stopVendors shuts every vendor daemon down, for good, and waits for
// them.
func (l *Lmgrd) stopVendors() {
	l.mu.Lock()
	l.stopped.Store(true)
	vendors := append([]*child(nil), l.vendors...)
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range vendors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop()
		}()
	}
	wg.Wait()
}

// serveConn answers one client of lmgrd: Locate, status and admin
// requests; it holds sl of the connection limit.
func (l *Lmgrd) serveConn(ctx context.Context, c *protocol.Conn, sl slot) {
	hello, err := protocol.ServerHandshake(c) // within the handshake timeout
	if err != nil {
		return
	}
	c.ReadTimeout = 0 // protocol.DefaultReadTimeout for requests
	if e := l.limit.admit(hello, c.NetConn(), sl); e != nil {
		_ = c.Send(protocol.ErrorOf(e))
		return
	}
	if hello.Role == protocol.RoleVendorControl {
		_ = c.Send(protocol.ErrorOf(lmerr.New(lmerr.NotSupported, lmerr.MinorLmgrdVendorControl)))
		return
	}
	mine := &protocol.Hello{
		Version:  protocol.Version,
		Role:     protocol.RoleServer,
		Identity: l.identity,
		Daemon:   "lmgrd",
		Software: l.cfg.Software,
		RunID:    l.runID,
	}
	next, err := pipelined(c)
	if err != nil {
		// The Hello was good: answer it, as to a client that sent the
		// bad frame after it, and close.
		_ = c.Send(mine)
		return
	}
	if ho, ok := next.(*protocol.LocateHandoff); ok {
		// A client asking for its connection to be handed over to the
		// vendor daemon: when it was, lmgrd's part is over.
		reply, handed := l.handOff(c, ho)
		if c.SendAll([]protocol.Message{mine, reply}) != nil || handed {
			return
		}
		next = nil
	} else if loc, ok := next.(*protocol.Locate); ok {
		// The usual client: its Locate came in the same write as its
		// Hello, and lmgrd's Hello and answer go back in one write too.
		if c.SendAll([]protocol.Message{mine, l.locateReply(loc)}) != nil {
			return
		}
		next = nil
	} else if c.Send(mine) != nil {
		return
	}
	for {
		m := next
		next = nil
		if m == nil {
			if m, err = c.Recv(); err != nil {
				return
			}
		}
		var reply error
		switch m := m.(type) {
		case *protocol.Locate:
			reply = l.locate(c, m)
		case *protocol.LocateHandoff:
			r, handed := l.handOff(c, m)
			if reply = c.Send(r); handed {
				return
			}
		case *protocol.ServerStatusRequest:
			reply = l.status(c)
		case *protocol.LicenseFileRequest:
			reply = l.licenseText(c)
		case *protocol.Shutdown:
			reply = l.lmdown(ctx, c, hello, m)
		case *protocol.Reread:
			reply = l.lmreread(ctx, c, hello, m)
		case *protocol.Heartbeat:
			reply = c.Send(&protocol.HeartbeatAck{Seq: m.Seq})
		default:
			return // a protocol violation: close
		}
		if reply != nil {
			return
		}
	}
}

// pipelined returns the request a client sent behind its Hello without
// waiting for the server's, when it is already there; nil when it is not
// (a client that waits for the server's Hello first, or an admin tool).
// An error is a request that could not be read: the caller answers the
// Hello and closes.
func pipelined(c *protocol.Conn) (protocol.Message, error) {
	timeout := c.ReadTimeout
	c.ReadTimeout = time.Nanosecond // look, do not wait
	err := c.Wait()
	c.ReadTimeout = timeout
	if err != nil {
		return nil, nil // nothing yet; a broken connection fails the next read
	}
	return c.Recv()
}

func (l *Lmgrd) locate(c *protocol.Conn, m *protocol.Locate) error {
	return c.Send(l.locateReply(m))
}

// handOff answers a LocateHandoff. When the vendor daemon is up and this
// system can, lmgrd passes the client's connection to it over their
// control channel and answers HandedOff (true): the connection is the
// vendor daemon's from then on, lmgrd writes that answer last and closes
// its own descriptor. Otherwise it answers as to Locate (false). A
// client that sent more behind its request is not handed over, so that
// nothing it sent stays behind in lmgrd's buffer.
func (l *Lmgrd) handOff(c *protocol.Conn, m *protocol.LocateHandoff) (protocol.Message, bool) {
	r, ch := l.locateChild(&protocol.Locate{Vendor: m.Vendor, Feature: m.Feature})
	lr, ok := r.(*protocol.LocateReply)
	if !ok || !protocol.CanPassConns || c.Buffered() > 0 {
		return r, false
	}
	ctrl := ch.control()
	if ctrl == nil {
		return r, false
	}
	if err := ctrl.SendConn(&protocol.HandedOff{Vendor: lr.Vendor}, c.NetConn()); err != nil {
		l.log.Limited("handoff", "Cannot hand a client over to %s: %v", lr.Vendor, err)
		return r, false
	}
	return &protocol.HandedOff{Vendor: lr.Vendor}, true
}

// locateReply answers a Locate: where the vendor daemon listens, or why
// the client cannot use it.
func (l *Lmgrd) locateReply(m *protocol.Locate) protocol.Message {
	r, _ := l.locateChild(m)
	return r
}

// locateChild answers a Locate, with the vendor daemon it names when the
// answer is a LocateReply (nil otherwise).
func (l *Lmgrd) locateChild(m *protocol.Locate) (protocol.Message, *child) {
	vendor := m.Vendor
	if vendor == "" {
		vendor = l.vendorOf(m.Feature)
		if vendor == "" {
			return protocol.ErrorOf(lmerr.New(lmerr.NoFeature, lmerr.MinorLmgrdNoFeature, "Feature:       "+m.Feature)), nil
		}
	}
	l.mu.Lock()
	ch := l.byName[vendor]
	l.mu.Unlock()
	if ch == nil {
		return protocol.ErrorOf(lmerr.VendorDownError(vendor, lmerr.MinorLmgrdUnknownVendor)), nil
	}
	// A vendor daemon that lmgrd is restarting is waited for: answering
	// -97 would send its clients into their reconnect backoff, and
	// thousands of them would come back long after it is up.
	st := ch.waitUp(restartHold)
	if !st.Up {
		return protocol.ErrorOf(lmerr.VendorDownError(vendor, lmerr.MinorVendorDown)), nil
	}
	return &protocol.LocateReply{Vendor: vendor, Port: st.Port}, ch
}

// restartHold is the longest lmgrd holds a client's request for a
// vendor daemon that it is starting or restarting, within the client
// package's wait for lmgrd's answer (DefaultDialTimeout).
const restartHold = 3 * time.Second

// vendorOf names the vendor daemon that serves feature: the vendor of the
// first license line for it (or of a PACKAGE line that has it as a
// component), or the only vendor daemon there is; "" when neither.
func (l *Lmgrd) vendorOf(feature string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range l.lic.servedBy[feature] {
		if l.byName[v] != nil {
			return v
		}
	}
	if len(l.vendors) == 1 {
		return l.vendors[0].name
	}
	return ""
}

func (l *Lmgrd) status(c *protocol.Conn) error {
	if err := c.Send(&protocol.ServerStatus{
		Host:         l.host,
		Port:         l.Port(),
		Version:      l.cfg.Software,
		Master:       l.isMaster(),
		LicenseFiles: l.cfg.LicenseFiles,
	}); err != nil {
		return err
	}
	for _, ch := range l.vendorList() {
		if err := c.Send(ch.status()); err != nil {
			return err
		}
	}
	return c.Send(&protocol.End{})
}

// lmdown answers a Shutdown: of one vendor daemon, once it has exited
// (or lmgrd itself is stopping, ctx), or of lmgrd and everything.
func (l *Lmgrd) lmdown(ctx context.Context, c *protocol.Conn, hello *protocol.Hello, m *protocol.Shutdown) error {
	if e := l.cfg.Trust.Authorize(m, c.NetConn(), hello.Identity, l.log); e != nil {
		return c.Send(protocol.ErrorOf(e))
	}
	if m.Vendor != "" {
		l.mu.Lock()
		ch := l.byName[m.Vendor]
		l.mu.Unlock()
		if ch == nil {
			return c.Send(protocol.ErrorOf(lmerr.VendorDownError(m.Vendor, lmerr.MinorLmgrdDownNoVendor)))
		}
		l.log.Printf("SHUTDOWN request from %s at node %s for vendor daemon %s", hello.Identity.User, hello.Identity.Host, m.Vendor)
		ch.stopContext(ctx)
		return c.Send(&protocol.OK{Count: 1})
	}
	l.log.Printf("SHUTDOWN request from %s at node %s", hello.Identity.User, hello.Identity.Host)
	err := c.Send(&protocol.OK{Count: 1})
	l.log.Printf("EXITING DUE TO SIGNAL 15")
	l.RequestShutdown()
	return err
}

func (l *Lmgrd) lmreread(ctx context.Context, c *protocol.Conn, hello *protocol.Hello, m *protocol.Reread) error {
	if e := l.cfg.Trust.Authorize(m, c.NetConn(), hello.Identity, l.log); e != nil {
		return c.Send(protocol.ErrorOf(e))
	}
	// The vendor daemons read the same files, also for lmreread -vendor:
	// a license or options file they would refuse is refused here, where
	// lmreread hears why (file:line: message (code)).
	// The files are parsed once, strictly, and kept when all of them
	// are reread.
	files, r := readForReread(l.cfg.LicenseFiles, m.Vendor)
	if r != nil {
		l.log.Printf("%s", r.Log)
		return c.Send(protocol.ErrorOf(r.Err))
	}
	if m.Vendor == "" {
		logUnservedVendors(files, l.log)
	}
	n := 0
	if m.Vendor == "" {
		lic := indexLicenses(files)
		l.mu.Lock()
		l.lic = lic
		l.mu.Unlock()
		l.log.Printf("Rereading license file...")
		for _, vl := range lic.vendors {
			l.mu.Lock()
			_, known := l.byName[vl.Name]
			l.mu.Unlock()
			if !known {
				l.addVendor(ctx, vl)
				n++
			}
		}
	}
	for _, ch := range l.vendorList() {
		if m.Vendor != "" && ch.name != m.Vendor {
			continue
		}
		if ch.reread(ctx) {
			n++
		}
	}
	if m.Vendor != "" && n == 0 {
		return c.Send(protocol.ErrorOf(lmerr.VendorDownError(m.Vendor, lmerr.MinorLmgrdRereadNoVendor)))
	}
	err := c.Send(&protocol.OK{Count: n})
	if m.Vendor == "" {
		// What reading the files took goes back, as after start-up:
		// RSS stays where one reading puts it.
		ReleaseMemory()
	}
	return err
}
