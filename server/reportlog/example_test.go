package reportlog_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"golm/lmutil/server/reportlog"
)

// A vendor daemon opens its REPORTLOG at start, appends a record before it
// answers each request, and rotates the log on lmswitchr and lmnewlog.
func Example() {
	dir, err := os.MkdirTemp("", "reportlog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "demo.rl")

	// REPORTLOG +demo.rl: Append is the '+'.
	w, err := reportlog.OpenWriter(reportlog.Config{Path: path, Append: true, Vendor: "demo",
		OnError: func(err error) { log.Print(err) }}) // the debug log
	if err != nil {
		log.Fatal(err)
	}
	w.Append(reportlog.Record{Event: reportlog.EventStart})

	// A checkout is granted only once its record is in the log.
	_, err = w.Append(reportlog.Record{Event: reportlog.EventOut, Feature: "f1", Version: "1.0",
		User: "alice", Host: "ws1", Display: "/dev/pts/1", Count: 1, Handle: 7})
	if errors.Is(err, reportlog.ErrNotLogged) {
		fmt.Println("deny: the report log cannot be written")
	}

	// lmnewlog demo demo-monday.rl: the old records move, the log goes on.
	if err := w.NewLog(filepath.Join(dir, "demo-monday.rl")); err != nil {
		log.Fatal(err)
	}
	w.Append(reportlog.Record{Event: reportlog.EventIn, Feature: "f1", Version: "1.0",
		User: "alice", Host: "ws1", Count: 1, Handle: 7, Reason: reportlog.ReasonNormal})
	w.Append(reportlog.Record{Event: reportlog.EventStop})
	w.Close()

	s, err := reportlog.Verify(path, filepath.Join(dir, "demo-monday.rl"))
	fmt.Println(s.Files, s.Records, err)
	// Output: 2 5 <nil>
}
