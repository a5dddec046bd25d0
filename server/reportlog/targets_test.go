package reportlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// targetDir builds a directory holding everything a log target may be
// pointed at, hurriedly or on purpose, and returns it.
func targetDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, ".bashrc"), []byte("alias ll='ls -l'\n"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600))
	must(os.WriteFile(filepath.Join(dir, "license.lic"), []byte("SERVER srv ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2 SIGN=00\n"), 0o600))
	must(os.Link(filepath.Join(dir, "license.lic"), filepath.Join(dir, "hardlink.lic")))
	must(os.Symlink(filepath.Join(dir, ".bashrc"), filepath.Join(dir, "link")))
	must(os.Mkdir(filepath.Join(dir, "real"), 0o755))
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "linkdir")))
	must(os.Mkdir(filepath.Join(dir, "dir"), 0o755))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	// Report and debug logs of this vendor (demo) and of another (other).
	for _, v := range []string{"demo", "other"} {
		w, err := OpenWriter(Config{Path: filepath.Join(dir, v+".rl"), Vendor: v})
		must(err)
		_, err = w.Append(Record{Event: EventStart})
		must(err)
		must(w.Close())
		must(os.WriteFile(filepath.Join(dir, v+".dl"), []byte(" 8:49:38 ("+v+") TIMESTAMP 11/23/2026\n 8:49:38 ("+v+") Server started\n"), 0o600))
	}
	must(os.Link(filepath.Join(dir, "demo.rl"), filepath.Join(dir, "hardlink.rl")))
	return dir
}

// snapshot is what a refused target must still be afterwards.
type snapshot struct {
	data  string
	mode  os.FileMode
	ino   uint64
	names []string // the directory's names
}

func snap(t *testing.T, dir, name string) snapshot {
	t.Helper()
	var s snapshot
	if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil {
		s.mode = fi.Mode()
		s.ino = fi.Sys().(*syscall.Stat_t).Ino
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			s.data = string(b)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		s.names = append(s.names, e.Name())
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "real")); err == nil {
		for _, e := range ents {
			s.names = append(s.names, "real/"+e.Name())
		}
	}
	return s
}

func (s snapshot) String() string {
	return s.mode.String() + " " + strings.Join(s.names, ",") + " " + s.data
}

// targets are the cases every kind of log target is tried with; want
// is the error the report log operations must wrap (nil: accepted).
var targets = []struct {
	name    string
	path    string
	report  error // OpenWriter and Switch
	debug   error // OpenDebugLog
	newFile bool  // the target does not exist before
}{
	{"new file", "new.log", nil, nil, true},
	{"shell start-up file", ".bashrc", ErrNotLog, ErrNotLog, false},
	{"empty file", "empty", ErrNotLog, ErrNotLog, false},
	{"license file", "license.lic", ErrNotLog, ErrNotLog, false},
	{"hard link to the license file", "hardlink.lic", ErrNotLog, ErrNotLog, false},
	{"symbolic link at the end", "link", ErrNotRegular, ErrNotRegular, false},
	{"symbolic link in a directory", "linkdir/new.log", ErrNotRegular, ErrNotRegular, true},
	// Cleaned lexically, linkdir/.. is gone before anything is opened:
	// the path names real/new.log in dir, not a directory beside the
	// link's target.
	{"dotdot after a link", "linkdir/../new.log", nil, nil, true},
	{"directory", "dir", ErrNotRegular, ErrNotRegular, false},
	{"fifo", "fifo", ErrNotRegular, ErrNotRegular, false},
	{"report log of another vendor", "other.rl", ErrNotLog, ErrNotLog, false},
	{"debug log of another vendor", "other.dl", ErrNotLog, ErrNotLog, false},
	{"debug log of this vendor", "demo.dl", ErrNotLog, nil, false},
	{"report log of this vendor", "demo.rl", nil, ErrNotLog, false},
	{"hard link to a report log of this vendor", "hardlink.rl", nil, ErrNotLog, false},
}

