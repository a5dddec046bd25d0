package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

func lmcksumApplet() *Applet {
	return &Applet{
		Name:        "lmcksum",
		Usage:       "lmcksum [-k] [-c license_file] [vendor]",
		Summary:     "print the checksum of every line of a license file",
		Description: manText("lmcksum"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.BoolFlag{Name: "k", Usage: "make the checksums of FEATURE, INCREMENT, UPGRADE and PACKAGE lines case-sensitive"},
				&cli.StringFlag{Name: "c", Usage: "checksum `license_file` instead of license.dat"},
			}
		},
		Action: runLmcksum,
	}
}

func runLmcksum(c *cli.Context, env *Env) error {
	a := Lookup("lmcksum")
	if c.NArg() > 1 {
		return usagef(a, "lmcksum: too many arguments")
	}
	vendor := c.Args().First()
	name := c.String("c")
	if name == "" {
		name = "license.dat"
	}
	out := env.Stdout
	// port@host, as the license path parser reads it (a file name may
	// hold an @ too).
	if srcs := env.LicenseSources(name, ""); len(srcs) == 1 && srcs[0].IsServer() {
		return lmcksumServer(c, env, name, srcs[0].Servers, vendor)
	}
	path := env.Path(name)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	fmt.Fprintln(out, Banner(env.Prog))
	fmt.Fprintf(out, "lmcksum: using license file \"%s\"\n", path)
	data, err := os.ReadFile(path)
	if err != nil {
		return lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorCksumOpen, err, "License path: "+path)
	}
	f, perr := licfile.Parse(bytes.NewReader(data), name)
	if f == nil {
		return lmerr.FromOS(lmerr.CantReadFile, lmerr.MinorCksumParse, perr, "License path: "+path)
	}
	bad := printChecksums(out, f, vendor, c.Bool("k"))
	return cksumStatus(env, perr, bad)
}

// lmcksumServer is lmcksum -c port@host: the checksums of the license
// files that server serves, each under its path on the server.
func lmcksumServer(c *cli.Context, env *Env, spec string, servers []licfile.ServerAddr, vendor string) error {
	out := env.Stdout
	fmt.Fprintln(out, Banner(env.Prog))
	files, err := serverLicenseFiles(c.Context, env, "lmcksum", servers)
	if err != nil {
		return err
	}
	var perr error
	bad := 0
	for _, sf := range files {
		fmt.Fprintf(out, "lmcksum: using license file \"%s\" (from %s)\n", sf.Path, spec)
		if sf.File == nil {
			return lmerr.FromOS(lmerr.CantReadFile, lmerr.MinorCksumSource, sf.Err, "License path: "+sf.Path)
		}
		bad += printChecksums(out, sf.File, vendor, c.Bool("k"))
		if perr == nil {
			perr = sf.Err
		}
	}
	return cksumStatus(env, perr, bad)
}

// cksumStatus is lmcksum's exit: -2 for bad lines, -8 for BAD ck= values.
func cksumStatus(env *Env, perr error, bad int) error {
	status := 0
	if perr != nil {
		fmt.Fprintln(env.Stderr, perr)
		status = lmerr.ExitStatus(lmerr.BadFile)
	}
	if bad > 0 {
		status = lmerr.ExitStatus(lmerr.BadCode)
	}
	if status != 0 {
		return &ExitError{Status: status}
	}
	return nil
}

// printChecksums writes the per-line checksums and the overall file
// checksum of f and returns how many ck= values were BAD.
func printChecksums(w io.Writer, f *licfile.File, vendor string, caseSensitive bool) (bad int) {
	var lines []licfile.Line
	for _, l := range f.Order {
		if vendor != "" && lineVendorName(l) != "" && lineVendorName(l) != vendor {
			continue
		}
		lines = append(lines, l)
	}
	for _, l := range lines {
		text := echoLine(l)
		if ok, has := licfile.CheckCk(l, f.Servers); has {
			verdict := "OK"
			if !ok {
				verdict = "BAD"
				bad++
			}
			fmt.Fprintf(w, "%s: %3d: %s\n", verdict, licfile.LineChecksum(l, f.Servers, false), text)
			continue
		}
		fmt.Fprintf(w, "%4d: %s\n", licfile.LineChecksum(l, f.Servers, caseSensitive), text)
	}
	fmt.Fprintf(w, "%4d: (overall file checksum)\n", licfile.FileChecksum(lines, f.Servers, caseSensitive))
	return bad
}

// lineVendorName is the vendor daemon a line belongs to; "" for SERVER and
// USE_SERVER lines, which belong to every vendor.
func lineVendorName(l licfile.Line) string {
	switch l := any(l).(type) {
	case *licfile.Vendor:
		return l.Name
	case *licfile.Feature:
		return l.Vendor
	case *licfile.Package:
		return l.Vendor
	}
	return ""
}

// echoLine is a line as written, its continuation lines indented by
// eight spaces.
func echoLine(l licfile.Line) string {
	raw := ""
	if sp := l.LineSpan(); sp != nil {
		raw = sp.Raw
	}
	if raw == "" {
		return l.String()
	}
	parts := strings.Split(raw, "\n")
	for i, p := range parts {
		p = strings.TrimRight(p, "\r")
		if i > 0 {
			p = "        " + strings.TrimLeft(p, " \t")
		}
		parts[i] = p
	}
	return strings.Join(parts, "\n")
}

// errNoLines is returned when a license file has nothing to sign or verify.
var errNoLines = errors.New("no FEATURE, INCREMENT, UPGRADE or PACKAGE lines")
