package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golm/lmutil/licfile"
)

// runAppletGolden runs applet a in-process as prog with args and renders
// what a shell would see: stdout, then stderr and the exit status when
// there are any.
func runAppletGolden(t *testing.T, a *Applet, prog string, args []string, env *Env) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr, env.Prog = &stdout, &stderr, prog
	err := Run(context.Background(), env, a, args)
	Report(env.Stderr, err, env.Verbose)
	var b strings.Builder
	b.WriteString(stdout.String())
	if stderr.Len() > 0 {
		b.WriteString("-- stderr --\n" + stderr.String())
	}
	if st := ExitStatus(err); st != 0 {
		fmt.Fprintf(&b, "-- exit %d --\n", st)
	}
	return b.String()
}

// checkGolden compares got with testdata/<name>, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func fixedMachine(m *licfile.Machine, err error) machineFunc {
	return func(*Env) (*licfile.Machine, error) {
		if m == nil {
			return nil, err
		}
		c := *m
		return &c, err
	}
}

func TestLmhostidGolden(t *testing.T) {
	one := &licfile.Machine{
		Ethers:   []string{"b42e996e1315"},
		Hostname: "storage",
		User:     "joe",
		Display:  ":0.0",
		IPs:      []string{"10.1.2.3", "127.0.0.1"},
		Long:     "69021c89",
	}
	two := &licfile.Machine{
		Ethers:   []string{"a41fd5028d74", "c654015c101f"},
		Hostname: "storage",
		User:     "joe",
		Display:  "/dev/pts/0",
		IPs:      []string{"10.1.2.3"},
		Long:     "0a010302",
	}
	bare := &licfile.Machine{Display: "/dev/tty"}
	probeErr := errors.New("netlink: permission denied")
	tests := []struct {
		name    string
		prog    string
		args    []string
		machine machineFunc
		verbose bool
	}{
		{"default", "lmhostid", nil, fixedMachine(one, nil), false},
		{"default-n", "lmhostid", []string{"-n"}, fixedMachine(one, nil), false},
		{"ether-lmutil", "lmutil", []string{"-ether"}, fixedMachine(one, nil), false},
		{"list", "lmhostid", nil, fixedMachine(two, nil), false},
		{"list-n", "lmhostid", []string{"-n"}, fixedMachine(two, nil), false},
		{"internet", "lmhostid", []string{"-internet"}, fixedMachine(one, nil), false},
		{"internet-n", "lmhostid", []string{"-internet", "-n"}, fixedMachine(one, nil), false},
		{"hostname", "lmhostid", []string{"-hostname"}, fixedMachine(one, nil), false},
		{"user", "lmhostid", []string{"-user"}, fixedMachine(one, nil), false},
		{"display", "lmhostid", []string{"-display"}, fixedMachine(two, nil), false},
		{"long", "lmhostid", []string{"-long"}, fixedMachine(one, nil), false},
		{"long-n", "lmhostid", []string{"-n", "-long"}, fixedMachine(two, nil), false},
		{"no-ethernet", "lmhostid", nil, fixedMachine(bare, nil), false},
		{"no-ethernet-verbose", "lmhostid", []string{"-verbose"}, fixedMachine(bare, nil), true},
		{"no-machine", "lmhostid", []string{"-n"}, fixedMachine(nil, probeErr), false},
		{"no-internet", "lmhostid", []string{"-internet"}, fixedMachine(bare, nil), false},
		{"no-hostname", "lmhostid", []string{"-hostname"}, fixedMachine(bare, nil), false},
		{"no-user", "lmhostid", []string{"-user"}, fixedMachine(bare, nil), false},
		{"no-long", "lmhostid", []string{"-long"}, fixedMachine(bare, nil), false},
		{"vsn", "lmhostid", []string{"-vsn"}, fixedMachine(one, nil), false},
		{"cpu96-n", "lmhostid", []string{"-n", "-cpu96"}, fixedMachine(one, nil), false},
		{"flexid-verbose", "lmhostid", []string{"-flexid", "-verbose"}, fixedMachine(one, nil), true},
		{"two-types", "lmhostid", []string{"-user", "-hostname"}, fixedMachine(one, nil), false},
		{"argument", "lmhostid", []string{"storage"}, fixedMachine(one, nil), false},
		{"unknown-flag", "lmhostid", []string{"-utf8"}, fixedMachine(one, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newLmhostidApplet(tt.machine)
			got := runAppletGolden(t, a, tt.prog, tt.args, &Env{})
			checkGolden(t, filepath.Join("lmhostid", tt.name+".golden"), got)
		})
	}
}

// TestLmhostidExitStatus pins the statuses scripts test for.
func TestLmhostidExitStatus(t *testing.T) {
	bare := &licfile.Machine{}
	tests := []struct {
		name string
		args []string
		m    *licfile.Machine
		want int
	}{
		{"no ethernet is -29", nil, bare, 227},
		{"unsupported type is -42", []string{"-cpu"}, bare, 214},
		{"no address is -62", []string{"-internet"}, bare, 194},
		{"usage error is 1", []string{"-long", "-ether"}, bare, 1},
		{"success is 0", []string{"-display"}, &licfile.Machine{Display: ":0"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Run(context.Background(), &Env{Stdout: &out, Stderr: &out, Prog: "lmhostid"}, newLmhostidApplet(fixedMachine(tt.m, nil)), tt.args)
			if got := ExitStatus(err); got != tt.want {
				t.Errorf("exit status = %d, want %d (err %v)", got, tt.want, err)
			}
		})
	}
}

// TestLmhostidThisMachine runs the registered applet on the real host and
// checks the shape of its answer, which depends on the machine.
func TestLmhostidThisMachine(t *testing.T) {
	m, err := licfile.LocalMachine()
	if err != nil {
		t.Skipf("cannot describe this machine: %v", err)
	}
	tests := []struct {
		args []string
		want string // regexp of the whole output
	}{
		{[]string{"-hostname"}, `^lmhostid - Copyright .*\nThe golm host ID of this machine is "HOSTNAME=` + regexp.QuoteMeta(m.Hostname) + `"\n$`},
		{[]string{"-n", "-user"}, `^USER=u\n$`},
		{[]string{"-n", "-display"}, `^DISPLAY=:1\n$`},
	}
	if len(m.Ethers) > 0 {
		tests = append(tests, struct {
			args []string
			want string
		}{[]string{"-n"}, `^"?[0-9a-f]{12}( [0-9a-f]{12})*"?\n$`})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			env := &Env{
				Getenv:   func(k string) string { return map[string]string{"DISPLAY": ":1", "USER": "u"}[k] },
				Hostname: func() (string, error) { return m.Hostname, nil },
			}
			got := runAppletGolden(t, lmhostidApplet(), "lmhostid", tt.args, env)
			if !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("lmhostid %v printed %q, want a match for %s", tt.args, got, tt.want)
			}
		})
	}
}
