// Package httpstatus is lmgrd's read-only HTTP server (lmgrd -http
// ADDR): a status page at /, the JSON status of package status at
// /api/v1/status (its schema at /api/v1/schema), and Prometheus metrics
// at /metrics.
//
// It asks lmgrd for the status the way lmstat does, over an admin
// connection to lmgrd's own port on loopback and from there to each
// vendor daemon: the status streams are the ones lmstat -a reads, so
// the page, the JSON and lmstat never disagree, the vendor daemons need
// nothing new, and a status read takes the same locks, bounds and
// connection limits as an lmstat. (The control channel between lmgrd
// and a vendor daemon carries lmreread and handed-over client
// connections one way and log lines the other; a status request on it
// would be a second, untested path into every vendor daemon's seat
// tables for what the admin path already serves.) Reads are shared: one read serves
// every request for Config.CacheFor, and requests that arrive while a
// read is running wait for it rather than starting their own, so a
// flood of HTTP requests is at most one lmstat a second for the license
// servers.
//
// The metrics, all gauges read from the live status on each scrape:
// golm_server_up{server}, golm_vendor_daemon_up{vendor},
// golm_feature_licenses_issued, _in_use, _queued and _reserved
// {vendor,feature}, golm_feature_user_licenses_in_use
// {vendor,feature,user} (at most Config.MaxUserSeries series, 1,000 by
// default, in label order; the seats of the users past that are summed
// per feature under user="_other"), golm_license_expiry_timestamp_seconds
// {vendor,feature,version,expiry,line} (none for permanent lines), and
// golm_build_info{version,goversion}; besides the Go runtime's and the
// process's (go_*, process_*). From each vendor daemon's counters
// (VENDOR_STATS, VENDOR_STATS_EXT), all {vendor}: golm_checkouts_total,
// golm_checkouts_queued_total, golm_checkout_denials_total{code},
// golm_checkout_duration_seconds and golm_checkout_queue_wait_seconds
// (histograms), golm_connected_clients, golm_report_log_records_total
// and golm_report_log_write_errors_total (with a report log only), and
// golm_triad_role, golm_triad_term and golm_triad_quorum (in a triad
// only).
//
// The page draws each feature's usage history (USAGE_HISTORY: the seats
// in use of the last day and week, which the vendor daemon keeps from
// its report log) as inline SVG charts, server-rendered like the rest.
//
// The server is hardened for a network that is not trusted: every
// request and response is bounded in time and size, connections are
// capped, only GET and HEAD are served, and responses carry a strict
// Content-Security-Policy (no inline script or style), nosniff,
// no-store and no-referrer.
package httpstatus

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golm/lmutil/server/status"
)

// Defaults of Config.
const (
	DefaultMaxConnections    = 64
	DefaultCacheFor          = time.Second
	DefaultStatusTimeout     = 10 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 8 << 10
	DefaultMaxUserSeries     = 1000
	DefaultRefresh           = 10 * time.Second
)

// Conn is a connection to lmgrd that status can be read from.
type Conn interface {
	status.Source
	Close() error
}

// Config configures the HTTP server.
type Config struct {
	// Listener is where to serve (see Listen).
	Listener net.Listener
	// Dial connects to lmgrd for one status read.
	Dial func(ctx context.Context) (Conn, error)
	// Name is the server's port@host, as lmstat names it.
	Name string
	// Members, for a member of a three-server triad, are the members'
	// port@host in SERVER-line order, Self the index of this lmgrd's, and
	// DialMember connects to member i's lmgrd (Dial connects to Self).
	// The status then shows the members, as lmstat -a does, and the rest
	// as the member that answers for the triad sees it; /metrics has this
	// member's own counters. Nil Members: one server.
	Members    []string
	Self       int
	DialMember func(ctx context.Context, i int) (Conn, error)
	// Software is golm's version, for golm_build_info and the page.
	Software string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone of the page and of expiry instants; nil
	// means time.Local.
	Location *time.Location
	// Logf logs the server's own errors; nil discards them.
	Logf func(format string, args ...any)
	// LogLimited, when not nil, logs what net/http says about clients
	// (a malformed request, say), rate-limited per key, since any client
	// can cause it; nil means Logf.
	LogLimited func(key, format string, args ...any)

	// MaxConnections caps open HTTP connections; more wait in the
	// listen backlog. 0 means DefaultMaxConnections.
	MaxConnections int
	// CacheFor is how long one status read answers requests.
	CacheFor time.Duration
	// StatusTimeout bounds one status read.
	StatusTimeout time.Duration
	// The http.Server bounds; zero values take the defaults above.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	// MaxUserSeries caps the golm_feature_user_licenses_in_use series of
	// one scrape; the users past it are summed under user="_other".
	MaxUserSeries int
	// Refresh is how often the page refreshes itself; a page's
	// ?refresh=seconds overrides it.
	Refresh time.Duration
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.CacheFor, DefaultCacheFor)
	set(&c.StatusTimeout, DefaultStatusTimeout)
	set(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&c.ReadTimeout, DefaultReadTimeout)
	set(&c.WriteTimeout, DefaultWriteTimeout)
	set(&c.IdleTimeout, DefaultIdleTimeout)
	set(&c.Refresh, DefaultRefresh)
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxUserSeries <= 0 {
		c.MaxUserSeries = DefaultMaxUserSeries
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.LogLimited == nil {
		logf := c.Logf
		c.LogLimited = func(_, format string, args ...any) { logf(format, args...) }
	}
}

