package commands

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

// diagMachine is the host the lmdiag tests run on.
var diagMachine = &licfile.Machine{Hostname: "pc1", User: "joe", Ethers: []string{"0800200c9a66"}, IPs: []string{"192.0.2.9"}}

// closedLoopbackPort is a loopback port nothing listens on.
func closedLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// diagDir writes a license file served on port, signed with the demo
// key, with demo.pub beside it, and returns its directory.
func diagDir(t *testing.T, port int) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"demo.key", "demo.pub"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "keys", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lic := fmt.Sprintf(`SERVER this_host ANY %d
VENDOR demo
FEATURE f1 demo 1.0 permanent 2 SN=42
INCREMENT f2 demo 2.0 1-jan-2099 uncounted HOSTID=HOSTNAME=pc1 START=1-jan-2020
INCREMENT f2 demo 2.0 1-jan-2099 uncounted HOSTID=HOSTNAME=elsewhere
FEATURE f3 demo 1.0 1-jan-2001 uncounted HOSTID=ANY
`, port)
	if err := os.WriteFile(filepath.Join(dir, "license.lic"), []byte(lic), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &out, Dir: dir, Prog: "lmcrypt"}
	if err := Run(context.Background(), env, Lookup("lmcrypt"), []string{"-k", "demo.key", "license.lic"}); err != nil {
		t.Fatalf("lmcrypt: %v\n%s", err, out.String())
	}
	return dir
}

func TestLmdiagGolden(t *testing.T) {
	port := closedLoopbackPort(t)
	dir := diagDir(t, port)
	now := time.Date(2026, 3, 4, 9, 5, 0, 0, time.UTC)
	deps := lmdiagDeps{
		machine:  fixedMachine(diagMachine, nil),
		terminal: func(any) bool { return false },
		ports:    func(int, int) []int { return []int{port} },
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"all", []string{"-n", "-c", "license.lic"}, ""},
		{"feature", []string{"-n", "-c", "license.lic", "f2"}, ""},
		{"hostid", []string{"-c", "license.lic", "f2:HOSTID=HOSTNAME=pc1"}, ""},
		{"sn", []string{"-c", "license.lic", "f1:SN=42"}, "n\n"},
		{"extended", []string{"-c", "license.lic", "f1"}, "y\n"},
		{"no-such-feature", []string{"-c", "license.lic", "nosuch"}, ""},
		{"no-such-line", []string{"-c", "license.lic", "f2:SN=7"}, ""},
		{"no-file", []string{"-c", "missing.lic"}, ""},
		{"bad-selector", []string{"-c", "license.lic", "f1:SN"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &Env{Stdin: strings.NewReader(tt.stdin), Dir: dir, Now: func() time.Time { return now }, Hostname: func() (string, error) { return "pc1", nil }}
			got := runAppletGolden(t, newLmdiagApplet(deps), "lmdiag", tt.args, env)
			got = strings.ReplaceAll(got, dir, "$DIR")
			got = strings.ReplaceAll(got, strconv.Itoa(port), "PORT")
			checkGolden(t, filepath.Join("lmdiag", tt.name), got)
		})
	}
}

func TestLmdiagNoPromptWithN(t *testing.T) {
	port := closedLoopbackPort(t)
	dir := diagDir(t, port)
	asked := false
	deps := lmdiagDeps{
		machine:  fixedMachine(diagMachine, nil),
		terminal: func(any) bool { return false },
		ports:    func(int, int) []int { asked = true; return nil },
	}
	env := &Env{Stdin: strings.NewReader("y\n"), Dir: dir}
	got := runAppletGolden(t, newLmdiagApplet(deps), "lmdiag", []string{"-n", "-c", "license.lic", "f1"}, env)
	if strings.Contains(got, "(y/n)") || asked {
		t.Errorf("lmdiag -n prompted or scanned:\n%s", got)
	}
}

