//go:build !unix

package commands

import "os"

// heapSignals are the signals that make a profiling daemon write a heap
// profile: none here.
func heapSignals() []os.Signal { return nil }
