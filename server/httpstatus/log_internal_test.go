package httpstatus

import (
	"fmt"
	"testing"
)

// TestErrorLog: what net/http says (about clients, mostly) goes to the
// rate-limited log under one key, a line at a time; without one, to Logf.
func TestErrorLog(t *testing.T) {
	t.Run("limited", func(t *testing.T) {
		var got []string
		cfg := Config{LogLimited: func(key, format string, args ...any) { got = append(got, key+"|"+fmt.Sprintf(format, args...)) }}
		cfg.defaults()
		logfWriter(cfg.LogLimited).Write([]byte("http: something a client did\n"))
		if len(got) != 1 || got[0] != "http|http: something a client did" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("Logf without LogLimited", func(t *testing.T) {
		var got []string
		cfg := Config{Logf: func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }}
		cfg.defaults()
		logfWriter(cfg.LogLimited).Write([]byte("x\n"))
		if len(got) != 1 || got[0] != "x" {
			t.Errorf("got %q", got)
		}
	})
}
