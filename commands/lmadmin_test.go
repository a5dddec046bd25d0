package commands

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// adminEnv is an Env for the admin commands with its working directory
// holding license files that name unreachable servers.
func adminEnv(t *testing.T, stdin string) *Env {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		// Port 1 of the loopback interface: nothing listens there.
		"down.lic":     "SERVER localhost ANY 1\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2 SIGN=00\n",
		"noserver.lic": "FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY SIGN=00\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &Env{
		Dir:    dir,
		Stdin:  strings.NewReader(stdin),
		Now:    func() time.Time { return time.Date(2025, 2, 10, 11, 26, 0, 0, time.UTC) },
		Getenv: func(string) string { return "" },
	}
}

// TestAdminCommandsGolden runs lmdown, lmreread and lmremove against
// servers that do not answer and with bad command lines: the messages and
// exit statuses are the goldens in testdata/<command>.
func TestAdminCommandsGolden(t *testing.T) {
	tests := []struct {
		name string
		a    *Applet
		args []string
	}{
		{"lmdown/no-server", lmdownApplet(), []string{"-c", "down.lic"}},
		{"lmdown/no-server-q", lmdownApplet(), []string{"-q", "-c", "1@localhost"}},
		{"lmdown/no-server-line", lmdownApplet(), []string{"-c", "noserver.lic"}},
		{"lmdown/missing-file", lmdownApplet(), []string{"-c", "missing.lic"}},
		{"lmdown/stray-argument", lmdownApplet(), []string{"-c", "down.lic", "now"}},
		{"lmdown/vendor-needs-name", lmdownApplet(), []string{"-c", "down.lic", "-vendor"}},
		{"lmreread/no-server", lmrereadApplet(), []string{"-c", "down.lic"}},
		{"lmreread/all-no-server", lmrereadApplet(), []string{"-all", "-vendor", "demo", "-c", "down.lic:1@127.0.0.1"}},
		{"lmreread/stray-argument", lmrereadApplet(), []string{"x"}},
		{"lmremove/no-server", lmremoveApplet(), []string{"-c", "down.lic", "f1", "joe", "nirvana", "/dev/ttyp5"}},
		{"lmremove/handle-no-server", lmremoveApplet(), []string{"-h", "f1", "localhost", "1", "102", "-c", "down.lic"}},
		{"lmremove/too-few", lmremoveApplet(), []string{"f1", "joe", "nirvana"}},
		{"lmremove/bad-port", lmremoveApplet(), []string{"-h", "f1", "cloud9", "port", "102"}},
		{"lmremove/bad-handle", lmremoveApplet(), []string{"-h", "f1", "cloud9", "7654", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runAppletGolden(t, tt.a, tt.a.Name, tt.args, adminEnv(t, ""))
			checkGolden(t, tt.name+".golden", got)
		})
	}
}

// TestServerTable checks lmdown's table layout against the reference:
// Port@Host at column 3 padded to 21 columns, then the vendor daemons.
func TestServerTable(t *testing.T) {
	var b bytes.Buffer
	writeServerTable(&b, []*adminConn{
		{addr: "27000@ubuntu-x86", vendors: []string{"snpslmd"}},
		{addr: "27001@averyveryverylonghost", vendors: []string{"a", "b"}},
	})
	want := "   Port@Host            Vendors\n" +
		"1) 27000@ubuntu-x86     snpslmd\n" +
		"2) 27001@averyveryverylonghosta b\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant:\n%q", b.String(), want)
	}
}

// TestPickServers checks the answers lmdown accepts when it asks which
// server to shut down.
func TestPickServers(t *testing.T) {
	conns := []*adminConn{{addr: "1@a"}, {addr: "2@b"}, {addr: "3@c"}}
	tests := []struct {
		answer string
		want   []string
	}{
		{"1", []string{"1@a"}},
		{"3", []string{"3@c"}},
		{"a", []string{"1@a", "2@b", "3@c"}},
		{"A", []string{"1@a", "2@b", "3@c"}},
		{"0", nil},
		{"4", nil},
		{"", nil},
		{"y", nil},
	}
	for _, tt := range tests {
		t.Run("answer="+tt.answer, func(t *testing.T) {
			var got []string
			for _, c := range pickServers(tt.answer, conns) {
				got = append(got, c.addr)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("pickServers(%q) = %v, want %v", tt.answer, got, tt.want)
			}
		})
	}
}

// TestReadAnswer checks that an answer is one trimmed line and EOF is no
// answer.
func TestReadAnswer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"y\n", "y"},
		{"  yes please \r\n", "yes please"},
		{"n", "n"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := readAnswer(bufio.NewReader(strings.NewReader(tt.in))); got != tt.want {
				t.Errorf("readAnswer(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
