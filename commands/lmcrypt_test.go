package commands

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

// demoKeys is the bundled demo key pair.
var demoKeys = filepath.Join("..", "testdata", "keys")

// cryptEnv is an Env working in dir whose binary lives where no key is.
func cryptEnv(dir string) *Env {
	return &Env{Dir: dir, Exe: filepath.Join(dir, "bin", "lmutil")}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

const demoLicense = `# demo
SERVER myhost ANY 27000
VENDOR demo /opt/demo/demo
FEATURE f1 demo 1.0 1-jan-2030 5 vendor_info="seats"
INCREMENT f2 demo 2.300 permanent uncounted HOSTID=ANY \
	NOTICE="demo notice"
PACKAGE p1 demo 1.0 COMPONENTS="f1 f2"
FEATURE other xyzd 1.0 permanent 1
`

// TestLmcryptSignGolden signs a file with the demo key (Ed25519 signatures
// are deterministic, so the signed file is a golden too) and verifies it.
func TestLmcryptSignGolden(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(demoKeys, "demo.key"), dir, "demo.key")
	lic := filepath.Join(dir, "license.dat")
	writeFile(t, lic, demoLicense)

	got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"license.dat"}, cryptEnv(dir))
	checkGolden(t, filepath.Join("lmcrypt", "sign.golden"), got)
	checkGolden(t, filepath.Join("lmcrypt", "signed.lic"), readFile(t, lic))

	// The public key beside the license file verifies it; xyzd has none.
	copyFile(t, filepath.Join(demoKeys, "demo.pub"), dir, "demo.pub")
	got = runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"-verify", "license.dat"}, cryptEnv(dir))
	checkGolden(t, filepath.Join("lmcrypt", "verify.golden"), got)
}

// TestLmcryptEdits signs a file, edits it, and checks what -verify says.
func TestLmcryptEdits(t *testing.T) {
	const lic = "SERVER myhost 08002b32b161 27000\nVENDOR demo /opt/demo/demo\n" +
		"FEATURE f1 demo 1.0 1-jan-2030 5 vendor_info=\"seats\" NOTICE=\"n\"\n"
	tests := []struct {
		name     string
		old, new string
		ok       bool
	}{
		{"unchanged", "", "", true},
		{"count", " 5 ", " 6 ", false},
		{"expiry", "1-jan-2030", "1-jan-2031", false},
		{"version", "1.0 1-jan", "1.1 1-jan", false},
		{"uppercase keyword value", `NOTICE="n"`, `NOTICE="m"`, false},
		{"hostid added", `NOTICE="n"`, `NOTICE="n" HOSTID=ANY`, false},
		{"SERVER hostid", "08002b32b161", "08002b32b162", false},
		{"lowercase keyword value", `vendor_info="seats"`, `vendor_info="other"`, true},
		{"SERVER host and port", "myhost 08002b32b161 27000", "otherhost 08002b32b161 1700", true},
		{"daemon path", "/opt/demo/demo", "/usr/local/bin/demo", true},
		{"equivalent version", "1.0 1-jan", "1.000 1-jan", true},
		{"equivalent date", "1-jan-2030", "01-JAN-2030", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(demoKeys, "demo.key"), dir, "demo.key")
			copyFile(t, filepath.Join(demoKeys, "demo.pub"), dir, "demo.pub")
			path := filepath.Join(dir, "license.dat")
			writeFile(t, path, lic)
			if out := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"license.dat"}, cryptEnv(dir)); strings.Contains(out, "-- exit") {
				t.Fatalf("signing failed:\n%s", out)
			}
			signed := readFile(t, path)
			if tt.old != "" {
				if !strings.Contains(signed, tt.old) {
					t.Fatalf("signed file lacks %q:\n%s", tt.old, signed)
				}
				writeFile(t, path, strings.Replace(signed, tt.old, tt.new, 1))
			}
			got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"-verify", "license.dat"}, cryptEnv(dir))
			want := "OK: license.dat:3: FEATURE f1 demo"
			if !tt.ok {
				want = "BAD: license.dat:3: FEATURE f1 demo"
			}
			if !strings.HasPrefix(withoutKeyLines(got), want) {
				t.Errorf("-verify after the edit:\n%s\nwant it to start, after the KEY: line, with %q", got, want)
			}
			if failed := strings.Contains(got, "-- exit 248 --"); failed == tt.ok {
				t.Errorf("-verify exit status wrong (want ok %v):\n%s", tt.ok, got)
			}
			// The manifest holds exactly when the line's signed form is
			// unchanged.
			wantManifest := "\nOK: license.dat:4: manifest demo 1 lines\n"
			if !tt.ok {
				wantManifest = "\nSTALE: license.dat:4: manifest demo 1 lines\n"
			}
			if !strings.Contains(got, wantManifest) {
				t.Errorf("-verify after the edit:\n%s\nwant %q", got, wantManifest)
			}
		})
	}
}

