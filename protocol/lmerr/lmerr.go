// Package lmerr holds the FlexLM error numbers that every part of golm speaks:
// the license file parser, the wire protocol, the client package and the
// lmutil commands. An *Error prints exactly as lmutil prints an error,
//
//	Cannot connect to license server system. (-15,570:111 "Connection refused")
//
// and the shell sees 256+code as the exit status (-15 → 241).
//
// The error numbers are the Code constants (NoServer is -15, MaxUsers -4),
// each itself an error, so that errors.Is(err, lmerr.MaxUsers) tells a
// denial apart whatever its minor. The minor numbers are the Minor
// constants of one table, minors.go, grouped by where they are raised.
package lmerr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
)

// Error is a FlexLM error: the negative error number, the minor number that
// says where it was raised, and optionally the operating-system error behind it.
type Error struct {
	Code  Code          // FlexLM error number, always negative (-15)
	Minor Minor         // where it was raised: one of the Minor constants
	Errno syscall.Errno // OS error behind it, 0 if none
	// Detail is supporting information printed by the long (-verbose) form,
	// such as "Feature: f1" or "License path: ...". One item per line.
	Detail []string
	// Text overrides the standard text for Code when non-empty.
	Text string
}

// New returns an *Error for code and minor with the standard text.
func New(code Code, minor Minor, detail ...string) *Error {
	return &Error{Code: code, Minor: minor, Detail: detail}
}

// FromOS returns an *Error for code and minor carrying the errno found in err, if any.
func FromOS(code Code, minor Minor, err error, detail ...string) *Error {
	e := &Error{Code: code, Minor: minor, Detail: detail}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		e.Errno = errno
	}
	return e
}

// Message is the error's text without the number suffix.
func (e *Error) Message() string {
	if e.Text != "" {
		return e.Text
	}
	return Text(e.Code)
}

// Suffix is the parenthesised number part: (-15,570) or (-15,570:111 "Connection refused").
func (e *Error) Suffix() string {
	if e.Errno != 0 {
		return fmt.Sprintf("(%d,%d:%d \"%s\")", e.Code, e.Minor, int(e.Errno), errnoText(e.Errno))
	}
	return fmt.Sprintf("(%d,%d)", e.Code, e.Minor)
}

// Error is the short form, as lmutil prints it.
func (e *Error) Error() string { return e.Message() + " " + e.Suffix() }

// Long is the long (-verbose, FlexLM v6+) form of manual appendix E.1.2:
// the text, the indented explanation, supporting information, and the
// "FLEXlm error:" line (manual E.1.2).
func (e *Error) Long() string {
	var b strings.Builder
	b.WriteString(e.Message())
	b.WriteByte('\n')
	if x := Explanation(e.Code); x != "" {
		for _, l := range strings.Split(x, "\n") {
			b.WriteString(" " + l + "\n")
		}
	}
	for _, d := range orderedDetail(e.Detail) {
		b.WriteString(d + "\n")
	}
	fmt.Fprintf(&b, "FLEXlm error: %d,%d.", e.Code, e.Minor)
	if e.Errno != 0 {
		fmt.Fprintf(&b, " System Error: %d \"%s\"", int(e.Errno), errnoText(e.Errno))
	}
	return b.String()
}

// ExitStatus is the exit status a shell sees for this error: 256 + code.
func (e *Error) ExitStatus() int { return ExitStatus(e.Code) }

// ExitStatus maps a FlexLM error number to the exit status lmutil uses.
func ExitStatus(code Code) int {
	if code < 0 && code > -256 {
		return 256 + int(code)
	}
	return 1
}

// Is reports whether target is the Code of e, or an *Error with the same
// Code, so that errors.Is(err, lmerr.MaxUsers) and
// errors.Is(err, lmerr.New(lmerr.MaxUsers, 0)) match any -4 whatever its
// minor.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return t == e.Code
	case *Error:
		return t.Code == e.Code
	}
	return false
}

// CodeOf returns the FlexLM code carried by err, or 0.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func errnoText(n syscall.Errno) string {
	s := n.Error()
	if s == "" {
		return fmt.Sprintf("errno %d", int(n))
	}
	// strerror capitalises the first letter; Go's table does not.
	return strings.ToUpper(s[:1]) + s[1:]
}

// detailOrder is the order of the manual's supporting information
// (appendix E.1.2): Feature, then Server name, then License path; any
// other item comes after them, in the order it was added.
var detailOrder = []string{"Feature: ", "Server name: ", "License path: "}

func orderedDetail(detail []string) []string {
	rank := func(d string) int {
		for i, p := range detailOrder {
			if strings.HasPrefix(d, p) {
				return i
			}
		}
		return len(detailOrder)
	}
	out := slices.Clone(detail)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}
