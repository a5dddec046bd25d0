//go:build !linux

package server

import "syscall"

// vendorProcAttr puts a vendor daemon in its own process group; it exits
// when its control channel to lmgrd closes.
func vendorProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// SetProcessName does nothing here: only Linux lets a process rename
// itself for ps.
func SetProcessName(name string) {}
