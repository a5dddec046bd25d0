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
	port, err := bench.FreePort()
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
	with, without, ratio, err := s.pairsAB(logged, unlogged, spread, "every usage line logged", "none")
	if err != nil {
		return err
	}
	s.add("checkout+checkin pairs/s, 1000 jobs, every usage line in the debug log", with.Format("pairs/s", 0), "", nil)
	s.add("checkout+checkin pairs/s, 1000 jobs, usage lines off (NOLOG)", without.Format("pairs/s", 0), "", nil)
	s.add("logged ÷ not logged, 1000 jobs", ratio.Format("%", 1), "≥ 90%", ptr(ratio.Median() >= 90))
	return nil
}

// pairsAB measures checkout+checkin pairs/s of two sets of jobs in
// alternate runs (a, then b, s.throughputRuns times), so that both see
// the same minutes of the machine, and each run's a÷b in percent.
func (s *suite) pairsAB(a, b []*client.Job, feature func(int) string, aName, bName string) (ra, rb, ratio bench.Runs, err error) {
	for r := range s.throughputRuns {
		x, err := s.pairs(a, feature)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", aName, err)
		}
		y, err := s.pairs(b, feature)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", bName, err)
		}
		ra, rb, ratio = append(ra, x), append(rb, y), append(ratio, 100*x/y)
		fmt.Printf("  run %d: %s %.0f pairs/s, %s %.0f pairs/s\n", r+1, aName, x, bName, y)
	}
	return ra, rb, ratio, nil
}
