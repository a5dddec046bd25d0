package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/commands"
	golm "golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// lmutil is the binary the stages start: this test binary, through a
// link named lmutil (servertest.Main).
var lmutil string

func TestMain(m *testing.M) {
	os.Exit(servertest.Main(m, &lmutil, servertest.Lmutil{
		Run: func(ctx context.Context, argv []string) int {
			return commands.Main(ctx, argv, commands.OSEnv("lmutil"))
		},
		IsCommand:  func(name string) bool { return commands.Lookup(name) != nil },
		ControlEnv: golm.ControlEnv,
	}))
}

// TestTriadStage runs the triad stage at a tiny size (8 jobs, 10
// features, one short run) against real lmgrd processes, so that the
// stage cannot rot: it must finish, report each of its figures, and keep
// every seat through the failover.
func TestTriadStage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four lmgrds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &suite{
		ctx:            ctx,
		lmutil:         lmutil,
		keys:           filepath.Join("..", "..", "..", "..", "testdata", "keys"),
		dir:            t.TempDir(),
		runs:           1,
		throughputRuns: 1,
		dur:            400 * time.Millisecond,
		features:       10,
		triadJobs:      8,
		triadGrace:     5 * time.Second, // the failover check waits it out
		machine:        probeMachine(),
	}
	err := s.triadStage()
	for _, r := range s.rows {
		t.Logf("%s: %s (%s %s)", r.Measure, r.Result, r.Target, r.Met)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		prefix string
		met    string // "" for any
	}{
		{"triad: three members started and a master elected", ""},
		{"triad: checkout+checkin pairs/s, 8 jobs", ""},
		{"one server beside the triad: pairs/s, 8 jobs", ""},
		{"triad pairs/s ÷ one server's", ""},
		{"triad: checkout latency p99, 8 jobs holding a seat", ""},
		{"triad failover: kill -9 of the master to the first grant", ""},
		{"triad failover: seats of 8 live jobs kept under their handle / lost", "yes"},
	}
	for _, w := range want {
		var got *row
		for i := range s.rows {
			if strings.HasPrefix(s.rows[i].Measure, w.prefix) {
				got = &s.rows[i]
			}
		}
		switch {
		case got == nil:
			t.Errorf("no row %q in %+v", w.prefix, s.rows)
		case strings.HasPrefix(got.Result, "n/a") || got.Result == "":
			t.Errorf("row %q: no result", got.Measure)
		case w.met != "" && got.Met != w.met:
			t.Errorf("row %q: %s, met %q, want %q", got.Measure, got.Result, got.Met, w.met)
		}
	}
}
