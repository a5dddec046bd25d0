package client_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/server/servertest"
)

// publicKey is the public half of priv as vendor demo's key.
func publicKey(priv ed25519.PrivateKey) licfile.PublicKey {
	return licfile.PublicKey{Vendor: "demo", Key: priv.Public().(ed25519.PublicKey)}
}

// TestE2EForgedLicense is the attack on a customer's own server: the
// customer makes a key pair, puts its demo.pub beside the license file
// (the vendor daemon, with no key built in or beside it, trusts it) and
// signs a line of 100000 seats. A job that has the publisher's key
// refuses every grant with -8 and gives the seat back; a job with the key
// that did sign the lines (the genuine case) is granted; a job without a
// key trusts the server, as before.
func TestE2EForgedLicense(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 100000\nFEATURE q1 demo 1.0 permanent 1\n")
	_, publisher, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("publisher's key refuses the forged line", func(t *testing.T) {
		j := s.open(t, "ann", client.WithPublicKey(publicKey(publisher)))
		lic, err := j.Checkout(ctx, "f1", "1.0", 1)
		if lic != nil {
			t.Errorf("Checkout returned a license: %+v", lic)
		}
		wantCode(t, err, -8)
		if n, handles := s.inUse(t, "f1"); n != 0 {
			t.Errorf("f1 in use after the refusal = %d (handles %v), want 0: the seat was not checked back in", n, handles)
		}
		s.waitLog(`IN: "f1" ann@`, 1)
	})

	t.Run("queued grant of the forged line is refused", func(t *testing.T) {
		holder := s.open(t, "hal")
		lh := checkout(t, holder, "q1")
		j := s.open(t, "bob", client.WithPublicKey(publicKey(publisher)), client.WithQueuePoll(50*time.Millisecond))
		lb, err := j.CheckoutQueued(ctx, "q1", "1.0", 1)
		if lb == nil || !lb.Queued() {
			t.Fatalf("CheckoutQueued = %v, %v; want a queued license", lb, err)
		}
		if err := lh.Checkin(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		wantCode(t, lb.Wait(wctx), -8)
		if n, handles := s.inUse(t, "q1"); n != 0 {
			t.Errorf("q1 in use after the refusal = %d (handles %v), want 0", n, handles)
		}
	})

	t.Run("the key that signed the lines is granted", func(t *testing.T) {
		j := s.open(t, "cat", client.WithPublicKey(publicKey(s.key)))
		lic := checkout(t, j, "f1")
		if n, _ := s.inUse(t, "f1"); n != 1 {
			t.Errorf("f1 in use = %d, want 1", n)
		}
		if err := lic.Checkin(ctx); err != nil {
			t.Errorf("Checkin: %v", err)
		}
	})

	t.Run("no key trusts the server", func(t *testing.T) {
		j := s.open(t, "dan")
		lic := checkout(t, j, "f1")
		if err := lic.Checkin(ctx); err != nil {
			t.Errorf("Checkin: %v", err)
		}
	})
}

// TestE2EAlteredGrant puts a proxy that edits the count in every signed
// line it relays between a job and lmgrd (the connection lmgrd hands over
// to the vendor daemon passes through it too): the job with the
// publisher's key refuses the grant with -8 and the seat is checked back
// in, while the same license without the proxy is granted.
func TestE2EAlteredGrant(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 2\n")
	ctx := context.Background()
	key := client.WithPublicKey(publicKey(s.key))
	proxy := editingProxy(t, s.port, func(l protocol.GrantLine) protocol.GrantLine {
		l.Text = strings.Replace(l.Text, " permanent 2\n", " permanent 100000\n", 1)
		return l
	})
	j, err := client.Open(ctx, strconv.Itoa(proxy)+"@127.0.0.1", client.WithGetenv(func(string) string { return "" }),
		client.WithUser("eve"), client.WithHeartbeat(time.Hour), key)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	_, err = j.Checkout(ctx, "f1", "1.0", 1)
	wantCode(t, err, -8)
	if n, handles := s.inUse(t, "f1"); n != 0 {
		t.Errorf("f1 in use after the refusal = %d (handles %v), want 0", n, handles)
	}
	checkout(t, s.open(t, "fay", key), "f1")
}

// editingProxy relays connections from a loopback port to lmgrd's port,
// passing edit every license line of the SIGNED_GRANTED frames coming
// back. It returns its port.
func editingProxy(t *testing.T, port int, edit func(protocol.GrantLine) protocol.GrantLine) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); u.Close() })
			go func() { io.Copy(u, c); u.Close() }()
			go func() {
				defer c.Close()
				r, w := protocol.NewReader(u), protocol.NewWriter(c)
				for {
					m, err := r.ReadMessage()
					if err != nil {
						return
					}
					if g, ok := m.(*protocol.SignedGranted); ok {
						for i := range g.Lines {
							g.Lines[i] = edit(g.Lines[i])
						}
					}
					if w.WriteMessage(m) != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// signEach renders a license for port whose FEATURE lines are signed one
// by one, lines[i] with keys[i].
func signEach(t *testing.T, port int, daemonPath string, lines []string, keys []ed25519.PrivateKey) string {
	t.Helper()
	head := "SERVER this_host ANY " + strconv.Itoa(port) + "\nVENDOR demo " + daemonPath + "\n"
	text := head
	for i, l := range lines {
		f, err := licfile.Parse(strings.NewReader(head+l+"\n"), "x.lic")
		if err != nil {
			t.Fatal(err)
		}
		sig, err := licfile.Sign(keys[i], f.Features[0], f.Servers)
		if err != nil {
			t.Fatal(err)
		}
		text += l + " SIGN=" + sig + "\n"
	}
	return text
}

// startLmgrd starts bin as lmgrd -z on license, written into dir beside
// customer's demo.pub (into keyDir when it is not ""), and waits for the
// vendor daemon.
func startLmgrd(t *testing.T, bin, dir string, port int, license string, customer ed25519.PrivateKey, keyDir string) *server {
	t.Helper()
	s := &server{t: t, dir: dir, port: port, exited: make(chan struct{}), key: customer}
	s.license = filepath.Join(s.dir, "license.lic")
	s.log = filepath.Join(s.dir, "debug.log")
	if err := os.WriteFile(s.license, []byte(license), 0o644); err != nil {
		t.Fatal(err)
	}
	if keyDir == "" {
		keyDir = s.dir
	}
	if err := os.WriteFile(filepath.Join(keyDir, "demo.pub"), []byte(licfile.FormatPublicKey(publicKey(customer))), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, "lmgrd", "-z", "-c", s.license, "-l", s.log)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	s.waitLog("(lmgrd) Started demo", 1)
	s.waitLog("Server started", 1)
	return s
}

// checkPublisherWins checks a server whose license has f1 signed by the
// publisher and f2 (100000 seats) by the customer: the debug log names
// the trusted key (source, with the publisher's fingerprint) and, when
// the customer's key lies beside the license file (besideLicense), the
// ignored one; f2 is BAD CODE and not served, and lmstat shows f1 alone.
func checkPublisherWins(t *testing.T, s *server, bin, source string, publisher ed25519.PrivateKey, besideLicense bool) {
	t.Helper()
	// lmgrd and its vendor daemon buffer their lines separately: wait
	// for the vendor daemon's own start line as well as lmgrd's.
	s.waitLog("(lmgrd) Started demo", 1)
	log := s.waitLog("Server started", 1)
	wants := []string{
		"Trusting public key " + source + " (fingerprint " + publicKey(publisher).Fingerprint() + ")",
		"BAD CODE for f2",
	}
	if besideLicense {
		wants = append(wants, "Ignoring public key "+filepath.Join(s.dir, "demo.pub")+" beside the license file (fingerprint "+publicKey(s.key).Fingerprint()+")")
	}
	for _, want := range wants {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, publicKey(s.key).Fingerprint()+")\n") && !besideLicense {
		t.Errorf("debug log names the customer's key:\n%s", log)
	}
	j := s.open(t, "ann")
	_, err := j.Checkout(context.Background(), "f2", "1.0", 1)
	wantCode(t, err, -5)
	checkout(t, j, "f1")
	out, err := exec.Command(bin, "lmstat", "-a", "-c", s.license).CombinedOutput()
	if err != nil {
		t.Fatalf("lmstat: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Users of f1:  (Total of 2 licenses issued") || strings.Contains(string(out), "100000") {
		t.Errorf("lmstat -a shows the forged line or not the genuine one:\n%s", out)
	}
}

// TestE2EPublisherKeyBesideBinary: the publisher's demo.pub beside the
// vendor daemon binary wins over the customer's, beside the license file
// or beside the (missing) program the DAEMON line names, which the
// license file, and so the customer, chooses.
func TestE2EPublisherKeyBesideBinary(t *testing.T) {
	_, publisher, _ := ed25519.GenerateKey(nil)
	_, customer, _ := ed25519.GenerateKey(nil)
	binDir := t.TempDir()
	bin := filepath.Join(binDir, "lmutil")
	data, err := os.ReadFile(lmutilBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(binDir, "demo.pub")
	if err := os.WriteFile(pubPath, []byte(licfile.FormatPublicKey(publicKey(publisher))), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		daemonDir bool // the customer's key beside the DAEMON path, not the license
	}{
		{"customer key beside the license file", false},
		{"customer key beside the DAEMON path", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, keyDir, daemonPath := t.TempDir(), "", ""
			if tt.daemonDir {
				keyDir = t.TempDir()
				daemonPath = filepath.Join(keyDir, "demo")
			}
			port := freePort(t)
			lic := signEach(t, port, daemonPath, []string{"FEATURE f1 demo 1.0 permanent 2", "FEATURE f2 demo 1.0 permanent 100000"},
				[]ed25519.PrivateKey{publisher, customer})
			s := startLmgrd(t, bin, dir, port, lic, customer, keyDir)
			checkPublisherWins(t, s, bin, pubPath, publisher, !tt.daemonDir)
		})
	}
}

// TestE2EBuiltinKey builds lmutil with the publisher's key set at link
// time, as the server package documents, and runs it with no key file but
// the customer's beside the license: the built-in key is trusted.
func TestE2EBuiltinKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lmutil")
	}
	_, publisher, _ := ed25519.GenerateKey(nil)
	_, customer, _ := ed25519.GenerateKey(nil)
	bin := filepath.Join(t.TempDir(), "lmutil")
	flag := "-X golm/lmutil/server.publisherKeys=acme:" + strings.Repeat("00", 32) + ",demo:" + hex.EncodeToString(publicKey(publisher).Key)
	servertest.GoBuild(t, "", bin, "golm/lmutil", "-ldflags", flag)
	port := freePort(t)
	lic := signEach(t, port, "", []string{"FEATURE f1 demo 1.0 permanent 2", "FEATURE f2 demo 1.0 permanent 100000"},
		[]ed25519.PrivateKey{publisher, customer})
	s := startLmgrd(t, bin, t.TempDir(), port, lic, customer, "")
	checkPublisherWins(t, s, bin, "built in", publisher, true)
}
