package client

import (
	"errors"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// Error is the FlexLM error every function of this package returns, from
// a checkout, a server or the license path: an *lmerr.Error itself, so
// that errors.Is(err, lmerr.MaxUsers) holds and lmutil's exit status
// (256+Code) follows from it. Its Code is one of the lmerr constants
// (lmerr.MaxUsers, lmerr.NoServer ...), its Minor says where it was
// raised, its Detail is the supporting information ("Feature: f1").
// Error() is the short text lmutil prints
// ("Licensed number of users already reached. (-4,342)"), Long() the
// -verbose form of manual appendix E.1.2.
type Error = lmerr.Error

func newError(code lmerr.Code, minor lmerr.Minor, detail ...string) *Error {
	return lmerr.New(code, minor, detail...)
}

// fromPeer converts an Error frame.
func fromPeer(m *protocol.Error) *Error { return m.LMError() }

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
	return lmerr.FromOS(code, minor, err)
}

// codeOf returns err's FlexLM code, 0 if it has none.
func codeOf(err error) lmerr.Code { return lmerr.CodeOf(err) }

func lmerrFromOS(code lmerr.Code, minor lmerr.Minor, err error, detail ...string) *lmerr.Error {
	return lmerr.FromOS(code, minor, err, detail...)
}
