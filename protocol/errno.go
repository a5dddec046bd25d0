package protocol

import "syscall"

func errnoOf(n int) syscall.Errno { return syscall.Errno(n) }
