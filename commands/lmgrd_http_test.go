package commands

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLmgrdHTTPFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lmgrdPort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	dir := t.TempDir()
	lic := filepath.Join(dir, "license.lic")
	if err := os.WriteFile(lic, []byte(fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 1 SIGN=00\n", lmgrdPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		http   string
		status int
		want   string
	}{
		{"port out of range", "99999", 1, `lmgrd: -http: bad port "99999"`},
		{"empty", "", 1, "lmgrd: -http: empty address"},
		{"no port", "localhost", 1, "want port, :port or host:port"},
		{"port in use", busy.Addr().String(), 1, "lmgrd: -http " + busy.Addr().String() + ": cannot listen: bind: address already in use"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &Env{Stdout: &stdout, Stderr: &stderr, Dir: dir, Getenv: func(k string) string {
				if k == bindRetryEnv {
					return "1ms"
				}
				return ""
			}}
			st := Main(t.Context(), []string{"lmgrd", "-z", "-c", lic, "-http", tt.http}, env)
			if st != tt.status || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("got status %d, stderr %q; want %d, %q", st, stderr.String(), tt.status, tt.want)
			}
			if strings.Contains(stderr.String(), "listen tcp") {
				t.Errorf("stderr %q has Go's wording", stderr.String())
			}
		})
	}
}
