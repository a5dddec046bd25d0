package licfile

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"golm/lmutil/protocol/lmerr"
)

// The sentinel errors a ParseError wraps, each tied to the FlexLM error
// code lmutil reports for it. Test with errors.Is.
var (
	// ErrSyntax is a malformed line: a missing field, a bad number, an
	// unterminated quote (-2, Invalid license file syntax).
	ErrSyntax = errors.New("invalid license file syntax")
	// ErrHostID is a hostid that is not one of the forms of manual
	// appendix A (-2: the line's syntax is wrong).
	ErrHostID = errors.New("invalid hostid")
	// ErrDate is a date that is not d-mmm-yyyy or permanent (-11).
	ErrDate = errors.New("invalid date")
	// ErrVersion is a version that is not a decimal number (-77).
	ErrVersion = errors.New("invalid version")
	// ErrPackage is a malformed PACKAGE line or COMPONENTS list (-82).
	ErrPackage = errors.New("invalid PACKAGE line")
	// ErrFuture is an unknown line keyword or attribute: a newer license
	// format or a misspelling (-90).
	ErrFuture = errors.New("unknown keyword")
)

// codes maps each sentinel to its FlexLM error code.
var codes = map[error]lmerr.Code{
	ErrSyntax:  lmerr.BadFile,
	ErrHostID:  lmerr.BadFile,
	ErrDate:    lmerr.BadDate,
	ErrVersion: lmerr.BadVersion,
	ErrPackage: lmerr.BadPackage,
	ErrFuture:  lmerr.FutureFile,

	ErrNotDecimal: lmerr.NoDecimal,
	ErrDecimal:    lmerr.BadDecimal,
}

// CodeOf returns the FlexLM error code of a parse error or sentinel: the
// Code of a *ParseError, the code of a wrapped sentinel, or 0.
func CodeOf(err error) lmerr.Code {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Code
	}
	for s, c := range codes {
		if errors.Is(err, s) {
			return c
		}
	}
	return 0
}

// detail is a message that wraps a sentinel: the message says what was
// wrong with which text, the sentinel says which class of error it is.
type detail struct {
	msg      string
	sentinel error
}

func (d *detail) Error() string { return d.msg }
func (d *detail) Unwrap() error { return d.sentinel }

// Errorf returns an error whose message is the formatted text and which
// wraps sentinel (errors.Is finds it): the message says what was wrong
// with which text, the sentinel which class of error it is (and so its
// FlexLM code). The options file parser reports its errors the same way.
func Errorf(sentinel error, format string, args ...any) error {
	return &detail{msg: fmt.Sprintf(format, args...), sentinel: sentinel}
}

func errorf(sentinel error, format string, args ...any) error {
	return Errorf(sentinel, format, args...)
}

// ParseError is one bad line of a license file. It prints as
//
//	license.lic:4:31: invalid date "31-foo-2005" (-11)
//
// with the 1-based line and byte column of the offending text and the
// FlexLM error code. Err wraps one of the Err sentinels.
type ParseError struct {
	File   string
	Line   int
	Column int
	Code   lmerr.Code // FlexLM error code (-2, -11, ...)
	Err    error
}

// Error prints file:line:column: message (code).
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d:%d: %v (%d)", e.Line, e.Column, e.Err, e.Code)
	return b.String()
}

// Unwrap returns the underlying error, which wraps an Err sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// newParseError builds a ParseError at pos for err, taking the code from
// the sentinel err wraps.
func newParseError(pos Pos, err error) *ParseError {
	code := lmerr.BadFile
	for s, c := range codes {
		if errors.Is(err, s) {
			code = c
			break
		}
	}
	return &ParseError{File: pos.File, Line: pos.Line, Column: pos.Column, Code: code, Err: err}
}

// ErrorList is every error of one or more license files, as Parse returns
// it. Its Error method prints one error per line, sorted by position.
type ErrorList []*ParseError

// Len is the number of errors (sort.Interface).
func (l ErrorList) Len() int { return len(l) }

// Swap swaps two errors (sort.Interface).
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }

// Less orders errors by file, line and column (sort.Interface).
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i], l[j]
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Column < b.Column
}

// Sort sorts the list in place by position.
func (l ErrorList) Sort() { sort.Stable(l) }

// Error prints every error, one per line, sorted by position.
func (l ErrorList) Error() string {
	s := make(ErrorList, len(l))
	copy(s, l)
	s.Sort()
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap gives errors.Is and errors.As access to every error of the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
