package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golm/lmutil/server/bench"
)

// licenseLines measures, for a signed license of each of counts lines,
// the time from lmgrd's start until its vendor daemon serves, the wall
// time of lmreread of the same file, and the RSS of lmgrd and of the
// vendor daemon after one reread and after ten.
func (s *suite) licenseLines(counts []int) error {
	for _, lines := range counts {
		if err := s.licenseLinesOf(lines); err != nil {
			return fmt.Errorf("%d license lines: %w", lines, err)
		}
	}
	return nil
}

func (s *suite) licenseLinesOf(lines int) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, "lines"+strconv.Itoa(lines))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// SERVER, VENDOR and the hot feature are lines too.
	lic, err := bench.WriteLicense(dir, s.keys, port, lines-3, 10)
	if err != nil {
		return err
	}
	t0 := time.Now()
	srv, err := bench.StartLmgrd(s.lmutil, lic, dir, nil, 5*time.Minute)
	if err != nil {
		return err
	}
	defer srv.Stop()
	start := time.Since(t0)
	s.add(fmt.Sprintf("lmgrd start to vendor daemon serving, %s license lines", bench.Group(float64(lines), 0)), fmt.Sprintf("%.0f ms", bench.Millis(start)), "", nil)
	path := fmt.Sprintf("%d@127.0.0.1", srv.Port)
	var wall bench.Runs
	rss := func() string {
		ml, _ := bench.ReadMemory(srv.PID())
		mv, _ := bench.ReadMemory(srv.VendorPID)
		return fmt.Sprintf("lmgrd %s, vendor daemon %s", mb(ml.RSS), mb(mv.RSS))
	}
	var after1 string
	for i := range 10 {
		d, _, err := bench.WallTime(s.ctx, dir, s.lmutil, "lmreread", "-c", path)
		if err != nil {
			return fmt.Errorf("lmreread: %w", err)
		}
		wall = append(wall, bench.Millis(d))
		if i == 0 {
			after1 = rss()
		}
	}
	s.add(fmt.Sprintf("lmreread wall, %s license lines", bench.Group(float64(lines), 0)), wall.Format("ms", 0), "", nil)
	s.add(fmt.Sprintf("RSS after 1 reread, %s license lines", bench.Group(float64(lines), 0)), after1, "", nil)
	s.add(fmt.Sprintf("RSS after 10 rereads, %s license lines", bench.Group(float64(lines), 0)), rss(), "", nil)
	return nil
}
