package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/server/reportlog"
)

// TestLmreportHTMLSelfContained: the page fetches nothing and runs
// nothing, and what clients named (features, users) cannot become
// markup, whatever the format of the report log allows.
func TestLmreportHTMLSelfContained(t *testing.T) {
	dir := t.TempDir()
	w, err := reportlog.OpenWriter(reportlog.Config{Path: filepath.Join(dir, "r.rl"), Vendor: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hostile := []string{`<script>alert(1)</script>`, `"><img src=//evil.example/x.png>`, `javascript:alert(1)`, `</style><a href="https://evil.example">`}
	for i, s := range hostile {
		w.Append(reportlog.Record{Time: t0.Add(time.Duration(i) * time.Minute), Event: reportlog.EventOut, Feature: s, User: s, Count: 1, Handle: uint64(i + 1)})
		w.Append(reportlog.Record{Time: t0.Add(time.Duration(i) * time.Minute), Event: reportlog.EventDeny, Feature: s, User: s, Count: 1, Code: -4})
	}
	w.Close()
	for _, c := range []struct {
		name string
		dir  string
		args []string
	}{
		{"testdata", reportlogDir, append([]string{"-html"}, reportlogFiles...)},
		{"hostile names", dir, []string{"-html", "r.rl"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, _ := filepath.Abs(c.dir)
			got := runAppletGolden(t, lmreportApplet(), "lmreport", c.args, &Env{Dir: d, Getenv: func(string) string { return "" }})
			low := strings.ToLower(got)
			bads := []string{"<script", "<img", "@import", "url(", "<a ", "<link", "<iframe", "<object", "<style>\n</style>"}
			if c.name == "testdata" {
				// The hostile names may say it, as text.
				bads = append(bads, "http:", "https:", "//", "javascript:")
			}
			for _, bad := range bads {
				if strings.Contains(low, bad) {
					t.Errorf("page holds %q", bad)
				}
			}
			for _, m := range regexp.MustCompile(`(?i)\b(src|href|xlink:href|action)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(got, -1) {
				t.Errorf("page links %s=%q", m[1], m[2])
			}
			if !strings.HasPrefix(got, "<!DOCTYPE html>") || !strings.Contains(got, "<svg") || strings.Count(got, "<h2") < 1 {
				t.Errorf("not a page with charts:\n%s", got)
			}
		})
	}
}

// TestLmreportOutputFile: -o writes the report to a file, and refuses
// to overwrite a report log, read or not, which stays as it was.
func TestLmreportOutputFile(t *testing.T) {
	dir := t.TempDir()
	src, _ := filepath.Abs(reportlogDir)
	for _, n := range reportlogFiles {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "other.rl"), []byte("#golm-reportlog v1\tseq=1\tprev=00000000000000000000000000000000\tvendor=x\n"), 0o644)
	env := &Env{Dir: dir, Getenv: func(string) string { return "" }}
	got := runAppletGolden(t, lmreportApplet(), "lmreport", append([]string{"-html", "-o", "report.html"}, reportlogFiles...), env)
	if got != "" {
		t.Errorf("lmreport -o printed %q", got)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.HasPrefix(string(page), "<!DOCTYPE html>") {
		t.Errorf("report.html: %v %.40q", err, page)
	}
	for _, target := range []string{"report.log", "other.rl"} {
		before, _ := os.ReadFile(filepath.Join(dir, target))
		got := runAppletGolden(t, lmreportApplet(), "lmreport", append([]string{"-o", target}, reportlogFiles...), env)
		if !strings.Contains(got, "lmreport: -o "+target+": ") || !strings.Contains(got, "report log") {
			t.Errorf("lmreport -o %s: %q, want it refused", target, got)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, target)); string(after) != string(before) {
			t.Errorf("%s changed", target)
		}
	}
}

// TestLmreportKnownWorkload: a report log of a known schedule of
// checkouts and checkins, across two lmswitchr (the second while the
// disk is full, so a checkin is kept and written into the next file), a
// clean restart and a kill: lmreport's peak, its time and the
// seat-hours are the true figures, for the whole log and for a window.
func TestLmreportKnownWorkload(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(hm string) time.Time {
		d, err := time.ParseDuration(strings.Replace(hm, ":", "h", 1) + "m")
		if err != nil {
			t.Fatal(err)
		}
		return day.Add(d)
	}
	var clock atomic.Pointer[time.Time]
	setClock := func(hm string) { tm := at(hm); clock.Store(&tm) }
	setClock("09:00")
	var full atomic.Bool
	cfg := reportlog.Config{Path: filepath.Join(dir, "r.rl"), Vendor: "demo", Now: func() time.Time { return *clock.Load() },
		RetryInterval: time.Hour, WriteTimeout: time.Millisecond,
		WriteAt: func(f *os.File, b []byte, off int64) (int, error) {
			if full.Load() && strings.HasSuffix(f.Name(), "r2.rl") {
				return 0, syscall.ENOSPC
			}
			return f.WriteAt(b, off)
		}}
	open := func() *reportlog.Writer {
		w, err := reportlog.OpenWriter(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	var w *reportlog.Writer
	rec := func(hm string, e reportlog.Event, user string, count int, handle uint64) {
		t.Helper()
		r := reportlog.Record{Time: at(hm), Event: e, User: user, Count: count, Handle: handle}
		if e != reportlog.EventStart && e != reportlog.EventStop {
			r.Feature, r.Version = "f1", "1.0"
		}
		if e == reportlog.EventOut {
			r.Detail = "total=6"
		}
		if e == reportlog.EventDeny {
			r.Code = -4
		}
		if _, kept, err := w.Keep(r); err != nil || kept != full.Load() {
			t.Fatalf("%s %s: kept %v, %v", hm, e, kept, err)
		}
	}
	w = open()
	rec("09:00", reportlog.EventStart, "", 0, 0)
	rec("09:00", reportlog.EventOut, "alice", 1, 1)
	rec("09:10", reportlog.EventOut, "bob", 1, 2)
	rec("09:20", reportlog.EventOut, "carol", 2, 3)
	setClock("09:30")
	if err := w.Switch(filepath.Join(dir, "r2.rl")); err != nil {
		t.Fatal(err)
	}
	rec("09:40", reportlog.EventOut, "dave", 1, 4)
	rec("09:45", reportlog.EventOut, "erin", 1, 5) // 6 seats: the peak
	full.Store(true)
	rec("10:00", reportlog.EventIn, "alice", 1, 1) // kept
	setClock("10:05")
	if err := w.Switch(filepath.Join(dir, "r3.rl")); err != nil {
		t.Fatalf("lmswitchr while full: %v", err)
	}
	full.Store(false)
	rec("10:05", reportlog.EventDeny, "frank", 1, 0)
	rec("10:15", reportlog.EventIn, "bob", 1, 2)
	rec("10:30", reportlog.EventIn, "carol", 2, 3)
	rec("10:45", reportlog.EventIn, "dave", 1, 4)
	rec("10:45", reportlog.EventIn, "erin", 1, 5)
	rec("10:45", reportlog.EventStop, "", 0, 0)
	w.Close()
	// A clean restart: a new file at r.rl continues the chain.
	w = open()
	rec("11:00", reportlog.EventStart, "", 0, 0)
	rec("11:00", reportlog.EventOut, "alice", 3, 1)
	rec("11:30", reportlog.EventOut, "bob", 3, 2) // 6 again, later
	w.Close()                                     // killed: no IN, no STOP
	w = open()
	rec("12:00", reportlog.EventStart, "", 0, 0) // the seats ended with the daemon
	w.Close()

	var files []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			files = append(files, e.Name())
		}
	}
	env := &Env{Dir: dir, Getenv: func(string) string { return "" }}
	if got := runAppletGolden(t, lmreportApplet(), "lmreport", append([]string{"-verify"}, files...), env); !strings.HasPrefix(got, "OK: 19 records") {
		t.Fatalf("lmreport -verify %v: %s", files, got)
	}
	for _, c := range []struct {
		name      string
		args      []string
		checkouts int
		peak      int
		peakAt    string
		seatHours float64
		users     map[string]float64
	}{
		// 60+65+140+65+60 minutes before the restart, 180+90 after.
		{"whole log", nil, 7, 6, "2026-03-02T09:45:00Z", 11, map[string]float64{"alice": 4, "bob": 2.58, "carol": 2.33, "dave": 1.08, "erin": 1}},
		// 4 seats held at 09:30; 30+45+120+50+45 minutes inside.
		{"window", []string{"-from", "2026-03-02T09:30", "-to", "2026-03-02T10:30"}, 2, 6, "2026-03-02T09:45:00Z", 4.83, nil},
		// After the restart: 3 seats at 11:00, 6 at 11:30 until the
		// next start at 12:00.
		{"after the restart", []string{"-from", "2026-03-02T10:50"}, 2, 6, "2026-03-02T11:30:00Z", 4.5, map[string]float64{"alice": 3, "bob": 1.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{"-json"}, c.args...), files...)
			out := runAppletGolden(t, lmreportApplet(), "lmreport", args, env)
			var rep jsonReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Features) != 1 {
				t.Fatalf("lmreport %v: %v\n%s", args, err, out)
			}
			f := rep.Features[0]
			if f.Checkouts != c.checkouts || f.Peak != c.peak || f.PeakAt != c.peakAt || f.SeatHours != c.seatHours {
				t.Errorf("checkouts %d, peak %d at %s, %v seat-hours; want %d, %d at %s, %v",
					f.Checkouts, f.Peak, f.PeakAt, f.SeatHours, c.checkouts, c.peak, c.peakAt, c.seatHours)
			}
			for _, u := range f.Users {
				if want, ok := c.users[u.User]; ok && u.SeatHours != want {
					t.Errorf("%s: %v seat-hours, want %v", u.User, u.SeatHours, want)
				}
			}
		})
	}
}
