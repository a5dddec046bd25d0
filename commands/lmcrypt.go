package commands

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/fatih/color"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server"
)

func lmcryptApplet() *Applet {
	return &Applet{
		Name: "lmcrypt",
		Usage: "lmcrypt -genkey vendor\n" +
			"lmcrypt [-k keyfile] [-o outfile] license_file\n" +
			"lmcrypt -verify [-k pubfile] license_file",
		Summary:     "sign license files and verify their signatures (publisher tool)",
		Description: manText("lmcrypt"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "genkey", Usage: "write a new key pair for `vendor` into the current directory"},
				&cli.StringSliceFlag{Name: "k", Usage: "sign (or verify) with the key in `keyfile`; may be repeated"},
				&cli.StringFlag{Name: "o", Usage: "write the signed license to `outfile` instead of in place"},
				&cli.BoolFlag{Name: "verify", Usage: "check the signatures instead of signing"},
			}
		},
		Action: runLmcrypt,
	}
}

func runLmcrypt(c *cli.Context, env *Env) error {
	a := Lookup("lmcrypt")
	if v := c.String("genkey"); v != "" {
		if c.NArg() > 0 || c.Bool("verify") || c.String("o") != "" || len(c.StringSlice("k")) > 0 {
			return usagef(a, "lmcrypt: -genkey takes only the vendor name")
		}
		return genKey(env, v)
	}
	if c.NArg() != 1 {
		return usagef(a, "lmcrypt: give one license file")
	}
	if c.Bool("verify") {
		if c.String("o") != "" {
			return usagef(a, "lmcrypt: -o does not go with -verify")
		}
		return verifyLicense(env, c.Args().First(), c.StringSlice("k"))
	}
	return signLicense(env, c.Args().First(), c.String("o"), c.StringSlice("k"))
}

func genKey(env *Env, vendor string) error {
	dir := env.Dir
	if dir == "" {
		dir = "."
	}
	keyPath, pubPath, err := licfile.GenerateKey(dir, vendor, nil)
	if err != nil {
		return fmt.Errorf("lmcrypt: %w", err)
	}
	fmt.Fprintf(env.Stdout, "lmcrypt: wrote %s (private key: keep it secret) and %s (public key)\n",
		filepath.Base(keyPath), filepath.Base(pubPath))
	pub, err := licfile.LoadPublicKey(pubPath)
	if err != nil {
		return fmt.Errorf("lmcrypt: %w", err)
	}
	fmt.Fprintf(env.Stdout, "lmcrypt: key fingerprint %s\n", pub.Fingerprint())
	fmt.Fprintf(env.Stdout, "lmcrypt: to build it into a vendor daemon: go build -ldflags \"-X golm/lmutil/server.publisherKeys=%s:%s\" golm/lmutil\n",
		vendor, hex.EncodeToString(pub.Key))
	return nil
}

// printKey prints the KEY: line of a key lmcrypt uses.
func printKey(env *Env, vendor string, pub ed25519.PublicKey, source string) {
	fmt.Fprintf(env.Stdout, "KEY: vendor %s fingerprint %s (%s)\n", vendor, licfile.KeyFingerprint(pub), source)
}

// readLicense reads and parses a license file for lmcrypt; a file that
// cannot be read is FlexLM error -1, syntax errors come back as perr with
// the lines that did parse.
func readLicense(env *Env, name string) (data []byte, f *licfile.File, perr error, err error) {
	data, err = os.ReadFile(env.Path(name))
	if err != nil {
		return nil, nil, nil, lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorCryptOpen, err, "License path: "+name)
	}
	f, perr = licfile.Parse(bytes.NewReader(data), name)
	if f == nil {
		return nil, nil, nil, lmerr.FromOS(lmerr.CantReadFile, lmerr.MinorCryptParse, perr, "License path: "+name)
	}
	return data, f, perr, nil
}

// signedLines returns f's FEATURE, INCREMENT, UPGRADE and PACKAGE lines.
func signedLines(f *licfile.File) []licfile.Line {
	var out []licfile.Line
	for _, l := range f.Order {
		if licfile.Signable(l) {
			out = append(out, l)
		}
	}
	return out
}

// lineVendors lists the vendors of lines, each once, sorted.
func lineVendors(lines []licfile.Line) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if v := lineVendorName(l); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// describeLine is how lmcrypt names a line: FILE:LINE: KEYWORD name vendor version.
func describeLine(name string, l licfile.Line) string {
	line := 0
	if sp := l.LineSpan(); sp != nil {
		line = sp.Pos.Line
	}
	var what string
	switch l := any(l).(type) {
	case *licfile.Feature:
		kw := "FEATURE"
		switch l.Kind {
		case licfile.KindIncrement:
			kw = "INCREMENT"
		case licfile.KindUpgrade:
			kw = "UPGRADE"
		}
		what = kw + " " + l.Name + " " + l.Vendor
		if l.Kind == licfile.KindUpgrade {
			what += " " + l.FromVersion.Text
		}
		what += " " + l.Version.Text
	case *licfile.Package:
		what = "PACKAGE " + l.Name + " " + l.Vendor
		if l.Version.Text != "" {
			what += " " + l.Version.Text
		}
	}
	return fmt.Sprintf("%s:%d: %s", name, line, what)
}

