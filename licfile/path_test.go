package licfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitPath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one file", "/a/license.dat", []string{"/a/license.dat"}},
		{"two files", "/a.lic:/b.lic", []string{"/a.lic", "/b.lic"}},
		{"port at host has no colon", "27000@h1:/b.lic", []string{"27000@h1", "/b.lic"}},
		{"empty entries dropped", "::a::b:", []string{"a", "b"}},
		{"spaces trimmed", " a : b ", []string{"a", "b"}},
		{"drive letter backslash", `C:\flexlm\license.dat:27000@h`, []string{`C:\flexlm\license.dat`, "27000@h"}},
		{"drive letter slash", "d:/lic/a.lic", []string{"d:/lic/a.lic"}},
		{"single letter file", "a:b", []string{"a", "b"}},
		{"triad", "27000@h1,27000@h2,27000@h3:x", []string{"27000@h1,27000@h2,27000@h3", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitPath(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseServerSpec(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []ServerAddr
		wantErr string
	}{
		{"port at host", "27000@speedy", []ServerAddr{{27000, "speedy"}}, ""},
		{"at host", "@speedy", []ServerAddr{{0, "speedy"}}, ""},
		{"ip address", "1700@10.1.2.3", []ServerAddr{{1700, "10.1.2.3"}}, ""},
		{"triad", "2837@h1,2837@h2,2838@h3", []ServerAddr{{2837, "h1"}, {2837, "h2"}, {2838, "h3"}}, ""},
		{"two servers", "1@a,2@b", nil, "three servers, not 2"},
		{"no at", "speedy", nil, "no '@'"},
		{"no host", "27000@", nil, "no host"},
		{"port not number", "x1@h", nil, `port "x1" is not a number`},
		{"port zero", "0@h", nil, "out of range"},
		{"port too big", "65536@h", nil, "out of range"},
		{"huge port", "99999999999999999999999@h", nil, "out of range"},
		{"host with slash", "27000@h/x", nil, "not a host name"},
		{"host with colon", "27000@h:1", nil, "not a host name"},
		{"empty", "", nil, "no '@'"},
		{"triad member bad", "1@a,@,3@c", nil, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServerSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrServerSpec) {
					t.Fatalf("ParseServerSpec(%q) error = %v, want one containing %q wrapping ErrServerSpec", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseServerSpec(%q) error = %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseServerSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestServerAddrPorts(t *testing.T) {
	if got := (ServerAddr{Port: 1700, Host: "h"}).Ports(); !reflect.DeepEqual(got, []int{1700}) {
		t.Errorf("Ports() = %v, want [1700]", got)
	}
	got := (ServerAddr{Host: "h"}).Ports()
	if len(got) != 10 || got[0] != 27000 || got[9] != 27009 {
		t.Errorf("@host Ports() = %v, want 27000..27009", got)
	}
}

func TestSourceString(t *testing.T) {
	tests := []struct {
		name string
		src  Source
		want string
	}{
		{"file", Source{Path: "lic/a.lic", File: "/w/lic/a.lic"}, "lic/a.lic"},
		{"server", Source{Servers: []ServerAddr{{27000, "h"}}}, "27000@h"},
		{"at host", Source{Servers: []ServerAddr{{0, "h"}}}, "@h"},
		{"triad", Source{Servers: []ServerAddr{{27002, "h1"}, {27002, "h2"}, {27002, "h3"}}}, "27002@h1,27002@h2,27002@h3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.src.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerSpecOf(t *testing.T) {
	servers := []*Server{{Host: "h1", Port: 27002}, {Host: "h2"}, nil}
	got := Source{Servers: ServerSpecOf(servers)}.String()
	if want := "27002@h1,27000@h2"; got != want {
		t.Errorf("ServerSpecOf = %q, want %q", got, want)
	}
	if got := ServerSpecOf(nil); got != nil {
		t.Errorf("ServerSpecOf(nil) = %v, want nil", got)
	}
}

func TestReadFlexlmrc(t *testing.T) {
	data := "# comment\n\nLM_LICENSE_FILE=/a.lic\n  XYZD_LICENSE_FILE = \"@h\" \nnoequals\n=novar\nLM_LICENSE_FILE=/b.lic\nFLEXLM_TIMEOUT=1000000\n"
	got := ReadFlexlmrc([]byte(data))
	want := map[string]string{
		"LM_LICENSE_FILE":   "/b.lic",
		"XYZD_LICENSE_FILE": "@h",
		"FLEXLM_TIMEOUT":    "1000000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadFlexlmrc = %v, want %v", got, want)
	}
}

// srcs renders sources compactly for comparison: "origin|string|file".
func srcs(list []Source) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Origin+"|"+s.String()+"|"+s.File)
	}
	return out
}

func TestResolvePath(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	empty := t.TempDir()
	defaults := []string{"default|" + ManualLicenseFile + "|" + ManualLicenseFile, "default|license.dat|" + filepath.Join(dir, "license.dat")}
	writeTestFile(t, filepath.Join(dir, "licdir", "b.lic"), "")
	writeTestFile(t, filepath.Join(dir, "licdir", "a.lic"), "")
	writeTestFile(t, filepath.Join(dir, "licdir", "notes.txt"), "")
	writeTestFile(t, filepath.Join(dir, "licdir", "z.lic.bak"), "")
	if err := os.MkdirAll(filepath.Join(dir, "licdir", "sub.lic"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(home, ".flexlmrc"), "LM_LICENSE_FILE=rc-lm.lic:@rchost\nXYZD_LICENSE_FILE=rc-xyzd.lic\n")

	tests := []struct {
		name   string
		cflag  string
		vendor string
		env    map[string]string
		home   string
		want   []string
	}{
		{
			name:  "c flag overrides environment and flexlmrc",
			cflag: "my.lic",
			env:   map[string]string{"LM_LICENSE_FILE": "env.lic"},
			home:  home,
			want:  []string{"-c|my.lic|" + filepath.Join(dir, "my.lic")},
		},
		{
			name:  "c list with servers and files in order",
			cflag: "27000@h1:/abs/x.lic:@h2:1700@a,1700@b,1700@c",
			want: []string{
				"-c|27000@h1|",
				"-c|/abs/x.lic|/abs/x.lic",
				"-c|@h2|",
				"-c|1700@a,1700@b,1700@c|",
			},
		},
		{
			name:  "directory expands to sorted lic files",
			cflag: "licdir:other.lic",
			want: []string{
				"-c|licdir/a.lic|" + filepath.Join(dir, "licdir", "a.lic"),
				"-c|licdir/b.lic|" + filepath.Join(dir, "licdir", "b.lic"),
				"-c|other.lic|" + filepath.Join(dir, "other.lic"),
			},
		},
		{
			name:  "directory without lic files gives nothing",
			cflag: empty,
			want:  nil,
		},
		{
			name:  "duplicates removed keeping the first",
			cflag: "a.lic:27000@H:./a.lic:27000@h:licdir:licdir/a.lic:" + filepath.Join(dir, "a.lic"),
			want: []string{
				"-c|a.lic|" + filepath.Join(dir, "a.lic"),
				"-c|27000@H|",
				"-c|licdir/a.lic|" + filepath.Join(dir, "licdir", "a.lic"),
				"-c|licdir/b.lic|" + filepath.Join(dir, "licdir", "b.lic"),
			},
		},
		{
			name:  "file name with at sign is a file",
			cflag: "lic@home/x.lic:x@y",
			want: []string{
				"-c|lic@home/x.lic|" + filepath.Join(dir, "lic@home/x.lic"),
				"-c|x@y|" + filepath.Join(dir, "x@y"),
			},
		},
		{
			name:  "bad server spec is kept as a file name",
			cflag: "1@a,2@b",
			want:  []string{"-c|1@a,2@b|" + filepath.Join(dir, "1@a,2@b")},
		},
		{
			name:   "vendor variable before LM_LICENSE_FILE",
			vendor: "xyzd",
			env:    map[string]string{"LM_LICENSE_FILE": "lm.lic", "XYZD_LICENSE_FILE": "27000@v:v.lic"},
			want: []string{
				"XYZD_LICENSE_FILE|27000@v|",
				"XYZD_LICENSE_FILE|v.lic|" + filepath.Join(dir, "v.lic"),
				"LM_LICENSE_FILE|lm.lic|" + filepath.Join(dir, "lm.lic"),
			},
		},
		{
			// lmutil commands (no vendor) take every vendor's variable
			// after LM_LICENSE_FILE, in name order; names that are not a
			// vendor's variable are not taken.
			name: "no vendor takes every vendor variable",
			env:  map[string]string{"LM_LICENSE_FILE": "lm.lic", "XYZD_LICENSE_FILE": "v.lic", "ABC_LICENSE_FILE": "27000@a", "lower_LICENSE_FILE": "no.lic", "_LICENSE_FILE_X": "no2.lic"},
			want: []string{
				"LM_LICENSE_FILE|lm.lic|" + filepath.Join(dir, "lm.lic"),
				"ABC_LICENSE_FILE|27000@a|",
				"XYZD_LICENSE_FILE|v.lic|" + filepath.Join(dir, "v.lic"),
			},
		},
		{
			name:   "a vendor takes only its own variable",
			vendor: "abc",
			env:    map[string]string{"XYZD_LICENSE_FILE": "v.lic", "ABC_LICENSE_FILE": "27000@a"},
			want:   []string{"ABC_LICENSE_FILE|27000@a|"},
		},
		{
			name:   "flexlmrc appended after the environment",
			vendor: "XyZd",
			env:    map[string]string{"LM_LICENSE_FILE": "lm.lic:rc-lm.lic"},
			home:   home,
			want: []string{
				"LM_LICENSE_FILE|lm.lic|" + filepath.Join(dir, "lm.lic"),
				"LM_LICENSE_FILE|rc-lm.lic|" + filepath.Join(dir, "rc-lm.lic"),
				"$HOME/.flexlmrc:XYZD_LICENSE_FILE|rc-xyzd.lic|" + filepath.Join(dir, "rc-xyzd.lic"),
				"$HOME/.flexlmrc:LM_LICENSE_FILE|@rchost|",
			},
		},
		{
			name: "flexlmrc alone",
			home: home,
			want: []string{
				"$HOME/.flexlmrc:LM_LICENSE_FILE|rc-lm.lic|" + filepath.Join(dir, "rc-lm.lic"),
				"$HOME/.flexlmrc:LM_LICENSE_FILE|@rchost|",
				"$HOME/.flexlmrc:XYZD_LICENSE_FILE|rc-xyzd.lic|" + filepath.Join(dir, "rc-xyzd.lic"),
			},
		},
		{
			name: "home without flexlmrc",
			home: empty,
			want: defaults,
		},
		{
			name: "default: the manual's file, then license.dat here",
			want: defaults,
		},
		{
			name: "empty variables fall back to the default",
			env:  map[string]string{"LM_LICENSE_FILE": ":"},
			want: defaults,
		},
		{
			name:  "empty c list gives nothing, not the default",
			cflag: ":",
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := PathEnv{
				Getenv: func(k string) string { return tt.env[k] },
				Environ: func() []string {
					var kv []string
					for k, v := range tt.env {
						kv = append(kv, k+"="+v)
					}
					return kv
				},
				Dir:  dir,
				Home: tt.home,
			}
			got := srcs(ResolvePath(tt.cflag, tt.vendor, env))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ResolvePath(%q, %q) =\n  %q\nwant\n  %q", tt.cflag, tt.vendor, got, tt.want)
			}
		})
	}
}

func TestResolvePathNilGetenv(t *testing.T) {
	got := srcs(ResolvePath("", "v", PathEnv{}))
	want := []string{"default|" + ManualLicenseFile + "|" + ManualLicenseFile, "default|license.dat|license.dat"}
	if _, err := os.Stat(ManualLicenseFile); err == nil {
		t.Skipf("%s exists on this machine", ManualLicenseFile)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolvePath with empty PathEnv = %q, want %q", got, want)
	}
}

// Of the two default files, only those that exist are taken.
func TestResolvePathDefaultExists(t *testing.T) {
	if _, err := os.Stat(ManualLicenseFile); err == nil {
		t.Skipf("%s exists on this machine", ManualLicenseFile)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "license.dat"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := srcs(ResolvePath("", "", PathEnv{Dir: dir}))
	want := []string{"default|license.dat|" + filepath.Join(dir, "license.dat")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolvePath with license.dat here = %q, want %q", got, want)
	}
}

func TestPathString(t *testing.T) {
	list := ResolvePath("27000@h:/a.lic:@x,@y,@z", "", PathEnv{})
	if got, want := PathString(list), "27000@h:/a.lic:@x,@y,@z"; got != want {
		t.Errorf("PathString = %q, want %q", got, want)
	}
}

func TestVendorLicenseFileVar(t *testing.T) {
	if got, want := VendorLicenseFileVar("gsi"), "GSI_LICENSE_FILE"; got != want {
		t.Errorf("VendorLicenseFileVar(gsi) = %q, want %q", got, want)
	}
}

func FuzzResolvePath(f *testing.F) {
	for _, s := range []string{"", "27000@h", "@h", "1@a,2@b,3@c", `C:\x:y`, "a:b:c", "::", "@", "1@,@,@", "x@y/z"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, c string) {
		list := ResolvePath(c, "v", PathEnv{Dir: dir})
		seen := map[string]bool{}
		for _, s := range list {
			if seen[s.key()] {
				t.Fatalf("ResolvePath(%q) has duplicate %q", c, s.String())
			}
			seen[s.key()] = true
			if s.IsServer() {
				if _, err := ParseServerSpec(s.String()); err != nil {
					t.Fatalf("server source %q does not re-parse: %v", s.String(), err)
				}
			}
		}
	})
}

func writeTestFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
