package reportlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestartContinuesSwitchedFile: after lmswitchr a restarted writer
// continues the chain from the file it last wrote, not from the one its
// configuration names; the whole set verifies as one chain.
func TestRestartContinuesSwitchedFile(t *testing.T) {
	for _, appendTo := range []bool{true, false} {
		name := "REPORTLOG"
		if appendTo {
			name = "REPORTLOG+"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.rl")
			cfg := Config{Path: path, Vendor: "demo", Append: appendTo}
			w := openTest(t, cfg)
			appendN(t, w, 2, "a")
			moved := filepath.Join(dir, "m.rl")
			if err := w.Switch(moved); err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 2, "b")
			w.Close()
			w = openTest(t, cfg)
			if got := w.Next(); got != 6 {
				t.Errorf("restarted writer's next seq %d, want 6 (after the 5 records before)", got)
			}
			wantPath := moved
			if !appendTo {
				wantPath = path // a new file where the options say, continuing m.rl
			}
			if got := w.Path(); got != wantPath {
				t.Errorf("restarted writer writes to %s, want %s", got, wantPath)
			}
			appendN(t, w, 1, "c")
			if err := w.Switch(filepath.Join(dir, "n.rl")); err != nil {
				t.Fatal(err)
			}
			w.Close()
			w = openTest(t, cfg)
			appendN(t, w, 1, "d")
			w.Close()
			files := logFiles(t, dir)
			s := mustVerify(t, files...)
			if s.First != 1 || s.Records != 8 {
				t.Errorf("Verify(%v) = %+v, want seq 1-8 in one chain", files, s)
			}
			if ents, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(ents) > 0 {
				t.Errorf("temporary state files left: %v", ents)
			}
		})
	}
}

// TestRestartStateFollowsNewLog: lmnewlog keeps the current name, so a
// restart after it continues the fresh file under that name.
func TestRestartStateFollowsNewLog(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: filepath.Join(dir, "report.rl"), Vendor: "demo", Append: true}
	w := openTest(t, cfg)
	appendN(t, w, 1, "a")
	w.Switch(filepath.Join(dir, "m.rl"))
	appendN(t, w, 1, "b")
	if err := w.NewLog(filepath.Join(dir, "monday.rl")); err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 1, "c")
	w.Close()
	w = openTest(t, cfg)
	if got := w.Path(); got != filepath.Join(dir, "m.rl") {
		t.Errorf("restarted writer writes to %s, want m.rl", got)
	}
	appendN(t, w, 1, "d")
	w.Close()
	mustVerify(t, logFiles(t, dir)...)
}

// TestRestartBadState: a state file that is not one, or that names a
// file the writer may not continue (gone, an ordinary file, a symbolic
// link, another vendor's log), is reported and the chain continues from
// the configured file; the file named is left alone.
func TestRestartBadState(t *testing.T) {
	for _, c := range []struct {
		name  string
		state func(dir string) string // the state file's content
	}{
		{"garbage", func(string) string { return "rm -rf /\n" }},
		{"other vendor", func(dir string) string { return stateLine("other", filepath.Join(dir, "m.rl")) }},
		{"gone", func(dir string) string { return stateLine("demo", filepath.Join(dir, "gone.rl")) }},
		{"ordinary file", func(dir string) string { return stateLine("demo", filepath.Join(dir, ".bashrc")) }},
		{"symbolic link", func(dir string) string { return stateLine("demo", filepath.Join(dir, "link")) }},
		{"other vendor's log", func(dir string) string { return stateLine("demo", filepath.Join(dir, "other.rl")) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := targetDir(t)
			cfg := Config{Path: filepath.Join(dir, "report.rl"), Vendor: "demo", Append: true}
			w := openTest(t, cfg)
			appendN(t, w, 2, "a")
			w.Close()
			before := snap(t, dir, ".bashrc")
			if err := os.WriteFile(StatePath(cfg.Path), []byte(c.state(dir)), 0o600); err != nil {
				t.Fatal(err)
			}
			var reported []string
			cfg.OnError = func(err error) { reported = append(reported, err.Error()) }
			w = openTest(t, cfg)
			if got := w.Path(); got != cfg.Path || w.Next() != 3 {
				t.Errorf("writer continues in %s at seq %d, want %s at 3", got, w.Next(), cfg.Path)
			}
			w.Close()
			if len(reported) == 0 || !strings.Contains(strings.Join(reported, "\n"), "continuing from "+cfg.Path) {
				t.Errorf("reported %q, want the bad state file named", reported)
			}
			if after := snap(t, dir, ".bashrc"); after.data != before.data {
				t.Errorf(".bashrc changed to %q", after.data)
			}
			mustVerify(t, cfg.Path)
			cur, err := readState(StatePath(cfg.Path), "demo")
			if err != nil || cur != cfg.Path {
				t.Errorf("state file rewritten as %q, %v; want %s", cur, err, cfg.Path)
			}
		})
	}
}
