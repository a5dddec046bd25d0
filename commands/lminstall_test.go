package commands

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

// manualExamples are the license files of the manual's examples that
// -overfmt is tried on, every format and line kind among them.
var manualExamples = []string{
	"manual-3.2.4-feature.lic",
	"manual-3.2.6-upgrade.lic",
	"manual-3.2.5-package-suite.lic",
	"manual-3.3-sample.lic",
	"manual-3.4.2-hostid-list.lic",
	"manual-3.4.2-nodelocked-uncounted.lic",
	"manual-3.5-demo.lic",
	"manual-5.4-use-server.lic",
	"manual-3.2.2-vendor.lic",
}

// manualExampleFile writes the manual's examples into one file in dir.
func manualExampleFile(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, name := range manualExamples {
		b.WriteString(readFile(t, licenseTestdata(name)))
	}
	path := filepath.Join(dir, "manual.lic")
	writeFile(t, path, b.String())
	return path
}

// TestLminstallOverfmt converts the manual's examples to every release
// -overfmt names.
func TestLminstallOverfmt(t *testing.T) {
	dir := t.TempDir()
	manualExampleFile(t, dir)
	for _, v := range licfile.FlexVersions {
		t.Run("v"+v.String(), func(t *testing.T) {
			got := runAppletGolden(t, lminstallApplet(), "lminstall", []string{"-i", "manual.lic", "-overfmt", v.String()}, &Env{Dir: dir})
			checkGolden(t, filepath.Join("lminstall", "overfmt-"+v.String()+".golden"), got)
		})
	}
}

// signedDemo is the signed demo license of testdata/keys.
var signedDemo = filepath.Join("..", "testdata", "keys", "demo.lic")

// TestLminstallDecimalRoundTrip is the acceptance test: a file
// signed by lmcrypt goes to decimal and back to the same canonical file,
// and every signature still verifies.
func TestLminstallDecimalRoundTrip(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, signedDemo, dir, "demo.lic")
	got := runAppletGolden(t, lminstallApplet(), "lminstall", []string{"-i", "demo.lic", "-o", "dec.lic", "-odecimal", "-maxlen", "64"}, &Env{Dir: dir})
	if got != "" {
		t.Errorf("lminstall -odecimal said:\n%s", got)
	}
	dec := readFile(t, filepath.Join(dir, "dec.lic"))
	checkGolden(t, filepath.Join("lminstall", "demo-decimal.golden"), dec)
	for _, l := range strings.Split(dec, "\n") {
		if len(l) > 64 && !strings.HasPrefix(l, "#") {
			t.Errorf("line longer than -maxlen 64: %q", l)
		}
	}

	back := runAppletGolden(t, lminstallApplet(), "lminstall", []string{"-i", "dec.lic"}, &Env{Dir: dir})
	orig, err := licfile.ParseFile(signedDemo)
	if err != nil {
		t.Fatal(err)
	}
	f, err := licfile.Parse(strings.NewReader(back), "back.lic")
	if err != nil {
		t.Fatalf("%v\n%s", err, back)
	}
	if f.String() != orig.String() {
		t.Errorf("round trip:\ngot:\n%s\nwant:\n%s", f.String(), orig.String())
	}
	pub, err := licfile.LoadPublicKey(filepath.Join(demoKeys, "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.Order {
		if licfile.Signable(l) {
			if err := licfile.Verify(pub.Key, f, l); err != nil {
				t.Errorf("%s: %v", l, err)
			}
		}
	}
}