func TestLmdiagProgressOnTerminalOnly(t *testing.T) {
	port := closedLoopbackPort(t)
	dir := diagDir(t, port)
	for _, term := range []bool{false, true} {
		t.Run(fmt.Sprintf("terminal=%v", term), func(t *testing.T) {
			deps := lmdiagDeps{
				machine:  fixedMachine(diagMachine, nil),
				terminal: func(s any) bool { return term },
				ports:    func(int, int) []int { return []int{port} },
			}
			env := &Env{Stdin: strings.NewReader("y\n"), Dir: dir}
			got := runAppletGolden(t, newLmdiagApplet(deps), "lmdiag", []string{"-c", "license.lic", "f1"}, env)
			if has := strings.Contains(got, "\rProbing this_host port "); has != term {
				t.Errorf("progress line shown = %v, want %v:\n%q", has, term, got)
			}
		})
	}
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		arg     string
		want    featureSelector
		wantErr bool
	}{
		{"f1", featureSelector{name: "f1"}, false},
		{"f1:HOSTID=12345678", featureSelector{name: "f1", key: "HOSTID", value: "12345678"}, false},
		{"f1:version=2.0", featureSelector{name: "f1", key: "VERSION", value: "2.0"}, false},
		{"f1:HOSTID=HOSTNAME=pc1", featureSelector{name: "f1", key: "HOSTID", value: "HOSTNAME=pc1"}, false},
		{"f1:SN", featureSelector{}, true},
		{":SN=1", featureSelector{}, true},
		{"f1:=1", featureSelector{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := parseSelector(tt.arg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSelector(%q) error = %v, want error %v", tt.arg, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("parseSelector(%q) = %+v, want %+v", tt.arg, got, tt.want)
			}
		})
	}
}

func TestSelectorMatches(t *testing.T) {
	f, err := licfile.Parse(strings.NewReader(`FEATURE f1 demo 2.0 1-jan-2099 uncounted HOSTID=12345678 SN=7 VENDOR_STRING=abc ISSUER=acme dist_info=x
`), "t.lic")
	if err != nil {
		t.Fatal(err)
	}
	ft := f.Features[0]
	tests := []struct {
		arg  string
		want bool
	}{
		{"f1", true},
		{"f2", false},
		{"f1:VERSION=2.0", true},
		{"f1:VERSION=2", true},
		{"f1:VERSION=1.0", false},
		{"f1:HOSTID=12345678", true},
		{"f1:HOSTID=87654321", false},
		{"f1:EXPDATE=1-JAN-2099", true},
		{"f1:SN=7", true},
		{"f1:SN=8", false},
		{"f1:VENDOR_STRING=abc", true},
		{"f1:ISSUER=acme", true},
		{"f1:dist_info=x", true},
		{"f1:dist_info=y", false},
		{"f1:KEY=", false},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			s, err := parseSelector(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.matches(ft); got != tt.want {
				t.Errorf("%q matches = %v, want %v", tt.arg, got, tt.want)
			}
		})
	}
}

func TestScanPorts(t *testing.T) {
	tests := []struct {
		server, vendor int
		want           string
	}{
		{0, 0, "27000-27009"},
		{27000, 0, "26990-27010"},
		{27005, 27500, "26995-27015, 27500"},
		{5, 0, "1-15, 27000-27009"},
		{65530, 0, "27000-27009, 65520-65535"},
		{40000, 40001, "27000-27009, 39990-40010"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d,%d", tt.server, tt.vendor), func(t *testing.T) {
			if got := portRanges(scanPorts(tt.server, tt.vendor)); got != tt.want {
				t.Errorf("scanPorts(%d, %d) = %s, want %s", tt.server, tt.vendor, got, tt.want)
			}
		})
	}
}

// FuzzLmdiagSelector checks that no feature[:keyword=value] argument
// makes the selector parser or matcher panic, and that an accepted
// selector keeps its feature name.
func FuzzLmdiagSelector(f *testing.F) {
	for _, s := range []string{"f1", "f1:HOSTID=12345678", "f1:VERSION=2.0", "f1:KEY=", ":", "f1::=", "f1:HOSTID=HOSTNAME=a:b", "f1:VERSION=x.y"} {
		f.Add(s)
	}
	lic, err := licfile.Parse(strings.NewReader("FEATURE f1 demo 2.0 1-jan-2099 uncounted HOSTID=12345678 SN=7\n"), "t.lic")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		s, err := parseSelector(arg)
		if err != nil {
			return
		}
		if name, _, _ := strings.Cut(arg, ":"); s.name != name {
			t.Fatalf("parseSelector(%q).name = %q, want %q", arg, s.name, name)
		}
		s.matches(lic.Features[0])
	})
}
