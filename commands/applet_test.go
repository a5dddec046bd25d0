package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"golm/lmutil/protocol/lmerr"
)

// testFlags are the flags of the synthetic applet the framework tests run.
func testFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "a", Usage: "all"},
		&cli.StringFlag{Name: "c", Aliases: []string{"license"}, Usage: "use `license_file_list`"},
		&cli.StringFlag{Name: "f", Usage: "users of `feature`"},
	}
}

// testApplet returns an applet outside the registry whose action records
// what it saw and returns ret.
func testApplet(ret error, saw *string) *Applet {
	return &Applet{
		Name:     "lmtest",
		Usage:    "lmtest [-a] [-c license_file_list] [-f [feature]]",
		Summary:  "test applet",
		Flags:    testFlags,
		Optional: []string{"f"},
		Action: func(c *cli.Context, env *Env) error {
			*saw = fmt.Sprintf("a=%v c=%q f=%q args=%q", c.Bool("a"), c.String("c"), c.String("f"), c.Args().Slice())
			fmt.Fprintln(env.Stderr, "lmtest: warning")
			return ret
		},
	}
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name       string
		argv       []string
		wantApplet string // "" for the usage list
		wantProg   string
		wantArgs   []string
		wantErr    bool
	}{
		{"installed name", []string{"lmstat", "-a"}, "lmstat", "lmstat", []string{"-a"}, false},
		{"installed name with path", []string{"/usr/local/bin/lmstat", "-a"}, "lmstat", "lmstat", []string{"-a"}, false},
		{"relative path", []string{"./bin/lmhostid"}, "lmhostid", "lmhostid", []string{}, false},
		{"windows exe", []string{`C:\flexlm\lmhostid.exe`, "-n"}, "lmhostid", "lmhostid", []string{"-n"}, false},
		{"argv0 wins over argv1", []string{"lmstat", "lmhostid"}, "lmstat", "lmstat", []string{"lmhostid"}, false},
		{"lmutil applet", []string{"lmutil", "lmstat", "-a", "-c", "lic"}, "lmstat", "lmutil", []string{"-a", "-c", "lic"}, false},
		{"lmutil with path", []string{"/opt/golm/bin/lmutil", "lmcksum"}, "lmcksum", "lmutil", []string{}, false},
		{"lmutil.exe", []string{`C:\golm\lmutil.exe`, "lmver", "x"}, "lmver", "lmutil", []string{"x"}, false},
		{"declared alias", []string{"lmutil", "stat", "-a"}, "lmstat", "lmutil", []string{"-a"}, false},
		{"name without lm", []string{"lmutil", "hostid", "-n"}, "lmhostid", "lmutil", []string{"-n"}, false},
		{"alias with exe", []string{"lmutil", "cksum.exe"}, "lmcksum", "lmutil", []string{}, false},
		{"renamed binary", []string{"/tmp/golm-lmutil", "lmver"}, "lmver", "golm-lmutil", []string{}, false},
		{"lmutil alone", []string{"lmutil"}, "", "lmutil", nil, false},
		{"lmutil -help", []string{"lmutil", "-help"}, "", "lmutil", nil, false},
		{"lmutil --help", []string{"lmutil", "--help"}, "", "lmutil", nil, false},
		{"lmutil -v", []string{"lmutil", "-v"}, "", "lmutil", []string{"-v"}, false},
		{"lmutil -list-applets", []string{"lmutil", "-list-applets"}, "", "lmutil", []string{"-list-applets"}, false},
		{"empty argv", nil, "", "lmutil", nil, false},
		{"unknown applet", []string{"lmutil", "lmfoo"}, "", "lmutil", nil, true},
		{"lm alone is unknown", []string{"lmutil", "lm"}, "", "lmutil", nil, true},
		{"empty applet name", []string{"lmutil", ""}, "", "lmutil", nil, true},
		{"not an applet prefix", []string{"lmutil", "lmlmstat"}, "", "lmutil", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, prog, args, err := Dispatch(tt.argv)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Dispatch(%q) error = %v, want error %v", tt.argv, err, tt.wantErr)
			}
			if err != nil {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Errorf("Dispatch(%q) error %T, want *UsageError", tt.argv, err)
				}
				if ExitStatus(err) != 1 {
					t.Errorf("ExitStatus = %d, want 1", ExitStatus(err))
				}
			}
			gotName := ""
			if a != nil {
				gotName = a.Name
			}
			if gotName != tt.wantApplet {
				t.Errorf("Dispatch(%q) applet = %q, want %q", tt.argv, gotName, tt.wantApplet)
			}
			if prog != tt.wantProg {
				t.Errorf("Dispatch(%q) prog = %q, want %q", tt.argv, prog, tt.wantProg)
			}
			if !slices.Equal(args, tt.wantArgs) {
				t.Errorf("Dispatch(%q) args = %q, want %q", tt.argv, args, tt.wantArgs)
			}
		})
	}
}

