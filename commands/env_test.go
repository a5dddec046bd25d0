package commands

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestLicensePathFromEnv: lmgrd and the other commands resolve the
// license path from the Env they were given, $HOME included, never from
// the process's own environment; lmgrd leaves out the
// VENDOR_LICENSE_FILE variables.
func TestLicensePathFromEnv(t *testing.T) {
	home := t.TempDir()
	rc := "LM_LICENSE_FILE=" + filepath.Join(home, "rc.lic") + "\n"
	if err := os.WriteFile(filepath.Join(home, ".flexlmrc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HOME": home, "LM_LICENSE_FILE": filepath.Join(home, "env.lic"), "DEMO_LICENSE_FILE": filepath.Join(home, "demo.lic")}
	env := &Env{
		Getenv: func(k string) string { return vars[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
	t.Setenv("HOME", t.TempDir()) // the process's $HOME, which must not count

	var got []string
	for _, s := range env.LicenseSources("", "") {
		got = append(got, s.File)
	}
	want := []string{filepath.Join(home, "env.lic"), filepath.Join(home, "demo.lic"), filepath.Join(home, "rc.lic")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LicenseSources = %q, want %q", got, want)
	}

	set := flag.NewFlagSet("lmgrd", flag.ContinueOnError)
	set.String("c", "", "")
	got = licenseFiles(cli.NewContext(cli.NewApp(), set, nil), env)
	want = []string{filepath.Join(home, "env.lic"), filepath.Join(home, "rc.lic")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lmgrd's license files = %q, want %q", got, want)
	}
}
