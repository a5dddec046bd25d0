package commands

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"golm/lmutil/protocol"
	"golm/lmutil/server/servertest"
)

// flexlmBinary is a made-up executable image with the strings a program
// built with FLEXlm carries, between binary noise.
const flexlmBinary = "\x7fELF\x02\x01\x01\x00\x00\x00" +
	"\x00\x00lm_checkout\x00\x01\x02" +
	"@(#) FLEXlm v7.0d (lm_new.o), Copyright (C) 1988-1999 Globetrotter Software, Inc.\x00" +
	"\xff\xfeCop\x00" +
	"\tspell Copyright (c) 1999 Example Spelling Corp.\n" +
	"@(#) FLEXlm v7.0d (lm_new.o), Copyright (C) 1988-1999 Globetrotter Software, Inc.\x00" +
	"FlexNet Licensing v11.16.4.0 build 255831 x64_lsb\x00" +
	"no version here\x00"

func TestLmverGolden(t *testing.T) {
	dir := t.TempDir()
	writeTestFile := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeTestFile("spell", flexlmBinary)
	writeTestFile("plain.txt", "hello, world\n")
	writeTestFile("empty", "")
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"flexlm-binary", []string{"spell"}},
		{"flexlm-binary-lmutil", []string{"spell"}},
		{"no-version", []string{"plain.txt"}},
		{"empty-file", []string{"empty"}},
		{"missing-file", []string{"nosuchfile"}},
		{"missing-file-verbose", []string{"-verbose", "nosuchfile"}},
		{"directory", []string{"adir"}},
		{"two-files", []string{"spell", "plain.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := "lmver"
			if strings.HasSuffix(tt.name, "-lmutil") {
				prog = "lmutil"
			}
			env := &Env{Dir: dir, Exe: filepath.Join(dir, "not-this")}
			got := runAppletGolden(t, lmverApplet(), prog, tt.args, env)
			checkGolden(t, filepath.Join("lmver", tt.name+".golden"), got)
		})
	}
}

func TestLmverSelf(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	want := "lmver - Copyright (c) " + CopyrightYear + " golm authors. All Rights Reserved.\n" +
		golmVersionLine(protocol.Software, protocol.Build, Platform()) + "\n"
	tests := []struct {
		name string
		args []string
	}{
		{"no argument", nil},
		{"running binary by name", []string{exe}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runAppletGolden(t, lmverApplet(), "lmver", tt.args, &Env{Exe: exe})
			if got != want {
				t.Errorf("lmver %v =\n%q\nwant\n%q", tt.args, got, want)
			}
		})
	}
}

// TestLmverGolmBinary builds lmutil with a version set at link time and
// reads it as a file: the version comes from the -X value, the build
// number (not set by -X) from the binary's symbol table.
func TestLmverGolmBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lmutil")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the symbol table is read from ELF binaries only")
	}
	bin := filepath.Join(t.TempDir(), "lmutil")
	servertest.GoBuild(t, "", bin, "golm/lmutil", "-ldflags=-X=golm/lmutil/protocol.Software=9.9.9")
	lines, err := fileVersion(bin, "lmutil")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{golmVersionLine("9.9.9", protocol.Build, Platform())}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("fileVersion(lmutil built with Version=9.9.9) = %q, want %q", lines, want)
	}
}

func TestLmverOtherGoBinary(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to read")
	}
	got := runAppletGolden(t, lmverApplet(), "lmver", []string{gobin}, &Env{})
	want := `^lmver - Copyright .*\ncmd/go[^\n]* \(go[0-9][^\n]*\)\n$`
	if !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("lmver go = %q, want a match for %s", got, want)
	}
}

