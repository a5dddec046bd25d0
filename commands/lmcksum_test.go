package commands

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyFile copies src into dir as name.
func copyFile(t *testing.T, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// licenseTestdata is the shared license examples of the manual.
func licenseTestdata(name string) string {
	return filepath.Join("..", "testdata", "licenses", name)
}

func TestLmcksumGolden(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // files to copy into the working directory: name → source
		text  map[string]string // files to write: name → contents
		args  []string
	}{
		{name: "manual", files: map[string]string{"license.dat": licenseTestdata("manual-7.3-lmcksum.lic")}},
		{name: "manual-k", files: map[string]string{"license.dat": licenseTestdata("manual-7.3-lmcksum.lic")}, args: []string{"-k"}},
		{name: "c-flag", files: map[string]string{"sample.lic": licenseTestdata("manual-3.3-sample.lic")}, args: []string{"-c", "sample.lic"}},
		{name: "signed-demo", files: map[string]string{"license.dat": filepath.Join("..", "testdata", "keys", "demo.lic")}},
		{name: "vendor", text: map[string]string{"license.dat": "SERVER h1 ANY 27000\nVENDOR xyzd\nVENDOR abcd\n" +
			"FEATURE f1 xyzd 1.0 permanent 3\nFEATURE f2 abcd 2.0 1-jan-2030 4\nUSE_SERVER\n"}, args: []string{"abcd"}},
		{name: "vendor-legacy-order", text: map[string]string{"l.lic": "VENDOR xyzd\nVENDOR abcd\nFEATURE f2 abcd 2.0 1-jan-2030 4 HOSTID=ANY\n"},
			args: []string{"xyzd", "-c", "l.lic"}},
		{name: "missing", args: []string{"-c", "nosuch.lic"}},
		{name: "syntax-error", text: map[string]string{"license.dat": "SERVER h1 ANY\nFEATURE f1 xyzd 1.0 31-foo-2005 3\nFEATURE f2 xyzd 1.0 permanent 3\n"}},
		{name: "too-many-args", args: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				copyFile(t, src, dir, name)
			}
			for name, text := range tt.text {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := runAppletGolden(t, lmcksumApplet(), "lmcksum", tt.args, &Env{Dir: dir})
			got = strings.ReplaceAll(got, dir, "$DIR")
			checkGolden(t, filepath.Join("lmcksum", tt.name+".golden"), got)
		})
	}
}

// TestLmcksumManualValues pins the two checksums the manual prints for its
// example file, whatever the goldens say.
func TestLmcksumManualValues(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, licenseTestdata("manual-7.3-lmcksum.lic"), dir, "license.dat")
	got := runAppletGolden(t, lmcksumApplet(), "lmcksum", nil, &Env{Dir: dir})
	for _, want := range []string{
		"\n 189: SERVER speedy 08002b32b161 2837\n",
		"\n 166: DAEMON xyzd C:\\flexlm\\xyzd.exe\n",
		"\n        DUP_GROUP=HD ck=231\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lmcksum output lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasPrefix(got, "lmcksum - Copyright") {
		t.Errorf("lmcksum output does not start with the banner:\n%s", got)
	}
}

// TestLmcksumVerdicts checks OK and BAD against ck= values and the exit
// status they give.
func TestLmcksumVerdicts(t *testing.T) {
	const line = "FEATURE f1 xyzd 1.0 permanent 3"
	dir := t.TempDir()
	lic := filepath.Join(dir, "license.dat")
	if err := os.WriteFile(lic, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The checksum lmcksum prints for the line without ck= is the ck= that
	// makes it OK.
	out := runAppletGolden(t, lmcksumApplet(), "lmcksum", nil, &Env{Dir: dir})
	var ck string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, ": "+line) {
			ck = strings.TrimSpace(strings.TrimSuffix(l, ": "+line))
		}
	}
	if ck == "" {
		t.Fatalf("no checksum line for %q in:\n%s", line, out)
	}
	tests := []struct {
		name    string
		ck      string
		verdict string
		status  string
	}{
		{"matching ck", ck, "OK: ", ""},
		{"wrong ck", "999", "BAD: ", "-- exit 248 --"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(lic, []byte(line+" ck="+tt.ck+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			got := runAppletGolden(t, lmcksumApplet(), "lmcksum", nil, &Env{Dir: dir})
			if !strings.Contains(got, "\n"+tt.verdict) {
				t.Errorf("output lacks a %q line:\n%s", tt.verdict, got)
			}
			if tt.status != "" && !strings.Contains(got, tt.status) {
				t.Errorf("output lacks %q:\n%s", tt.status, got)
			}
			if tt.status == "" && strings.Contains(got, "-- exit") {
				t.Errorf("unexpected failure:\n%s", got)
			}
		})
	}
}

// A file whose name holds an @ is a file, not a port@host: lmcksum reads
// it, as the license path parser takes it.
func TestLmcksumFileWithAt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lic@home.lic"), []byte("SERVER this_host ANY 27000\nVENDOR demo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := Run(context.Background(), &Env{Stdout: &out, Stderr: &errb, Prog: "lmcksum", Dir: dir}, lmcksumApplet(), []string{"-c", "lic@home.lic"})
	if err != nil || !strings.Contains(out.String(), `using license file "`+filepath.Join(dir, "lic@home.lic")+`"`) {
		t.Errorf("lmcksum -c lic@home.lic: %v\n%s%s", err, out.String(), errb.String())
	}
}
