package commands

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"golm/lmutil/protocol/lmerr"
)

// UsageError is a bad command line. It prints its message and the applet's
// usage and exits 1.
type UsageError struct {
	Applet string // applet name whose usage line follows the message
	Msg    string
}

func (e *UsageError) Error() string { return e.Msg }

// usagef returns a *UsageError for applet a.
func usagef(a *Applet, format string, args ...any) error {
	return &UsageError{Applet: a.Name, Msg: fmt.Sprintf(format, args...)}
}

// ExitError ends an applet with a given status after it has printed
// whatever it had to say (lmcrypt -verify with a BAD line, lmwrap passing
// on its command's status).
type ExitError struct {
	Status int
	Err    error // optional, printed when non-nil
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Status)
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitStatus is the one place that maps an applet's error to the process
// exit status: 0 success, 1 usage and other errors, 256+code for a FlexLM
// error (lmstat -15 → 241), or an explicit ExitError's status.
func ExitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Status
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return 1
	}
	var le *lmerr.Error
	if errors.As(err, &le) {
		return le.ExitStatus()
	}
	return 1
}

// printed marks an error whose text the applet has already written, so
// that Report does not print it twice.
type printed struct{ error }

func (p printed) Unwrap() error { return p.error }

// alreadyPrinted wraps err so that Report stays silent about it but its
// exit status is kept.
func alreadyPrinted(err error) error {
	if err == nil {
		return nil
	}
	return printed{err}
}

// Report writes err to w the way lmutil does: the short FlexLM form, or
// the long form when verbose. Usage errors print the applet's usage line.
func Report(w io.Writer, err error, verbose bool) {
	if err == nil {
		return
	}
	var p printed
	if errors.As(err, &p) {
		return
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		if ue.Msg != "" {
			fmt.Fprintln(w, ue.Msg)
		}
		if a := Lookup(ue.Applet); a != nil {
			// A synopsis of several lines (lmcrypt) lines up under the first.
			fmt.Fprintf(w, "usage: %s\n", strings.ReplaceAll(a.Usage, "\n", "\n       "))
		}
		return
	}
	var le *lmerr.Error
	if errors.As(err, &le) && verbose {
		fmt.Fprintln(w, le.Long())
		return
	}
	fmt.Fprintln(w, err)
}
