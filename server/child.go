package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// ControlEnv names the environment variable through which lmgrd tells a
// vendor daemon the file descriptor number of its control channel (one
// end of a socketpair). A vendor daemon started without it was not
// started by lmgrd.
const ControlEnv = "GOLM_LMGRD_CONTROL_FD"

// ExitNoRestart is the exit status of a vendor daemon that cannot serve
// (no features, unreadable license file): lmgrd does not restart it until
// an lmreread.
const ExitNoRestart = 3

// readyTimeout bounds the time a starting vendor daemon has to listen.
const readyTimeout = time.Minute

// stopTimeout is how long a vendor daemon has to exit after SHUTDOWN
// before it is killed.
const stopTimeout = 5 * time.Second

// RestartPolicy bounds how lmgrd restarts a vendor daemon that died: the
// pause before a restart doubles from First up to Max, and after Limit
// deaths in a row (a run shorter than Stable counts as one) lmgrd gives
// up until the next lmreread.
type RestartPolicy struct {
	First  time.Duration
	Max    time.Duration
	Limit  int
	Stable time.Duration
}

func (p RestartPolicy) withDefaults() RestartPolicy {
	if p.First == 0 {
		p.First = 200 * time.Millisecond
	}
	if p.Max == 0 {
		p.Max = 30 * time.Second
	}
	if p.Limit == 0 {
		p.Limit = 10
	}
	if p.Stable == 0 {
		p.Stable = time.Minute
	}
	return p
}

// delay is the pause before restart number n (1-based).
func (p RestartPolicy) delay(n int) time.Duration {
	d := p.First
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// child supervises one vendor daemon process.
type child struct {
	l    *Lmgrd
	name string
	line *licfile.Vendor

	mu      sync.Mutex
	up      bool
	port    int
	pid     int
	version string
	ctrl    *protocol.Conn
	running bool          // a supervisor goroutine is active
	woken   chan struct{} // closed when it comes up or its supervisor ends
	startAt time.Time     // when the supervisor starts it next (zero: now)
	stopReq chan struct{} // closed to stop the supervisor
	done    chan struct{} // closed when the supervisor returns
	master  string        // a triad's master, as the vendor daemon said (lmgrd_triad.go)
}

func newChild(l *Lmgrd, vl *licfile.Vendor) *child {
	return &child{l: l, name: vl.Name, line: vl}
}

// start runs the supervisor unless it runs already or lmgrd has stopped
// its vendor daemons; it reports whether the supervisor runs.
func (c *child) start(ctx context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	// stopVendors sets stopped before it stops each child under c.mu:
	// a start that comes after that stop sees stopped.
	if c.l.stopped.Load() {
		return false
	}
	if c.running {
		return true
	}
	c.running = true
	c.stopReq = make(chan struct{})
	c.done = make(chan struct{})
	go c.supervise(ctx, c.stopReq, c.done)
	return true
}

// stop shuts the vendor daemon down and waits for it.
func (c *child) stop() { c.stopContext(context.Background()) }

// stopContext shuts the vendor daemon down and waits for it, or for ctx.
func (c *child) stopContext(ctx context.Context) {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	stopReq, done := c.stopReq, c.done
	select {
	case <-stopReq:
	default:
		close(stopReq)
	}
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// reread passes an lmreread on, or starts the vendor daemon when it is
// not running. It reports whether it did anything.
func (c *child) reread(ctx context.Context) bool {
	c.mu.Lock()
	running, up, ctrl := c.running, c.up, c.ctrl
	c.mu.Unlock()
	if !running {
		return c.start(ctx)
	}
	if up && ctrl != nil {
		c.l.log.Flush() // lmgrd's lines before the vendor daemon's
		return ctrl.Send(&protocol.Reread{Vendor: c.name}) == nil
	}
	return false
}

// status is the vendor daemon's line of lmstat.
func (c *child) status() *protocol.VendorStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up {
		return &protocol.VendorStatus{Name: c.name, Code: lmerr.VendorDown, Minor: lmerr.MinorVendorDown}
	}
	return &protocol.VendorStatus{Name: c.name, Up: true, Version: c.version, Port: c.port}
}

// control is the control channel of a vendor daemon that is up, nil
// otherwise.
func (c *child) control() *protocol.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up {
		return nil
	}
	return c.ctrl
}

func (c *child) setUp(ready *protocol.Ready, ctrl *protocol.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up, c.port, c.pid, c.version, c.ctrl = true, ready.Port, ready.PID, ready.Version, ctrl
	c.wakeLocked()
}