// decimalDemo returns the demo license in decimal, one line each.
func decimalDemo(t *testing.T) []string {
	t.Helper()
	f, err := licfile.ParseFile(signedDemo)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range f.Order {
		d, err := licfile.EncodeDecimal(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestLminstallGolden covers typing mistakes, mixed input, wrapping and
// the command line.
func TestLminstallGolden(t *testing.T) {
	dec := decimalDemo(t)
	typo := []byte(dec[2])
	typo[41] = '0' + (typo[41]-'0'+3)%10 // a digit of the seventh group
	swap := []byte(dec[3])
	for i := 30; i < len(swap)-1; i++ {
		if swap[i] != swap[i+1] && swap[i] != '-' && swap[i+1] != '-' {
			swap[i], swap[i+1] = swap[i+1], swap[i]
			break
		}
	}
	tests := []struct {
		name  string
		args  []string
		input string // license.lic
		stdin string
	}{
		{name: "typo", args: []string{"-i", "license.lic"},
			input: "# typed in\n" + dec[0] + "\n" + dec[1] + "\n" + string(typo) + "\n" + string(swap) + "\n"},
		{name: "mixed", args: []string{"-i", "license.lic"},
			input: "SERVER this_host ANY 27000\n" + dec[1] + "\n\n\n# readable\nFEATURE f1 demo 1.0 permanent 2 \\\n  NOTICE=\"x\"\n" + dec[2] + "\nFEATURE bad demo 1.0 31-foo-2005 2\n"},
		{name: "stdin", args: []string{"-i", "-", "-overfmt", "6"}, stdin: "VENDOR demo /opt/demo\nFEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY SIGN=AB12\n"},
		{name: "not-a-tty", args: []string{"-overfmt", "5"}, stdin: "VENDOR demo /opt/demo\nFEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY SIGN=AB12\n"},
		{name: "not-decimal", args: []string{"-i", "license.lic", "-odecimal"}, input: "VENDOR a:b\nFEATURE f1 a:b 1.0 permanent 1\nUSE_SERVER\n"},
		{name: "maxlen", args: []string{"-i", "license.lic", "-maxlen", "40"},
			input: "FEATURE f1 xyzd 1.0 permanent 2 NOTICE=\"a quoted notice with blanks\" vendor_info=\"x\" SIGN=AB12\n" +
				"FEATURE f2 xyzd 1.0 permanent 2 SIGN=ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ\n"},
		{name: "bad-overfmt", args: []string{"-i", "license.lic", "-overfmt", "5.2"}},
		{name: "argument", args: []string{"license.lic"}},
		{name: "missing-file", args: []string{"-i", "nosuch.lic"}},
		{name: "too-many-lines", args: []string{"-i", "-"}, stdin: strings.Repeat("# comment\n", 1001)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.input != "" {
				writeFile(t, filepath.Join(dir, "license.lic"), tt.input)
			}
			env := &Env{Dir: dir, Stdin: strings.NewReader(tt.stdin)}
			got := runAppletGolden(t, lminstallApplet(), "lminstall", tt.args, env)
			checkGolden(t, filepath.Join("lminstall", tt.name+".golden"), got)
		})
	}
}

// TestLminstallTypoLine checks that a one-digit typo is reported with its
// line number and -99, whatever the goldens say.
func TestLminstallTypoLine(t *testing.T) {
	dec := decimalDemo(t)
	for _, line := range []int{1, 2, 3, 4} {
		t.Run(dec[line-1][:10], func(t *testing.T) {
			lines := append([]string{}, dec...)
			b := []byte(lines[line-1])
			i := len(b) - 3
			b[i] = '0' + (b[i]-'0'+1)%10
			lines[line-1] = string(b)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "l.lic"), strings.Join(lines, "\n")+"\n")
			got := runAppletGolden(t, lminstallApplet(), "lminstall", []string{"-i", "l.lic"}, &Env{Dir: dir})
			want := "l.lic:" + string(rune('0'+line)) + ":"
			if !strings.Contains(got, "-- stderr --\n"+want) || !strings.Contains(got, "typed incorrectly") || !strings.Contains(got, "(-99)") {
				t.Errorf("output does not report %s with -99:\n%s", want, got)
			}
			if !strings.Contains(got, "-- exit 157 --") {
				t.Errorf("exit status is not 157:\n%s", got)
			}
		})
	}
}

