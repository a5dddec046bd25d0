//go:build unix

package commands

import (
	"os"
	"syscall"
)

// heapSignals are the signals that make a profiling daemon write a heap
// profile.
func heapSignals() []os.Signal { return []os.Signal{syscall.SIGUSR1} }
