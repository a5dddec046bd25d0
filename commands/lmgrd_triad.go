package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/urfave/cli/v2"

	"golm/lmutil/server"
	"golm/lmutil/server/triad"
)

// triadGraceEnv sets how long a new master of a triad keeps the seats of
// a session that has not reattached (a Go duration; default
// server.DefaultTriadGrace).
const triadGraceEnv = "GOLM_TRIAD_GRACE"

// triadSnapshotThresholdEnv is how many log entries a triad member
// commits before it compacts its log into a snapshot (default Raft's,
// 8192); triadSnapshotIntervalEnv how often it checks (a Go duration,
// default 2m); triadTrailingLogsEnv how many entries it keeps behind a
// snapshot (default Raft's, 10240), fewer making a member that was down
// catch up from the master's snapshot sooner.
const (
	triadSnapshotThresholdEnv = "GOLM_TRIAD_SNAPSHOT_THRESHOLD"
	triadSnapshotIntervalEnv  = "GOLM_TRIAD_SNAPSHOT_INTERVAL"
	triadTrailingLogsEnv      = "GOLM_TRIAD_TRAILING_LOGS"
)

// dataDir is lmgrd -data, made absolute; "" leaves the default to the
// server package.
func dataDir(c *cli.Context, env *Env) string {
	if v := c.String("data"); v != "" {
		return absFrom(env, v)
	}
	return ""
}

// triadConfig is the vendor daemon's triad from lmgrd's -triad-peers,
// -triad-self and -data; nil for one server.
func triadConfig(c *cli.Context, env *Env, name string, log *server.DebugLog) *server.TriadConfig {
	spec := c.String("triad-peers")
	if spec == "" {
		return nil
	}
	cfg, members, err := parseTriad(spec, c.String("triad-self"))
	if err != nil {
		return &server.TriadConfig{Start: func(server.ReplicaHooks) (server.Replica, error) { return nil, err }}
	}
	// lmgrd passes an absolute -data; a vendor daemon started by hand
	// resolves a relative one against its own working directory.
	cfg.DataDir = env.Path(c.String("data"))
	rc := raft.DefaultConfig()
	// The log is compacted into a snapshot of the seat table (in the
	// data directory) once it has SnapshotThreshold new entries, checked
	// every SnapshotInterval; a member that fell further behind than the
	// entries kept catches up from the master's snapshot.
	if n, err := strconv.ParseUint(env.Env(triadSnapshotThresholdEnv), 10, 64); err == nil && n > 0 {
		rc.SnapshotThreshold = n
	}
	if d, err := time.ParseDuration(env.Env(triadSnapshotIntervalEnv)); err == nil && d > 0 {
		rc.SnapshotInterval = d
	}
	if n, err := strconv.ParseUint(env.Env(triadTrailingLogsEnv), 10, 64); err == nil && n > 0 {
		rc.TrailingLogs = n
	}
	cfg.Raft = rc
	grace := server.DefaultTriadGrace
	if d, err := time.ParseDuration(env.Env(triadGraceEnv)); err == nil && d > 0 {
		grace = d
	}
	self, _, _ := strings.Cut(cfg.ID, "@")
	shared := 0
	for _, m := range members {
		if p, _, _ := strings.Cut(m, "@"); p == self {
			shared++
		}
	}
	return &server.TriadConfig{
		Start:      triad.StartVendor(cfg, log.Printf),
		RunID:      server.TriadRunID(name, members),
		Grace:      grace,
		SharedPort: shared > 1,
	}
}

// parseTriad reads "member=address,member=address,member=address" and
// the member that is this vendor daemon.
func parseTriad(spec, self string) (triad.Config, []string, error) {
	var cfg triad.Config
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		return cfg, nil, errors.New("a triad has three members")
	}
	var members []string
	for i, p := range parts {
		id, addr, ok := strings.Cut(p, "=")
		if !ok || id == "" || addr == "" {
			return cfg, nil, fmt.Errorf("bad triad member %q", p)
		}
		for _, q := range cfg.Peers[:i] {
			if q.ID == id || q.Addr == addr {
				return cfg, nil, fmt.Errorf("triad member %q twice", p)
			}
		}
		cfg.Peers[i] = triad.Peer{ID: id, Addr: addr}
		members = append(members, id)
		if id == self {
			cfg.ID, cfg.BindAddr = id, addr
		}
	}
	if cfg.ID == "" {
		return cfg, nil, fmt.Errorf("%q is not a member of the triad", self)
	}
	return cfg, members, nil
}