// wakeLocked wakes the waitUp callers. The caller holds mu.
func (c *child) wakeLocked() {
	if c.woken != nil {
		close(c.woken)
		c.woken = nil
	}
}

// waitUp waits at most d for a vendor daemon that is being started, or
// restarted within d, to come up, and returns its status then. A vendor
// daemon that is not being started so soon is not waited for.
func (c *child) waitUp(d time.Duration) *protocol.VendorStatus {
	c.mu.Lock()
	if c.up || !c.running || time.Until(c.startAt) > d {
		c.mu.Unlock()
		return c.status()
	}
	if c.woken == nil {
		c.woken = make(chan struct{})
	}
	woken := c.woken
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-woken:
	case <-t.C:
	}
	return c.status()
}

func (c *child) setDown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up, c.ctrl = false, nil
}

// proc is one started vendor daemon process.
type proc struct {
	cmd    *exec.Cmd
	ctrl   *protocol.Conn
	ready  chan *protocol.Ready
	exited chan error // receives cmd.Wait's result once
}

func (c *child) supervise(ctx context.Context, stopReq, done chan struct{}) {
	defer func() {
		c.setDown()
		c.mu.Lock()
		c.running = false
		c.wakeLocked()
		c.mu.Unlock()
		close(done)
	}()
	pol := c.l.cfg.Restart.withDefaults()
	log := c.l.log
	deaths := 0
	for restart := false; ; restart = true {
		// A stop that came with the restart timer, or while the last
		// one died, wins: no vendor daemon is started after it.
		select {
		case <-stopReq:
			return
		case <-ctx.Done():
			return
		default:
		}
		began := time.Now()
		p, err := c.spawn()
		if err != nil {
			log.Printf("Cannot start vendor daemon %s: %s", c.name, startError(err))
		} else {
			status, stopped := c.run(ctx, p, stopReq, restart)
			if stopped {
				return
			}
			if exitCode(status) == ExitMultiple {
				// Another vendor daemon of this name runs on this host
				// (another lmgrd, or a copy of the license file on
				// another port): starting this one again would find it
				// again.
				log.Printf("%s exited with status %d (%s), not restarting it (lmreread restarts it)", c.name, ExitMultiple, MultipleMessage(c.name))
				fmt.Fprintf(c.l.cfg.Stderr, "lmgrd: %s\n", MultipleMessage(c.name))
				return
			}
			if exitCode(status) == ExitNoRestart {
				log.Printf("%s exited with status %d, not restarting it (lmreread restarts it)", c.name, ExitNoRestart)
				return
			}
			log.Printf("%s exited: %s", c.name, describeExit(status))
		}
		if time.Since(began) >= pol.Stable {
			deaths = 0
		}
		deaths++
		if deaths > pol.Limit {
			log.Printf("%s died %d times in a row, not restarting it (lmreread restarts it)", c.name, deaths)
			return
		}
		c.mu.Lock()
		c.startAt = time.Now().Add(pol.delay(deaths))
		c.mu.Unlock()
		t := time.NewTimer(pol.delay(deaths))
		select {
		case <-stopReq:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// run waits for the vendor daemon to be ready and then to exit. stopped
// is true when it ended because lmgrd asked it to.
func (c *child) run(ctx context.Context, p *proc, stopReq chan struct{}, restart bool) (status error, stopped bool) {
	log := c.l.log
	timeout := time.NewTimer(readyTimeout)
	defer timeout.Stop()
	select {
	case r := <-p.ready:
		c.setUp(r, p.ctrl)
		verb := "Started"
		if restart {
			verb = "REStarted"
		}
		log.Printf("%s %s (internet tcp_port %d pid %d)", verb, c.name, r.Port, p.cmd.Process.Pid)
	case err := <-p.exited:
		return err, false
	case <-timeout.C:
		log.Printf("%s did not start listening within %s; killing it", c.name, readyTimeout)
		p.cmd.Process.Kill()
		return <-p.exited, false
	case <-stopReq:
		return c.terminate(p), true
	case <-ctx.Done():
		return c.terminate(p), true
	}
	select {
	case err := <-p.exited:
		c.setDown()
		return err, false
	case <-stopReq:
		return c.terminate(p), true
	case <-ctx.Done():
		return c.terminate(p), true
	}
}

// terminate asks the vendor daemon to exit, kills it when it does not
// within stopTimeout, and waits for it.
func (c *child) terminate(p *proc) error {
	c.setDown()
	c.l.log.Printf("Shutting down %s", c.name)
	c.l.log.Flush() // lmgrd's lines before the vendor daemon's last ones
	_ = p.ctrl.Send(&protocol.Shutdown{Vendor: c.name})
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case err := <-p.exited:
		return err
	case <-t.C:
		p.cmd.Process.Kill()
		return <-p.exited
	}
}

// spawn starts the vendor daemon process with its control channel.
func (c *child) spawn() (*proc, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	mine := os.NewFile(uintptr(fds[0]), "control")
	theirs := os.NewFile(uintptr(fds[1]), "control")
	defer theirs.Close()
	nc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		return nil, err
	}
	path := c.l.cfg.Exe
	if c.line.Path != "" && isExecutable(c.line.Path) {
		path = c.line.Path
	} else if c.line.Path != "" {
		// The manual's vendor daemon is the DAEMON line's program; golm
		// runs its own when that is not a program it can run, and says so.
		c.l.log.Limited("daemonpath "+c.name, "Vendor daemon %s is not an executable file: running golm's built-in %s vendor daemon", c.line.Path, c.name)
	}
	if path == "" {
		nc.Close()
		return nil, errors.New("no vendor daemon binary")
	}
	env := c.l.cfg.Env
	if env == nil {
		env = os.Environ()
	}
	env = append(append([]string(nil), env...), ControlEnv+"=3")
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{c.name}, c.args(path)...),
		Env:         env,
		ExtraFiles:  []*os.File{theirs},
		SysProcAttr: vendorProcAttr(),
	}
	var stderr io.WriteCloser
	if out := c.l.cfg.VendorOutput; out != nil {
		// Its log lines go to stdout; what else it prints (on stderr)
		// gets their "hh:mm:ss (vendor)" prefix too.
		stderr = c.l.log.LineWriter(c.name)
		cmd.Stdout, cmd.Stderr = out, stderr
	}
	if err := cmd.Start(); err != nil {
		nc.Close()
		return nil, err
	}
	ctrl := protocol.NewConn(nc)
	ctrl.ReadTimeout = -1
	p := &proc{cmd: cmd, ctrl: ctrl, ready: make(chan *protocol.Ready, 1), exited: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		ctrl.Close()
		if stderr != nil {
			stderr.Close()
		}
		p.exited <- err
	}()
	go c.readControl(p)
	return p, nil
}

