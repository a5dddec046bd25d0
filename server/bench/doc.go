// Package bench holds what golm's benchmark suite (make bench) needs to
// measure real lmgrd and vendor daemon processes on loopback: signed
// license files with many features, an lmgrd started in its own process
// group and stopped with everything it started, the resident memory of a
// process, the file-descriptor limit, a plain TCP echo baseline, and the
// statistics (median and spread of several runs, latency percentiles) the
// suite reports. The load driver and the report generator are the
// golm-load command in cmd/golm-load.
package bench