// TestRegistry checks what dispatch, -help and the man pages rely on.
func TestRegistry(t *testing.T) {
	seen := map[string]string{}
	for _, a := range Applets() {
		t.Run(a.Name, func(t *testing.T) {
			if !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(a.Name) {
				t.Errorf("name %q: want lower-case letters and digits", a.Name)
			}
			if a.Action == nil {
				t.Errorf("no Action")
			}
			if a.Hidden {
				return
			}
			if !strings.HasPrefix(a.Usage, a.Name) {
				t.Errorf("Usage %q does not start with %q", a.Usage, a.Name)
			}
			if strings.TrimSpace(a.Summary) == "" {
				t.Errorf("empty Summary")
			}
			for _, n := range append([]string{a.Name}, a.Aliases...) {
				if other, dup := seen[n]; dup {
					t.Errorf("%q is taken by both %s and %s", n, other, a.Name)
				}
				seen[n] = a.Name
				if got := Lookup(n); got == nil || got.Name != a.Name {
					t.Errorf("Lookup(%q) = %v, want %s", n, got, a.Name)
				}
			}
		})
	}
}

// runMain runs Main in-process the way main.go does.
func runMain(t *testing.T, argv ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Dir: t.TempDir()}
	status = Main(context.Background(), argv, env)
	return out.String(), errb.String(), status
}

var (
	bannerRE  = regexp.MustCompile(`^[a-z]+ - Copyright \(c\) [0-9]{4} golm authors\. All Rights Reserved\.$`)
	versionRE = regexp.MustCompile(`^[a-z]+ v[0-9]+\.[0-9]+\.[0-9]+ build [0-9]+ [a-z0-9_]+$`)
)

// TestEveryAppletVersion runs -v on every registered applet, through its
// own name and through lmutil, so applets added later are covered too.
func TestEveryAppletVersion(t *testing.T) {
	for _, a := range Applets() {
		if a.Hidden || a.NoUniversalV {
			continue
		}
		for _, argv := range [][]string{{a.Name, "-v"}, {"lmutil", a.Name, "-v"}} {
			t.Run(strings.Join(argv, " "), func(t *testing.T) {
				out, errs, st := runMain(t, argv...)
				if st != 0 || errs != "" {
					t.Fatalf("status %d, stderr %q; want 0 and nothing", st, errs)
				}
				want := Banner(argv[0]) + "\n" + VersionLine(a.Name) + "\n"
				if out != want {
					t.Errorf("stdout = %q, want %q", out, want)
				}
			})
		}
	}
}

