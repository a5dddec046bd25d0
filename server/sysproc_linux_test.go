package server

import (
	"os"
	"strings"
	"testing"
)

// TestSetProcessName: every thread of the process takes the name, cut
// to the kernel's 15 bytes; a name with a NUL changes nothing.
func TestSetProcessName(t *testing.T) {
	read := func() string {
		b, err := os.ReadFile("/proc/self/comm")
		if err != nil {
			t.Skip("no /proc")
		}
		return strings.TrimSuffix(string(b), "\n")
	}
	orig := read()
	t.Cleanup(func() { SetProcessName(orig) })
	for _, tt := range []struct{ name, want string }{
		{"demo", "demo"},
		{"lmgrd", "lmgrd"},
		{"fifteen_chars_x", "fifteen_chars_x"},
		{"sixteen_chars_xy", "sixteen_chars_x"},
		{"nul\x00name", "sixteen_chars_x"}, // unchanged
	} {
		t.Run(tt.name, func(t *testing.T) {
			SetProcessName(tt.name)
			if got := read(); got != tt.want {
				t.Errorf("comm = %q, want %q", got, tt.want)
			}
			tasks, _ := os.ReadDir("/proc/self/task")
			for _, task := range tasks {
				b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/comm")
				if err == nil && strings.TrimSuffix(string(b), "\n") != tt.want {
					t.Errorf("thread %s is %q, want %q", task.Name(), strings.TrimSpace(string(b)), tt.want)
				}
			}
		})
	}
}
