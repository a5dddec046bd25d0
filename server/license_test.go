package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadLicensesUnservedVendor: lmgrd logs a vendor whose lines no
// VENDOR or DAEMON line of any of its license files serves, once per
// vendor; vendor daemons, which load the same files, do not.
func TestLoadLicensesUnservedVendor(t *testing.T) {
	tests := []struct {
		name   string
		files  []string
		daemon string
		want   []string
	}{
		{"all served", []string{"VENDOR demo\nFEATURE f1 demo 1.0 permanent 1\n"}, "lmgrd", nil},
		{"DAEMON line", []string{"DAEMON demo /opt/demo\nFEATURE f1 demo 1.0 permanent 1\n"}, "lmgrd", nil},
		{"misspelt vendor", []string{"VENDOR demo\nFEATURE f1 demo 1.0 permanent 1\nFEATURE f2 dmeo 1.0 permanent 1\nINCREMENT f3 dmeo 1.0 permanent 1\n"}, "lmgrd",
			[]string{"No VENDOR or DAEMON line for vendor dmeo: its lines are not served (0.lic:3: f2)"}},
		{"VENDOR line in another file", []string{"FEATURE f1 demo 1.0 permanent 1\n", "VENDOR demo\n"}, "lmgrd", nil},
		{"two vendors", []string{"FEATURE f1 xyzd 1.0 permanent 1\n", "UPGRADE f1 abcd 1.0 2.0 permanent 1\n"}, "lmgrd",
			[]string{"vendor xyzd: its lines are not served (0.lic:1: f1)", "vendor abcd: its lines are not served (1.lic:1: f1)"}},
		{"vendor daemon says nothing", []string{"VENDOR demo\nFEATURE f2 dmeo 1.0 permanent 1\n"}, "demo", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, text := range tt.files {
				p := filepath.Join(dir, string(rune('0'+i))+".lic")
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			var b strings.Builder
			log := unbufferedLog(&b, tt.daemon, func() time.Time { return time.Date(2026, 3, 15, 10, 30, 0, 0, time.UTC) })
			if _, err := LoadLicenses(paths, log); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(b.String(), dir+string(filepath.Separator), "")
			if n := strings.Count(got, "No VENDOR or DAEMON line"); n != len(tt.want) {
				t.Errorf("log has %d unserved-vendor lines, want %d:\n%s", n, len(tt.want), got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("log lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
