package server

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRereadKeepsLastGood: a vendor daemon asked to reread a license file
// that is gone, emptied, cut short or garbled keeps serving what it
// served, says why in the debug log, and applies the file once it is good.
func TestRereadKeepsLastGood(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name string
		text string // "" removes the file
	}{
		{"deleted", ""},
		{"emptied", "\n"},
		{"no features", "SERVER this_host ANY 27000\nVENDOR demo\n"},
		{"syntax error", lic("FEATURE f1 demo 1.0 permanent 2", "FEATURE broken demo 1.0 31-foo-2099 1")},
		{"garbage", "\x00\xff{{{ not a license\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "")
			c := h.client("joe", "pc1", "d")
			c.want("f1", "1.0", 1, 0)
			path := filepath.Join(h.dir, "license.lic")
			if tt.text == "" {
				os.Remove(path)
			} else if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := h.v.Reread(); err == nil || (tt.text != "" && !errors.Is(err, ErrKeptLastGood)) {
				t.Errorf("Reread = %v, want it to keep the last good file", err)
			}
			h.wantLog("Reread of license file failed")
			h.wantStatus("f1", "f1 issued=2 inuse=1\n v1.0 floating issued=2 inuse=1\n  joe pc1 d v1.0 x1\n")
			h.client("ann", "pc2", "d").want("f1", "1.0", 1, 0)
		})
	}
}
