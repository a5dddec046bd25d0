package commands

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/server/reportlog"
)

// reportlogDir holds the report logs lmreport's goldens read; they are
// written by reportlog's own writer (TestReportlogTestdata).
var reportlogDir = filepath.Join("..", "testdata", "reportlog")

// reportlogFiles are the files of the test set, in chain order.
var reportlogFiles = []string{"report-1120.log", "report.log", "report-late.log"}

// writeTestReportLog writes a day of a vendor daemon's report log into
// dir: three files, rotated by lmnewlog at noon and lmswitchr at 14:30.
func writeTestReportLog(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir) // the SWITCH records name the files as given: keep them relative
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := func(hm string) time.Time {
		d, err := time.ParseDuration(strings.Replace(hm, ":", "h", 1) + "m")
		if err != nil {
			t.Fatal(err)
		}
		return day.Add(d)
	}
	var clock time.Time
	w, err := reportlog.OpenWriter(reportlog.Config{Path: "report.log", Vendor: "demo",
		Now: func() time.Time { return clock }, OnError: func(err error) { t.Error(err) }})
	if err != nil {
		t.Fatal(err)
	}
	out := func(hm, feature, user string, count int, handle uint64) {
		t.Helper()
		if _, err := w.Append(reportlog.Record{Time: at(hm), Event: reportlog.EventOut, Feature: feature, Version: "1.0",
			User: user, Host: user + "-ws", Display: "/dev/pts/1", Project: "apollo", Count: count, Handle: handle, Pool: "1",
			Detail: map[string]string{"f1": "total=3", "f2": "total=2"}[feature]}); err != nil {
			t.Fatal(err)
		}
	}
	in := func(hm, feature, user string, count int, handle uint64, reason string) {
		t.Helper()
		if _, err := w.Append(reportlog.Record{Time: at(hm), Event: reportlog.EventIn, Feature: feature, Version: "1.0",
			User: user, Host: user + "-ws", Display: "/dev/pts/1", Project: "apollo", Count: count, Handle: handle, Pool: "1", Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(hm string, e reportlog.Event, feature, user string, code int) {
		t.Helper()
		if _, err := w.Append(reportlog.Record{Time: at(hm), Event: e, Feature: feature, Version: "1.0", User: user,
			Host: "ws", Display: "/dev/pts/2", Count: 1, Code: code}); err != nil {
			t.Fatal(err)
		}
	}
	ev("08:00", reportlog.EventStart, "", "", 0)
	out("08:05", "f1", "alice", 1, 1)
	out("08:10", "f1", "bob", 1, 2)
	out("08:15", "f2", "alice", 2, 3)
	ev("08:20", reportlog.EventDeny, "f1", "carol", -4)
	ev("08:21", reportlog.EventQueue, "f1", "carol", 0)
	in("09:05", "f1", "alice", 1, 1, reportlog.ReasonNormal)
	ev("09:06", reportlog.EventDequeue, "f1", "carol", 0)
	out("09:06", "f1", "carol", 1, 4)
	ev("10:00", reportlog.EventReread, "", "", 0)
	in("10:10", "f2", "alice", 2, 3, reportlog.ReasonExit)
	ev("10:30", reportlog.EventDeny, "f2", "dave", -38)
	ev("10:31", reportlog.EventDeny, "f2", "eve\tDENY\nx", -4)
	clock = at("12:00")
	if err := w.NewLog("report-1120.log"); err != nil {
		t.Fatal(err)
	}
	out("13:00", "f1", "dave", 1, 5)
	in("14:00", "f1", "bob", 1, 2, reportlog.ReasonRemove)
	clock = at("14:30")
	if err := w.Switch("report-late.log"); err != nil {
		t.Fatal(err)
	}
	in("15:00", "f1", "carol", 1, 4, reportlog.ReasonTimeout)
	ev("16:00", reportlog.EventDeny, "f1", "erin", -4)
	in("17:00", "f1", "dave", 1, 5, reportlog.ReasonShutdown)
	ev("17:00", reportlog.EventStop, "", "", 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReportlogTestdata regenerates testdata/reportlog with -update, and
// otherwise checks that the writer still writes it byte for byte.
func TestReportlogTestdata(t *testing.T) {
	want, err := filepath.Abs(reportlogDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTestReportLog(t, dir)
	for _, name := range reportlogFiles {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(want, name)
		if *update {
			if err := os.MkdirAll(want, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("run go test -update to create it: %v", err)
		}
		if string(old) != string(got) {
			t.Errorf("%s differs from what the writer writes now:\ngot:\n%s\nwant:\n%s", path, got, old)
		}
	}
}

func TestLmreportGolden(t *testing.T) {
	dir, err := filepath.Abs(reportlogDir)
	if err != nil {
		t.Fatal(err)
	}
	// A copy with one record altered, one with a record removed, and one
	// whose last line was cut off by a crash.
	bad := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "report.log"))
	if err != nil {
		t.Fatal(err)
	}
	writeBad := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeBad("altered.log", strings.Replace(string(data), "user=dave", "user=nobody", 1))
	lines := strings.SplitAfter(string(data), "\n")
	writeBad("gap.log", lines[0]+lines[1]+strings.Join(lines[3:], ""))
	writeBad("torn.log", string(data[:len(data)-30]))

	all := append([]string(nil), reportlogFiles...)
	tests := []struct {
		name string
		args []string
		tz   string
	}{
		{"table", all, ""},
		{"table-reverse-order", []string{"report-late.log", "report.log", "report-1120.log"}, ""},
		{"csv", append([]string{"-csv"}, all...), ""},
		{"json", append([]string{"-json"}, all...), ""},
		{"html", append([]string{"-html"}, all...), ""},
		{"html-window", append([]string{"-html", "-feature", "f1", "-from", "2026-11-20T09:00", "-to", "2026-11-20T13:30"}, all...), ""},
		{"html-and-csv", []string{"-html", "-csv", "report.log"}, ""},
		{"feature", append([]string{"-feature", "f2"}, all...), ""},
		{"window", append([]string{"-from", "2026-11-20T09:00", "-to", "2026-11-20T13:30"}, all...), ""},
		{"window-day", append([]string{"-from", "2026-11-21", "-to", "2026-11-21"}, all...), ""},
		{"flags-after-files", append(append([]string(nil), all...), "-feature", "f1", "-csv"), ""},
		{"tz", append([]string{"-feature", "f2"}, all...), "Europe/Berlin"},
		{"verify", append([]string{"-verify"}, all...), ""},
		{"verify-one", []string{"-verify", "report-late.log"}, ""},
		{"verify-gap-in-set", []string{"-verify", "report-1120.log", "report-late.log"}, ""},
		{"verify-altered", []string{"-verify", filepath.Join(bad, "altered.log")}, ""},
		{"verify-removed", []string{"-verify", filepath.Join(bad, "gap.log")}, ""},
		{"verify-torn", []string{"-verify", filepath.Join(bad, "torn.log")}, ""},
		{"missing-file", []string{"nosuch.log"}, ""},
		{"no-files", nil, ""},
		{"csv-and-json", []string{"-csv", "-json", "report.log"}, ""},
		{"bad-date", []string{"-from", "yesterday", "report.log"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &Env{Dir: dir, Getenv: func(k string) string {
				if k == "TZ" {
					return tt.tz
				}
				return ""
			}}
			got := runAppletGolden(t, lmreportApplet(), "lmreport", tt.args, env)
			got = strings.ReplaceAll(got, bad, "$BAD")
			checkGolden(t, filepath.Join("lmreport", tt.name+".golden"), got)
		})
	}
}

// TestLmreportCountsDenialSummaries: a report log in which 10,000
// denials of one client are a first record and summaries (repeats=N):
// lmreport counts 10,000, by feature, reason and user.
func TestLmreportCountsDenialSummaries(t *testing.T) {
	dir := t.TempDir()
	// The writer reads the clock from its own goroutine too.
	var mu sync.Mutex
	clock := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	w, err := reportlog.OpenWriter(reportlog.Config{Path: filepath.Join(dir, "r.rl"), Vendor: "demo",
		Now: now, DenialInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10000; i++ {
		if _, err := w.Deny(1, reportlog.Record{Event: reportlog.EventDeny, Feature: "f1", Version: "1.0", User: "mallory", Host: "ws", Count: 1, Code: -4, Detail: "minor=147"}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		clock = clock.Add(time.Millisecond)
		mu.Unlock()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := reportlog.Verify(filepath.Join(dir, "r.rl"))
	if err != nil || s.Records > 12 {
		t.Fatalf("%d records, %v; want at most 12 for 10 intervals", s.Records, err)
	}
	got := runAppletGolden(t, lmreportApplet(), "lmreport", []string{"-csv", "r.rl"}, &Env{Dir: dir, Getenv: func(string) string { return "" }})
	for _, want := range []string{"f1,denials,,10000\n", "f1,denials,-4,10000\n", "f1,user_denials,mallory,10000\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("lmreport -csv:\n%s\nlacks %q", got, want)
		}
	}
}

// TestLmreportForkAndGap: a set whose chain forks (a vendor daemon that
// went on in an old file after lmswitchr) or has a gap (a file left out)
// is named, files and sequence numbers: lmreport warns and reports,
// lmreport -verify fails.
func TestLmreportForkAndGap(t *testing.T) {
	dir := t.TempDir()
	cfg := reportlog.Config{Path: filepath.Join(dir, "report.rl"), Vendor: "demo", Append: true}
	w, err := reportlog.OpenWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deny := reportlog.Record{Event: reportlog.EventDeny, Feature: "f1", User: "u", Code: -4}
	for i := 0; i < 3; i++ {
		w.Append(deny)
	}
	if err := w.Switch(filepath.Join(dir, "m.rl")); err != nil {
		t.Fatal(err)
	}
	w.Append(deny)
	w.Append(deny)
	if err := w.NewLog(filepath.Join(dir, "m-old.rl")); err != nil {
		t.Fatal(err)
	}
	w.Append(deny)
	w.Close()
	// What a restart did before it followed the state file: go on in
	// the file the options name, after its SWITCH record.
	if err := os.Remove(reportlog.StatePath(cfg.Path)); err != nil {
		t.Fatal(err)
	}
	w, err = reportlog.OpenWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(deny)
	w.Close()
	env := func() *Env { return &Env{Dir: dir, Getenv: func(string) string { return "" }} }
	for _, c := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"fork report", []string{"-csv", "report.rl", "m-old.rl", "m.rl"},
			[]string{"lmreport: warning: m-old.rl:1: ", "the chain forks", "report.rl holds seq 1-5 and m-old.rl seq 5-7; both hold seq 5", "f1,denials,,"}},
		{"fork verify", []string{"-verify", "report.rl", "m-old.rl", "m.rl"},
			[]string{"FAILED: ", "the chain forks", "both hold seq 5\n", "-- exit 1 --"}},
		{"gap report", []string{"-csv", "m.rl", "report.rl"},
			[]string{"lmreport: warning: ", "seq 5-7 missing between report.rl (ends at seq 4) and m.rl (starts at seq 8)"}},
		{"gap verify", []string{"-verify", "m.rl", "report.rl"},
			[]string{"FAILED: m.rl:1: ", "seq 5-7 missing between report.rl", "-- exit 1 --"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Keep report.rl's fork out of the gap cases: a copy of its
			// first four records.
			if strings.HasPrefix(c.name, "gap") {
				data, _ := os.ReadFile(filepath.Join(dir, "report.rl"))
				lines := strings.SplitAfter(string(data), "\n")
				sub := t.TempDir()
				os.WriteFile(filepath.Join(sub, "report.rl"), []byte(strings.Join(lines[:5], "")), 0o644)
				m, _ := os.ReadFile(filepath.Join(dir, "m.rl"))
				os.WriteFile(filepath.Join(sub, "m.rl"), m, 0o644)
				e := env()
				e.Dir = sub
				got := runAppletGolden(t, lmreportApplet(), "lmreport", c.args, e)
				for _, want := range c.wants {
					if !strings.Contains(got, want) {
						t.Errorf("lmreport %v:\n%s\nlacks %q", c.args, got, want)
					}
				}
				return
			}
			got := runAppletGolden(t, lmreportApplet(), "lmreport", c.args, env())
			for _, want := range c.wants {
				if !strings.Contains(got, want) {
					t.Errorf("lmreport %v:\n%s\nlacks %q", c.args, got, want)
				}
			}
		})
	}
}
