package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
)

// flexlmrcName is the per-user settings file in $HOME (manual C.1.1).
const flexlmrcName = ".flexlmrc"

func lmpathApplet() *Applet {
	return &Applet{
		Name:        "lmpath",
		Usage:       "lmpath -status\nlmpath -add {all|vendor} license_path\nlmpath -override {all|vendor} license_path",
		Summary:     "show or set the license path in $HOME/.flexlmrc",
		Description: manText("lmpath"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.BoolFlag{Name: "status", Usage: "print the license path of every vendor"},
				&cli.StringFlag{Name: "add", Usage: "put the path in front of the setting for `vendor` (or all)"},
				&cli.StringFlag{Name: "override", Usage: "replace the setting for `vendor` (or all)"},
			}
		},
		Action: runLmpath,
	}
}

func runLmpath(c *cli.Context, env *Env) error {
	a := Lookup("lmpath")
	status, add, override := c.Bool("status"), c.IsSet("add"), c.IsSet("override")
	n := 0
	for _, set := range []bool{status, add, override} {
		if set {
			n++
		}
	}
	if n != 1 {
		return usagef(a, "lmpath: give one of -status, -add or -override")
	}
	home := env.Env("HOME")
	if home == "" {
		return errors.New("lmpath: HOME is not set: no $HOME/.flexlmrc")
	}
	rc := filepath.Join(home, flexlmrcName)
	if status {
		if c.NArg() > 0 {
			return usagef(a, "lmpath: -status takes no arguments")
		}
		return lmpathStatus(env, rc)
	}
	vendor := c.String("add")
	if override {
		vendor = c.String("override")
	}
	if c.NArg() != 1 {
		return usagef(a, "lmpath: give one license path after the vendor (use ':' between entries)")
	}
	varName, err := lmpathVar(vendor)
	if err != nil {
		return usagef(a, "lmpath: %v", err)
	}
	entries := absEntries(env, licfile.SplitPath(c.Args().First()))
	if len(entries) == 0 {
		return usagef(a, "lmpath: empty license path")
	}
	data, err := os.ReadFile(rc)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lmpath: %w", err)
	}
	if add {
		entries = mergeEntries(entries, licfile.SplitPath(licfile.ReadFlexlmrc(data)[varName]))
	}
	if err := writeFileAtomic(rc, setFlexlmrcVar(data, varName, strings.Join(entries, ":")), 0o644); err != nil {
		return fmt.Errorf("lmpath: %w", err)
	}
	if env.Env(varName) != "" {
		fmt.Fprintf(env.Stderr, "lmpath: %s is also set in the environment; its value comes first.\n", varName)
	}
	return lmpathStatus(env, rc)
}

// lmpathVar is the variable lmpath -add/-override sets for vendor.
func lmpathVar(vendor string) (string, error) {
	if strings.EqualFold(vendor, "all") {
		return licfile.LMLicenseFile, nil
	}
	if vendor == "" {
		return "", errors.New("no vendor name (use all for every vendor)")
	}
	for _, r := range vendor {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", fmt.Errorf("%q is not a vendor name", vendor)
		}
	}
	return licfile.VendorLicenseFileVar(vendor), nil
}

// absEntries makes the file and directory entries of a license path
// absolute; port@host entries stay as they are.
func absEntries(env *Env, entries []string) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if !strings.Contains(e, "@") || strings.ContainsAny(e, `/\`) {
			if p := env.Path(e); filepath.IsAbs(p) {
				e = filepath.Clean(p)
			} else if abs, err := filepath.Abs(p); err == nil {
				e = abs
			}
		}
		out = append(out, e)
	}
	return out
}

// mergeEntries is first followed by the entries of rest it does not
// already hold.
func mergeEntries(first, rest []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{first, rest} {
		for _, e := range l {
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// setFlexlmrcVar returns data with name set to value: the last line that
// sets name (the one ReadFlexlmrc takes) is replaced, keeping its line
// ending, or a line is appended. Every other byte is kept.
func setFlexlmrcVar(data []byte, name, value string) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	last := -1
	for i, l := range lines {
		line := strings.TrimSpace(string(l))
		if line == "" || line[0] == '#' {
			continue
		}
		if eq := strings.IndexByte(line, '='); eq > 0 && strings.TrimSpace(line[:eq]) == name {
			last = i
		}
	}
	set := name + "=" + value
	if last < 0 {
		var b bytes.Buffer
		b.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
		b.WriteString(set + "\n")
		return b.Bytes()
	}
	old := lines[last]
	ending := ""
	switch {
	case bytes.HasSuffix(old, []byte("\r\n")):
		ending = "\r\n"
	case bytes.HasSuffix(old, []byte("\n")):
		ending = "\n"
	}
	lines[last] = []byte(set + ending)
	return bytes.Join(lines, nil)
}

// effectivePath is the license path entries vendor ("" for any vendor)
// gets: VENDOR_LICENSE_FILE and LM_LICENSE_FILE from the environment, then
// from .flexlmrc, without repeats; license.dat when none is set.
func effectivePath(env *Env, rcVars map[string]string, vendor string) []string {
	vars := []string{licfile.LMLicenseFile}
	if vendor != "" {
		vars = []string{licfile.VendorLicenseFileVar(vendor), licfile.LMLicenseFile}
	}
	var lists [][]string
	for _, v := range vars {
		lists = append(lists, licfile.SplitPath(env.Env(v)))
	}
	for _, v := range vars {
		lists = append(lists, licfile.SplitPath(rcVars[v]))
	}
	var out []string
	for _, l := range lists {
		out = mergeEntries(out, l)
	}
	if len(out) == 0 {
		out = []string{licfile.DefaultLicenseFile}
	}
	return out
}

// rcVendors are the vendors with their own VENDOR_LICENSE_FILE in
// .flexlmrc, lower-cased, sorted.
func rcVendors(rcVars map[string]string) []string {
	var out []string
	for k, v := range rcVars {
		name, ok := strings.CutSuffix(k, "_LICENSE_FILE")
		if !ok || k == licfile.LMLicenseFile || name == "" || v == "" {
			continue
		}
		if _, err := lmpathVar(name); err != nil {
			continue
		}
		out = append(out, strings.ToLower(name))
	}
	sort.Strings(out)
	return out
}

func lmpathStatus(env *Env, rc string) error {
	data, err := os.ReadFile(rc)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lmpath: %w", err)
	}
	vars := licfile.ReadFlexlmrc(data)
	w := env.Stdout
	fmt.Fprintln(w, Banner(env.Prog))
	writeLmpathStatus(w, env, vars)
	return nil
}

func writeLmpathStatus(w io.Writer, env *Env, vars map[string]string) {
	fmt.Fprintln(w, "Known Vendors:")
	fmt.Fprintln(w, "_____________")
	fmt.Fprintln(w)
	for _, v := range rcVendors(vars) {
		fmt.Fprintf(w, "%s: %s\n", v, strings.Join(effectivePath(env, vars, v), ":"))
	}
	fmt.Fprintln(w, "_____________")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Other Vendors:")
	fmt.Fprintln(w, "______________")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s\n", strings.Join(effectivePath(env, vars, ""), ":"))
}
