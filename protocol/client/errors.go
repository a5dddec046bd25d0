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
	Code  int // FlexLM error number: -4, -5, -15 ...
	Minor int // where it was raised
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

// Minor numbers of the errors this package raises itself.
const (
	minorNoLicenseFile = 359 // -1: no license file could be read
	minorConnect       = 570 // -15: connect to lmgrd or vendor daemon failed
	minorHostLookup    = 574 // -14: the server's host name does not resolve
	minorRead          = 571 // -16: read from server failed
	minorWrite         = 572 // -17: write to server failed
	minorNoFeature     = 360 // -5: no line of the path names the feature
	minorVersion       = 361 // -25: local lines too old
	minorExpired       = 362 // -10: local line expired
	minorStart         = 363 // -31: local line not started
	minorHost          = 364 // -9: local line locked to another host
	minorBadParam      = 365 // -42: count < 1, empty feature
	minorBadVersion    = 366 // -77: requested version not a number
	minorProtocol      = 573 // -12: the server broke the protocol
	minorNoServer      = 367 // -13: counted line but no SERVER line
	minorClosed        = 368 // -42: the job is closed
	minorCheckin       = 369 // -41: license already checked in
	minorDown          = 121 // -97: vendor daemon down
	minorNoKey         = 461 // -8: no public key to verify a local line
	minorSignature     = 462 // -8: a local line's signature does not verify
	minorGrantNoKey    = 463 // -8: a grant from a vendor the application has no key of
	minorGrantUnsigned = 464 // -8: a grant without signed license lines
	minorGrantSign     = 465 // -8: a granted line's signature does not verify
	minorGrantLine     = 466 // -8: no granted line licenses the feature
	minorGrantExpired  = 467 // -10: the granted line expired
	minorGrantStart    = 468 // -31: the granted line has not started
	minorQueued        = 374 // -35: the request waits in the server's queue
	minorPlatform      = 375 // -89: a local line's PLATFORMS= does not list this platform
)

func newError(code, minor int, detail ...string) *Error {
	return fromLM(lmerr.New(code, minor, detail...))
}

// fromLM wraps an *lmerr.Error.
func fromLM(e *lmerr.Error) *Error { return &Error{Code: e.Code, Minor: e.Minor, lm: e} }

// fromPeer converts an Error frame.
func fromPeer(m *protocol.Error) *Error { return fromLM(m.LMError()) }

// netError maps a transport error to the FlexLM code lmutil would show:
// -15 for a failed connect, -16/-17 for broken reads and writes, -12 for a
// protocol violation, a peer's own error as itself.
func netError(err error, code, minor int) *Error {
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
		e := newError(-12, minorProtocol, err.Error())
		return e
	}
	return fromLM(lmerr.FromOS(code, minor, err))
}

// codeOf returns err's FlexLM code, 0 if it has none.
func codeOf(err error) int { return lmerr.CodeOf(err) }

func lmerrFromOS(code, minor int, err error, detail ...string) *lmerr.Error {
	return lmerr.FromOS(code, minor, err, detail...)
}
