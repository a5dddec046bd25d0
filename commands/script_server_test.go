package commands

import (
	"net"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptWait bounds the script command waitfile.
const scriptWait = 20 * time.Second

// cmdFreeport is the script command "freeport VAR": it sets VAR to a TCP
// port of the loopback interface that was free a moment ago, for the
// SERVER line of a script's license file.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("freeport: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// cmdWaitfile is the script command "waitfile file regexp": it polls file
// until a line matches regexp, and fails after a deadline. Scripts wait
// for a server with it (the debug log's Started line) instead of sleeping.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile file regexp")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	if err != nil {
		ts.Fatalf("waitfile: %v", err)
	}
	end := time.Now().Add(scriptWait)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		if time.Now().After(end) {
			ts.Fatalf("waitfile: no line of %s matches %q after %v:\n%s", args[0], args[1], scriptWait, b)
		}
		time.Sleep(25 * time.Millisecond) // the polling interval
	}
}
