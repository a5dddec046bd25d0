package server

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"golm/lmutil/protocol/peercred"
)

// AdminSocketRetryEnv names the environment variable (a Go duration)
// that sets how often lmgrd and the vendor daemons try again to bind
// their local admin socket while another process holds its name; the
// default is DefaultAdminSocketRetry.
const AdminSocketRetryEnv = "GOLM_ADMIN_SOCKET_RETRY"

// DefaultAdminSocketRetry is how often a held admin socket name is tried
// again.
const DefaultAdminSocketRetry = 30 * time.Second

// AdminSocketRetry reads AdminSocketRetryEnv through getenv.
func AdminSocketRetry(getenv func(string) string) time.Duration {
	if d, err := time.ParseDuration(getenv(AdminSocketRetryEnv)); err == nil && d > 0 {
		return d
	}
	return DefaultAdminSocketRetry
}

// adminListener is a daemon's local admin socket (AdminSocket) as a
// net.Listener. Names in Linux's abstract namespace belong to whoever
// binds them first, and any local user can bind one: a name taken by
// someone else must not keep the daemon from licensing, so the daemon
// serves on TCP, logs who holds the name, and tries again every retry
// until it gets it. Accept blocks until then.
type adminListener struct {
	name  string
	retry time.Duration
	log   *DebugLog

	mu     sync.Mutex
	ln     net.Listener
	closed bool
	bound  chan struct{} // closed once ln is set
	done   chan struct{} // closed by Close
}

// listenAdmin binds name now when it can, else keeps trying in the
// background while another process holds it. An error that retrying
// cannot cure (no abstract namespace on this system) is logged once and
// leaves the daemon on TCP only.
func listenAdmin(name string, retry time.Duration, log *DebugLog) *adminListener {
	if retry <= 0 {
		retry = DefaultAdminSocketRetry
	}
	a := &adminListener{name: name, retry: retry, log: log, bound: make(chan struct{}), done: make(chan struct{})}
	err := a.try()
	switch {
	case err == nil:
	case errors.Is(err, syscall.EADDRINUSE):
		a.log.Printf("Admin socket %s is held by another process (%s); serving on TCP, trying again every %s", name, socketHolder(name), retry)
		go a.retryLoop()
	default:
		a.log.Printf("No admin socket %s: %v; admin commands on this host use TCP", name, sysErr(err))
	}
	return a
}

// try binds the name once.
func (a *adminListener) try() error {
	ln, err := net.Listen("unix", a.name)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		ln.Close()
		return net.ErrClosed
	}
	a.ln = ln
	close(a.bound)
	return nil
}

func (a *adminListener) retryLoop() {
	t := time.NewTicker(a.retry)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
		}
		err := a.try()
		switch {
		case err == nil:
			a.log.Printf("Admin socket %s is free again: listening on it", a.name)
			return
		case errors.Is(err, syscall.EADDRINUSE):
			a.log.Limited("adminsock", "Admin socket %s is still held by another process (%s)", a.name, socketHolder(a.name))
		default:
			if !errors.Is(err, net.ErrClosed) {
				a.log.Printf("Admin socket %s: %v", a.name, sysErr(err))
			}
			return
		}
	}
}

// Bound reports whether the daemon holds its admin socket.
func (a *adminListener) Bound() bool {
	select {
	case <-a.bound:
		return true
	default:
		return false
	}
}

// Accept waits for the socket to be bound, then accepts on it.
func (a *adminListener) Accept() (net.Conn, error) {
	select {
	case <-a.bound:
	case <-a.done:
		return nil, net.ErrClosed
	}
	a.mu.Lock()
	ln := a.ln
	a.mu.Unlock()
	return ln.Accept()
}

// Close stops the retries and closes the socket.
func (a *adminListener) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	close(a.done)
	if a.ln != nil {
		return a.ln.Close()
	}
	return nil
}

// Addr is the socket's name.
func (a *adminListener) Addr() net.Addr { return &net.UnixAddr{Name: a.name, Net: "unix"} }

// socketHolder describes the process listening on the Unix socket name,
// as the kernel recorded it when that process listened.
func socketHolder(name string) string {
	c, err := net.DialTimeout("unix", name, time.Second)
	if err != nil {
		return "unknown: " + sysErr(err).Error()
	}
	defer c.Close()
	cred, err := peercred.Of(c.(*net.UnixConn))
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("uid %d, pid %d", cred.UID, cred.PID)
}

// sysErr is the system's error under a net error, without the Go
// operation and address around it.
func sysErr(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