// TestLogTargetsRefused: a report log (OpenWriter, Switch) or debug log
// (OpenDebugLog) target is a new file or a golm log of the same kind and
// vendor, reached through no symbolic link; anything else is refused and
// left exactly as it was: not renamed, truncated or appended to.
func TestLogTargetsRefused(t *testing.T) {
	for _, tt := range targets {
		for _, op := range []string{"OpenWriter", "OpenWriter+", "Switch", "OpenDebugLog", "OpenDebugLog truncate"} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				dir := targetDir(t)
				path := dir + "/" + tt.path
				before := snap(t, dir, tt.path)
				want := tt.report
				var err error
				switch op {
				case "OpenWriter", "OpenWriter+":
					var w *Writer
					w, err = OpenWriter(Config{Path: path, Vendor: "demo", Append: op == "OpenWriter+"})
					if err == nil {
						w.Close()
					}
				case "Switch":
					w := openTest(t, Config{Path: filepath.Join(t.TempDir(), "current.rl"), Vendor: "demo"})
					err = w.Switch(path)
					if err != nil {
						// The log goes on where it was.
						appendN(t, w, 1, "after")
					}
				default:
					want = tt.debug
					var f *os.File
					f, err = OpenDebugLog(path, "demo", op == "OpenDebugLog truncate", 0)
					if err == nil {
						f.Close()
					}
				}
				if want == nil {
					if err != nil {
						t.Fatalf("%s(%s) error = %v, want it accepted", op, tt.path, err)
					}
					if tt.path == "linkdir/../new.log" {
						if _, err := os.Stat(filepath.Join(dir, "new.log")); err != nil {
							t.Errorf("%s: %v", tt.path, err)
						}
					}
					return
				}
				if !errors.Is(err, want) {
					t.Fatalf("%s(%s) error = %v, want %v", op, tt.path, err, want)
				}
				if after := snap(t, dir, tt.path); after.String() != before.String() || after.ino != before.ino {
					t.Errorf("%s(%s) changed the target:\nbefore %s\nafter  %s", op, tt.path, before, after)
				}
			})
		}
	}
}

// TestNewLogTargets: lmnewlog's name for the current file must not exist
// and must be reached through no symbolic link; the current file stays
// where it was after a refusal.
func TestNewLogTargets(t *testing.T) {
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			dir := targetDir(t)
			path := dir + "/" + tt.path
			cur := filepath.Join(dir, "current.rl")
			w := openTest(t, Config{Path: cur, Vendor: "demo"})
			appendN(t, w, 1, "before")
			before := snap(t, dir, tt.path)
			err := w.NewLog(path)
			if tt.newFile && tt.report == nil {
				if err != nil {
					t.Fatalf("NewLog(%s) = %v, want it accepted", tt.path, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewLog(%s) accepted, want a refusal", tt.path)
			}
			if after := snap(t, dir, tt.path); after.String() != before.String() || after.ino != before.ino {
				t.Errorf("NewLog(%s) changed the target:\nbefore %s\nafter  %s", tt.path, before, after)
			}
			appendN(t, w, 1, "after")
			if got := w.Path(); got != cur {
				t.Errorf("log continues in %s, want %s", got, cur)
			}
			mustVerify(t, cur)
		})
	}
}

