package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golm/lmutil/protocol"
)

// ErrLostLmgrd is returned by RunVendorDaemon when the control channel to
// lmgrd closed: lmgrd died, and a vendor daemon does not outlive it.
var ErrLostLmgrd = errors.New("lost connection to lmgrd")

// RunVendorDaemon runs a vendor daemon started by lmgrd: it builds the
// vendor daemon from cfg, reports Ready with its port over the control
// channel, serves clients, and obeys SHUTDOWN and REREAD from lmgrd until
// the channel closes or ctx ends (a signal). It returns ErrNoFeatures when
// there is nothing to serve, and an error wrapping ErrMultipleVendor when
// another vendor daemon of this name runs on this host: it holds the
// vendor's lock in cfg.LockDir for as long as it runs.
func RunVendorDaemon(ctx context.Context, cfg VendorConfig, control net.Conn) error {
	var ctrl *protocol.Conn
	if uc, ok := control.(*net.UnixConn); ok {
		ctrl = protocol.NewRightsConn(uc) // lmgrd hands client connections over
	} else {
		ctrl = protocol.NewConn(control)
	}
	ctrl.ReadTimeout = -1
	defer ctrl.Close()
	ballast := TuneMemory(os.Getenv)
	defer runtime.KeepAlive(ballast)
	log := cfg.Log
	// The lock comes before anything else: a second vendor daemon of this
	// name must not bind, count seats or open the report log.
	lockDir := cfg.LockDir
	if lockDir == "" {
		lockDir = DefaultLockDir(os.Getenv)
	}
	lock, err := waitLockVendor(ctx, lockDir, cfg.Name, lockWait(os.Getenv))
	if err != nil {
		var me *MultipleError
		if errors.As(err, &me) {
			log.Printf("%s", me.Error())
			if me.PID != 0 {
				log.Printf("    (pid %d holds %s)", me.PID, me.Path)
			}
		} else {
			log.Printf("Cannot lock vendor daemon %s: %v", cfg.Name, err)
		}
		return err
	}
	defer lock.Close()
	cfg.AdminSocket = true
	v, err := NewVendor(cfg)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "listen" {
			// Said on lmgrd's terminal and in its log: no Go words.
			addr := cfg.Addr
			if oe.Addr != nil {
				addr = oe.Addr.String() // the listener that failed: the TCP port or a triad's Raft port
			}
			host, port, _ := net.SplitHostPort(addr)
			where := "port " + port
			if host != "" {
				where = host + " " + where
			}
			return fmt.Errorf("cannot listen on %s: %s", where, SystemError(err))
		}
		return err
	}
	if err := ctrl.Send(&protocol.Hello{
		Version: protocol.Version, Role: protocol.RoleVendorControl,
		Identity: cfg.Identity, Daemon: cfg.Name, Software: cfg.Software, RunID: v.runID,
	}); err != nil {
		v.Shutdown(context.Background())
		return ErrLostLmgrd
	}
	if err := ctrl.Send(&protocol.Ready{Port: v.Port(), PID: os.Getpid(), Version: cfg.Software}); err != nil {
		v.Shutdown(context.Background())
		return ErrLostLmgrd
	}
	v.triadReady(ctrl)
	ReleaseMemory() // what reading the license files left behind
	serveCtx, stopServe := context.WithCancel(context.Background())
	defer stopServe()
	served := make(chan struct{})
	go func() {
		v.Serve(serveCtx)
		close(served)
	}()
	msgs := make(chan protocol.Message)
	lost := make(chan struct{})
	go func() {
		defer close(lost)
		defer ctrl.CloseFDs()
		for {
			m, err := ctrl.Recv()
			if err != nil {
				return
			}
			if _, ok := m.(*protocol.HandedOff); ok {
				// A client connection lmgrd handed over: its descriptor
				// came with the frame.
				if fd, ok := ctrl.TakeFD(); ok {
					v.ServeHandedOff(fd)
				}
				continue
			}
			select {
			case msgs <- m:
			case <-served:
				return
			}
		}
	}()
	finish := func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		v.Shutdown(sctx)
	}
	for {
		select {
		case <-ctx.Done():
			log.Printf("EXITING DUE TO SIGNAL %d", SignalNumber(ctx))
			finish()
			return nil
		case <-lost:
			log.Printf("Lost connection to lmgrd, exiting")
			finish()
			return ErrLostLmgrd
		case m := <-msgs:
			switch m.(type) {
			case *protocol.Shutdown:
				log.Printf("EXITING DUE TO SIGNAL 15")
				finish()
				return nil
			case *protocol.Reread:
				rereadCollected(v.Reread)
				// What the old and the new readings took together
				// goes back: RSS stays where one reading puts it,
				// rather than at the peak of every reread.
				ReleaseMemory()
			}
		}
	}
}

// LockWaitEnv names the environment variable (a Go duration) that sets
// how long a vendor daemon waits for its lock before it gives up with
// MULTIPLE ... servers running; the default is DefaultLockWait.
const LockWaitEnv = "GOLM_LOCK_WAIT"

// DefaultLockWait is how long a vendor daemon waits for its lock: long
// enough for the vendor daemon of a killed lmgrd to finish its shutdown
// when lmgrd is started again at once.
const DefaultLockWait = 10 * time.Second

// lockRetryEvery is the pause between two tries of a held lock.
const lockRetryEvery = 100 * time.Millisecond

func lockWait(getenv func(string) string) time.Duration {
	if d, err := time.ParseDuration(getenv(LockWaitEnv)); err == nil && d >= 0 {
		return d
	}
	return DefaultLockWait
}

// waitLockVendor is LockVendor, tried again while another process holds
// the lock, for at most wait.
func waitLockVendor(ctx context.Context, dir, vendor string, wait time.Duration) (*VendorLock, error) {
	deadline := time.Now().Add(wait)
	for {
		lock, err := LockVendor(dir, vendor)
		if err == nil || !errors.Is(err, ErrMultipleVendor) || !time.Now().Before(deadline) {
			return lock, err
		}
		t := time.NewTimer(min(lockRetryEvery, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// SignalNumber is the number of the signal that ended ctx (as
// signal.NotifyContext records it), 15 when it cannot tell.
func SignalNumber(ctx context.Context) int {
	cause := context.Cause(ctx)
	if cause == nil {
		return 15
	}
	s := cause.Error()
	switch {
	case strings.HasPrefix(s, "interrupt"):
		return 2
	case strings.HasPrefix(s, "hangup"):
		return 1
	case strings.HasPrefix(s, "quit"):
		return 3
	}
	return 15
}

// currentUser is the login name of this process.
func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// rereadCollected runs reread with the collector held back. A reread of
// a big license allocates about as much as the daemon holds; with the
// vendor daemon's GOGC each collection would start while the old and
// the new readings are both live, and its mark assists then stall
// every request that allocates (a checkout waited a second or more at
// 200,000 lines) until the mark ends. Held back, the heap grows to
// about what it would have reached anyway, and ReleaseMemory collects
// it once the reread is done, with nothing left allocating fast. The
// soft memory limit still applies meanwhile.
func rereadCollected(reread func() error) {
	old := debug.SetGCPercent(rereadGCPercent)
	defer debug.SetGCPercent(old)
	reread()
}

// rereadGCPercent is GOGC while a reread runs: the heap may grow to
// five times the live heap before a collection starts.
const rereadGCPercent = 400
