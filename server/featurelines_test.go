package server

import (
	"fmt"
	"golm/lmutil/server/state"
	"slices"
	"strings"
	"testing"
)

func TestFeatureLines(t *testing.T) {
	pools := func(names ...string) []*state.Pool {
		var ps []*state.Pool
		for _, n := range names {
			ps = append(ps, &state.Pool{Feature: n})
		}
		return ps
	}
	long := strings.Repeat("x", 30)
	tests := []struct {
		name  string
		head  string
		pools []*state.Pool
		width int
		want  []string
	}{
		{"no features", "for:", nil, 20, []string{"for:"}},
		{"one line", "for:", pools("f1", "f2", "f3"), 20, []string{"for: f1 f2 f3"}},
		{"each name once", "for:", pools("f1", "f2", "f1", "f2"), 20, []string{"for: f1 f2"}},
		{"exactly the width", "for:", pools("aaaa", "bbbb", "cccc"), 19, []string{"for: aaaa bbbb cccc"}},
		{"one byte over", "for:", pools("aaaa", "bbbb", "cccc"), 18, []string{"for: aaaa bbbb", "cccc"}},
		{"continuation lines", "for:", pools("aaaa", "bbbb", "cccc", "dddd", "eeee", "ffff"), 10,
			[]string{"for: aaaa", "bbbb cccc", "dddd eeee", "ffff"}},
		{"name longer than the width", "for:", pools("f1", long, "f2"), 20, []string{"for: f1", long, "f2"}},
		{"head longer than the width", strings.Repeat("h", 25) + " for:", pools("f1", "f2"), 20,
			[]string{strings.Repeat("h", 25) + " for:", "f1 f2"}},
		{"no head", "", pools("aaaa", "bbbb", "cccc"), 9, []string{"aaaa bbbb", "cccc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := featureLines(tt.head, tt.pools, tt.width); !slices.Equal(got, tt.want) {
				t.Errorf("featureLines(%q, %d) = %q, want %q", tt.head, tt.width, got, tt.want)
			}
		})
	}
}

// TestServerStartedWraps starts a vendor daemon on 2,000 features and
// rereads: its "Server started on HOST for:" and "Rereading license
// file" lists wrap into lines of at most 80 characters, each with the
// usual time and daemon prefix, that name every feature once.
func TestServerStartedWraps(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	var lic strings.Builder
	lic.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
	var names []string
	for i := range 2000 {
		names = append(names, fmt.Sprintf("feature_%04d", i))
		fmt.Fprintf(&lic, "FEATURE %s demo 1.0 permanent 1\n", names[i])
	}
	h := newHarness(t, lic.String(), "")
	if err := h.v.Reread(); err != nil {
		t.Fatal(err)
	}
	for _, head := range []string{"Server started on srv for:", "Rereading license file"} {
		t.Run(head, func(t *testing.T) {
			var got []string
			in := false
			for _, line := range strings.Split(h.log.String(), "\n") {
				_, msg, ok := strings.Cut(line, " (demo) ")
				if !ok {
					in = false
					continue
				}
				if m, ok := strings.CutPrefix(msg, head); ok {
					in, msg = true, m
				} else if !in || !strings.HasPrefix(msg, "feature_") {
					in = false
					continue
				}
				if len(line) > 80 {
					t.Errorf("line of %d characters: %.100q", len(line), line)
				}
				got = append(got, strings.Fields(msg)...)
			}
			if !slices.Equal(got, names) {
				t.Errorf("features listed: %d, want the %d in order (first %q)", len(got), len(names), got[:min(3, len(got))])
			}
		})
	}
}
