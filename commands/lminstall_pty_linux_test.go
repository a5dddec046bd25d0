//go:build linux

package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair with echo and output newline
// translation off, so that what the master reads is exactly what the
// program wrote. It skips the test where there are no pseudo-terminals.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("opening the terminal side: %v", err)
	}
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= unix.ECHO
	tio.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestLminstallPTY runs the dialogue on a real pseudo-terminal: lminstall
// must see a terminal without being told, ask for the file name, take the
// default, ask again for a mistyped decimal line, stop at q, and write
// the file. The transcript is the one the pipe test's golden pins.
func TestLminstallPTY(t *testing.T) {
	master, tty := openPTY(t)
	if !isTerminal(tty) {
		t.Fatal("isTerminal does not recognise a pseudo-terminal")
	}
	if r, w, err := os.Pipe(); err == nil {
		if isTerminal(r) {
			t.Error("isTerminal takes a pipe for a terminal")
		}
		r.Close()
		w.Close()
	}

	dec := decimalDemo(t)
	typo := []byte(dec[2])
	typo[20] = '0' + (typo[20]-'0'+5)%10
	input := "\n" + dec[0] + "\n" + dec[1] + "\n" + string(typo) + "\n" + dec[2] + "\nq\n"
	now := func() time.Time { return time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC) }

	// The same dialogue through a pipe taken for a terminal.
	pipeDir := t.TempDir()
	var want bytes.Buffer
	penv := &Env{Dir: pipeDir, Stdin: strings.NewReader(input), Stdout: &want, Stderr: &want, Now: now, Prog: "lminstall"}
	if err := Run(context.Background(), penv, newLminstallApplet(fakeTerminal), nil); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	var got bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(&got, master) // ends with EIO once the terminal side is closed
	}()
	if _, err := master.Write([]byte(input)); err != nil {
		t.Fatal(err)
	}
	env := &Env{Dir: dir, Stdin: tty, Stdout: tty, Stderr: tty, Now: now, Prog: "lminstall"}
	err := Run(context.Background(), env, lminstallApplet(), nil)
	tty.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the pseudo-terminal did not close")
	}
	if err != nil {
		t.Fatalf("lminstall: %v\n%s", err, got.String())
	}
	if got.String() != want.String() {
		t.Errorf("transcript on a terminal:\n%s\nwant (as through the pipe):\n%s", got.String(), want.String())
	}
	if !strings.Contains(got.String(), "[20261123.lic]") || !strings.Contains(got.String(), "again") {
		t.Errorf("the transcript lacks the prompts:\n%s", got.String())
	}
	if a, b := readFile(t, filepath.Join(dir, "20261123.lic")), readFile(t, filepath.Join(pipeDir, "20261123.lic")); a != b || a == "" {
		t.Errorf("file written on the terminal:\n%s\nwant:\n%s", a, b)
	}
}