// TestSameVendorTargetsAccepted: the same vendor's logs are taken over:
// a report log is kept beside the new one (Switch) or continued
// (OpenWriter with Append), a debug log appended to or emptied.
func TestSameVendorTargetsAccepted(t *testing.T) {
	dir := targetDir(t)
	w := openTest(t, Config{Path: filepath.Join(dir, "hardlink.rl"), Vendor: "demo", Append: true})
	if got := w.Next(); got != 2 {
		t.Errorf("continued report log: next seq %d, want 2", got)
	}
	if err := w.Switch(filepath.Join(dir, "demo.rl")); err == nil {
		t.Error("Switch onto another name of the current file accepted")
	}
	if err := w.Switch(filepath.Join(dir, "other.rl")); !errors.Is(err, ErrNotLog) {
		t.Errorf("Switch onto another vendor's log: %v, want ErrNotLog", err)
	}
	if err := w.NewLog(filepath.Join(dir, "monday.rl")); err != nil {
		t.Fatal(err)
	}
	if err := w.Switch(filepath.Join(dir, "monday.rl")); err != nil {
		t.Fatalf("Switch onto a kept log of this vendor: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "monday.rl.1")); err != nil {
		t.Errorf("the log switched onto was not kept: %v", err)
	}
	w.Close()
	mustVerify(t, filepath.Join(dir, "hardlink.rl"), filepath.Join(dir, "monday.rl.1"), filepath.Join(dir, "monday.rl"))
	f, err := OpenDebugLog(filepath.Join(dir, "demo.dl"), "demo", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(" 8:50:00 (demo) more\n")
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "demo.dl")); strings.Count(string(b), "\n") != 3 {
		t.Errorf("debug log after appending:\n%s", b)
	}
	f, err = OpenDebugLog(filepath.Join(dir, "demo.dl"), "demo", true, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(filepath.Join(dir, "demo.dl")); fi.Size() != 0 {
		t.Errorf("truncated debug log holds %d bytes", fi.Size())
	}
}

// TestRelativeTargets: relative paths are taken from the working
// directory, through no symbolic link either.
func TestRelativeTargets(t *testing.T) {
	dir := targetDir(t)
	t.Chdir(dir)
	for _, c := range []struct {
		path string
		want error
	}{
		{"rel.rl", nil},
		{"real/rel.rl", nil},
		{"linkdir/rel.rl", ErrNotRegular},
		{"./link", ErrNotRegular},
		{".bashrc", ErrNotLog},
		{"dir/../other.rl", ErrNotLog},
	} {
		t.Run(c.path, func(t *testing.T) {
			w, err := OpenWriter(Config{Path: c.path, Vendor: "demo"})
			if err == nil {
				w.Close()
			}
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("OpenWriter(%s) error = %v, want %v", c.path, err, c.want)
			}
		})
	}
}

// TestOpenWalk: the component-by-component open used where openat2 is
// missing refuses a symbolic link anywhere, like openat2.
func TestOpenWalk(t *testing.T) {
	dir := targetDir(t)
	for _, c := range []struct {
		path string
		flag int
		ok   bool
	}{
		{filepath.Join(dir, "real", "walk.log"), os.O_WRONLY | os.O_CREATE, true},
		{filepath.Join(dir, ".bashrc"), os.O_RDONLY, true},
		{filepath.Join(dir, "linkdir", "walk.log"), os.O_WRONLY | os.O_CREATE, false},
		{filepath.Join(dir, "link"), os.O_RDONLY, false},
		{filepath.Join(dir, "linkdir"), syscall.O_DIRECTORY, false},
	} {
		t.Run(c.path[len(dir):], func(t *testing.T) {
			f, err := openWalk(c.path, c.flag, 0o600)
			if f != nil {
				f.Close()
			}
			if c.ok && err != nil || !c.ok && !errors.Is(err, ErrNotRegular) {
				t.Errorf("openWalk(%s) error = %v, want ok %v or ErrNotRegular", c.path, err, c.ok)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "real", "walk.log")); err != nil {
		t.Errorf("openWalk did not create the new file: %v", err)
	}
}

// TestSymlinkNamed: the refusal names the link.
func TestSymlinkNamed(t *testing.T) {
	dir := targetDir(t)
	_, err := OpenWriter(Config{Path: filepath.Join(dir, "linkdir", "x.rl"), Vendor: "demo", Now: time.Now})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "linkdir")+" is a symbolic link") {
		t.Errorf("error %v, want it to name %s", err, filepath.Join(dir, "linkdir"))
	}
}
