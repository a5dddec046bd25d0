package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// statEnv is an Env at the date of the reference capture, with the given
// environment variables and working directory.
func statEnv(dir string, vars map[string]string) *Env {
	return &Env{
		Dir:    dir,
		Now:    func() time.Time { return time.Date(2019, 5, 6, 18, 20, 42, 0, time.UTC) },
		Getenv: func(k string) string { return vars[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range vars {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
}

// TestLmstatInfoReference checks lmstat -i byte for byte against the
// layout of the reference capture: banner, bare date line, the note with
// its trailing space, the headings and the data columns.
func TestLmstatInfoReference(t *testing.T) {
	dir := t.TempDir()
	lic := "SERVER this_host ANY\nVENDOR msi\n" +
		"FEATURE License_Holder msi 2016.050 31-MAY-0 999 SIGN=AB\n" +
		"INCREMENT MS_visualizer msi 2016.050 permanent 5 SIGN=CD\n" +
		"FEATURE Node msi 1.0 1-jan-2030 uncounted HOSTID=ANY SIGN=EF\n"
	if err := os.WriteFile(filepath.Join(dir, "license.dat"), []byte(lic), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runAppletGolden(t, lmstatApplet(), "lmutil", []string{"-i"}, statEnv(dir, nil))
	want := "lmutil - Copyright (c) " + CopyrightYear + " golm authors. All Rights Reserved.\n" +
		"Mon 5/6/2019 18:20\n" +
		"\n" +
		"NOTE: lmstat -i does not give information from the server,\n" +
		"      but only reads the license file.  For this reason, \n" +
		"      lmstat -a is recommended instead.\n" +
		"\n" +
		"Feature                         Version     #licenses    Vendor        Expires\n" +
		"_______                         _________   _________    ______        ________\n" +
		"License_Holder                  2016.050     999         msi           31-MAY-0\n" +
		"MS_visualizer                   2016.050     5           msi           permanent(no expiration date)\n" +
		"Node                            1.0          uncounted   msi           1-jan-2030\n"
	if got != want {
		t.Errorf("lmstat -i output:\n%s\nwant:\n%s", got, want)
	}
	for i, line := range strings.Split(got, "\n") {
		if strings.HasSuffix(line, " ") && i != 4 {
			t.Errorf("line %d ends with a space: %q", i+1, line)
		}
	}
}

// TestLmstatInfoManual runs lmstat -i on every license file of testdata:
// every manual example shows in the table.
func TestLmstatInfoManual(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "licenses", "*.lic"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no license files: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".lic")
		t.Run(name, func(t *testing.T) {
			got := runAppletGolden(t, lmstatApplet(), "lmstat", []string{"-i", "-c", filepath.Base(path)}, statEnv(filepath.Dir(path), nil))
			checkGolden(t, filepath.Join("lmstat", "i-"+name+".golden"), got)
		})
	}
}

func TestLmstatInfo(t *testing.T) {
	lic := filepath.Join("..", "testdata", "licenses")
	bad := filepath.Join("..", "testdata", "malformed")
	tests := []struct {
		name string
		args []string
		dir  string
		vars map[string]string
	}{
		{"feature", []string{"-i", "f1", "-c", "manual-3.4.3-mixed.lic"}, lic, nil},
		{"feature-after-c", []string{"-c", "manual-3.4.3-mixed.lic", "-i", "f1"}, lic, nil},
		{"no-such-feature", []string{"-i", "nosuch", "-c", "manual-3.4.3-mixed.lic"}, lic, nil},
		{"list", []string{"-i", "-c", "manual-5.3.1-chicago.lic:manual-5.3.1-tokyo.lic"}, lic, nil},
		{"lm-license-file", []string{"-i"}, lic, map[string]string{"LM_LICENSE_FILE": "manual-3.3-sample.lic"}},
		// lmutil commands read every VENDOR_LICENSE_FILE variable too,
		// after LM_LICENSE_FILE.
		{"vendor-license-file", []string{"-i"}, lic, map[string]string{"LM_LICENSE_FILE": "manual-3.3-sample.lic", "DEMO_LICENSE_FILE": "manual-3.5-demo.lic"}},
		{"vendor-license-file-alone", []string{"-i"}, lic, map[string]string{"DEMO_LICENSE_FILE": "manual-3.5-demo.lic"}},
		{"c-overrides-env", []string{"-i", "-c", "manual-3.5-demo.lic"}, lic, map[string]string{"LM_LICENSE_FILE": "manual-3.3-sample.lic"}},
		{"malformed", []string{"-i", "-c", "bad-date.lic:syntax.lic"}, bad, nil},
		{"missing", []string{"-i", "-c", "no-such.lic:manual-3.5-demo.lic"}, lic, nil},
		{"default-missing", []string{"-i"}, lic, nil},
		{"stray-argument", []string{"-i", "f1", "extra"}, lic, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runAppletGolden(t, lmstatApplet(), "lmstat", tt.args, statEnv(tt.dir, tt.vars))
			checkGolden(t, filepath.Join("lmstat", tt.name+".golden"), got)
		})
	}
}

func TestLmstatLongNames(t *testing.T) {
	dir := t.TempDir()
	lic := "FEATURE a_feature_name_of_exactly_32_c vendor1234 123456789012.5 1-jan-2030 1234567890123 SIGN=A\n"
	if err := os.WriteFile(filepath.Join(dir, "license.dat"), []byte(lic), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runAppletGolden(t, lmstatApplet(), "lmstat", []string{"-i"}, statEnv(dir, nil))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	row := lines[len(lines)-1]
	if f := strings.Fields(row); len(f) != 5 || f[0] != "a_feature_name_of_exactly_32_c" || f[2] != "1234567890123" {
		t.Errorf("row %q does not split into the 5 fields", row)
	}
}

func TestStatusDate(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2019, 5, 6, 18, 20, 0, 0, time.UTC), "Mon 5/6/2019 18:20"},
		{time.Date(2017, 10, 20, 17, 2, 59, 0, time.UTC), "Fri 10/20/2017 17:02"},
		{time.Date(2025, 2, 10, 0, 5, 0, 0, time.UTC), "Mon 2/10/2025 00:05"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := statusDate(tt.t); got != tt.want {
				t.Errorf("statusDate = %q, want %q", got, tt.want)
			}
		})
	}
}
