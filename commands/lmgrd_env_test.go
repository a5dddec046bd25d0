package commands

import (
	"testing"
	"time"

	"golm/lmutil/server/reportlog"
)

func TestReportLogWriteTimeout(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration // 0: no hook, the writer's default applies
	}{
		{"", 0},
		{"soon", 0},
		{"0s", 0},
		{"-1s", 0},
		{"1500ms", 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			env := &Env{Getenv: func(k string) string {
				if k == reportLogWriteTimeoutEnv {
					return tt.value
				}
				return ""
			}}
			hook := reportLogWriteTimeout(env)
			if (hook != nil) != (tt.want != 0) {
				t.Fatalf("%s=%q: hook %v, want one: %v", reportLogWriteTimeoutEnv, tt.value, hook != nil, tt.want != 0)
			}
			if hook == nil {
				return
			}
			var c reportlog.Config
			hook(&c)
			if c.WriteTimeout != tt.want {
				t.Errorf("%s=%q: WriteTimeout %v, want %v", reportLogWriteTimeoutEnv, tt.value, c.WriteTimeout, tt.want)
			}
		})
	}
}
