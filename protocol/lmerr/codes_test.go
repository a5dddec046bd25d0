package lmerr

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestCodeIs checks that a Code is a sentinel that errors.Is matches
// against any *Error of that number, whatever its minor, wrapped or not,
// and against nothing else.
func TestCodeIs(t *testing.T) {
	maxUsers := New(MaxUsers, MinorMaxUsers, "Feature: f1")
	for _, tt := range []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", maxUsers, MaxUsers, true},
		{"same code, another minor", New(MaxUsers, MinorClientNoFeature), MaxUsers, true},
		{"wrapped", fmt.Errorf("checkout f1: %w", maxUsers), MaxUsers, true},
		{"the old form with an *Error target", maxUsers, New(MaxUsers, 0), true},
		{"another code", maxUsers, NoFeature, false},
		{"the minor's number is no code", New(NoFeature, MinorMaxUsers), MaxUsers, false},
		{"a plain error", io.EOF, MaxUsers, false},
		{"nil", nil, MaxUsers, false},
		{"a Code against itself", NoServer, NoServer, true},
		{"a Code against another", NoServer, ServerDown, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestCodeError(t *testing.T) {
	for _, tt := range []struct {
		code Code
		want string
	}{
		{NoServer, "Cannot connect to license server system. (-15)"},
		{MaxUsers, "Licensed number of users already reached. (-4)"},
		{Code(-1000), "Unknown FlexLM error. (-1000)"},
	} {
		if got := tt.code.Error(); got != tt.want {
			t.Errorf("Code(%d).Error() = %q, want %q", int(tt.code), got, tt.want)
		}
	}
}

// TestCodeOf checks that CodeOf finds the code through wrapping and that
// it compares with the constants.
func TestCodeOf(t *testing.T) {
	err := fmt.Errorf("lmstat: %w", New(NoServer, MinorClientConnect))
	if got := CodeOf(err); got != NoServer {
		t.Errorf("CodeOf = %d, want %d", got, NoServer)
	}
	if got := CodeOf(io.EOF); got != 0 {
		t.Errorf("CodeOf(io.EOF) = %d, want 0", got)
	}
	if got := ExitStatus(NoServer); got != 241 {
		t.Errorf("ExitStatus(NoServer) = %d, want 241", got)
	}
}

// TestCodesNamed checks that every text belongs to a named constant of
// the right number: the names were derived from the texts, so a code
// added to one and not the other shows here.
func TestCodesNamed(t *testing.T) {
	for _, tt := range []struct {
		code Code
		want int
	}{
		{NoConfFile, -1}, {BadFile, -2}, {MaxUsers, -4}, {NoFeature, -5}, {BadCode, -8},
		{NotThisHost, -9}, {Expired, -10}, {BadComm, -12}, {NoServerLines, -13}, {BadHost, -14},
		{NoServer, -15}, {CantRead, -16}, {CantWrite, -17}, {NoServerSupport, -18},
		{UsersQueued, -24}, {CantReadFile, -30}, {InQueue, -35}, {NeverCheckedOut, -41},
		{BadParam, -42}, {NotAdmin, -63}, {NotSupported, -85}, {ServerDown, -96}, {VendorDown, -97},
		{Reserved, -101}, {NoConnections, -106},
	} {
		if int(tt.code) != tt.want {
			t.Errorf("constant for %d is %d", tt.want, int(tt.code))
		}
		if !Known(tt.code) {
			t.Errorf("Known(%d) = false", tt.want)
		}
	}
	if len(texts) < 75 {
		t.Errorf("%d texts, want every code golm knows", len(texts))
	}
}
