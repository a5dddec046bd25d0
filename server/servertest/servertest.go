// Package servertest holds what the end-to-end tests of several packages
// share: building the lmutil binary once, free loopback ports, and
// polling a condition with a deadline. Only tests import it.
package servertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// Main builds lmutil into a temporary directory, sets *bin to its path,
// runs the tests and removes the directory; it is a package's TestMain
// body: os.Exit(servertest.Main(m, &lmutil)). A failed build is retried
// once (a build cache shared with concurrent builds can fail spuriously;
// a real compile error fails again) and then ends the run.
func Main(m *testing.M, bin *string) int {
	dir, err := os.MkdirTemp("", "golm-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, "lmutil")
	out, err := exec.Command("go", "build", "-o", *bin, "golm/lmutil").CombinedOutput()
	if err != nil {
		out, err = exec.Command("go", "build", "-o", *bin, "golm/lmutil").CombinedOutput()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "building lmutil: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
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
