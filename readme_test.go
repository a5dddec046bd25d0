package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/commands"
	"golm/lmutil/server/servertest"
)

// readmeBlocks are the fenced code blocks of lang in the README section
// that starts with heading, in order.
func readmeBlocks(t *testing.T, heading, lang string) []string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	section := text[i+1:]
	if j := strings.Index(section[len(heading):], "\n## "); j >= 0 {
		section = section[:len(heading)+j]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeServeYourOwn runs the README's "Serve your own licenses" as a
// newcomer would: the shell block with lmutil's commands on PATH (this
// test binary under their names), the Go program built as ./solver
// against this checkout.
func TestReadmeServeYourOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's Go program")
	}
	sh := readmeBlocks(t, "## Serve your own licenses", "sh")
	prog := readmeBlocks(t, "## Serve your own licenses", "go")
	if len(sh) != 1 || len(prog) != 1 {
		t.Fatalf("want one sh and one go block, got %d and %d", len(sh), len(prog))
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin, work := t.TempDir(), t.TempDir()
	names := []string{"lmutil"}
	for _, a := range commands.Applets() {
		if !a.Hidden {
			names = append(names, a.Name)
		}
	}
	for _, name := range names {
		if err := os.Symlink(exe, filepath.Join(bin, name)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}

	// The application: the README's program in a module of its own that
	// takes golm/lmutil from this checkout.
	src := t.TempDir()
	gomod := "module example.com/solver\n\ngo 1.24\n\nrequire golm/lmutil v0.0.0\n\nreplace golm/lmutil => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": prog[0]} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(strings.TrimSpace(prog[0]), "\n") + 1; n > 30 {
		t.Errorf("the README's program has %d lines; it says about 20", n)
	}
	// Built as the tests were (-race, the same tags), so that only the
	// program's own package and the link are new to the build cache.
	servertest.GoBuild(t, src, filepath.Join(work, "solver"), ".", "-mod=mod")

	port := freePort(t)
	script := strings.Replace(sh[0], "PORT=27100\n", "PORT="+strconv.Itoa(port)+"\n", 1)
	if script == sh[0] {
		t.Fatal("the README's script does not start with PORT=27100")
	}
	lockDir := t.TempDir()
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOLM_LOCKDIR="+lockDir, "LM_LICENSE_FILE=", "HOME="+work)
	t.Cleanup(func() {
		// Whatever the script left running, stopped by the way it says.
		down := exec.Command(filepath.Join(bin, "lmdown"), "-q", "-c", strconv.Itoa(port)+"@localhost")
		down.Env, down.Dir = env, work
		_ = down.Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-ex")
	cmd.Stdin = strings.NewReader(script)
	cmd.Dir, cmd.Env = work, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands: %v\n%s", err, out)
	}
	for _, want := range []string{
		"licensed by lmwrap\n",
		"licensed by the client package\n",
		"Users of solver:  (Total of 2 licenses issued;  Total of 0 licenses in use)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the README's commands did not print %q:\n%s", want, out)
		}
	}
}

// freePort is a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