// args are the vendor daemon's command line arguments.
func (c *child) args(path string) []string {
	cfg := c.l.cfg
	var a []string
	for _, f := range cfg.LicenseFiles {
		a = append(a, "-c", f)
	}
	a = append(a, "-server-host", c.l.host, "-lmgrd-port", strconv.Itoa(c.l.Port()), "-lockdir", cfg.LockDir)
	if c.line.Port != 0 {
		a = append(a, "-port", strconv.Itoa(c.line.Port))
	}
	if cfg.Bind != "" {
		a = append(a, "-bind", cfg.Bind)
	}
	a = append(a, c.l.triadArgs(c.line)...)
	if cfg.Trust.NoLmremove {
		a = append(a, "-x", "lmremove")
	}
	if cfg.Trust.AdminOnly {
		a = append(a, "-2", "-p")
	}
	if cfg.Trust.AllowRemote {
		a = append(a, "-allow-remote-admin")
	}
	if c.line.Path != "" {
		a = append(a, "-daemon-path", c.line.Path)
	}
	return a
}

// readControl reads the vendor daemon's frames, its Hello and Ready,
// until the channel closes; anything else closes it.
func (c *child) readControl(p *proc) {
	for {
		m, err := p.ctrl.Recv()
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *protocol.Ready:
			select {
			case p.ready <- m:
			default:
			}
		case *protocol.MasterChange:
			c.setMaster(m.Master)
		case *protocol.Hello:
		default:
			p.ctrl.Close()
			return
		}
	}
}

// startError says why a vendor daemon could not be started, in the
// system's words and with the program's path, not Go's fork/exec.
func startError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + SystemError(err)
	}
	return SystemError(err)
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

func describeExit(err error) string {
	if err == nil {
		return "status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("signal %d (%s)", int(ws.Signal()), ws.Signal())
		}
		return fmt.Sprintf("status %d", ee.ExitCode())
	}
	return err.Error()
}