// ParseAddr reads lmgrd -http's ADDR: a bare port means 127.0.0.1:PORT
// (the status is not for every network by default), ":PORT" every
// address, and host:port that host.
func ParseAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty address")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 65535 {
			return "", fmt.Errorf("bad port %q", s)
		}
		return net.JoinHostPort("127.0.0.1", s), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("bad address %q: want port, :port or host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("bad port in %q", s)
	}
	return net.JoinHostPort(host, port), nil
}

// Listen binds lmgrd -http's ADDR (see ParseAddr).
func Listen(addr string) (net.Listener, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	return net.Listen("tcp", a)
}

// Server is the running HTTP server.
type Server struct {
	cfg     Config
	srv     *http.Server
	ln      net.Listener
	metrics http.Handler
	pages   *pages

	ctx    context.Context // ends at Shutdown; status reads run in it
	cancel context.CancelFunc

	mu       sync.Mutex
	last     *status.Status
	lastAt   time.Time
	inflight chan struct{}
}

// New prepares the server on cfg.Listener; Serve serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Listener == nil || cfg.Dial == nil {
		return nil, errors.New("httpstatus: Listener and Dial are required")
	}
	cfg.defaults()
	s := &Server{cfg: cfg, ln: limitListener(cfg.Listener, cfg.MaxConnections)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var err error
	if s.pages, err = newPages(); err != nil {
		return nil, err
	}
	s.metrics = newMetricsHandler(s)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.page)
	mux.HandleFunc("/fragment", s.fragment)
	mux.HandleFunc("/api/v1/status", s.statusJSON)
	mux.HandleFunc("/api/v1/schema", s.schema)
	mux.Handle("/metrics", s.metrics)
	mux.Handle("/assets/", assetHandler())
	s.srv = &http.Server{
		Handler:           secure(mux),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		// net/http's own complaints go to lmgrd's log, not to stderr.
		ErrorLog: log.New(logfWriter(cfg.LogLimited), "HTTP status: ", 0),
	}
	return s, nil
}

// Addr is the address served.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until Shutdown; it returns nil after a Shutdown.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, ends status reads and waits for the open
// requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	return s.srv.Shutdown(ctx)
}

// Status is the current status: the last read when it is younger than
// CacheFor, else a new read shared with every request that asks
// meanwhile. It is nil only when ctx ends first.
func (s *Server) Status(ctx context.Context) *status.Status {
	s.mu.Lock()
	if s.last != nil && s.cfg.Now().Sub(s.lastAt) < s.cfg.CacheFor {
		st := s.last
		s.mu.Unlock()
		return st
	}
	if ch := s.inflight; ch != nil {
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
		s.mu.Lock()
		st := s.last
		s.mu.Unlock()
		return st
	}
	ch := make(chan struct{})
	s.inflight = ch
	s.mu.Unlock()
	st := s.read()
	s.mu.Lock()
	s.last, s.lastAt, s.inflight = st, s.cfg.Now(), nil
	s.mu.Unlock()
	close(ch)
	return st
}

// read asks lmgrd for its status once. It runs in the server's context,
// not a request's, since other requests wait for it too.
func (s *Server) read() *status.Status {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.StatusTimeout)
	defer cancel()
	doc := status.New(s.cfg.Now().UTC().Truncate(time.Second))
	if len(s.cfg.Members) > 0 && s.cfg.DialMember != nil {
		dial := func(ctx context.Context, i int) (status.Conn, error) {
			if i == s.cfg.Self {
				return s.cfg.Dial(ctx)
			}
			return s.cfg.DialMember(ctx, i)
		}
		srv := status.ReadTriad(ctx, s.cfg.Members, dial, s.cfg.Location, s.cfg.Self)
		if srv.Error != nil {
			s.cfg.Logf("HTTP status: cannot ask the triad: %s", srv.Error.Message)
		}
		doc.Servers = append(doc.Servers, srv)
		return doc
	}
	c, err := s.cfg.Dial(ctx)
	if err != nil {
		s.cfg.Logf("HTTP status: cannot ask lmgrd: %v", err)
		doc.Servers = append(doc.Servers, &status.Server{Name: s.cfg.Name, Error: status.ErrorOf(err), LicenseFiles: []string{}, Vendors: []*status.Vendor{}})
		return doc
	}
	defer c.Close()
	srv := status.Read(ctx, s.cfg.Name, c, s.cfg.Location)
	status.ReadStats(ctx, srv, c) // the counters /metrics shows
	doc.Servers = append(doc.Servers, srv)
	return doc
}

// logfWriter writes each line to a rate-limited log.
type logfWriter func(key, format string, args ...any)

func (f logfWriter) Write(p []byte) (int, error) {
	f("http", "%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// secure sets the headers every response carries and refuses methods
// other than GET and HEAD: nothing here changes anything.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	st := s.Status(r.Context())
	if st == nil {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err := writeJSON(w, st, r.URL.Query().Has("pretty")); err != nil {
		s.cfg.Logf("HTTP status: %v", err)
	}
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	w.Write(status.SchemaJSON())
}

// limitListener accepts at most n connections at a time; Accept waits
// while n are open, leaving the rest in the kernel's backlog.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limited{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limited struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limited) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limited) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// refreshOf is the page's refresh interval: ?refresh=seconds, between 1
// and 3600, else the configured one; 0 turns it off.
func (s *Server) refreshOf(r *http.Request) int {
	if v := r.URL.Query().Get("refresh"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return min(n, 3600)
		}
	}
	return int(s.cfg.Refresh / time.Second)
}
