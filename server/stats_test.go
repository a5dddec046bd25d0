package server

import (
	"path/filepath"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/reportlog"
)

// withWeekOfLog writes, before the vendor daemon starts, a report log
// holding a checkout of f1 two days before the daemon's clock.
func withWeekOfLog(t *testing.T) func(*VendorConfig) {
	return func(cfg *VendorConfig) {
		now := cfg.Now()
		path := filepath.Join(filepath.Dir(cfg.LicenseFiles[0]), "report.rl")
		w, err := reportlog.OpenWriter(reportlog.Config{Path: path, Vendor: "demo", Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []reportlog.Record{
			{Event: reportlog.EventStart, Time: now.Add(-72 * time.Hour)},
			{Event: reportlog.EventOut, Feature: "f1", Count: 1, Handle: 1, Pool: "p", Detail: "total=1", Time: now.Add(-48 * time.Hour)},
			{Event: reportlog.EventIn, Feature: "f1", Count: 1, Handle: 1, Time: now.Add(-47 * time.Hour)},
			{Event: reportlog.EventStop, Time: now.Add(-46 * time.Hour)},
		} {
			if _, err := w.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVendorStatsExt: a checkout queued for 90 s is one queue wait of
// 90 s; the report log's records are counted; the triad's values are
// what SetTriad set; the usage history holds the week's log before the
// start and the seats since.
func TestVendorStatsExt(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "REPORTLOG +report.rl\n", withWeekOfLog(t))
	a, b := h.client("ann", "h1", "d1"), h.client("bob", "h2", "d2")
	ha := a.want("f1", "1.0", 1, 0)
	hb, queued, c := b.queue("f1", "1.0", 1)
	if !queued || c != 0 {
		t.Fatalf("bob's checkout: queued %v, code %d; want queued", queued, c)
	}
	h.clock.Add(90 * time.Second)
	if c := a.checkin(ha); c != 0 {
		t.Fatalf("checkin: %d", c)
	}
	if granted, c := b.poll(hb); !granted || c != 0 {
		t.Fatalf("bob's queued checkout after the checkin: granted %v, code %d", granted, c)
	}

	ask := func(m protocol.Message) protocol.Message {
		t.Helper()
		r, err := a.c.Call(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
		return r
	}
	ext, ok := ask(&protocol.VendorStatsExtRequest{}).(*protocol.VendorStatsExt)
	if !ok {
		t.Fatal("VENDOR_STATS_EXT_REQUEST not answered with VENDOR_STATS_EXT")
	}
	var n uint64
	for i, c := range ext.QueueWaitCounts {
		n += c
		if c != 0 && (i == len(ext.QueueWaitBounds) || ext.QueueWaitBounds[i] != 300000 || i > 0 && ext.QueueWaitBounds[i-1] >= 90000) {
			t.Errorf("the 90 s wait is in bucket %d of %v", i, ext.QueueWaitBounds)
		}
	}
	if n != 1 || ext.QueueWaitSum != 90000 {
		t.Errorf("queue waits: %d, sum %d ms; want 1, 90000", n, ext.QueueWaitSum)
	}
	// START, ann's OUT, bob's QUEUE, ann's IN, bob's OUT.
	if !ext.ReportLog || ext.ReportRecords != 5 || ext.ReportWriteErrors != 0 {
		t.Errorf("report log: %v, %d records, %d write errors; want true, 5, 0", ext.ReportLog, ext.ReportRecords, ext.ReportWriteErrors)
	}
	if ext.TriadRole != protocol.TriadNone {
		t.Errorf("triad role %d outside a triad", ext.TriadRole)
	}
	if want := h.clock.Now().Add(-90 * time.Second).Unix(); ext.Started != want {
		t.Errorf("Started = %d, want %d (90 s before the clock now)", ext.Started, want)
	}
	h.v.SetTriad(protocol.TriadMaster, 7, true)
	ext = ask(&protocol.VendorStatsExtRequest{}).(*protocol.VendorStatsExt)
	if ext.TriadRole != protocol.TriadMaster || ext.TriadTerm != 7 || !ext.TriadQuorum {
		t.Errorf("after SetTriad(master, 7, true): role %d, term %d, quorum %v", ext.TriadRole, ext.TriadTerm, ext.TriadQuorum)
	}
	h.v.SetTriad(9, 8, false)
	if ext = ask(&protocol.VendorStatsExtRequest{}).(*protocol.VendorStatsExt); ext.TriadRole != protocol.TriadNone {
		t.Errorf("SetTriad with an unknown role: role %d, want none", ext.TriadRole)
	}

	// The log of before the start is read in the background: wait for
	// the week to reach back to it.
	var u *protocol.UsageHistory
	for end := time.Now().Add(10 * time.Second); ; {
		var ok bool
		u, ok = ask(&protocol.UsageHistoryRequest{Feature: "f1"}).(*protocol.UsageHistory)
		if !ok || len(u.Series) != 2 {
			t.Fatalf("USAGE_HISTORY of f1: %+v", u)
		}
		if u.Series[1].Start <= h.clock.Now().Add(-48*time.Hour).Unix() {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the usage history does not reach back to the report log of before the start: %+v", u.Series[1].Start)
		}
		time.Sleep(10 * time.Millisecond) // polling the daemon, not waiting for it to start
	}
	if u.Feature != "f1" || u.Total != 1 || u.InUse != 1 {
		t.Errorf("f1: total %d, in use %d; want 1, 1 (bob)", u.Total, u.InUse)
	}
	day, week := u.Series[0], u.Series[1]
	if day.Step != 60 || day.InUse[len(day.InUse)-1] != 1 {
		t.Errorf("day: step %d, last bucket %v; want 60, 1", day.Step, day.InUse[len(day.InUse)-1])
	}
	// The seat of two days ago, from the log written before the start.
	twoDaysAgo := (h.clock.Now().Add(-48*time.Hour).Unix() - week.Start) / int64(week.Step)
	if week.Step != 900 || twoDaysAgo < 0 || twoDaysAgo >= int64(len(week.InUse)) || week.InUse[twoDaysAgo] != 1 {
		t.Errorf("week: step %d, start %d, %d buckets; the bucket two days ago (%d) should hold 1", week.Step, week.Start, len(week.InUse), twoDaysAgo)
	} else if week.InUse[twoDaysAgo+8] != 0 {
		t.Errorf("week: two hours after the seat of two days ago: %d in use, want 0", week.InUse[twoDaysAgo+8])
	}
	if u, _ := ask(&protocol.UsageHistoryRequest{Feature: "nope"}).(*protocol.UsageHistory); u == nil || len(u.Series) != 0 {
		t.Errorf("USAGE_HISTORY of an unknown feature: %+v, want no series", u)
	}
}

// TestVendorStatsExtNoReportLog: without a report log there is no
// report-log counter and no history.
func TestVendorStatsExtNoReportLog(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
	a := h.client("ann", "h1", "d1")
	a.want("f1", "1.0", 1, 0)
	m, err := a.c.Call(&protocol.VendorStatsExtRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if ext := m.(*protocol.VendorStatsExt); ext.ReportLog || ext.ReportRecords != 0 {
		t.Errorf("without a report log: %+v", ext)
	}
	m, err = a.c.Call(&protocol.UsageHistoryRequest{Feature: "f1"})
	if err != nil {
		t.Fatal(err)
	}
	if u := m.(*protocol.UsageHistory); len(u.Series) != 0 {
		t.Errorf("without a report log: a history %+v", u)
	}
}
