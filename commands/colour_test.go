package commands

import (
	"bytes"
	"testing"

	"github.com/fatih/color"
)

func TestColourOn(t *testing.T) {
	env := func(vars map[string]string) *Env {
		return &Env{Getenv: func(k string) string { return vars[k] }}
	}
	tests := []struct {
		name     string
		vars     map[string]string
		terminal bool
		want     bool
	}{
		{"terminal", map[string]string{"TERM": "xterm"}, true, true},
		{"pipe", map[string]string{"TERM": "xterm"}, false, false},
		{"NO_COLOR", map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, true, false},
		{"dumb terminal", map[string]string{"TERM": "dumb"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := colourOn(env(tt.vars), tt.terminal); got != tt.want {
				t.Errorf("colourOn = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPaintPipe: output that is not a terminal gets no escape codes.
func TestPaintPipe(t *testing.T) {
	var out bytes.Buffer
	p := paint(&Env{Stdout: &out, Getenv: func(string) string { return "" }}, color.FgRed)
	if got := p("BAD"); got != "BAD" {
		t.Errorf("paint on a pipe = %q, want plain BAD", got)
	}
}
