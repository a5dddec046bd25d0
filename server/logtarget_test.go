package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golm/lmutil/protocol"
	"golm/lmutil/server/reportlog"
)

// plantTargets fills dir with the files a log target must never replace:
// a shell start-up file, a directory reached through a symbolic link,
// and the report and debug logs of another vendor.
func plantTargets(t *testing.T, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, ".bashrc"), []byte("alias ll='ls -l'\n"), 0o600))
	must(os.Mkdir(filepath.Join(dir, "real"), 0o755))
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "linkdir")))
	w, err := reportlog.OpenWriter(reportlog.Config{Path: filepath.Join(dir, "other.rl"), Vendor: "other"})
	must(err)
	must(w.Close())
	must(os.WriteFile(filepath.Join(dir, "other.dl"), []byte(" 8:49:38 (other) TIMESTAMP 11/23/2026\n"), 0o600))
}

// dirState is the names, sizes and contents of dir and dir/real.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range []string{dir, filepath.Join(dir, "real")} {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() == "report.rl" || e.Name() == "demo.dl" {
				continue // the logs in use grow
			}
			b.WriteString(e.Name() + " ")
			if e.Type().IsRegular() {
				data, _ := os.ReadFile(filepath.Join(d, e.Name()))
				b.Write(data)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestLogTargetsNotReplaced: lmswitchr, lmnewlog and lmswitch refuse,
// with -42, a path that is an ordinary file (a shell start-up file, the
// license file), that goes through a symbolic link, or that is the log
// of another vendor, and leave the file as it was: not moved aside,
// truncated or appended to.
func TestLogTargetsNotReplaced(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG +report.rl\nDEBUGLOG +demo.dl\n")
	plantTargets(t, h.dir)
	licName := filepath.Base(h.v.cfg.LicenseFiles[0])
	before := dirState(t, h.dir)
	admin := h.client("admin", "srv", "console")
	tests := []struct {
		name string
		req  protocol.Message
		text string
	}{
		{"lmswitchr shell file", &protocol.SwitchReportLog{Path: ".bashrc"}, "not a golm log"},
		{"lmswitchr license file", &protocol.SwitchReportLog{Path: licName}, "not a golm log"},
		{"lmswitchr absolute shell file", &protocol.SwitchReportLog{Path: filepath.Join(h.dir, ".bashrc")}, "not a golm log"},
		{"lmswitchr linked directory", &protocol.SwitchReportLog{Path: "linkdir/new.rl"}, "linkdir is a symbolic link"},
		{"lmswitchr other vendor", &protocol.SwitchReportLog{Path: "other.rl"}, "report log of vendor other"},
		{"lmswitchr debug log", &protocol.SwitchReportLog{Path: "other.dl"}, "not a report log header"},
		{"lmnewlog shell file", &protocol.NewReportLog{Path: ".bashrc"}, "exists"},
		{"lmnewlog linked directory", &protocol.NewReportLog{Path: "linkdir/old.rl"}, "symbolic link"},
		{"lmswitch shell file", &protocol.SwitchDebugLog{Path: ".bashrc"}, "not a golm log"},
		{"lmswitch license file", &protocol.SwitchDebugLog{Path: licName}, "not a golm log"},
		{"lmswitch linked directory", &protocol.SwitchDebugLog{Path: "linkdir/new.dl"}, "linkdir is a symbolic link"},
		{"lmswitch other vendor", &protocol.SwitchDebugLog{Path: "other.dl"}, "not a debug log line of demo"},
		{"lmswitch report log", &protocol.SwitchDebugLog{Path: "other.rl"}, "not a debug log line of demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := admin.c.Call(tt.req)
			pe, ok := err.(*protocol.PeerError)
			if !ok {
				t.Fatalf("answer: %v, want a -42 refusal", err)
			}
			if pe.Msg.Code != -42 || !strings.Contains(pe.Msg.Text, tt.text) {
				t.Errorf("refusal %d %q, want -42 naming %q", pe.Msg.Code, pe.Msg.Text, tt.text)
			}
			if after := dirState(t, h.dir); after != before {
				t.Errorf("files changed:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
	// The logs go on where they were.
	c := h.client("alice", "ws1", "/dev/pts/1")
	c.want("f1", "1.0", 1, 0)
	got := records(t, filepath.Join(h.dir, "report.rl"))
	if last := got[len(got)-1]; !strings.HasPrefix(last, "OUT f1 alice") {
		t.Errorf("last record %q, want the checkout after the refusals", last)
	}
	if b, _ := os.ReadFile(filepath.Join(h.dir, "demo.dl")); !strings.Contains(string(b), `OUT: "f1" alice@ws1`) {
		t.Errorf("debug log:\n%s\nwant the checkout", b)
	}
}

// TestLogTargetsAccepted: the neighbours of the refused paths work: a
// new file, a new file in a real directory, a path whose ".." is
// cleaned away before anything is opened, and the vendor's own logs.
func TestLogTargetsAccepted(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG +report.rl\nDEBUGLOG +demo.dl\n")
	plantTargets(t, h.dir)
	admin := h.client("admin", "srv", "console")
	for _, c := range []struct {
		req  protocol.Message
		want string // the file the log is in afterwards
	}{
		{&protocol.SwitchReportLog{Path: "real/second.rl"}, "real/second.rl"},
		{&protocol.SwitchReportLog{Path: "linkdir/../third.rl"}, "third.rl"},
		{&protocol.NewReportLog{Path: "real/../third-old.rl"}, "third.rl"},
		{&protocol.SwitchReportLog{Path: "real/second.rl"}, "real/second.rl"}, // kept as .1
		{&protocol.SwitchDebugLog{Path: "real/second.dl"}, "real/second.dl"},
		{&protocol.SwitchDebugLog{Path: "demo.dl"}, "demo.dl"},
	} {
		m, err := admin.c.Call(c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.req.Type(), err)
		}
		if got, want := m.(*protocol.LogSwitched).Path, filepath.Join(h.dir, c.want); got != want {
			t.Errorf("%s: log in %s, want %s", c.req.Type(), got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, "real", "second.rl.1")); err != nil {
		t.Errorf("the report log switched onto again was not kept: %v", err)
	}
	c := h.client("alice", "ws1", "/dev/pts/1")
	c.want("f1", "1.0", 1, 0)
	files := []string{"report.rl", "real/second.rl.1", "third-old.rl", "third.rl", "real/second.rl"}
	for i := range files {
		files[i] = filepath.Join(h.dir, files[i])
	}
	if got := records(t, files...); !strings.HasPrefix(got[len(got)-1], "OUT f1 alice") {
		t.Errorf("records %q, want the checkout last", got)
	}
}

// TestLogTargetsAtStart: a REPORTLOG or DEBUGLOG naming an ordinary
// file is refused when the vendor daemon starts, and the file is left
// alone: the debug log stays in lmgrd's, checkouts are refused until
// lmswitchr names a good file.
func TestLogTargetsAtStart(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	for _, opts := range []string{"REPORTLOG .bashrc\nDEBUGLOG .bashrc\n", "REPORTLOG +.bashrc\nDEBUGLOG +.bashrc\n"} {
		t.Run(strings.Fields(opts)[1], func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), opts, func(c *VendorConfig) {
				if err := os.WriteFile(filepath.Join(filepath.Dir(c.LicenseFiles[0]), ".bashrc"), []byte("alias ll='ls -l'\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			})
			c := h.client("x;id>/tmp/p;#", "ws1", "/dev/pts/1")
			c.want("f1", "1.0", 1, -23)
			h.wantLog("DEBUGLOG: ", "not a golm log", "Cannot open report log")
			if b, err := os.ReadFile(filepath.Join(h.dir, ".bashrc")); err != nil || string(b) != "alias ll='ls -l'\n" {
				t.Errorf(".bashrc now holds %q (%v)", b, err)
			}
			if ents, _ := filepath.Glob(filepath.Join(h.dir, ".bashrc?*")); len(ents) > 0 {
				t.Errorf("files beside .bashrc: %v", ents)
			}
		})
	}
}

// TestReportLogValuesEscaped: what a client chooses (user, host,
// display, project, feature) reaches the report log escaped, so that no
// record holds a space, a shell metacharacter or a line separator raw,
// and a shell made to run the file runs nothing; lmreport's reader gets
// the values back as the client sent them.
func TestReportLogValuesEscaped(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG +report.rl\n")
	user := "x;touch pwned-user;#"
	host := "ws`touch pwned-host`"
	display := "$(touch pwned-display)\u2028hash=00"
	project := "a b\u0085|touch pwned-project"
	feature := "f2>pwned-feature\u2029"
	c := h.client(user, host, display, project)
	c.want("f1", "1.0", 1, 0)
	c.want(feature, "1.0", 1, -5)
	path := filepath.Join(h.dir, "report.rl")
	recs := waitRecords(t, 3, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:] {
		for _, f := range strings.Split(line, "\t") {
			if j := strings.IndexFunc(f, func(r rune) bool {
				return r == ' ' || r == 0x85 || r == 0x2028 || r == 0x2029 || strings.ContainsRune(";|&$`<>()#'\"*?~!{}[]", r)
			}); j >= 0 {
				t.Errorf("record %d field %q holds %q raw", i+1, f, f[j:j+1])
			}
		}
	}
	all, err := reportlog.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Event == reportlog.EventStart {
			continue
		}
		if r.User != user || r.Host != host || r.Display != display || r.Project != project {
			t.Errorf("%s record read back as %q %q %q %q", r.Event, r.User, r.Host, r.Display, r.Project)
		}
		if r.Event == reportlog.EventDeny && r.Feature != feature {
			t.Errorf("DENY feature read back as %q, want %q", r.Feature, feature)
		}
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Logf("no sh: %v (records %q)", err, recs)
		return
	}
	run := t.TempDir()
	cmd := exec.Command(sh, path)
	cmd.Dir = run
	out, _ := cmd.CombinedOutput()
	if ents, _ := os.ReadDir(run); len(ents) > 0 {
		t.Errorf("sh running the report log made %v (output %s)", ents, out)
	}
}

// TestDenialFloodBounded: one connection asking for a feature that is
// all out, 10,000 times as fast as it can, adds a bounded number of
// records to the report log, and lmreport's counts still say 10,000.
func TestDenialFloodBounded(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "REPORTLOG +report.rl\n")
	holder := h.client("alice", "ws1", "/dev/pts/1")
	holder.want("f1", "1.0", 1, 0)
	flood := h.client("mallory", "ws9", "/dev/pts/9")
	const n = 10000
	for i := 0; i < n; i++ {
		if _, code := flood.co("f1", "1.0", 1); code != -4 {
			t.Fatalf("denial %d: code %d, want -4", i, code)
		}
	}
	h.v.Shutdown(context.Background())
	path := filepath.Join(h.dir, "report.rl")
	s, err := reportlog.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	// START, OUT, the first DENY, its summary, IN at shutdown, STOP.
	if s.Records > 8 {
		t.Errorf("%d records for %d denials, want at most 8", s.Records, n)
	}
	recs, err := reportlog.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	u := reportlog.NewUsage(reportlog.Filter{})
	for _, r := range recs {
		u.Add(r)
	}
	res := u.Result()
	if len(res) != 1 || res[0].Denials[-4] != n {
		t.Fatalf("lmreport counts %+v, want %d denials (-4) of f1", res, n)
	}
	for _, uu := range res[0].Users {
		if uu.User == "mallory" && uu.Denials != n {
			t.Errorf("mallory's denials %d, want %d", uu.Denials, n)
		}
	}
	if got := compact(recs[len(recs)-1]); got != "STOP" {
		t.Errorf("last record %q, want STOP after the summary", got)
	}
}
