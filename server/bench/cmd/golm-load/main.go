// Command golm-load is golm's benchmark suite and load driver (make
// bench). Without a subcommand (or with "suite") it starts real lmgrd and
// vendor daemon processes on loopback, measures them, runs the Go
// benchmarks and writes BENCHMARKS.md. Its other subcommands are the
// helper processes the suite starts: "hold" connects many clients that
// hold a seat each and heartbeat, "echo" is the plain TCP echo baseline.
package main

import (
	"fmt"
	"os"
)

func main() {
	args := os.Args[1:]
	cmd := "suite"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "suite":
		err = suiteMain(args)
	case "hold":
		err = holdMain(args)
	case "echo":
		err = echoMain(args)
	default:
		err = fmt.Errorf("unknown subcommand %q (suite, hold, echo)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "golm-load:", err)
		os.Exit(1)
	}
}
