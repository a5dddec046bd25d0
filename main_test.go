package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golm/lmutil/commands"
	"golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// TestMain lets the test binary stand in for the installed lmutil: run
// through a link named lmutil or after a command, it is main itself.
func TestMain(m *testing.M) {
	// Vendor daemons started by lmgrd are this binary under the vendor's
	// name, recognised by the control channel in their environment.
	name := filepath.Base(os.Args[0])
	if name == "lmutil" || commands.Lookup(name) != nil || os.Getenv(server.ControlEnv) != "" {
		main()
	}
	// The commands the tests run are this race-built binary too.
	k, v, _ := strings.Cut(servertest.RaceExitEnv(), "=")
	os.Setenv(k, v)
	os.Exit(m.Run())
}

// TestSymlinkDispatch installs the binary the way make install does, one
// real file and a symbolic link per command, and runs the links.
func TestSymlinkDispatch(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(bin, "lmutil")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	for _, name := range []string{"lmstat", "lmhostid"} {
		if err := os.Symlink("lmutil", filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		argv       []string
		wantStatus int
		wantOut    string // prefix of stdout
		wantErr    string // prefix of stderr
	}{
		{"link named after a command", []string{"lmstat", "-v"}, 0, commands.Banner("lmstat") + "\n" + commands.VersionLine("lmstat") + "\n", ""},
		{"another link", []string{"lmhostid", "-v"}, 0, commands.Banner("lmhostid") + "\n" + commands.VersionLine("lmhostid") + "\n", ""},
		{"lmutil and a command", []string{"lmutil", "lmstat", "-v"}, 0, commands.Banner("lmutil") + "\n" + commands.VersionLine("lmstat") + "\n", ""},
		{"lmutil alone", []string{"lmutil"}, 0, commands.Banner("lmutil") + "\nusage:  lmutil ", ""},
		{"unknown command", []string{"lmutil", "lmfoo"}, 1, "", "lmutil: unknown command \"lmfoo\"\n"},
		{"unknown option", []string{"lmstat", "-nosuch"}, 1, "", "lmstat: unknown option -nosuch\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bin, tt.argv[0]), tt.argv[1:]...)
			cmd.Dir = bin
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Errorf("exit status %d, want %d (stderr %q)", status, tt.wantStatus, errb.String())
			}
			if !strings.HasPrefix(out.String(), tt.wantOut) || (tt.wantOut == "" && out.Len() > 0) {
				t.Errorf("stdout = %q, want it to start %q", out.String(), tt.wantOut)
			}
			if !strings.HasPrefix(errb.String(), tt.wantErr) || (tt.wantErr == "" && errb.Len() > 0) {
				t.Errorf("stderr = %q, want it to start %q", errb.String(), tt.wantErr)
			}
		})
	}
}
