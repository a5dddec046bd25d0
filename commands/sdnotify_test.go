package commands

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSdNotify(t *testing.T) {
	for _, tt := range []struct {
		name   string
		listen string // the address the test listens on
		env    string // NOTIFY_SOCKET
	}{
		{"path", filepath.Join(t.TempDir(), "notify"), ""},
		{"abstract", fmt.Sprintf("\x00golm-test-notify-%d", os.Getpid()), fmt.Sprintf("@golm-test-notify-%d", os.Getpid())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: tt.listen, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			env := tt.env
			if env == "" {
				env = tt.listen
			}
			if err := sdNotify(env, "READY=1\nSTATUS=x"); err != nil {
				t.Fatal(err)
			}
			ln.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 256)
			n, err := ln.Read(buf)
			if err != nil || string(buf[:n]) != "READY=1\nSTATUS=x" {
				t.Errorf("got %q, %v; want READY=1\\nSTATUS=x", buf[:n], err)
			}
		})
	}
	t.Run("no socket", func(t *testing.T) {
		if err := sdNotify("", "READY=1"); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("socket gone", func(t *testing.T) {
		if err := sdNotify(filepath.Join(t.TempDir(), "none"), "READY=1"); err == nil {
			t.Errorf("got nil, want an error")
		}
	})
}
