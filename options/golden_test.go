package options

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// update rewrites the golden files instead of comparing against them:
// go test ./options -update. It is the one -update flag of this package.
var update = flag.Bool("update", false, "rewrite golden files in testdata")

// checkGolden compares got with the golden file path, or rewrites it
// under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// optionFiles returns the options files of testdata/options/dir.
func optionFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "options", dir, "*.opt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no options files in testdata/options/%s: %v", dir, err)
	}
	return files
}

// dump renders what an *Options holds, one canonical line per option,
// for goldens: what survived a damaged file.
func dump(o *Options) string {
	var b strings.Builder
	for _, name := range sortedKeys(o.Groups) {
		fmt.Fprintf(&b, "GROUP %s %s\n", name, strings.Join(o.Groups[name], " "))
	}
	for _, name := range sortedKeys(o.HostGroups) {
		fmt.Fprintf(&b, "HOST_GROUP %s %s\n", name, strings.Join(o.HostGroups[name], " "))
	}
	if o.GroupCaseInsensitive {
		b.WriteString("GROUPCASEINSENSITIVE ON\n")
	}
	for _, r := range o.Access {
		fmt.Fprintf(&b, "%s\n", r)
	}
	for _, r := range o.Reserves {
		fmt.Fprintf(&b, "%s\n", r)
	}
	for _, m := range o.Limits {
		fmt.Fprintf(&b, "%s\n", m)
	}
	for _, s := range o.Settings {
		fmt.Fprintf(&b, "%s\n", s)
	}
	if o.HasTimeoutAll {
		fmt.Fprintf(&b, "TIMEOUTALL %d\n", int(o.TimeoutAll.Seconds()))
	}
	for _, n := range []struct {
		bit  NoLog
		name string
	}{{NoLogIn, "IN"}, {NoLogOut, "OUT"}, {NoLogDenied, "DENIED"}, {NoLogQueued, "QUEUED"}} {
		if o.NoLog.Has(n.bit) {
			fmt.Fprintf(&b, "NOLOG %s\n", n.name)
		}
	}
	for _, l := range []struct {
		kw string
		p  LogPath
	}{{"REPORTLOG", o.ReportLog}, {"DEBUGLOG", o.DebugLog}} {
		if l.p.Path != "" {
			plus := ""
			if l.p.Append {
				plus = "+"
			}
			fmt.Fprintf(&b, "%s %s%s\n", l.kw, plus, l.p.Path)
		}
	}
	if len(o.Closures) > 0 {
		b.WriteString("--- closed:\n")
		for _, c := range o.Closures {
			fmt.Fprintf(&b, "%s\n", c)
		}
	}
	return b.String()
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestMalformed parses every file of testdata/options/malformed: each
// must fail with an ErrorList of positioned errors, and the errors and
// the options kept from the good lines must match the file's golden.
func TestMalformed(t *testing.T) {
	for _, path := range optionFiles(t, "malformed") {
		name := strings.TrimSuffix(filepath.Base(path), ".opt")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Parse(strings.NewReader(string(data)), filepath.Base(path))
			if o == nil {
				t.Fatalf("Parse returned nil Options (err %v)", err)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse error = %v, want a non-empty ErrorList", err)
			}
			got := err.Error() + "\n--- kept:\n" + dump(o)
			checkGolden(t, strings.TrimSuffix(path, ".opt")+".golden", got)
		})
	}
}

// TestManualFilesParse parses the manual's example options files: no
// errors, and each keeps what it says.
func TestManualFilesParse(t *testing.T) {
	for _, path := range optionFiles(t, ".") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			o, err := ParseFile(path)
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if len(o.Access)+len(o.Reserves) == 0 {
				t.Errorf("no rules kept:\n%s", dump(o))
			}
		})
	}
}
