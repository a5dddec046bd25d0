package reportlog

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// childEnv names the report log a re-executed test binary appends to.
const childEnv = "GOLM_REPORTLOG_CHILD"

// TestHelperAppender is not a test: run by TestKillLosesNoAcknowledgedRecord
// as a child process, it appends from four goroutines forever and prints
// the sequence number of every record Append acknowledged.
func TestHelperAppender(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("helper process for TestKillLosesNoAcknowledgedRecord")
	}
	w, err := OpenWriter(Config{Path: path, Append: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				rec, err := w.Append(Record{Event: EventOut, Feature: "f", User: "child", Count: 1})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				os.Stdout.WriteString(strconv.FormatUint(rec.Seq, 10) + "\n")
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestKillLosesNoAcknowledgedRecord kills an appending process with
// SIGKILL and checks that every record it acknowledged is in the file,
// and that reopening with '+' continues a chain Verify accepts.
func TestKillLosesNoAcknowledgedRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "report.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked := map[uint64]bool{}
	killed := false
	for sc.Scan() {
		seq, err := strconv.ParseUint(sc.Text(), 10, 64)
		if err != nil {
			continue // go test's own output after the helper, if any
		}
		acked[seq] = true
		if len(acked) == 2000 && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("child stopped after %d records before it was killed", len(acked))
	}
	w, err := OpenWriter(Config{Path: path, Append: true, OnError: func(err error) { t.Log(err) }})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	s := mustVerify(t, path)
	recs, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	inFile := map[uint64]bool{}
	for _, r := range recs {
		inFile[r.Seq] = true
	}
	lost := 0
	for seq := range acked {
		if !inFile[seq] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged records are not in the file", lost, len(acked))
	}
	t.Logf("%d acknowledged, %d in the file (%+v)", len(acked), len(recs), s)
}
