package server

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// TestLmgrdKeepsNoLicenseLines checks that lmgrd keeps what it serves of
// its license files and not the parsed files: after start-up, and after
// ten rereads, of a 2,000-line license its live heap holds at most a
// few hundred bytes per line (a parsed line takes several times that,
// and the text it is cut from stays with it).
func TestLmgrdKeepsNoLicenseLines(t *testing.T) {
	const lines, perLine = 2000, 500
	p := signedLicense(t, t.TempDir(), scaleLicense(lines))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	base := liveHeap()
	l, err := New(context.Background(), Config{
		LicenseFiles: []string{p},
		Log:          NewDebugLog(io.Discard, "lmgrd", nil),
		Hostname:     "srv",
		Software:     "0.1.0",
		Listener:     ln,
		Restart:      RestartPolicy{First: time.Hour, Max: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		h := liveHeap()
		t.Logf("%s: live heap %d KB above the start", when, (h-base)>>10)
		if h > base+lines*perLine {
			t.Errorf("%s: lmgrd's live heap %d KB for %d license lines, want at most %d KB", when, (h-base)>>10, lines, lines*perLine>>10)
		}
	}
	check("after start-up")
	c := protocol.NewConn(tcpPair(t))
	for i := range 10 {
		if err := l.lmreread(context.Background(), c, &protocol.Hello{}, &protocol.Reread{}); err != nil {
			t.Fatalf("reread %d: %v", i, err)
		}
	}
	check("after 10 rereads")
	runtime.KeepAlive(l)
}