// TestLmcryptManifest: signing twice changes nothing; two signed files
// put together keep both manifests; signing them again leaves one, and
// the lines are reported where they stand in the signed file.
func TestLmcryptManifest(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(demoKeys, "demo.key"), dir, "demo.key")
	copyFile(t, filepath.Join(demoKeys, "demo.pub"), dir, "demo.pub")
	path := filepath.Join(dir, "license.dat")
	writeFile(t, path, "FEATURE f1 demo 1.0 permanent 5\n")
	run := func(args ...string) string {
		t.Helper()
		return withoutKeyLines(runAppletGolden(t, lmcryptApplet(), "lmcrypt", args, cryptEnv(dir)))
	}
	first := run("license.dat")
	once := readFile(t, path)
	if second := run("license.dat"); second != first || readFile(t, path) != once {
		t.Errorf("signing again printed\n%s\nand wrote\n%s\nwant\n%s\nand\n%s", second, readFile(t, path), first, once)
	}
	writeFile(t, path, once+once)
	got := run("-verify", "license.dat")
	want := "OK: license.dat:1: FEATURE f1 demo 1.0\nOK: license.dat:3: FEATURE f1 demo 1.0\n" +
		"OK: license.dat:2: manifest demo 1 lines\nOK: license.dat:4: manifest demo 1 lines\n"
	if got != want {
		t.Errorf("-verify of two signed files:\n%s\nwant\n%s", got, want)
	}
	got = run("license.dat")
	want = "SIGNED: license.dat:1: FEATURE f1 demo 1.0\nSIGNED: license.dat:2: FEATURE f1 demo 1.0\n" +
		"MANIFEST: license.dat:3: manifest demo 2 lines\n"
	if got != want {
		t.Errorf("signing two signed files:\n%s\nwant\n%s", got, want)
	}
	writeFile(t, path, strings.Replace(readFile(t, path), "permanent 5", "permanent 6", 1))
	got = run("-verify", "license.dat")
	want = "BAD: license.dat:1: FEATURE f1 demo 1.0\nOK: license.dat:2: FEATURE f1 demo 1.0\n" +
		"STALE: license.dat:3: manifest demo 2 lines\n-- exit 248 --\n"
	if got != want {
		t.Errorf("-verify after an edit:\n%s\nwant\n%s", got, want)
	}
}

func TestLmcryptGenkey(t *testing.T) {
	dir := t.TempDir()
	got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"-genkey", "acme"}, cryptEnv(dir))
	pub, err := licfile.LoadPublicKey(filepath.Join(dir, "acme.pub"))
	if err != nil {
		t.Fatal(err)
	}
	fp := pub.Fingerprint()
	// The key is new every time: the golden has its fingerprint and hex
	// digits masked.
	masked := strings.ReplaceAll(strings.ReplaceAll(got, fp, "FINGERPRINT"), hex.EncodeToString(pub.Key), "HEX")
	checkGolden(t, filepath.Join("lmcrypt", "genkey.golden"), masked)
	for name, mode := range map[string]os.FileMode{"acme.key": 0o600, "acme.pub": 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s not written: %v", name, err)
		}
		if st.Mode().Perm()&^mode != 0 {
			t.Errorf("%s has mode %v, want at most %v", name, st.Mode().Perm(), mode)
		}
	}
	key := readFile(t, filepath.Join(dir, "acme.key"))
	got = runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"-genkey", "acme"}, cryptEnv(dir))
	if !strings.Contains(got, "-- exit 1 --") {
		t.Errorf("second -genkey did not fail:\n%s", got)
	}
	if readFile(t, filepath.Join(dir, "acme.key")) != key {
		t.Error("second -genkey overwrote the private key")
	}

	// The new pair signs and verifies.
	lic := filepath.Join(dir, "l.lic")
	writeFile(t, lic, "FEATURE f acme 1 permanent 1\n")
	// Each run that uses the key names it with the fingerprint -genkey
	// printed.
	for _, tt := range []struct {
		args   []string
		source string
	}{
		{[]string{"l.lic"}, "acme.key"},
		{[]string{"-verify", "l.lic"}, "acme.pub"},
	} {
		out := runAppletGolden(t, lmcryptApplet(), "lmcrypt", tt.args, cryptEnv(dir))
		if strings.Contains(out, "-- exit") {
			t.Errorf("lmcrypt %v failed:\n%s", tt.args, out)
		}
		if want := "KEY: vendor acme fingerprint " + fp + " (" + tt.source + ")\n"; !strings.HasPrefix(out, want) {
			t.Errorf("lmcrypt %v printed\n%s\nwant it to start with %q", tt.args, out, want)
		}
	}
}

