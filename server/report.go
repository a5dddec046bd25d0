package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/options"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/state"
)

// DebugLogMode is the permission of a debug log file the vendor daemon
// creates (DEBUGLOG, lmswitch): its user reads and writes, its group
// reads.
const DebugLogMode fs.FileMode = 0o640

// logConfig is what the options file says about the vendor daemon's logs.
type logConfig struct {
	Report options.LogPath // REPORTLOG
	Debug  options.LogPath // DEBUGLOG
	// Dir is the options file's directory: relative log paths, in the
	// options file and in lmswitchr, lmnewlog and lmswitch requests, are
	// taken relative to it.
	Dir string
}

// logConfigOf is the log configuration of the options file at path
// (nil o: none). The options file's directory is the one place symbolic
// links are resolved: an administrator put the file there, and relative
// log paths below it are then held to the rule that no component of a
// log path is a symbolic link.
func logConfigOf(path string, o *options.Options) logConfig {
	lc := logConfig{Dir: filepath.Dir(path)}
	if d, err := filepath.EvalSymlinks(lc.Dir); err == nil {
		lc.Dir = d
	}
	if o != nil {
		lc.Report, lc.Debug = o.ReportLog, o.DebugLog
	}
	return lc
}

// resolve makes a log path absolute against the options file's
// directory (the working directory when there is no options file).
func (lc logConfig) resolve(p string) string {
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) && lc.Dir != "" {
		p = filepath.Join(lc.Dir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return filepath.Clean(p)
}

// reportState is the vendor daemon's report log and its own debug log
// file. mu serialises every state change that writes records with the
// writing of its records, so that the log holds the events in the order
// the state machine applied them, and a client hears of a grant only
// after its record is in the file.
type reportState struct {
	mu sync.Mutex
	w  *reportlog.Writer // nil without a report log
	// broken is why the configured REPORTLOG could not be opened; while
	// it is set, grants are refused as not logged.
	broken error
	cfg    logConfig
	// debugFile is the file the debug log was moved to (DEBUGLOG,
	// lmswitch); nil while it goes to lmgrd's log.
	debugFile *os.File
	// stopping is set by Shutdown: sessions closing from then on check
	// their seats in for "shutdown", not "exit".
	stopping atomic.Bool
	stopOnce sync.Once
	// counters count the records of every writer the vendor daemon
	// opens; logging is set once one is open (VENDOR_STATS_EXT).
	counters reportlog.Counters
	logging  atomic.Bool
	// history is the seats in use of each feature over the last week,
	// seeded from the report log's files when the vendor daemon starts
	// and fed every record written (USAGE_HISTORY); empty without a
	// report log.
	history *reportlog.History
	// at is, on a member of a triad, the time of the committed command
	// whose records are being written (the master's clock): the time of
	// every record, so that the three members' logs are the same. Zero
	// writes the time of writing.
	// It is the Unix time in nanoseconds; the report log writer's clock
	// reads it too (a SWITCH record's time).
	at atomic.Int64
}

// openLogs applies the options file's DEBUGLOG and REPORTLOG when the
// vendor daemon starts, and writes the START record.
func (v *Vendor) openLogs(lc logConfig) {
	defer v.triadLogsOpened() // a triad member's commits wait for it
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.cfg = lc
	if lc.Debug.Path != "" {
		p := lc.resolve(lc.Debug.Path)
		if f, err := reportlog.OpenDebugLog(p, v.cfg.Name, !lc.Debug.Append, DebugLogMode); err != nil {
			v.log.Printf("DEBUGLOG: %v; the debug log stays in lmgrd's", trimLogPrefix(err))
		} else {
			v.log.Printf("Debug log for %s continues in %s", v.cfg.Name, p)
			v.log.SetOutput(f)
			rs.debugFile = f
			// The file's first line names the vendor daemon: that is how
			// a later start or lmswitch knows it as this debug log.
			v.log.Printf("Debug log for %s started in %s", v.cfg.Name, p)
		}
	}
	if lc.Report.Path == "" {
		return
	}
	p := lc.resolve(lc.Report.Path)
	w, err := v.openReportWriter(p, lc.Report.Append)
	if err != nil {
		rs.broken = err
		v.log.Printf("Cannot open report log %s: %v", p, trimLogPrefix(err))
		v.log.Printf("Checkouts are refused until the report log can be written (lmswitchr %s new_file)", v.cfg.Name)
		return
	}
	rs.w = w
	v.log.Printf("Report log: %s", w.Path())
	v.seedHistory(w.Path(), w.Next(), filepath.Dir(p))
	if v.cfg.Triad != nil {
		// A member's own start is not the triad's: its report log holds
		// only the committed commands, the same on the three members.
		v.log.Printf("Report log continues at record %d (the triad's committed commands)", w.Next())
		return
	}
	v.keepLocked(reportlog.Record{Event: reportlog.EventStart, Detail: "version=" + v.cfg.Software})
}

func (v *Vendor) openReportWriter(path string, appendTo bool) (*reportlog.Writer, error) {
	cfg := reportlog.Config{
		Path:   path,
		Append: appendTo,
		Vendor: v.cfg.Name,
		Now: func() time.Time {
			if n := v.report.at.Load(); n != 0 {
				return time.Unix(0, n) // a triad's committed command
			}
			return v.cfg.Now()
		},
		OnError: func(err error) { v.log.Limited("REPORTLOG", "REPORTLOG: %v", trimLogPrefix(err)) },
		// The backlog's changes are few and say what the log is missing
		// and why checkouts are refused: never rate-limited away.
		OnNotice: func(msg string) { v.log.Printf("REPORTLOG: %s", strings.TrimPrefix(msg, "report log ")) },
		Counters: &v.report.counters,
		OnRecord: v.report.historyOf().Add,
	}
	if v.cfg.Triad != nil {
		// The members of a triad keep their files in their own
		// directories: a SWITCH record names the file as relative to the
		// options file's, as lmswitchr gave it, so that the three
		// records, and chains, are the same.
		cfg.SwitchName = func(p string) string {
			if rel, err := filepath.Rel(v.report.cfg.resolve("."), p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return rel
			}
			return p
		}
	}
	v.report.logging.Store(true)
	if v.cfg.ReportLog != nil {
		v.cfg.ReportLog(&cfg)
	}
	return reportlog.OpenWriter(cfg)
}

// seedHistory reads the week of records the report log's files hold
// before sequence number next into the usage history, behind the
// records written from now on, so that the status page's charts go back
// a week across restarts. It reads in the background: a week of a busy
// log takes seconds to read, which must not hold up the vendor daemon's
// start; Shutdown stops it. rs.mu is held.
func (v *Vendor) seedHistory(current string, next uint64, dir string) {
	live := v.report.historyOf()
	now := v.cfg.Now()
	v.cs.spawn(func() {
		start := time.Now()
		old := reportlog.NewHistory(reportlog.DefaultHistoryFeatures)
		if err := old.Seed(v.stopTick, current, v.cfg.Name, next, now, dir); err != nil {
			v.log.Printf("REPORTLOG: %v", trimLogPrefix(err))
		}
		live.MergeOlder(old)
		if d := time.Since(start); d > time.Second {
			v.log.Printf("REPORTLOG: usage history of the last week read in %s", d.Round(time.Millisecond))
		}
	})
}

// historyOf is the usage history, made on first use; rs.mu is held.
func (rs *reportState) historyOf() *reportlog.History {
	if rs.history == nil {
		rs.history = reportlog.NewHistory(reportlog.DefaultHistoryFeatures)
	}
	return rs.history
}

// usageHistory is the USAGE_HISTORY of feature: none without a report
// log or for a feature past the history's bound.
func (v *Vendor) usageHistory(feature string) *protocol.UsageHistory {
	m := &protocol.UsageHistory{Feature: feature}
	rs := &v.report
	rs.mu.Lock()
	h := rs.history
	rs.mu.Unlock()
	if h == nil {
		return m
	}
	fh, ok := h.Feature(feature, v.cfg.Now())
	if !ok {
		return m
	}
	m.Total, m.InUse = uint64(max(fh.Total, 0)), uint64(max(fh.InUse, 0))
	for _, s := range []reportlog.HistorySeries{fh.Day, fh.Week} {
		us := protocol.UsageSeries{Start: s.Start.Unix(), Step: uint64(s.Step / time.Second), InUse: make([]uint64, len(s.InUse))}
		for i, n := range s.InUse {
			us.InUse[i] = uint64(max(n, 0))
		}
		m.Series = append(m.Series, us)
	}
	return m
}

// statsExt is the VENDOR_STATS_EXT of the vendor daemon.
func (v *Vendor) statsExt() *protocol.VendorStatsExt {
	var c *reportlog.Counters
	if v.report.logging.Load() {
		c = &v.report.counters
	}
	return v.stats.extMessage(c)
}

// rereadLogs applies a reread options file's REPORTLOG: a vendor daemon
// without a working report log opens it now; a changed path takes effect
// at the next start (lmswitchr switches at once), as does a changed
// DEBUGLOG (lmswitch).
func (v *Vendor) rereadLogs(lc logConfig) {
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	old := rs.cfg
	rs.cfg.Dir = lc.Dir
	if lc.Report.Path == "" || lc.resolve(lc.Report.Path) == old.resolve(old.Report.Path) && rs.broken == nil {
		return
	}
	p := lc.resolve(lc.Report.Path)
	if rs.w != nil {
		v.log.Printf("REPORTLOG changed to %s: it applies when %s restarts (lmswitchr switches now)", p, v.cfg.Name)
		return
	}
	w, err := v.openReportWriter(p, lc.Report.Append)
	if err != nil {
		rs.broken = err
		v.log.Printf("Cannot open report log %s: %v", p, trimLogPrefix(err))
		return
	}
	rs.w, rs.broken, rs.cfg.Report = w, nil, lc.Report
	v.log.Printf("Report log: %s", w.Path())
}

// closeLogs writes the STOP record and closes the report log, once. The
// debug log file stays open for the vendor daemon's last lines.
func (v *Vendor) closeLogs() {
	rs := &v.report
	rs.stopOnce.Do(func() {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if rs.w != nil {
			// The denials counted so far come before the STOP.
			rs.w.FlushDenials()
			if v.cfg.Triad == nil { // a member's stop is not the triad's (see openLogs)
				v.keepLocked(reportlog.Record{Event: reportlog.EventStop})
			}
			if err := rs.w.Close(); err != nil {
				v.log.Printf("REPORTLOG: %v", trimLogPrefix(err))
			}
		}
	})
}

// apply applies cmd to the state and appends the report log records of
// what it did before anybody is told: a grant whose record cannot be
// written is revoked and turned into a -23 denial.
func (v *Vendor) apply(cmd state.Command) state.Result {
	if v.triad != nil {
		return v.applyTriad(cmd) // records are written as commands commit
	}
	switch cmd.(type) {
	case state.Heartbeat, state.SetIdle:
		return v.state.Apply(cmd) // nothing to record
	}
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := v.state.Apply(cmd)
	if rs.w != nil || rs.broken != nil {
		v.record(cmd, &r)
	}
	v.stats.queue(r)
	return r
}

// lookup is State.Lookup ordered after apply, so that a queued request
// is not seen granted before its record is written.
func (v *Vendor) lookup(session uint64, handle uint32) (*state.Seat, int) {
	v.report.mu.Lock()
	defer v.report.mu.Unlock()
	return v.seats().Lookup(session, handle)
}

// errNotLogged is the denial of a grant whose record was not written.
func errNotLogged() *lmerr.Error {
	return lmerr.New(lmerr.ServerBusy, lmerr.MinorNotLogged, "The report log cannot be written; see the vendor daemon's debug log")
}

// record appends the records of r, the result of cmd. rs.mu is held.
func (v *Vendor) record(cmd state.Command, r *state.Result) {
	reason := v.reasonOf(cmd)
	var revoke []uint32
	switch c := cmd.(type) {
	case state.Checkout:
		switch {
		case r.Seat != nil && (!r.Adopted || r.Resumed):
			// A lingering seat that its job adopted again on reconnect
			// is in use again: its IN was written when it began to
			// linger, so it gets an OUT of its own.
			reason := ""
			if r.Resumed {
				reason = "readopted"
			}
			if err := v.appendLocked(seatRecord(reportlog.EventOut, *r.Seat, reason, "")); err != nil {
				revoke = append(revoke, r.Seat.Handle)
				r.Seat, r.Err = nil, errNotLogged()
			}
		case r.Queued != nil:
			w := r.Queued
			rec := reportlog.Record{Event: reportlog.EventQueue, Feature: w.Feature, Version: w.Version, Count: w.Count, Handle: uint64(w.Handle)}
			setClient(&rec, w.Client)
			if err := v.appendLocked(rec); err != nil {
				revoke = append(revoke, w.Handle)
				r.Queued, r.Err = nil, errNotLogged()
			}
		case r.Err != nil:
			rec := reportlog.Record{Event: reportlog.EventDeny, Feature: c.Feature, Version: c.Version, Count: max(c.Count, 1), Code: int(r.Err.Code),
				Detail: fmt.Sprintf("minor=%d", r.Err.Minor)}
			setClient(&rec, c.Client)
			v.denyLocked(c.Session, rec)
		}
	case state.Reread, state.Reload:
		v.keepLocked(reportlog.Record{Event: reportlog.EventReread})
	}
	for _, w := range r.Dequeued {
		rec := reportlog.Record{Event: reportlog.EventDequeue, Feature: w.Feature, Version: w.Version, Count: w.Count, Handle: uint64(w.Handle), Reason: reason}
		setClient(&rec, w.Client)
		v.keepLocked(rec)
	}
	for _, st := range r.Freed {
		// A seat that was lingering was recorded IN when its linger
		// began; a suite's seat is its component's record.
		if !st.Lingering() && !st.Pool.SuiteOnly {
			v.keepLocked(seatRecord(reportlog.EventIn, st, reason, ""))
		}
	}
	for _, st := range r.Lingering {
		if st.Pool.SuiteOnly {
			continue
		}
		v.keepLocked(seatRecord(reportlog.EventIn, st, reason, fmt.Sprintf("linger=%d", int(st.Linger/time.Second))))
	}
	for _, st := range r.Inactive {
		if st.Pool.SuiteOnly {
			continue
		}
		v.keepLocked(seatRecord(reportlog.EventIn, st, reportlog.ReasonTimeout, ""))
	}
	// Seats go back before the queue is served with them.
	kept := r.Granted[:0:0]
	for _, st := range r.Granted {
		if err := v.appendLocked(seatRecord(reportlog.EventOut, st, "", "queued")); err != nil {
			revoke = append(revoke, st.Handle)
			continue
		}
		kept = append(kept, st)
	}
	r.Granted = kept
	if len(revoke) > 0 && v.triad == nil { // a committed grant stays on every member
		v.state.Apply(state.Revoke{Handles: revoke})
		v.log.Limited("REPORTLOG", "REPORTLOG: %d grants revoked: their records could not be written", len(revoke))
	}
}

// reasonOf is the checkin reason of the seats cmd gives back.
func (v *Vendor) reasonOf(cmd state.Command) string {
	switch cmd.(type) {
	case state.Checkin:
		return reportlog.ReasonNormal
	case state.Disconnect:
		if v.report.stopping.Load() && v.cfg.Triad == nil { // a triad member's stop is its own
			return reportlog.ReasonShutdown
		}
		return reportlog.ReasonExit
	case state.Tick:
		return reportlog.ReasonTimeout
	case state.Remove, state.RemoveHandle:
		return reportlog.ReasonRemove
	}
	return ""
}

// seatRecord is the OUT or IN record of seat st.
func seatRecord(e reportlog.Event, st state.Seat, reason, detail string) reportlog.Record {
	rec := reportlog.Record{Event: e, Feature: st.Pool.Feature, Version: st.Version, Count: st.Count,
		Handle: uint64(st.Handle), Pool: st.Pool.Key(), Reason: reason, Detail: detail}
	if rec.Version == "" {
		rec.Version = st.Pool.Version.Text
	}
	// An OUT record says how many seats its pool has, so that a report
	// can draw the seats in use against them.
	if e == reportlog.EventOut && st.Pool.Count > 0 && !st.Pool.Uncounted {
		rec.Detail = addDetail(rec.Detail, fmt.Sprintf("%s=%d", reportlog.DetailTotal, st.Pool.Count))
	}
	setClient(&rec, st.Client)
	return rec
}

func setClient(rec *reportlog.Record, c state.Client) {
	rec.User, rec.Host, rec.Display, rec.Project = c.User, c.Host, c.Display, c.Project
}

// denyLocked records a denial of session: repeats of the same denial
// are counted into one summary record per interval (Writer.Deny), so
// that a client asking in a loop cannot fill the disk. rs.mu is held.
func (v *Vendor) denyLocked(session uint64, rec reportlog.Record) {
	rs := &v.report
	if rs.w == nil || v.cfg.Triad != nil {
		// A triad's denials are committed commands, each in the Raft
		// log already: summaries by interval would differ between the
		// members, so each is written as it commits. Without a
		// report log appendLocked says it is not logged.
		v.appendLocked(rec)
		return
	}
	if _, err := rs.w.Deny(session, rec); err != nil {
		v.log.Limited("REPORTLOG", "REPORTLOG: %s %q %s@%s not logged: %v",
			rec.Event, rec.Feature, rec.User, rec.Host, trimLogPrefix(err))
	}
}

// appendLocked appends rec to the report log. A record that cannot be
// written is named in the debug log, so that it is not lost without a
// trace; the error tells the caller to deny what the record was for.
// rs.mu is held.
func (v *Vendor) appendLocked(rec reportlog.Record) error {
	rs := &v.report
	if n := rs.at.Load(); rec.Time.IsZero() && n != 0 {
		rec.Time = time.Unix(0, n)
	}
	err := rs.broken
	if rs.w != nil {
		_, err = rs.w.Append(rec)
	}
	if err != nil {
		v.log.Limited("REPORTLOG", "REPORTLOG: %s %q %s@%s handle %d not logged: %v",
			rec.Event, rec.Feature, rec.User, rec.Host, rec.Handle, trimLogPrefix(err))
		return err
	}
	return nil
}

// keepLocked appends rec, the record of something that has happened
// and cannot be refused (a checkin, a withdrawn request, START, STOP,
// REREAD): a record that cannot be written now is kept by the writer
// and written as soon as the log can be (Writer.Keep), so that no seat
// looks out for ever. rs.mu is held.
func (v *Vendor) keepLocked(rec reportlog.Record) {
	rs := &v.report
	if n := rs.at.Load(); rec.Time.IsZero() && n != 0 {
		rec.Time = time.Unix(0, n)
	}
	if rs.w == nil {
		v.appendLocked(rec) // says it is not logged
		return
	}
	if _, _, err := rs.w.Keep(rec); err != nil {
		v.log.Limited("REPORTLOG", "REPORTLOG: %s %q %s@%s handle %d not logged: %v",
			rec.Event, rec.Feature, rec.User, rec.Host, rec.Handle, trimLogPrefix(err))
	}
}

// switchReportLog is lmswitchr (newLog false) and lmnewlog (newLog
// true) with path as the client sent it.
func (v *Vendor) switchReportLog(path string, newLog bool) (*protocol.LogSwitched, *lmerr.Error) {
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	what := "lmswitchr"
	if newLog {
		what = "lmnewlog"
	}
	if strings.TrimSpace(path) == "" {
		return nil, pathError(what, path, errors.New("empty path"))
	}
	p := rs.cfg.resolve(path)
	switch {
	case rs.w == nil && newLog:
		e := lmerr.New(lmerr.BadParam, lmerr.MinorNoReportLog)
		e.Text = fmt.Sprintf("Cannot rename the report log: vendor daemon %s has none (REPORTLOG in its options file).", v.cfg.Name)
		return nil, e
	case rs.w == nil:
		// lmswitchr starts a report log when there is none (manual 7.13).
		w, err := v.openReportWriter(p, false)
		if err != nil {
			return nil, pathError(what, p, err)
		}
		rs.w, rs.broken = w, nil
		v.log.Printf("Report log started in %s (lmswitchr)", w.Path())
		return &protocol.LogSwitched{Vendor: v.cfg.Name, Path: w.Path(), Seq: w.Next() - 1}, nil
	}
	old := rs.w.Path()
	var err error
	if newLog {
		err = rs.w.NewLog(p)
	} else {
		err = rs.w.Switch(p)
	}
	if err != nil {
		v.log.Printf("%s %s refused: %v", what, p, trimLogPrefix(err))
		return nil, pathError(what, p, err)
	}
	m := &protocol.LogSwitched{Vendor: v.cfg.Name, Path: rs.w.Path(), Seq: rs.w.Next() - 1}
	if newLog {
		m.Kept = p
		v.log.Printf("Report log %s moved to %s; logging continues in %s (lmnewlog)", old, p, m.Path)
	} else {
		v.log.Printf("Report log switched from %s to %s (lmswitchr)", old, m.Path)
	}
	return m, nil
}

// switchDebugLog is lmswitch: the vendor daemon's debug log lines go to
// path from now on.
func (v *Vendor) switchDebugLog(path string) (*protocol.LogSwitched, *lmerr.Error) {
	rs := &v.report
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if strings.TrimSpace(path) == "" {
		return nil, pathError("lmswitch", path, errors.New("empty path"))
	}
	p := rs.cfg.resolve(path)
	if rs.debugFile != nil && sameFileAs(rs.debugFile, p) {
		return nil, pathError("lmswitch", p, errors.New("it is the current debug log"))
	}
	f, err := reportlog.OpenDebugLog(p, v.cfg.Name, false, DebugLogMode)
	if err != nil {
		v.log.Printf("lmswitch %s refused: %v", p, trimLogPrefix(err))
		return nil, pathError("lmswitch", p, err)
	}
	v.log.Printf("Switching debug log to %s (lmswitch)", p)
	v.log.SetOutput(f)
	if rs.debugFile != nil {
		rs.debugFile.Close()
	}
	rs.debugFile = f
	v.log.Printf("Debug log switched to %s (lmswitch)", p)
	return &protocol.LogSwitched{Vendor: v.cfg.Name, Path: p}, nil
}

func sameFileAs(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// pathError is the -42 refusal of a log path, carrying the OS error
// number when there is one.
func pathError(what, path string, err error) *lmerr.Error {
	e := lmerr.FromOS(lmerr.BadParam, lmerr.MinorReportLogPath, err)
	kind := "report log"
	if what == "lmswitch" {
		kind = "debug log"
	}
	msg := strings.TrimPrefix(trimLogPrefix(err), "debug log ")
	// The path is said once.
	msg = strings.TrimPrefix(msg, path+": ")
	e.Text = fmt.Sprintf("Cannot switch the %s to %s: %s.", kind, path, msg)
	return e
}

// trimLogPrefix drops the "report log: " the reportlog package starts
// its errors with, where the context already says it.
func trimLogPrefix(err error) string {
	s := err.Error()
	for _, p := range []string{"report log: ", "report log "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

func addDetail(detail, kv string) string {
	if detail == "" {
		return kv
	}
	return detail + "," + kv
}
