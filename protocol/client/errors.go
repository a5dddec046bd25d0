package client

import (
	"errors"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// Error is a FlexLM error from a checkout, a server or the license path.
// Error() is the short text lmutil prints; Long() the -verbose form. It
// unwraps to its *lmerr.Error so that lmutil's exit status (256+Code)
// follows from it.
type Error struct {
	Code  lmerr.Code  // FlexLM error number: lmerr.MaxUsers (-4), lmerr.NoServer (-15) ...
	Minor lmerr.Minor // where it was raised: one of the lmerr.Minor constants
	lm    *lmerr.Error
}

// Error is the short form lmutil prints:
// "Licensed number of users already reached. (-4,342)".
func (e *Error) Error() string { return e.lm.Error() }

// Long is the -verbose form of manual appendix E.1.2.
func (e *Error) Long() string { return e.lm.Long() }

// Detail is the supporting information of the long form ("Feature: f1").
func (e *Error) Detail() []string { return e.lm.Detail }

// Unwrap returns the underlying *lmerr.Error.
func (e *Error) Unwrap() error { return e.lm }

func newError(code lmerr.Code, minor lmerr.Minor, detail ...string) *Error {
	return fromLM(lmerr.New(code, minor, detail...))
}

// fromLM wraps an *lmerr.Error.
func fromLM(e *lmerr.Error) *Error { return &Error{Code: e.Code, Minor: e.Minor, lm: e} }

// fromPeer converts an Error frame.
func fromPeer(m *protocol.Error) *Error { return fromLM(m.LMError()) }

// netError maps a transport error to the FlexLM code lmutil would show:
// -15 for a failed connect, -16/-17 for broken reads and writes, -12 for a
// protocol violation, a peer's own error as itself.
func netError(err error, code lmerr.Code, minor lmerr.Minor) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	var pe *protocol.PeerError
	if errors.As(err, &pe) {
		return fromPeer(pe.Msg)
	}
	if protocol.IsViolation(err) {
		e := newError(lmerr.BadComm, lmerr.MinorClientProtocol, err.Error())
		return e
	}
	return fromLM(lmerr.FromOS(code, minor, err))
}

// codeOf returns err's FlexLM code, 0 if it has none.
func codeOf(err error) lmerr.Code { return lmerr.CodeOf(err) }

func lmerrFromOS(code lmerr.Code, minor lmerr.Minor, err error, detail ...string) *lmerr.Error {
	return lmerr.FromOS(code, minor, err, detail...)
}