func TestLmcryptOutputFile(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(demoKeys, "demo.key"), dir, "k")
	in := filepath.Join(dir, "in.lic")
	writeFile(t, in, "FEATURE f1 demo 1.0 permanent 3\n")
	if err := os.Chmod(in, 0o640); err != nil {
		t.Fatal(err)
	}
	got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"-k", "k", "-o", "out.lic", "in.lic"}, cryptEnv(dir))
	if strings.Contains(got, "-- exit") {
		t.Fatalf("lmcrypt -o failed:\n%s", got)
	}
	if s := readFile(t, in); s != "FEATURE f1 demo 1.0 permanent 3\n" {
		t.Errorf("input changed with -o:\n%s", s)
	}
	out := readFile(t, filepath.Join(dir, "out.lic"))
	if !strings.HasPrefix(out, "FEATURE f1 demo 1.0 permanent 3 SIGN=") || !strings.Contains(out, " ck=") {
		t.Errorf("output not signed:\n%s", out)
	}
	st, err := os.Stat(filepath.Join(dir, "out.lic"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("out.lic mode %v, want the input's 0640", st.Mode().Perm())
	}

	// In place keeps the file's mode and leaves no temporary file behind.
	got = runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"in.lic", "-k", "k"}, cryptEnv(dir))
	if strings.Contains(got, "-- exit") {
		t.Fatalf("lmcrypt in place failed:\n%s", got)
	}
	if st, _ := os.Stat(in); st.Mode().Perm() != 0o640 {
		t.Errorf("in.lic mode %v after signing, want 0640", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want in.lic, k and out.lic", names)
	}
}

func TestLmcryptErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string
	}{
		{name: "no-arguments"},
		{name: "genkey-with-file", args: []string{"-genkey", "demo", "l.lic"}},
		{name: "genkey-bad-vendor", args: []string{"-genkey", "../x"}},
		{name: "verify-with-o", args: []string{"-verify", "-o", "x", "l.lic"}},
		{name: "missing-file", args: []string{"nosuch.lic"}},
		{name: "syntax-error", files: map[string]string{"l.lic": "FEATURE f1 demo 1.0 31-foo-2005 3\n"}, args: []string{"l.lic"}},
		{name: "no-key", files: map[string]string{"l.lic": "FEATURE f1 demo 1.0 permanent 3\n"}, args: []string{"l.lic"}},
		{name: "nothing-to-sign", files: map[string]string{"l.lic": "SERVER h ANY\n"}, args: []string{"l.lic"}},
		{name: "verify-unsigned", files: map[string]string{
			"l.lic":    "FEATURE f1 demo 1.0 permanent 3\nFEATURE f2 demo 1.0 permanent 3 SIGN=AAAA\n",
			"demo.pub": ""}, args: []string{"-verify", "l.lic"}},
		{name: "verify-k-public", files: map[string]string{
			"l.lic": "FEATURE f1 demo 1.0 permanent 3 SIGN=AAAA\n", "pub": ""}, args: []string{"-verify", "-k", "pub", "l.lic"}},
	}
	pub := readFile(t, filepath.Join(demoKeys, "demo.pub"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			before := map[string]string{}
			for name, text := range tt.files {
				if text == "" {
					text = pub
				}
				writeFile(t, filepath.Join(dir, name), text)
				before[name] = text
			}
			got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", tt.args, cryptEnv(dir))
			got = strings.ReplaceAll(got, dir, "$DIR")
			checkGolden(t, filepath.Join("lmcrypt", tt.name+".golden"), got)
			for name, text := range before {
				if after := readFile(t, filepath.Join(dir, name)); after != text {
					t.Errorf("%s changed:\n%s", name, after)
				}
			}
		})
	}
}

