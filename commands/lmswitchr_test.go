package commands

import (
	"testing"

	"golm/lmutil/protocol"
)

// TestLogSwitchGolden runs lmswitchr, lmnewlog and lmswitch with bad
// command lines and against servers that do not answer: the messages and
// exit statuses are the goldens in testdata/<command>.
func TestLogSwitchGolden(t *testing.T) {
	tests := []struct {
		name string
		a    *Applet
		args []string
	}{
		{"lmswitchr/no-server", lmswitchrApplet(), []string{"-c", "down.lic", "demo", "new.rl"}},
		{"lmswitchr/no-server-line", lmswitchrApplet(), []string{"-c", "noserver.lic", "f1", "new.rl"}},
		{"lmswitchr/too-few", lmswitchrApplet(), []string{"demo"}},
		{"lmswitchr/too-many", lmswitchrApplet(), []string{"demo", "a.rl", "b.rl"}},
		{"lmnewlog/no-server", lmnewlogApplet(), []string{"-c", "down.lic", "f1", "monday.rl"}},
		{"lmnewlog/too-few", lmnewlogApplet(), []string{}},
		{"lmnewlog/empty-file", lmnewlogApplet(), []string{"demo", ""}},
		{"lmswitch/no-server", lmswitchApplet(), []string{"demo", "new.dl", "-c", "down.lic"}},
		{"lmswitch/too-few", lmswitchApplet(), []string{"new.dl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runAppletGolden(t, tt.a, tt.a.Name, tt.args, adminEnv(t, ""))
			checkGolden(t, tt.name+".golden", got)
		})
	}
}

// TestLogSwitchLine checks the one line each command prints on success.
func TestLogSwitchLine(t *testing.T) {
	tests := []struct {
		name string
		r    protocol.LogSwitched
		want string
	}{
		{"lmswitchr", protocol.LogSwitched{Vendor: "demo", Path: "/var/log/golm/demo-2.rl", Seq: 7},
			"demo: report log switched to /var/log/golm/demo-2.rl"},
		{"lmnewlog", protocol.LogSwitched{Vendor: "demo", Path: "/var/log/golm/demo.rl", Kept: "/var/log/golm/demo-monday.rl", Seq: 9},
			"demo: report log moved to /var/log/golm/demo-monday.rl, continuing in /var/log/golm/demo.rl"},
		{"lmswitch", protocol.LogSwitched{Vendor: "demo", Path: "/var/log/golm/demo.dl"},
			"demo: debug log switched to /var/log/golm/demo.dl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logSwitchLine(tt.name, &tt.r); got != tt.want {
				t.Errorf("logSwitchLine(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
