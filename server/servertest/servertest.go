// Package servertest holds what the end-to-end tests of several packages
// share: the test binary standing in for lmutil, free loopback ports,
// and polling a condition with a deadline. Only tests import it.
package servertest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// Lmutil is lmutil's main as a test binary runs it: a package whose
// tests start lmutil as real processes hands it to Main, which makes the
// test binary itself the lmutil those tests run. servertest cannot import
// the commands package (the server package's own tests import
// servertest), so the caller supplies what it needs of it.
type Lmutil struct {
	// Run is lmutil's main without the exit: commands.Main with the
	// process's Env, returning the exit status.
	Run func(ctx context.Context, argv []string) int
	// IsCommand reports whether name is one of lmutil's commands (lmgrd
	// runs itself as "lmgrd" when it detaches): commands.Lookup(name) != nil.
	IsCommand func(name string) bool
	// ControlEnv is the variable lmgrd sets for the vendor daemons it
	// starts as its own binary under the vendor's name (server.ControlEnv).
	ControlEnv string
}

// started reports whether this process was started as lmutil rather
// than as the test binary: through the link Main makes, under a
// command's name, or as a vendor daemon.
func (l Lmutil) started() bool {
	if len(os.Args) == 0 {
		return false
	}
	name := filepath.Base(os.Args[0])
	return name == "lmutil" || l.IsCommand(name) || os.Getenv(l.ControlEnv) != ""
}

// Main is a package's TestMain body for tests that run lmutil as real
// processes: os.Exit(servertest.Main(m, &lmutil, prog)). It sets *bin to
// a link named lmutil to the test binary, so that lmgrd, the vendor
// daemons and every command the tests start are this binary, built as
// the tests were (under go test -race the daemons are race-checked),
// and nothing is built for them. Started through that link (or as one
// of lmutil's own children), the binary runs prog instead of the tests
// and exits. Children of the tests skip the race detector's exit pause
// (RaceExitEnv).
func Main(m *testing.M, bin *string, prog Lmutil) int {
	if prog.started() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		status := prog.Run(ctx, os.Args)
		stop()
		// Under go test -cover the binary's exit hooks may write to
		// stderr ("program not built with -cover" for a package with
		// no statements, a warning when GOCOVERDIR is not in a scrubbed
		// environment): that is not lmutil's output, and the tests
		// compare lmutil's stderr. The race detector writes to the file
		// descriptor, not os.Stderr, and is still heard.
		if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
			os.Stderr = null
		}
		os.Exit(status)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "golm-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, "lmutil")
	if err := os.Symlink(exe, *bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	k, v, _ := strings.Cut(RaceExitEnv(), "=")
	os.Setenv(k, v)
	return m.Run()
}

// RaceExitEnv is the GORACE=... environment entry for the processes a
// test starts from a race-built binary: the options of this process's
// GORACE, plus atexit_sleep_ms=0 unless GORACE sets it. By default a
// race-built program sleeps a second before it exits, which a test that
// runs a hundred commands pays a hundred times; the races of a command
// are reported as they happen, not in that second. Other builds ignore
// GORACE.
func RaceExitEnv() string {
	opts := os.Getenv("GORACE")
	if !strings.Contains(opts, "atexit_sleep_ms=") {
		opts = strings.TrimSpace(opts + " atexit_sleep_ms=0")
	}
	return "GORACE=" + opts
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
// It is taken at random below Linux's default ephemeral range (32768 up),
// so that no outgoing connection of a test running beside this one can
// take it between now and the server's bind; the kernel's choice is the
// fallback when none is free there.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000)))
		if err == nil {
			defer ln.Close()
			return ln.Addr().(*net.TCPAddr).Port
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Poll calls cond until it holds and fails the test when timeout passes
// first. The timeout is generous because test machines are loaded: it
// bounds a wait, it never asserts a timing.
func Poll(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval
	}
}

// Frames encodes ms as consecutive frames, as a client writes them in one
// write when it does not wait for the server's Hello.
func Frames(tb testing.TB, ms ...protocol.Message) []byte {
	tb.Helper()
	var b []byte
	for _, m := range ms {
		var err error
		if b, err = protocol.AppendFrame(b, m); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

// WorldCopy copies the file src into a new directory every user can
// enter, as name, executable by everyone, so that a test running as root
// can run it as another uid. The directory goes at the end of the test.
func WorldCopy(t testing.TB, src, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "golm-world")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, in); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
