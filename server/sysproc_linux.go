package server

import "syscall"

// vendorProcAttr puts a vendor daemon in its own process group, so that a
// terminal's ^C reaches only lmgrd, which then shuts it down in order, and
// asks the kernel to send it SIGTERM if lmgrd dies without doing so
// (kill -9). The vendor daemon also exits when its control channel closes.
func vendorProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
