package reportlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzRead feeds arbitrary bytes to the record parser and the file reader:
// neither may panic, and a line that parses re-renders to a line that
// parses to the same record.
func FuzzRead(f *testing.F) {
	rec := sampleRecord()
	good := rec.Line(Genesis)
	h := Header{Seq: 7, Prev: Genesis, Vendor: "demo"}.Line()
	f.Add([]byte(h + good))
	f.Add([]byte(good))
	f.Add([]byte(h))
	f.Add([]byte(h + good[:40]))
	f.Add([]byte(h + strings.Replace(good, "user=", `user=\x`, 1)))
	f.Add([]byte("#golm-reportlog v1\tseq=1\tprev=" + Genesis + "\tvendor=\\\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, line := range strings.Split(string(data), "\n") {
			r, err := ParseRecord(line)
			if err != nil {
				continue
			}
			again, err := ParseRecord(strings.TrimSuffix(r.Line(Genesis), "\n"))
			if err != nil {
				t.Fatalf("re-rendered record does not parse: %v", err)
			}
			again.Hash = r.Hash
			if !again.Time.Equal(r.Time.Truncate(time.Millisecond)) {
				t.Fatalf("time %v re-read as %v", r.Time, again.Time)
			}
			again.Time = r.Time
			if again != r {
				t.Fatalf("record %+v re-read as %+v", r, again)
			}
			ParseHeader(line)
		}
		path := filepath.Join(t.TempDir(), "r.log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		Verify(path)
		ReadAll(path)
		CheckSet(path, path)
	})
}

// FuzzState: a state file of any bytes is read without a panic, and one
// the writer writes names, for any vendor and path, the path it was
// given.
func FuzzState(f *testing.F) {
	f.Add([]byte(stateLine("demo", "/var/log/m.rl")), "demo", "/var/log/m.rl")
	f.Add([]byte("#golm-reportlog-state v1\tvendor=\\\tcurrent=\n"), "a b", "x\ty\u2028")
	f.Add([]byte{}, "", "")
	f.Fuzz(func(t *testing.T, data []byte, vendor, current string) {
		dir := t.TempDir()
		path := filepath.Join(dir, ".r.state")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		readState(path, vendor)
		if current == "" {
			return
		}
		if err := writeState(path, vendor, current, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readState(path, vendor)
		if err != nil || got != current {
			t.Fatalf("state naming %q read back as %q, %v", current, got, err)
		}
	})
}
