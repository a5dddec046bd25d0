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
		Name:    "lmcksum",
		Usage:   "lmcksum [-k] [-c license_file] [vendor]",
		Summary: "print the checksum of every line of a license file",
		Description: `lmcksum checksums a license file line by line, to catch typing mistakes
in a license entered by hand: compare each number with the one the
software publisher gives, or let lmcksum compare it with the line's ck=
attribute. It reads license.dat in the current directory unless -c names
another file (unlike the other commands, it does not follow
LM_LICENSE_FILE). With -c port@host it checksums the license files that
server serves, as the server reads them, each under its path there. With a vendor argument only the SERVER lines and that
vendor's lines are checksummed.

After the banner lmcksum prints "lmcksum: using license file "PATH""
with the absolute path, then one line per license line in file order:
the checksum right-aligned in four columns, a colon, a space and the line
as written; continuation lines follow indented by eight spaces. A line
that carries ck=N is instead prefixed with "OK: " or "BAD: " and its
checksum in three columns. The last line is the overall file checksum,
"%4d: (overall file checksum)". Comments and blank lines are skipped;
lines that do not parse are reported on standard error.

The checksum of a text is the sum of its byte values, printed reduced to
one byte by adding the four bytes of the sum modulo 256. Only what a
license's signature covers is summed, so the fields an administrator may
change do not alter it: for a SERVER line the hostid (hex in lower case),
for a DAEMON or VENDOR line the keyword and the vendor name
("DAEMON xyzd"), for USE_SERVER the keyword. For FEATURE, INCREMENT,
UPGRADE and PACKAGE lines it is golm's signed form of the line (see
lmcrypt): the keyword, name, vendor, version as a number, dates as
d-mmm-yyyy, the count, every attribute whose keyword is not all lower
case, and for all but PACKAGE the hostids of the file's SERVER lines.
The line's license key, SIGN=, and lowercase keyword=value attributes
such as vendor_info= and ck= are not summed. The signed form is folded to
lower case, so "F1" and "f1" sum the same, unless -k is given. The
overall file checksum is the reduced sum of the unreduced line sums.

A ck= value is always the case-folded checksum of its line (lmcrypt
writes it), so -k does not change the OK/BAD verdict or the number
printed beside it.

lmcksum exits 0 when every ck= matches, with status 248 (FlexLM error
-8) when a line is BAD, with 254 (-2) when a line does not parse, and
with 255 (-1) when the file cannot be read.`,
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
