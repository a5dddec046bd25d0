package commands

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// update rewrites golden files (man pages, help snapshots, ...) instead of
// comparing against them: go test ./commands -update. It is the one
// -update flag of this package; every golden test here uses it.
var update = flag.Bool("update", false, "rewrite golden files in testdata and man/")

// TestMain makes this test binary double as the installed lmutil: run
// under the name lmutil or any applet name, it is that program, exactly as
// a symlink made by make install would be.
func TestMain(m *testing.M) {
	// lmgrd started by a script starts its vendor daemons as this binary
	// under the vendor's name, with the control channel in the
	// environment; they must run, not the tests.
	if os.Getenv(server.ControlEnv) != "" {
		scriptMain()
	}
	cmds := map[string]func(){
		"lmutil": scriptMain,
	}
	for _, a := range Applets() {
		if !a.Hidden {
			cmds[a.Name] = scriptMain
		}
	}
	testscript.Main(m, cmds)
}

// scriptMain is main.go's body for the copies of the test binary that
// testscript puts on $PATH.
// Like main.go it turns SIGINT and SIGTERM into a cancelled context, so
// that a script's kill of a background lmwrap or lmgrd shuts it down
// cleanly instead of orphaning its children.
func scriptMain() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := Main(ctx, os.Args, OSEnv("lmutil"))
	stop()
	os.Exit(status)
}

// TestScripts runs the end-to-end scripts in testdata/script/*.txtar
// against the installed names (lmstat, lmhostid, lmutil, ...). Scripts
// find license files and keys beside them in the archive; $WORK is their
// working directory and HOME points inside it, so no real ~/.flexlmrc leaks
// in.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "script"),
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"status":   cmdStatus,
			"freeport": cmdFreeport,
			"waitfile": cmdWaitfile,
		},
		Setup: func(e *testscript.Env) error {
			home := filepath.Join(e.WorkDir, "home")
			e.Setenv("HOME", home)
			e.Setenv("LM_LICENSE_FILE", "")
			e.Setenv("NO_COLOR", "1")
			e.Setenv(server.LockDirEnv, filepath.Join(e.WorkDir, "lock"))
			// Every command a script runs is this race-built binary.
			k, v, _ := strings.Cut(servertest.RaceExitEnv(), "=")
			e.Setenv(k, v)
			return os.MkdirAll(home, 0o755)
		},
	})
}

// cmdStatus is the script command "status N prog args...": it runs prog
// like exec and fails unless prog exits with status N. stdout and stderr
// are kept for the assertions that follow, as after exec:
//
//	status 241 lmstat -c 27000@localhost
//	stdout 'Cannot connect to license server system'
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! status (give the status expected instead)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: status code program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad exit status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s: exit status %d, want %d", args[1], got, want)
	}
}
