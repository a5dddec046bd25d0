package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golm/lmutil/protocol/client"
	"golm/lmutil/server/bench"
)

// usageLog measures what writing every usage line to the debug log
// costs: checkout+checkin pairs/s with 1,000 Jobs against the suite's
// server, whose debug log takes every OUT and IN line, and against a
// second server of the same license whose options file turns the usage
// lines off (NOLOG), the two measured turn about in the same run.
func (s *suite) usageLog() error {
	dir := filepath.Join(s.dir, "nolog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	lic, err := bench.WriteLicense(dir, s.keys, port, s.features, 100)
	if err != nil {
		return err
	}
	opts := "NOLOG OUT\nNOLOG IN\nNOLOG DENIED\nNOLOG QUEUED\n"
	if err := os.WriteFile(filepath.Join(dir, bench.Vendor+".opt"), []byte(opts), 0o644); err != nil {
		return err
	}
	// StartLmgrd gives each server a lock directory of its own (dir/lock).
	env := []string{"GOLM_MAX_CONNECTIONS=1000000"}
	quiet, err := bench.StartLmgrd(s.lmutil, lic, dir, env, 30*time.Second)
	if err != nil {
		return err
	}
	defer quiet.Stop()
	const n = 1000
	open := func(port, base int) ([]*client.Job, error) {
		jobs := make([]*client.Job, n)
		for i := range jobs {
			var err error
			jobs[i], err = client.Open(s.ctx, fmt.Sprintf("%d@127.0.0.1", port), client.WithMachine(s.machine),
				client.WithUser(fmt.Sprintf("log%d", base+i)), client.WithDisplay(fmt.Sprintf(":%d", base+i)), client.WithPID(base+i+1))
			if err != nil {
				return nil, err
			}
		}
		return jobs, nil
	}
	logged, err := open(s.srv.Port, 2_000_000)
	if err != nil {
		return err
	}
	defer closeJobs(logged)
	unlogged, err := open(quiet.Port, 3_000_000)
	if err != nil {
		return err
	}
	defer closeJobs(unlogged)
	spread := func(i int) string { return bench.FeatureName(i % s.features) }
	var with, without, ratio bench.Runs
	for r := range s.throughputRuns {
		a, err := s.pairs(logged, spread)
		if err != nil {
			return err
		}
		b, err := s.pairs(unlogged, spread)
		if err != nil {
			return err
		}
		with, without, ratio = append(with, a), append(without, b), append(ratio, a/b*100)
		fmt.Printf("  run %d: every usage line logged %.0f pairs/s, none %.0f pairs/s\n", r+1, a, b)
	}
	s.add("checkout+checkin pairs/s, 1000 jobs, every usage line in the debug log", with.Format("pairs/s", 0), "", nil)
	s.add("checkout+checkin pairs/s, 1000 jobs, usage lines off (NOLOG)", without.Format("pairs/s", 0), "", nil)
	s.add("logged ÷ not logged, 1000 jobs", ratio.Format("%", 1), "≥ 90%", ptr(ratio.Median() >= 90))
	return nil
}
