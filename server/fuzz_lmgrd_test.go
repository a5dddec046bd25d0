package server

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golm/lmutil/protocol"
)

// loopbackConn is one end of a net.Pipe that says it comes from a
// loopback address, so that the fuzzer reaches the admin handlers as a
// local lmdown or lmreread would.
type loopbackConn struct{ net.Conn }

func (loopbackConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}

// fuzzLmgrd is an lmgrd on a license with one vendor daemon, demo, that it
// believes is up on port 27001. No process is started: a Reread that
// would start one finds no binary and waits an hour before retrying.
func fuzzLmgrd(f *testing.F, log io.Writer) *Lmgrd {
	dir := f.TempDir()
	p := signedLicense(f, dir, twoSeats)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })
	l, err := New(context.Background(), Config{
		LicenseFiles: []string{p},
		Log:          unbufferedLog(log, "lmgrd", nil),
		Hostname:     "srv",
		Software:     "0.1.0",
		Listener:     ln,
		Restart:      RestartPolicy{First: time.Hour, Max: time.Hour},
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, vl := range l.lic.vendors {
		ch := newChild(l, vl)
		ch.setUp(&protocol.Ready{Port: 27001, Version: "v0.1.0"}, nil)
		l.vendors = append(l.vendors, ch)
		l.byName[vl.Name] = ch
	}
	return l
}

// FuzzLmgrdRequests feeds arbitrary bytes after a valid HELLO to lmgrd's
// connection handler, as from a local admin tool: it must answer or close,
// never panic or hang, and whatever it writes to its debug log must stay
// one printable line per entry, whatever the client claimed to be.
func FuzzLmgrdRequests(f *testing.F) {
	frame := func(ms ...protocol.Message) []byte {
		var b []byte
		for _, m := range ms {
			b, _ = protocol.AppendFrame(b, m)
		}
		return b
	}
	f.Add([]byte(nil), frame(&protocol.Locate{Vendor: "demo"}, &protocol.Locate{Feature: "f1"}, &protocol.Locate{Feature: "nosuch"}))
	f.Add([]byte(nil), frame(&protocol.ServerStatusRequest{}, &protocol.Heartbeat{Seq: 7}))
	f.Add([]byte(nil), frame(&protocol.LocateHandoff{Feature: "f1"}, &protocol.LocateHandoff{Vendor: "nosuch"}))
	f.Add([]byte(nil), frame(&protocol.LocateHandoff{Vendor: "demo"}))
	f.Add([]byte("root\x1b[2J\n12:00:00 (lmgrd) forged"), frame(&protocol.Shutdown{Vendor: "demo"}, &protocol.Locate{Vendor: "demo"}))
	f.Add([]byte("\xff\xfe"), frame(&protocol.Shutdown{Vendor: "nosuch"}, &protocol.Reread{Vendor: "nosuch"}))
	f.Add([]byte("admin"), frame(&protocol.Reread{}, &protocol.ServerStatusRequest{}))
	f.Add([]byte(nil), frame(&protocol.Shutdown{}, &protocol.Heartbeat{Seq: 1}))
	f.Add([]byte(nil), frame(&protocol.Checkout{Feature: "f1", Count: 1}))
	f.Add([]byte(nil), []byte{0, 0, 0, 0})
	f.Add([]byte(nil), []byte{0xff, 0xff, 0xff, 0xff, byte(protocol.TypeLocate)})
	f.Add([]byte(nil), []byte{0, 0, 0, 3, 0xee, 1, 2})
	f.Add([]byte(nil), []byte("GET / HTTP/1.0\r\n\r\n"))
	log := &resetBuffer{}
	l := fuzzLmgrd(f, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Fuzz(func(t *testing.T, user []byte, data []byte) {
		log.Reset()
		id := protocol.Identity{User: string(user), Host: string(user) + "\r\nhost", Display: string(user), Program: string(user)}
		hello := frame(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, Identity: id})
		cc, sc := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c := protocol.NewConn(loopbackConn{sc})
			c.ReadTimeout = time.Second
			l.serveConn(ctx, c, slotOpen)
			sc.Close()
		}()
		go io.Copy(io.Discard, cc)
		cc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		cc.Write(hello)
		cc.Write(data)
		cc.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("lmgrd's handler did not return 10 s after its client closed")
		}
		for _, line := range strings.SplitAfter(log.String(), "\n") {
			if line == "" {
				continue
			}
			if !utf8.ValidString(line) || strings.ContainsFunc(strings.TrimSuffix(line, "\n"), isControl) {
				t.Fatalf("debug log line with a raw control character or bad UTF-8: %q", line)
			}
		}
	})
}

// resetBuffer is a log writer safe for concurrent use that a fuzz
// iteration can empty, so that the log does not grow over millions of
// iterations.
type resetBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (r *resetBuffer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.Write(p)
}

func (r *resetBuffer) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.String()
}

func (r *resetBuffer) Reset() {
	r.mu.Lock()
	r.b.Reset()
	r.mu.Unlock()
}

// isControl reports whether r must not appear raw in a log line (a tab
// may: it cannot split or forge one).
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// FuzzLmgrdControl feeds arbitrary bytes to lmgrd's end of a vendor
// daemon's control channel: lmgrd must take a READY, close on anything
// else (a frame of the withdrawn type 25 included), write nothing raw to
// the debug log, and never panic or hang.
func FuzzLmgrdControl(f *testing.F) {
	frame := func(ms ...protocol.Message) []byte {
		var b []byte
		for _, m := range ms {
			b, _ = protocol.AppendFrame(b, m)
		}
		return b
	}
	f.Add(frame(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleVendorControl, Daemon: "demo"},
		&protocol.Ready{Port: 27001, PID: 42, Version: "v0.1.0"}))
	// A frame of type 25 (the withdrawn LOG_LINE) carrying "a\nb".
	f.Add(append([]byte{0, 0, 0, 5, 25, 3, 'a', '\n', 'b'}, frame(&protocol.Ready{}, &protocol.Ready{Port: 1})...))
	f.Add(frame(&protocol.Checkout{Feature: "f1"}))
	f.Add([]byte{0, 0, 0, 1})
	log := &resetBuffer{}
	l := fuzzLmgrd(f, log)
	ch := l.byName["demo"]
	f.Fuzz(func(t *testing.T, data []byte) {
		log.Reset()
		cc, sc := net.Pipe()
		p := &proc{ctrl: protocol.NewConn(sc), ready: make(chan *protocol.Ready, 1)}
		p.ctrl.ReadTimeout = time.Second
		done := make(chan struct{})
		go func() {
			defer close(done)
			ch.readControl(p)
			sc.Close()
		}()
		cc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		cc.Write(data)
		cc.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("lmgrd's control channel reader did not return 10 s after the vendor daemon closed it")
		}
		for _, line := range strings.SplitAfter(log.String(), "\n") {
			if line == "" {
				continue
			}
			if !utf8.ValidString(line) || strings.ContainsFunc(strings.TrimSuffix(line, "\n"), isControl) {
				t.Fatalf("relayed debug log line with a raw control character or bad UTF-8: %q", line)
			}
		}
	})
}