// TestEveryAppletHelp runs -help on every registered applet: the usage
// lines first, then every flag, universal ones included.
func TestEveryAppletHelp(t *testing.T) {
	for _, a := range Applets() {
		if a.Hidden {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			out, errs, st := runMain(t, a.Name, "-help")
			if st != 0 || errs != "" {
				t.Fatalf("status %d, stderr %q; want 0 and nothing", st, errs)
			}
			if want := "usage: " + strings.Split(a.Usage, "\n")[0] + "\n"; !strings.HasPrefix(out, want) {
				t.Errorf("stdout starts %q, want %q", firstLine(out), want)
			}
			for _, f := range a.allFlags() {
				if !strings.Contains(out, "\n  -"+f.Names()[0]+" ") {
					t.Errorf("-help does not list -%s:\n%s", f.Names()[0], out)
				}
			}
		})
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func TestMainUsageList(t *testing.T) {
	for _, argv := range [][]string{{"lmutil"}, {"lmutil", "-help"}, {"/usr/bin/lmutil", "--help"}} {
		t.Run(strings.Join(argv, " "), func(t *testing.T) {
			out, errs, st := runMain(t, argv...)
			if st != 0 || errs != "" {
				t.Fatalf("status %d, stderr %q; want 0 and nothing", st, errs)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if lines[0] != Banner("lmutil") {
				t.Errorf("line 1 = %q, want %q", lines[0], Banner("lmutil"))
			}
			if len(lines) < 2 || !strings.HasPrefix(lines[1], "usage:  lmutil lm") {
				t.Errorf("line 2 = %q, want the first usage line", lines[1:2])
			}
			for _, a := range Applets() {
				if !a.Hidden && !strings.Contains(out, " lmutil "+a.Name) {
					t.Errorf("usage list lacks %s", a.Name)
				}
			}
		})
	}
}

func TestMainUnknownApplet(t *testing.T) {
	out, errs, st := runMain(t, "lmutil", "lmfoo", "-a")
	if st != 1 {
		t.Errorf("status = %d, want 1", st)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	if want := "lmutil: unknown command \"lmfoo\"\n" + Banner("lmutil") + "\nusage:  lmutil "; !strings.HasPrefix(errs, want) {
		t.Errorf("stderr = %q, want it to start %q", errs, want)
	}
}

func TestMainVersionAndList(t *testing.T) {
	out, _, st := runMain(t, "lmutil", "-v")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if st != 0 || len(lines) != 2 || !bannerRE.MatchString(lines[0]) || !versionRE.MatchString(lines[1]) {
		t.Errorf("lmutil -v: status %d, stdout %q; want 0, banner and version line", st, out)
	}
	out, _, st = runMain(t, "lmutil", "-list-applets")
	var want strings.Builder
	for _, a := range Applets() {
		if !a.Hidden {
			want.WriteString(a.Name + "\n")
		}
	}
	if st != 0 || out != want.String() {
		t.Errorf("lmutil -list-applets: status %d, stdout %q; want 0, %q", st, out, want.String())
	}
}

func TestBannerAndVersionLine(t *testing.T) {
	if got, want := Banner("lmstat"), "lmstat - Copyright (c) "+CopyrightYear+" golm authors. All Rights Reserved."; got != want {
		t.Errorf("Banner = %q, want %q", got, want)
	}
	// The pattern exporters use on lmstat -v.
	re := regexp.MustCompile(`^lmstat v[\d.]+ build \d+ \w+$`)
	if got := VersionLine("lmstat"); !re.MatchString(got) {
		t.Errorf("VersionLine = %q, want a match for %v", got, re)
	}
	for _, s := range []string{Banner("lmutil"), VersionLine("lmutil")} {
		if regexp.MustCompile(`(?i)flexnet|flexera|globetrotter|macrovision`).MatchString(s) {
			t.Errorf("%q names another vendor", s)
		}
	}
}

// TestRun covers what Run adds to every applet: legacy normalisation,
// -help, -v, -verbose, -e and usage errors.
func TestRun(t *testing.T) {
	errSeat := lmerr.New(-4, 342)
	tests := []struct {
		name       string
		args       []string
		ret        error
		wantSaw    string
		wantStatus int
		wantOut    string
		wantErr    string // stderr after Report
		wantFile   string // contents of err.txt, if -e is used
	}{
		{
			name: "legacy order", args: []string{"-f", "f1", "-c", "lic", "-a", "pos"},
			wantSaw: `a=true c="lic" f="f1" args=["pos"]`, wantErr: "lmtest: warning\n",
		},
		{
			name: "optional value absent", args: []string{"-c", "lic", "-f"},
			wantSaw: `a=false c="lic" f="" args=[]`, wantErr: "lmtest: warning\n",
		},
		{
			name: "flag alias", args: []string{"--license", "x.lic"},
			wantSaw: `a=false c="x.lic" f="" args=[]`, wantErr: "lmtest: warning\n",
		},
		{
			name: "FlexLM error short", ret: errSeat, wantSaw: `a=false c="" f="" args=[]`,
			wantStatus: 252, wantErr: "lmtest: warning\n" + errSeat.Error() + "\n",
		},
		{
			name: "FlexLM error verbose", args: []string{"-verbose"}, ret: errSeat, wantSaw: `a=false c="" f="" args=[]`,
			wantStatus: 252, wantErr: "lmtest: warning\n" + errSeat.Long() + "\n",
		},
		{
			name: "-e takes warnings and the error", args: []string{"-e", "err.txt"}, ret: errSeat, wantSaw: `a=false c="" f="" args=[]`,
			wantStatus: 252, wantFile: "lmtest: warning\n" + errSeat.Error() + "\n",
		},
		{
			name: "-e and -verbose", args: []string{"-a", "-verbose", "-e", "err.txt"}, ret: errSeat, wantSaw: `a=true c="" f="" args=[]`,
			wantStatus: 252, wantFile: "lmtest: warning\n" + errSeat.Long() + "\n",
		},
		{
			name: "-e without error", args: []string{"-e=err.txt"}, wantSaw: `a=false c="" f="" args=[]`,
			wantFile: "lmtest: warning\n",
		},
		{
			name: "explicit exit status", ret: &ExitError{Status: 3}, wantSaw: `a=false c="" f="" args=[]`,
			wantStatus: 3, wantErr: "lmtest: warning\n",
		},
		{
			name: "-v", args: []string{"-v", "-a"},
			wantOut: Banner("lmprog") + "\n" + VersionLine("lmtest") + "\n",
		},
		{
			name: "-help", args: []string{"-help"},
			wantOut: "usage: lmtest [-a] [-c license_file_list] [-f [feature]]\n" +
				"  -help                    print usage and exit\n" +
				"  -verbose                 print the long explanation of every error\n" +
				"  -e filename              write error messages to filename\n" +
				"  -v                       print the version and exit\n" +
				"  -a                       all\n" +
				"  -c license_file_list     use license_file_list\n" +
				"  -f feature               users of feature\n",
		},
		{
			// -h is -help: no "flag: help requested" from the parser.
			name: "-h", args: []string{"-h"},
			wantOut: "usage: lmtest [-a] [-c license_file_list] [-f [feature]]\n" +
				"  -help                    print usage and exit\n" +
				"  -verbose                 print the long explanation of every error\n" +
				"  -e filename              write error messages to filename\n" +
				"  -v                       print the version and exit\n" +
				"  -a                       all\n" +
				"  -c license_file_list     use license_file_list\n" +
				"  -f feature               users of feature\n",
		},
		{
			name: "unknown option", args: []string{"-a", "-zz"}, wantStatus: 1,
			wantErr: "lmtest: unknown option -zz\nusage: lmtest\n",
		},
		{
			name: "missing value", args: []string{"-a", "-c"}, wantStatus: 1,
			wantErr: "lmtest: option -c needs an argument\nusage: lmtest\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var saw string
			a := testApplet(tt.ret, &saw)
			var out, errb bytes.Buffer
			dir := t.TempDir()
			env := &Env{Stdout: &out, Stderr: &errb, Prog: "lmprog", Dir: dir}
			err := Run(context.Background(), env, a, tt.args)
			// Main reports to the original stderr; Run's own -e
			// handling has already put the error in the file.
			var ue *UsageError
			if errors.As(err, &ue) {
				// lmtest is not in the registry, so Report cannot
				// find its usage line; print it as Report would.
				fmt.Fprintln(&errb, ue.Msg)
				fmt.Fprintln(&errb, "usage: "+ue.Applet)
			} else {
				Report(&errb, err, env.Verbose)
			}
			if got := ExitStatus(err); got != tt.wantStatus {
				t.Errorf("status = %d (err %v), want %d", got, err, tt.wantStatus)
			}
			if saw != tt.wantSaw {
				t.Errorf("action saw %s, want %s", saw, tt.wantSaw)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			if errb.String() != tt.wantErr {
				t.Errorf("stderr = %q, want %q", errb.String(), tt.wantErr)
			}
			b, ferr := os.ReadFile(filepath.Join(dir, "err.txt"))
			if ferr != nil && tt.wantFile != "" {
				t.Fatalf("reading -e file: %v", ferr)
			}
			if string(b) != tt.wantFile {
				t.Errorf("-e file = %q, want %q", b, tt.wantFile)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"usage", &UsageError{Msg: "bad"}, 1},
		{"plain error", errors.New("boom"), 1},
		{"cannot connect", lmerr.New(-15, 570), 241},
		{"wrapped FlexLM error", fmt.Errorf("lmstat: %w", lmerr.New(-97, 121)), 159},
		{"seats taken", lmerr.New(-4, 342), 252},
		{"explicit status", &ExitError{Status: 7}, 7},
		{"explicit status wins over its error", &ExitError{Status: 2, Err: lmerr.New(-15, 1)}, 2},
		{"already printed keeps status", alreadyPrinted(lmerr.New(-1, 359)), 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitStatus(tt.err); got != tt.want {
				t.Errorf("ExitStatus(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestReport(t *testing.T) {
	e15 := lmerr.New(-15, 570)
	tests := []struct {
		name    string
		err     error
		verbose bool
		want    string
	}{
		{"nil", nil, false, ""},
		{"FlexLM short", e15, false, e15.Error() + "\n"},
		{"FlexLM long", e15, true, e15.Long() + "\n"},
		{"plain", errors.New("lmver: cannot open x"), true, "lmver: cannot open x\n"},
		{"usage of a registered applet", &UsageError{Applet: "lmstat", Msg: "lmstat: bad"}, false, "lmstat: bad\nusage: " + Lookup("lmstat").Usage + "\n"},
		{"usage without message", &UsageError{Applet: "nosuch"}, false, ""},
		{"usage of several lines", &UsageError{Applet: "lmcrypt", Msg: "lmcrypt: bad"}, false,
			"lmcrypt: bad\nusage: " + strings.ReplaceAll(Lookup("lmcrypt").Usage, "\n", "\n       ") + "\n"},
		{"already printed", alreadyPrinted(e15), false, ""},
		{"silent exit", &ExitError{Status: 1}, false, ""},
		{"exit with error", &ExitError{Status: 1, Err: errors.New("x")}, false, "x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			Report(&b, tt.err, tt.verbose)
			if b.String() != tt.want {
				t.Errorf("Report = %q, want %q", b.String(), tt.want)
			}
		})
	}
}

// A value the flag parser cannot read is named in lmutil's words, with
// no trace of the parser's.
func TestBadFlagValue(t *testing.T) {
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Prog: "lmstat", Dir: t.TempDir()}
	err := Run(context.Background(), env, Lookup("lmstat"), []string{"-t", "x"})
	Report(&errb, err, false)
	if got := errb.String(); !strings.HasPrefix(got, "lmstat: option -t: bad value \"x\"\nusage: lmstat ") || ExitStatus(err) != 1 {
		t.Errorf("lmstat -t x: exit %d, stderr %q", ExitStatus(err), got)
	}
}

// TestMainSpellings: the spellings of one request give the same output,
// and double-dash options are named as lmutil names them.
func TestMainSpellings(t *testing.T) {
	same := [][][]string{
		{{"lmstat", "-help"}, {"lmstat", "--help"}, {"lmstat", "-h"}, {"lmutil", "lmstat", "-help"}, {"lmutil", "stat", "-help"}},
		{{"lmutil"}, {"lmutil", "-help"}, {"lmutil", "--help"}, {"lmutil", "-h"}},
	}
	for _, group := range same {
		want, _, _ := runMain(t, group[0]...)
		for _, argv := range group[1:] {
			if got, errs, st := runMain(t, argv...); got != want || errs != "" || st != 0 {
				t.Errorf("%q: status %d, stderr %q, stdout differs from %q's: %v", argv, st, errs, group[0], got != want)
			}
		}
	}
	if out, _, _ := runMain(t, "lmutil"); regexp.MustCompile(`(?i)flexnet|flexera|globetrotter|macrovision`).MatchString(out) {
		t.Errorf("the usage list names another vendor:\n%s", out)
	}
	tests := []struct {
		argv    []string
		wantErr string // first line of stderr
	}{
		{[]string{"lmutil", "-frobnicate"}, `lmutil: unknown command "-frobnicate"`},
		{[]string{"lmutil", "lmhostid", "--nosuchoption"}, "lmhostid: unknown option -nosuchoption"},
		{[]string{"lmstat", "-nosuchoption"}, "lmstat: unknown option -nosuchoption"},
	}
	for _, tt := range tests {
		out, errs, st := runMain(t, tt.argv...)
		if st != 1 || out != "" || firstLine(errs) != tt.wantErr {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want 1, nothing and %q", tt.argv, st, out, errs, tt.wantErr)
		}
	}
}
