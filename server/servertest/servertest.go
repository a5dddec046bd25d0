// Package servertest holds what the end-to-end tests of several packages
// share: building the lmutil binary once, free loopback ports, and
// polling a condition with a deadline. Only tests import it.
package servertest

import (
	"fmt"
	"io"
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
