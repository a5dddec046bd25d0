package server

import (
	"strings"
	"testing"
)

// TestDebugLogEscapes: what a client names itself cannot split a debug
// log line, forge another daemon's line or reach a terminal raw.
func TestDebugLogEscapes(t *testing.T) {
	tests := []struct {
		name       string
		write      func(*DebugLog)
		wantSuffix string
	}{
		{"forged line", func(l *DebugLog) {
			l.Printf("SHUTDOWN request from %s at node %s", "joe\n 9:00:00 (lmgrd) EXITING", "box")
		}, `(lmgrd) SHUTDOWN request from joe\x0a 9:00:00 (lmgrd) EXITING at node box`},
		{"terminal escape, limited", func(l *DebugLog) {
			l.Limited("OUT", "OUT: %q %s@%s", "f1", "\x1b]0;pwned\x07joe", "h\r")
		}, `(lmgrd) OUT: "f1" \x1b]0;pwned\x07joe@h\x0d`},
		{"bad utf-8", func(l *DebugLog) {
			l.Printf("DENIED: %s", "j\xffoe")
		}, `(lmgrd) DENIED: j\xffoe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			l := NewDebugLog(&b, "lmgrd", newClock(8, 49, 38).now)
			l.SetFlushEvery(0)
			l.Printf("first")
			mark := b.Len()
			tt.write(l)
			got := b.String()[mark:]
			if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, tt.wantSuffix+"\n") {
				t.Errorf("log line = %q, want one line ending in %q", got, tt.wantSuffix)
			}
		})
	}
}