func signLicense(env *Env, name, outName string, keyFiles []string) error {
	data, f, perr, err := readLicense(env, name)
	if err != nil {
		return err
	}
	if perr != nil {
		fmt.Fprintln(env.Stderr, perr)
		fmt.Fprintf(env.Stderr, "lmcrypt: %s has errors; nothing signed\n", name)
		return &ExitError{Status: lmerr.ExitStatus(lmerr.BadFile)}
	}
	lines := signedLines(f)
	if len(lines) == 0 {
		return fmt.Errorf("lmcrypt: %s: %w", name, errNoLines)
	}
	problems, warnings := issueProblems(name, f, env.Time())
	for _, p := range problems {
		fmt.Fprintln(env.Stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(env.Stderr, "lmcrypt: %s breaks the license file rules; nothing signed\n", name)
		return &ExitError{Status: lmerr.ExitStatus(lmerr.BadFile)}
	}
	for _, w := range warnings {
		fmt.Fprintf(env.Stderr, "lmcrypt: warning: %s\n", w)
	}
	keys := map[string]ed25519.PrivateKey{}
	sources := map[string]string{}
	if len(keyFiles) > 0 {
		for _, kf := range keyFiles {
			k, err := licfile.LoadPrivateKey(env.Path(kf))
			if err != nil {
				return fmt.Errorf("lmcrypt: %w", err)
			}
			keys[k.Vendor] = k.Key
			sources[k.Vendor] = kf
		}
	} else {
		for _, v := range lineVendors(lines) {
			k, err := licfile.LoadPrivateKey(env.Path(v + ".key"))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("lmcrypt: %w", err)
			}
			if k.Vendor != v {
				return fmt.Errorf("lmcrypt: %s.key is the key of vendor %q", v, k.Vendor)
			}
			keys[v] = k.Key
			sources[v] = v + ".key"
		}
	}
	for _, v := range sortedKeys(keys) {
		printKey(env, v, keys[v].Public().(ed25519.PublicKey), sources[v])
	}
	out, signed, err := licfile.SignFile(data, f, keys)
	if err != nil {
		return fmt.Errorf("lmcrypt: %s: %w", name, err)
	}
	if len(signed) == 0 {
		for _, l := range lines {
			fmt.Fprintf(env.Stdout, "NOKEY: %s\n", describeLine(name, l))
		}
		return fmt.Errorf("lmcrypt: no key for any vendor of %s (looked for %s)", name, keyNames(lines))
	}
	g, err := checkSigned(out, name, keys, len(signed))
	if err != nil {
		return fmt.Errorf("lmcrypt: %s: %w", name, err)
	}
	target := name
	if outName != "" {
		target = outName
	}
	if err := writeAtomic(env.Path(target), env.Path(name), out); err != nil {
		return fmt.Errorf("lmcrypt: %w", err)
	}
	// The lines are reported where they stand in the signed file (old
	// manifest lines removed may have moved them up).
	for _, l := range signedLines(g) {
		verdict := "SIGNED"
		if _, ok := keys[lineVendorName(l)]; !ok {
			verdict = "NOKEY"
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", verdict, describeLine(name, l))
	}
	for _, m := range g.Manifests {
		if _, ok := keys[m.Vendor]; ok {
			fmt.Fprintf(env.Stdout, "MANIFEST: %s\n", describeManifest(name, m))
		}
	}
	return nil
}

// describeManifest is how lmcrypt names a manifest line.
func describeManifest(name string, m *licfile.Manifest) string {
	return fmt.Sprintf("%s:%d: manifest %s %d lines", name, m.Pos.Line, m.Vendor, m.Lines)
}

func keyNames(lines []licfile.Line) string {
	var names []string
	for _, v := range lineVendors(lines) {
		names = append(names, v+".key")
	}
	return strings.Join(names, ", ")
}

// checkSigned re-reads the signed output and verifies it, so that a file
// lmcrypt writes is one the vendor daemon accepts: every signed line
// verifies and each signing vendor has one manifest, which holds. It
// returns the signed file parsed.
func checkSigned(out []byte, name string, keys map[string]ed25519.PrivateKey, want int) (*licfile.File, error) {
	f, err := licfile.Parse(bytes.NewReader(out), name)
	if err != nil {
		return nil, fmt.Errorf("signed file does not parse: %w", err)
	}
	n := 0
	for _, l := range signedLines(f) {
		priv, ok := keys[lineVendorName(l)]
		if !ok {
			continue
		}
		if err := licfile.Verify(priv.Public().(ed25519.PublicKey), f, l); err != nil {
			return nil, fmt.Errorf("line %d does not verify after signing: %w", l.LineSpan().Pos.Line, err)
		}
		n++
	}
	if n != want {
		return nil, fmt.Errorf("signed %d lines but found %d after signing", want, n)
	}
	for _, v := range lineVendors(signedLines(f)) {
		priv, ok := keys[v]
		if !ok {
			continue
		}
		checks := licfile.VerifyManifests(priv.Public().(ed25519.PublicKey), f, v)
		if len(checks) != 1 || checks[0].Err != nil {
			return nil, fmt.Errorf("the manifest of vendor %s does not hold after signing", v)
		}
	}
	return f, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename, so that a reader never sees half a license file.
// The file keeps its mode if it exists, else takes modeFrom's.
func writeAtomic(path, modeFrom string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	} else if st, err := os.Stat(modeFrom); err == nil {
		mode = st.Mode().Perm()
	}
	return writeFileAtomic(path, data, mode)
}

func verifyLicense(env *Env, name string, keyFiles []string) error {
	_, f, perr, err := readLicense(env, name)
	if err != nil {
		return err
	}
	if perr != nil {
		fmt.Fprintln(env.Stderr, perr)
	}
	lines := signedLines(f)
	if len(lines) == 0 && perr == nil {
		return fmt.Errorf("lmcrypt: %s: %w", name, errNoLines)
	}
	keys, sources, err := publicKeys(env, name, keyFiles, lineVendors(lines))
	if err != nil {
		return err
	}
	for _, v := range sortedKeys(keys) {
		printKey(env, v, keys[v], sources[v])
	}
	// Each vendor's lines are checked together, so that its manifests
	// spare the per-line signature checks.
	byVendor := map[string][]licfile.Line{}
	for _, l := range lines {
		v := lineVendorName(l)
		byVendor[v] = append(byVendor[v], l)
	}
	verified := map[licfile.Line]error{}
	for v, vl := range byVendor {
		pub, ok := keys[v]
		if !ok {
			continue
		}
		for i, err := range licfile.VerifyAll(pub, f, vl) {
			verified[vl[i]] = err
		}
	}
	bad := 0
	good, wrong := paint(env, color.FgGreen), paint(env, color.FgRed, color.Bold)
	for _, l := range lines {
		verdict := "OK"
		_, ok := keys[lineVendorName(l)]
		switch {
		case !ok:
			verdict = "NOKEY"
		case lineSignValue(l) == "":
			verdict = "UNSIGNED"
		case verified[l] != nil:
			verdict = "BAD"
		}
		shown := good(verdict)
		if verdict != "OK" {
			bad++
			shown = wrong(verdict)
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", shown, describeLine(name, l))
	}
	for _, m := range f.Manifests {
		pub, ok := keys[m.Vendor]
		verdict := "NOKEY"
		if ok {
			verdict = "STALE"
			for _, c := range licfile.VerifyManifests(pub, f, m.Vendor) {
				if c.Manifest == m && c.Err == nil {
					verdict = "OK"
				}
			}
		}
		shown := good(verdict)
		if verdict != "OK" {
			shown = wrong(verdict)
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", shown, describeManifest(name, m))
	}
	if bad > 0 {
		return &ExitError{Status: lmerr.ExitStatus(lmerr.BadCode)}
	}
	if perr != nil {
		return &ExitError{Status: lmerr.ExitStatus(lmerr.BadFile)}
	}
	return nil
}

func lineSignValue(l licfile.Line) string {
	switch l := any(l).(type) {
	case *licfile.Feature:
		return l.Sign
	case *licfile.Package:
		return l.Sign
	}
	return ""
}

// publicKeys loads the verification keys: the -k files, or each vendor's
// key found as a vendor daemon finds it (server.PublisherKey: built in,
// beside this program, then beside the license file). sources names
// where each came from.
func publicKeys(env *Env, name string, keyFiles, vendors []string) (keys map[string]ed25519.PublicKey, sources map[string]string, err error) {
	keys, sources = map[string]ed25519.PublicKey{}, map[string]string{}
	if len(keyFiles) > 0 {
		for _, kf := range keyFiles {
			k, err := licfile.LoadPublicKey(env.Path(kf))
			if err != nil {
				return nil, nil, fmt.Errorf("lmcrypt: %w", err)
			}
			keys[k.Vendor] = k.Key
			sources[k.Vendor] = kf
		}
		return keys, sources, nil
	}
	licPath := env.Path(name)
	if abs, err := filepath.Abs(licPath); err == nil {
		licPath = abs
	}
	exe, _ := env.Executable()
	for _, v := range vendors {
		tk, err := server.PublisherKey(v, server.BuiltinKeys(), exe)
		if err != nil {
			return nil, nil, fmt.Errorf("lmcrypt: %w", err)
		}
		if tk != nil {
			keys[v], sources[v] = tk.Key.Key, tk.Source
			continue
		}
		k, _, err := licfile.FindPublicKey(v, licPath)
		if lmerr.CodeOf(err) == lmerr.BadCode {
			continue // reported as NOKEY per line
		}
		if err != nil {
			return nil, nil, fmt.Errorf("lmcrypt: %w", err)
		}
		// Named as the license file was: beside it.
		keys[v], sources[v] = k.Key, filepath.Join(filepath.Dir(name), v+".pub")
	}
	return keys, sources, nil
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