func TestWrapLine(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		n       int
		decimal bool
		want    []string
		ok      bool
	}{
		{"fits", "FEATURE f1 xyzd 1.0 permanent 2", 40, false, []string{"FEATURE f1 xyzd 1.0 permanent 2"}, true},
		{"no limit", "FEATURE f1 xyzd 1.0 permanent 2", 0, false, []string{"FEATURE f1 xyzd 1.0 permanent 2"}, true},
		{"exactly", "FEATURE f1 xyzd", 15, false, []string{"FEATURE f1 xyzd"}, true},
		{"break", "FEATURE f1 xyzd 1.0 permanent 2", 20, false, []string{`FEATURE f1 xyzd \`, `    1.0 permanent 2`}, true},
		{"quoted kept whole", `F a NOTICE="x y z"`, 12, false, []string{`F a \`, `    NOTICE="x y z"`}, false},
		{"decimal", "xyzd-12345-67890-12345", 17, true, []string{`xyzd-12345-\`, `    67890-12345`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := wrapLine(tt.text, tt.n, tt.decimal)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || ok != tt.ok {
				t.Errorf("wrapLine = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// fakeTerminal runs lminstall as if standard input were a terminal.
func fakeTerminal(io.Reader) bool { return true }

// TestLminstallDialogue drives the dialogue through a pipe that lminstall
// takes for a terminal: the default file name, a typed decimal line with
// a mistake asked for again, the ends of input.
func TestLminstallDialogue(t *testing.T) {
	dec := decimalDemo(t)
	typo := []byte(dec[2])
	typo[20] = '0' + (typo[20]-'0'+5)%10
	now := func() time.Time { return time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		args   []string
		exists string // a file already in the directory
		input  string
		file   string // the file that must be written
	}{
		{name: "default-name", input: "\n" + dec[0] + "\n" + dec[1] + "\n" + string(typo) + "\n" + dec[2] + "\nq\nignored\n", file: "20261123.lic"},
		{name: "named-two-blanks", input: "my.lic\n# typed by hand\nFEATURE f1 demo 1.0 permanent 2\nFEATURE f2 demo 1.0 31-foo-2005 2\nFEATURE f2 demo 1.0 \\\n permanent 2\n\n\nignored\n", file: "my.lic"},
		{name: "exists", exists: "20261123.lic", input: "\nn\nother.lic\n" + dec[1] + "\n", file: "other.lic"},
		{name: "with-o", args: []string{"-o", "out.lic", "-odecimal"}, input: "VENDOR demo\n", file: "out.lic"},
		{name: "nothing", input: "\nq\n"},
		{name: "eof-at-name", input: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.exists != "" {
				writeFile(t, filepath.Join(dir, tt.exists), "keep\n")
			}
			env := &Env{Dir: dir, Stdin: strings.NewReader(tt.input), Now: now}
			got := runAppletGolden(t, newLminstallApplet(fakeTerminal), "lminstall", tt.args, env)
			if tt.file != "" {
				got += "-- " + tt.file + " --\n" + readFile(t, filepath.Join(dir, tt.file))
			}
			if tt.exists != "" {
				if s := readFile(t, filepath.Join(dir, tt.exists)); s != "keep\n" {
					t.Errorf("%s was overwritten: %q", tt.exists, s)
				}
			}
			checkGolden(t, filepath.Join("lminstall", "dialogue-"+tt.name+".golden"), got)
		})
	}
}

// FLEXlm v2 reads no \ continuations: -overfmt 2 with -maxlen leaves a
// long line whole and says why, while v3 breaks it.
func TestLminstallV2NoContinuations(t *testing.T) {
	f, err := licfile.Parse(strings.NewReader(`FEATURE f1 xyzd 1.000 1-jan-2005 5 901234567890 "a long vendor string"`+"\n"), "in.lic")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		v        licfile.FlexVersion
		lines    int
		problems int
	}{{licfile.FlexV2, 1, 1}, {licfile.FlexV3, 2, 0}} {
		text, problems := renderInstallLine(f.Order[0], installOptions{overfmt: tt.v, maxlen: 50, filename: "in.lic"})
		if n := strings.Count(text, "\n"); n != tt.lines || len(problems) != tt.problems {
			t.Errorf("v%s: %d lines, problems %v; want %d lines, %d problems\n%s", tt.v, n, problems, tt.lines, tt.problems, text)
		}
	}
}
