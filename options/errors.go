package options

import (
	"errors"
	"fmt"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// The sentinel errors a ParseError wraps. Test with errors.Is.
var (
	// ErrSyntax is a malformed line: a missing or extra field, an
	// unterminated quote, a bad number (-2).
	ErrSyntax = errors.New("invalid options file syntax")
	// ErrKeyword is an unknown option keyword, member type or NOLOG
	// item: a newer options file or a misspelling (-90).
	ErrKeyword = errors.New("unknown keyword")
	// ErrSelector is a bad feature:keyword=value selector: an unknown
	// keyword or a value that keyword cannot take (-2).
	ErrSelector = errors.New("invalid feature selector")
	// ErrVersion is a VERSION= selector that is not a decimal number (-77).
	ErrVersion = errors.New("invalid version")
	// ErrInternet is an INTERNET address pattern that is not four
	// dot-separated parts, each 0-255 or * (-2).
	ErrInternet = errors.New("invalid INTERNET address")
	// ErrGroup is a reference to a GROUP or HOST_GROUP that no line
	// defines. The line stays in effect and matches nobody through that
	// group, so a misspelt group in an INCLUDE denies rather than admits (-2).
	ErrGroup = errors.New("undefined group")
	// ErrLineLength is a logical line (continuations joined) longer than
	// MaxLineLength characters (-2).
	ErrLineLength = errors.New("line too long")
	// ErrMember is a GROUP or HOST_GROUP member that is not printable
	// text: a control character where a name should be (-2).
	ErrMember = errors.New("invalid group member")
	// ErrUnreadable is an options file that exists, or that the license
	// file names, but cannot be read (-30).
	ErrUnreadable = errors.New("cannot open options file")
)

// codes maps each sentinel to the FlexLM error code it is reported with.
var codes = []struct {
	err  error
	code lmerr.Code
}{
	{ErrSyntax, lmerr.BadFile},
	{ErrKeyword, lmerr.FutureFile},
	{ErrSelector, lmerr.BadFile},
	{ErrVersion, lmerr.BadVersion},
	{ErrInternet, lmerr.BadFile},
	{ErrGroup, lmerr.BadFile},
	{ErrLineLength, lmerr.BadFile},
	{ErrMember, lmerr.BadFile},
	{ErrUnreadable, lmerr.CantReadFile},
}

// CodeOf returns the FlexLM error code of a parse error or sentinel: the
// Code of a *ParseError, the code of a wrapped sentinel, or 0.
func CodeOf(err error) lmerr.Code {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Code
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return 0
}

// errorf is licfile.Errorf: a message that wraps a sentinel.
func errorf(sentinel error, format string, args ...any) error {
	return licfile.Errorf(sentinel, format, args...)
}

// Pos is a position in an options file: 1-based line and byte column.
type Pos struct {
	File   string
	Line   int
	Column int
}

// String prints file:line:column, or line:column without a file name.
func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Column)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// ParseError is one bad line of an options file. It is the license
// file's error type, so both print alike:
//
//	vendor.opt:4:9: unknown member type "USR" (-90)
//
// with the position of the offending text and the FlexLM error code.
// Err wraps one of the Err sentinels.
type ParseError = licfile.ParseError

// ErrorList is every error of an options file, as Parse returns it. Its
// Error method prints one error per line, sorted by position.
type ErrorList = licfile.ErrorList

func newParseError(pos Pos, err error) *ParseError {
	code := lmerr.BadFile
	for _, c := range codes {
		if errors.Is(err, c.err) {
			code = c.code
			break
		}
	}
	return &ParseError{File: pos.File, Line: pos.Line, Column: pos.Column, Code: code, Err: err}
}
