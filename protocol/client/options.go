package client

import (
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// DefaultHeartbeat is the heartbeat interval when neither WithHeartbeat
// nor $GOLM_HEARTBEAT_INTERVAL sets one.
const DefaultHeartbeat = 30 * time.Second

// HeartbeatEnv names the environment variable holding the heartbeat
// interval: a Go duration ("2s") or a number of seconds.
const HeartbeatEnv = "GOLM_HEARTBEAT_INTERVAL"

// LossTimeoutEnv names the environment variable holding the loss
// timeout (see WithLossTimeout): a Go duration ("2m") or a number of
// seconds; 0 or "never" keeps trying for ever.
const LossTimeoutEnv = "GOLM_LICENSE_LOSS_TIMEOUT"

// DefaultLossTimeout is how long a vendor daemon may stay out of reach
// before the licenses held of it are lost, unless WithLossTimeout or
// $GOLM_LICENSE_LOSS_TIMEOUT says otherwise: longer than lmgrd takes to
// restart a vendor daemon that died, or a server to reboot.
const DefaultLossTimeout = 5 * time.Minute

// MasterWaitEnv names the environment variable holding how long a
// checkout on a triad waits for a master with a quorum (see
// WithMasterWait): a Go duration or a number of seconds.
const MasterWaitEnv = "GOLM_TRIAD_MASTER_WAIT"

// DefaultMasterWait is how long a checkout on a triad waits for a master
// with a quorum before it fails with -96: long enough for an election
// after the master died.
const DefaultMasterWait = 5 * time.Second

// DefaultDialTimeout bounds each TCP connect and handshake.
const DefaultDialTimeout = 5 * time.Second

// Option configures a Job or an Admin connection.
type Option func(*config)

type config struct {
	user, host, display, project, program string
	vendor                                string
	heartbeat                             time.Duration
	dialTimeout                           time.Duration
	callTimeout                           time.Duration
	getenv                                func(string) string
	hostname                              func() (string, error)
	dir, home                             string
	diag                                  io.Writer
	diagLevel                             int
	logf                                  func(format string, args ...any)
	keys                                  map[string]licfile.PublicKey // by vendor
	keyErr                                error                        // a WithPublicKeyFile that failed
	machine                               *licfile.Machine
	now                                   func() time.Time
	pid                                   int
	software                              string
	queuePoll                             time.Duration
	linger                                time.Duration
	platform                              string
	lossTimeout                           time.Duration // <0: never
	masterWait                            time.Duration
	environ                               func() []string
}

// WithLinger makes every license the job checks out out of a vendor
// daemon stay held for d after it is checked in or the job ends
// (FlexLM's LM_A_LINGER, the publisher's linger).
func WithLinger(d time.Duration) Option { return func(c *config) { c.linger = d } }

// DefaultQueuePoll is how often a queued checkout asks the vendor daemon
// whether it was granted, unless WithQueuePoll says otherwise.
const DefaultQueuePoll = 250 * time.Millisecond

// WithQueuePoll sets how often a queued checkout asks whether it was
// granted.
func WithQueuePoll(d time.Duration) Option { return func(c *config) { c.queuePoll = d } }

// WithUser overrides the user name sent to the server ($USER otherwise).
func WithUser(u string) Option { return func(c *config) { c.user = u } }

// WithHost overrides the host name sent to the server.
func WithHost(h string) Option { return func(c *config) { c.host = h } }

// WithDisplay overrides the display sent to the server ($DISPLAY or the
// terminal otherwise).
func WithDisplay(d string) Option { return func(c *config) { c.display = d } }

// WithProject overrides the project sent to the server ($LM_PROJECT
// otherwise).
func WithProject(p string) Option { return func(c *config) { c.project = p } }

// WithProgram sets the program name sent to the server.
func WithProgram(p string) Option { return func(c *config) { c.program = p } }

// WithVendor names the vendor whose licenses the job checks out: it picks
// VENDOR_LICENSE_FILE when the path is "" and the vendor daemon to ask for
// at a port@host server. Without it the vendor comes from the license
// file's lines, or lmgrd finds it from the feature name.
func WithVendor(v string) Option { return func(c *config) { c.vendor = v } }

// WithHeartbeat sets the heartbeat interval.
func WithHeartbeat(d time.Duration) Option { return func(c *config) { c.heartbeat = d } }

// WithDialTimeout bounds each connect and handshake.
func WithDialTimeout(d time.Duration) Option { return func(c *config) { c.dialTimeout = d } }

// WithCallTimeout bounds each request's reply (default: the dial timeout
// plus 10s).
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithGetenv sets how environment variables are looked up (os.Getenv
// otherwise): LM_LICENSE_FILE, VENDOR_LICENSE_FILE, LM_PROJECT, USER,
// DISPLAY, FLEXLM_DIAGNOSTICS, GOLM_HEARTBEAT_INTERVAL.
func WithGetenv(getenv func(string) string) Option { return func(c *config) { c.getenv = getenv } }

// WithHostname sets how this host's name is found (os.Hostname otherwise).
func WithHostname(f func() (string, error)) Option { return func(c *config) { c.hostname = f } }

// WithDir resolves relative license file names against dir.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithHome sets the home directory whose .flexlmrc is read.
func WithHome(dir string) Option { return func(c *config) { c.home = dir } }

// WithDiagnostics sends FLEXLM_DIAGNOSTICS output to w (os.Stderr
// otherwise).
func WithDiagnostics(w io.Writer) Option { return func(c *config) { c.diag = w } }

// WithDiagnosticsLevel sets the diagnostics level, overriding
// $FLEXLM_DIAGNOSTICS.
func WithDiagnosticsLevel(n int) Option { return func(c *config) { c.diagLevel = n } }

// WithLogger receives the client's own log: reconnects, lost licenses.
func WithLogger(logf func(format string, args ...any)) Option {
	return func(c *config) { c.logf = logf }
}

// WithPublicKey gives the job the publisher's public key of vendor
// k.Vendor, which the application should carry in its own binary. With
// it, every grant is checked by the application itself: the vendor daemon
// must send the signed license lines the seat comes from
// (protocol.SignedGranted), each must verify under the key and one must
// license the feature at the version asked for, unexpired; a grant that
// fails is refused with -8 (-10 for an expired line) and its seat checked
// back in. Uncounted lines of a license file are checked with the key
// too, not with a VENDOR.pub on disk. Once a job has any key, a grant or
// local line of a vendor without one is refused (-8): a server cannot
// escape the check by naming another vendor. Give several options for
// several vendors.
//
// Without any key the job trusts the server: whatever a vendor daemon
// grants is taken, and local lines are checked with the VENDOR.pub beside
// their license file, which whoever controls that machine can replace.
// Only the application's key survives a customer who controls the
// license server.
func WithPublicKey(k licfile.PublicKey) Option {
	return func(c *config) {
		if c.keys == nil {
			c.keys = map[string]licfile.PublicKey{}
		}
		c.keys[k.Vendor] = k
	}
}

// WithPublicKeyFile is WithPublicKey with the key read from a VENDOR.pub
// file (licfile.LoadPublicKey; the file names the vendor). Open fails
// with -8 when the file cannot be read.
func WithPublicKeyFile(path string) Option {
	return func(c *config) {
		k, err := licfile.LoadPublicKey(path)
		if err != nil {
			if c.keyErr == nil {
				c.keyErr = err
			}
			return
		}
		WithPublicKey(k)(c)
	}
}

// WithMachine sets what this host is for hostid matching (tests).
func WithMachine(m *licfile.Machine) Option { return func(c *config) { c.machine = m } }

// WithLossTimeout sets how long the job keeps trying to reach a vendor
// daemon that went away before the licenses it held of it are lost
// (License.Lost, License.Err); d < 0 keeps trying for ever. The default
// is $GOLM_LICENSE_LOSS_TIMEOUT, else DefaultLossTimeout.
func WithLossTimeout(d time.Duration) Option {
	return func(c *config) {
		c.lossTimeout = d
		if d == 0 {
			c.lossTimeout = -1
		}
	}
}

// WithMasterWait sets how long a checkout on a triad waits for a master
// with a quorum (an election after the master died) before it fails with
// -96. The default is $GOLM_TRIAD_MASTER_WAIT, else DefaultMasterWait.
func WithMasterWait(d time.Duration) Option { return func(c *config) { c.masterWait = d } }

// WithPlatform overrides the platform name sent to the server and
// checked against the PLATFORMS= lists of uncounted lines
// (licfile.ThisPlatform otherwise).
func WithPlatform(p string) Option { return func(c *config) { c.platform = p } }

// WithEnviron gives the environment as KEY=value lines: without
// WithVendor, every VENDOR_LICENSE_FILE variable in it is part of the
// license path, as for lmutil. Without it only LM_LICENSE_FILE (and,
// with WithVendor, that vendor's variable) is read.
func WithEnviron(environ func() []string) Option { return func(c *config) { c.environ = environ } }

// WithClock sets the clock for expiry and start dates.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithSoftware sets the golm version reported to servers; without it a
// client reports protocol.Software.
func WithSoftware(v string) Option { return func(c *config) { c.software = v } }

// WithPID overrides the process id sent to the server.
func WithPID(pid int) Option { return func(c *config) { c.pid = pid } }

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if c.hostname == nil {
		c.hostname = os.Hostname
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.lossTimeout == 0 {
		switch v := strings.TrimSpace(c.getenv(LossTimeoutEnv)); {
		case v == "0" || strings.EqualFold(v, "never"):
			c.lossTimeout = -1
		case parseInterval(v) > 0:
			c.lossTimeout = parseInterval(v)
		default:
			c.lossTimeout = DefaultLossTimeout
		}
	}
	if c.masterWait <= 0 {
		c.masterWait = parseInterval(c.getenv(MasterWaitEnv))
		if c.masterWait <= 0 {
			c.masterWait = DefaultMasterWait
		}
	}
	if c.platform == "" {
		c.platform = licfile.ThisPlatform()
	}
	if c.dialTimeout <= 0 {
		c.dialTimeout = DefaultDialTimeout
	}
	if c.callTimeout <= 0 {
		c.callTimeout = c.dialTimeout + 10*time.Second
	}
	if c.heartbeat <= 0 {
		c.heartbeat = parseInterval(c.getenv(HeartbeatEnv))
	}
	if c.heartbeat <= 0 {
		c.heartbeat = DefaultHeartbeat
	}
	if c.diagLevel == 0 {
		c.diagLevel, _ = strconv.Atoi(strings.TrimSpace(c.getenv("FLEXLM_DIAGNOSTICS")))
	}
	if c.diag == nil {
		c.diag = os.Stderr
	}
	if c.queuePoll <= 0 {
		c.queuePoll = DefaultQueuePoll
	}
	if c.software == "" {
		c.software = protocol.Software
	}
	if c.pid == 0 {
		c.pid = os.Getpid()
	}
	if c.project == "" {
		c.project = c.getenv("LM_PROJECT")
	}
	if c.home == "" {
		c.home = c.getenv("HOME")
	}
	return c
}

// parseInterval reads "2s", "500ms" or "2" (seconds); 0 when invalid.
func parseInterval(s string) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e6 {
		return time.Duration(f * float64(time.Second))
	}
	return 0
}

func (c *config) log(format string, args ...any) {
	if c.logf != nil {
		c.logf(format, args...)
	}
}