func TestGoVersion(t *testing.T) {
	golmDep := &debug.Module{Path: "golm/lmutil", Version: "v0.3.0"}
	tests := []struct {
		name string
		bi   *buildinfo.BuildInfo
		want []string
	}{
		{
			name: "go program",
			bi: &buildinfo.BuildInfo{GoVersion: "go1.26.0", Path: "example.com/tool",
				Main: debug.Module{Path: "example.com/tool", Version: "v1.2.3"}},
			want: []string{"example.com/tool v1.2.3 (go1.26.0)"},
		},
		{
			name: "client of golm",
			bi: &buildinfo.BuildInfo{GoVersion: "go1.26.0", Path: "example.com/spell",
				Main: debug.Module{Path: "example.com/spell", Version: "(devel)"},
				Deps: []*debug.Module{{Path: "other/mod", Version: "v1.0.0"}, golmDep}},
			want: []string{"example.com/spell (devel) (go1.26.0)", "golm v0.3.0"},
		},
		{
			name: "client of a replaced golm",
			bi: &buildinfo.BuildInfo{Path: "example.com/spell", Main: debug.Module{Path: "example.com/spell"},
				Deps: []*debug.Module{{Path: "golm/lmutil", Version: "v0.1.0", Replace: &debug.Module{Path: "../golm", Version: "v0.1.1"}}}},
			want: []string{"example.com/spell", "golm v0.1.1"},
		},
		{
			name: "command without module",
			bi:   &buildinfo.BuildInfo{GoVersion: "go1.26.0", Path: "cmd/go"},
			want: []string{"cmd/go (go1.26.0)"},
		},
		{
			name: "golm without symbols uses ldflags",
			bi: &buildinfo.BuildInfo{Path: "golm/lmutil", Main: debug.Module{Path: "golm/lmutil", Version: "(devel)"},
				Settings: []debug.BuildSetting{
					{Key: "-ldflags", Value: "-s -X golm/lmutil/protocol.Software=2.0.1 -X=golm/lmutil/protocol.Build=77"},
					{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}},
			want: []string{"golm v2.0.1 build 77 a64_lsb"},
		},
		{
			name: "golm without symbols or ldflags uses the module version",
			bi: &buildinfo.BuildInfo{Path: "golm/lmutil", Main: debug.Module{Path: "golm/lmutil", Version: "v0.4.0"},
				Settings: []debug.BuildSetting{{Key: "GOOS", Value: "windows"}, {Key: "GOARCH", Value: "amd64"}}},
			want: []string{"golm v0.4.0 x64_n6"},
		},
		{
			name: "golm devel build",
			bi:   &buildinfo.BuildInfo{Path: "golm/lmutil", Main: debug.Module{Path: "golm/lmutil", Version: "(devel)"}},
			want: []string{"golm (devel)"},
		},
		{
			name: "empty build info",
			bi:   &buildinfo.BuildInfo{},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := goVersion(strings.NewReader("not an ELF file"), tt.bi)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("goVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLdflagsValue(t *testing.T) {
	tests := []struct {
		name, ldflags, want string
	}{
		{"separate X", "-X golm/lmutil/protocol.Software=1.2", "1.2"},
		{"X equals", "-w -X=golm/lmutil/protocol.Software=3.4 -s", "3.4"},
		{"quoted", `-X 'golm/lmutil/protocol.Software=5.6'`, "5.6"},
		{"other variable", "-X golm/lmutil/protocol.Build=9", ""},
		{"X at end", "-X", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ldflagsValue(tt.ldflags, versionSymbol); got != tt.want {
				t.Errorf("ldflagsValue(%q) = %q, want %q", tt.ldflags, got, tt.want)
			}
		})
	}
}

func TestBannerStrings(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"none", "abc\x00def", 20, nil},
		{"too short to be a run", "\x00Cop\x00", 20, nil},
		{"trimmed and tab kept", "\x01\t Copyright\t2001 X \n", 20, []string{"Copyright\t2001 X"}},
		{"repeats dropped", "Copyright A\x00Copyright A\x00Copyright B", 20, []string{"Copyright A", "Copyright B"}},
		{"versions", "FLEXlm v2.4\x00FlexNet Licensing v11\x00FLEXlm", 20, []string{"FLEXlm v2.4", "FlexNet Licensing v11"}},
		{"limit", "Copyright 1\x00Copyright 2\x00Copyright 3", 2, []string{"Copyright 1", "Copyright 2"}},
		{"long run truncated", "Copyright " + strings.Repeat("x", 5000), 20, []string{"Copyright " + strings.Repeat("x", 4086)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bannerStrings(strings.NewReader(tt.in), tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bannerStrings = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlatformForMatchesPlatform(t *testing.T) {
	if got, want := platformFor(runtime.GOOS, runtime.GOARCH), Platform(); got != want {
		t.Errorf("platformFor(%s, %s) = %q, want Platform() = %q", runtime.GOOS, runtime.GOARCH, got, want)
	}
	if got := platformFor("plan9", "386"); got != "386_plan9" {
		t.Errorf("platformFor(plan9, 386) = %q, want 386_plan9", got)
	}
}

// FuzzBannerStrings: any bytes give at most max lines, each a banner
// string of printable characters.
func FuzzBannerStrings(f *testing.F) {
	f.Add([]byte(flexlmBinary))
	f.Add([]byte("Copyright\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := bannerStrings(strings.NewReader(string(data)), 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 3 {
			t.Fatalf("%d lines, want at most 3", len(got))
		}
		for _, l := range got {
			if !isBannerString(l) || strings.ContainsAny(l, "\x00\n\r") {
				t.Fatalf("line %q is not a printable banner string", l)
			}
		}
	})
}
