package server

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// vendorProcAttr puts a vendor daemon in its own process group, so that a
// terminal's ^C reaches only lmgrd, which then shuts it down in order, and
// asks the kernel to send it SIGTERM if lmgrd dies without doing so
// (kill -9). The vendor daemon also exits when its control channel closes.
func vendorProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// SetProcessName sets the kernel's name of this process (its comm, what
// ps, pgrep, top and ss -p show, at most 15 bytes), as FLEXlm's lmgrd and
// vendor daemons are seen under their own names: the kernel takes it from
// the binary's file name, lmutil. PR_SET_NAME names the calling thread
// only, so every thread that exists already is renamed through
// /proc/self/task; threads started later inherit the name.
func SetProcessName(name string) {
	if len(name) > 15 {
		name = name[:15] // the kernel's TASK_COMM_LEN, with its NUL
	}
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return // a NUL in the name
	}
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, t := range tasks {
		_ = os.WriteFile("/proc/self/task/"+t.Name()+"/comm", []byte(name), 0)
	}
}
