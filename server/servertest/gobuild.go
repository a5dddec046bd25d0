package servertest

import (
	"os"
	"os/exec"
	"runtime/debug"
	"testing"
)

// GoBuild builds the package pkg into out with the go command, the way
// the running test binary was built (-race, -tags, the same CGO_ENABLED)
// plus extra flags such as -ldflags: every package it needs is then
// already in the build cache from compiling the tests, and only the link
// is new. It skips the test when there is no go command.
func GoBuild(t testing.TB, dir, out, pkg string, extra ...string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	args := append([]string{"build", "-o", out}, BuildFlags()...)
	args = append(args, extra...)
	cmd := exec.Command(gobin, append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	if cgo, ok := buildSetting("CGO_ENABLED"); ok {
		cmd.Env = append(cmd.Env, "CGO_ENABLED="+cgo)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", cmd.Args[1:], err, b)
	}
}

// BuildFlags are the go build flags the running binary was built with
// that change what is compiled: -race and -tags.
func BuildFlags() []string {
	var flags []string
	if race, _ := buildSetting("-race"); race == "true" {
		flags = append(flags, "-race")
	}
	if tags, ok := buildSetting("-tags"); ok && tags != "" {
		flags = append(flags, "-tags", tags)
	}
	return flags
}

func buildSetting(key string) (string, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value, true
		}
	}
	return "", false
}