// withoutKeyLines drops the KEY: lines lmcrypt prints first.
func withoutKeyLines(out string) string {
	for strings.HasPrefix(out, "KEY: ") {
		_, out, _ = strings.Cut(out, "\n")
	}
	return out
}

// TestLmcryptVerifyKeyOrder: -verify finds keys as a vendor daemon does:
// a demo.pub beside this program wins over one beside the license file,
// and the KEY: line names it.
func TestLmcryptVerifyKeyOrder(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(demoKeys, "demo.key"), dir, "demo.key")
	writeFile(t, filepath.Join(dir, "license.dat"), "FEATURE f1 demo 1.0 permanent 5\n")
	if out := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"license.dat"}, cryptEnv(dir)); strings.Contains(out, "-- exit") {
		t.Fatalf("signing failed:\n%s", out)
	}
	demo, err := licfile.LoadPublicKey(filepath.Join(demoKeys, "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := licfile.GenerateKey(t.TempDir(), "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, err := licfile.LoadPublicKey(other)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		beside, inBin *licfile.PublicKey
		want          string
	}{
		{"beside the license only", &demo, nil, "KEY: vendor demo fingerprint " + demo.Fingerprint() + " (demo.pub)\nOK: "},
		{"beside the binary wins", &otherPub, &demo, "KEY: vendor demo fingerprint " + demo.Fingerprint() + " ($DIR/bin/demo.pub)\nOK: "},
		{"a wrong key beside the binary is not overridden", &demo, &otherPub, "KEY: vendor demo fingerprint " + otherPub.Fingerprint() + " ($DIR/bin/demo.pub)\nBAD: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(dir, "bin"))
			os.Remove(filepath.Join(dir, "demo.pub"))
			if tt.beside != nil {
				writeFile(t, filepath.Join(dir, "demo.pub"), licfile.FormatPublicKey(*tt.beside))
			}
			if tt.inBin != nil {
				os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
				writeFile(t, filepath.Join(dir, "bin", "demo.pub"), licfile.FormatPublicKey(*tt.inBin))
			}
			got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"-verify", "license.dat"}, cryptEnv(dir))
			got = strings.ReplaceAll(got, dir, "$DIR")
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("-verify printed\n%s\nwant it to start with %q", got, tt.want)
			}
		})
	}
}

// TestLmcryptIssueRules: lmcrypt refuses files that break the license
// file rules a vendor daemon trips over, and warns of expired lines.
func TestLmcryptIssueRules(t *testing.T) {
	const head = "SERVER myhost ANY 27000\nVENDOR demo\n"
	tests := []struct {
		name, text string
	}{
		{"uncounted-no-hostid", head + "FEATURE f1 demo 1.0 1-jan-2030 uncounted\nINCREMENT f2 demo 1.0 1-jan-2030 0 NOTICE=\"n\"\n"},
		{"uncounted-with-hostid", head + "FEATURE f1 demo 1.0 1-jan-2030 uncounted HOSTID=ANY\n"},
		{"two-servers", "SERVER a ANY 27000\nSERVER b ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 1-jan-2030 4\n"},
		{"three-servers", "SERVER a ANY 27000\nSERVER b ANY 27000\nSERVER c ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 1-jan-2030 4\n"},
		{"two-digit-year", head + "FEATURE f1 demo 1.0 1-jan-05 4\nFEATURE f2 demo 1.0 1-jan-2030 4 START=1-jan-99\n"},
		{"two-digit-year-zero", head + "FEATURE f1 demo 1.0 1-jan-00 4\nFEATURE f2 demo 1.0 1-jan-0 4\n"},
		{"expired", head + "FEATURE f1 demo 1.0 1-jan-2020 4\nFEATURE f2 demo 1.0 30-jun-2026 4\nFEATURE f3 demo 1.0 1-jul-2026 4\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(demoKeys, "demo.key"), dir, "demo.key")
			writeFile(t, filepath.Join(dir, "l.lic"), tt.text)
			env := cryptEnv(dir)
			env.Now = func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }
			got := runAppletGolden(t, lmcryptApplet(), "lmcrypt", []string{"l.lic"}, env)
			checkGolden(t, filepath.Join("lmcrypt", "rules-"+tt.name+".golden"), got)
			signed := readFile(t, filepath.Join(dir, "l.lic")) != tt.text
			if refused := strings.Contains(got, "nothing signed"); refused == signed {
				t.Errorf("refused %v but file changed %v", refused, signed)
			}
		})
	}
}
