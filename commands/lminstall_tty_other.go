//go:build !linux

package commands

import (
	"io"
	"os"
)

// isTerminal reports whether r is a terminal; without termios at hand, a
// character device is taken for one.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
