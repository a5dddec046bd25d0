package commands

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

func lmstatApplet() *Applet {
	return &Applet{
		Name:        "lmstat",
		Aliases:     []string{"stat"},
		Usage:       "lmstat [-a] [-A] [-c license_file_list] [-f [feature]] [-i [feature]] [-l [regex]] [-s [server]] [-S [vendor]] [-t timeout] [-lm] [-vd] [-asec] [-json]",
		Summary:     "report license server status and the features of a license file",
		Description: manText("lmstat"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.BoolFlag{Name: "a", Usage: "display everything"},
				&cli.BoolFlag{Name: "A", Usage: "list all active licenses"},
				&cli.StringFlag{Name: "c", Usage: "use the license files or servers of `license_file_list`"},
				&cli.StringFlag{Name: "f", Usage: "list the users of `[feature]`, of every feature without one"},
				&cli.StringFlag{Name: "l", Usage: "list the users of the features whose names match `[regex]`, of every feature without one"},
				&cli.StringFlag{Name: "i", Usage: "list the license file lines of `[feature]`, of every feature without one"},
				&cli.StringFlag{Name: "s", Usage: "display the status of license server `[server]`, of every server without one"},
				&cli.StringFlag{Name: "S", Usage: "list the users of the features of vendor daemon `[vendor]`"},
				&cli.IntFlag{Name: "t", Usage: "wait at most `timeout` seconds for a server"},
				&cli.BoolFlag{Name: "lm", Usage: "display the license server status only"},
				&cli.BoolFlag{Name: "vd", Usage: "display the vendor daemon status only"},
				&cli.BoolFlag{Name: "asec", Usage: "show start times with seconds"},
				&cli.BoolFlag{Name: "json", Usage: "print everything -a shows as one JSON document"},
			}
		},
		Optional: []string{"f", "i", "l", "S", "s"},
		Action:   runLmstat,
	}
}

func runLmstat(c *cli.Context, env *Env) error {
	if c.NArg() > 0 {
		return &UsageError{Applet: "lmstat", Msg: fmt.Sprintf("lmstat: unexpected argument %q", c.Args().First())}
	}
	if c.IsSet("i") {
		return lmstatInfo(c, env, c.String("i"))
	}
	return lmstatServer(c, env)
}

// statusDate is the date line of lmstat output: weekday, month/day/year
// unpadded, hour and minute padded (Mon 5/6/2019 18:20).
func statusDate(t time.Time) string {
	return fmt.Sprintf("%s %d/%d/%d %02d:%02d", t.Weekday().String()[:3], int(t.Month()), t.Day(), t.Year(), t.Hour(), t.Minute())
}

// lmstatInfo is lmstat -i [feature]: the license file lines, read from
// the files of the license path, without asking any server.
func lmstatInfo(c *cli.Context, env *Env, feature string) error {
	var files []*licfile.File
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	syntax := func(list licfile.ErrorList) {
		for _, e := range list {
			fmt.Fprintln(env.Stderr, e)
		}
		fail(lmerr.New(list[0].Code, lmerr.MinorStatSyntax))
	}
	for _, src := range env.LicenseSources(c.String("c"), "") {
		if src.IsServer() {
			// As lmutil does, lmstat -i of port@host reads the license
			// files the server serves.
			var opts []client.Option
			if t := c.Int("t"); t > 0 {
				opts = append(opts, client.WithDialTimeout(time.Duration(t)*time.Second), client.WithCallTimeout(time.Duration(t)*time.Second))
			}
			got, err := serverLicenseFiles(c.Context, env, "lmstat", src.Servers, opts...)
			if err != nil {
				fmt.Fprintf(env.Stderr, "lmstat: %s: %v\n", src.String(), err)
				fail(err)
				continue
			}
			for _, sf := range got {
				var list licfile.ErrorList
				if errors.As(sf.Err, &list) {
					syntax(list)
				}
				if sf.File != nil {
					files = append(files, sf.File)
				}
			}
			continue
		}
		path := src.File
		f, err := licfile.ParseFile(path)
		var list licfile.ErrorList
		switch {
		case errors.As(err, &list):
			syntax(list)
		case err != nil:
			le := lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorStatNoFile, err, "License path: "+path)
			fmt.Fprintf(env.Stderr, "lmstat: %s: %v\n", path, le)
			fail(le)
			continue
		}
		files = append(files, f)
	}
	fmt.Fprintln(env.Stdout, Banner(env.Prog))
	fmt.Fprintln(env.Stdout, statusDate(env.Time()))
	fmt.Fprintln(env.Stdout)
	writeInfoTable(env.Stdout, files, feature)
	return alreadyPrinted(firstErr)
}

// infoNote opens lmstat -i output; the second line ends with a space.
const infoNote = "NOTE: lmstat -i does not give information from the server,\n" +
	"      but only reads the license file.  For this reason, \n" +
	"      lmstat -a is recommended instead.\n"

// writeInfoTable writes the note and the table of lmstat -i. Headings
// start at columns 0, 32, 44, 57 and 71; a row's count starts one column
// right of its heading, at 45. A value too wide for its column is
// followed by one space, so that the fields stay separable.
func writeInfoTable(w io.Writer, files []*licfile.File, feature string) {
	io.WriteString(w, infoNote)
	fmt.Fprintln(w)
	fmt.Fprintln(w, pad("Feature", 32)+pad("Version", 12)+pad("#licenses", 13)+pad("Vendor", 14)+"Expires")
	fmt.Fprintln(w, pad("_______", 32)+pad("_________", 12)+pad("_________", 13)+pad("______", 14)+"________")
	for _, f := range files {
		for _, l := range f.Features {
			if l.Kind == licfile.KindUpgrade || (feature != "" && l.Name != feature) {
				continue
			}
			fmt.Fprintln(w, pad(l.Name, 32)+pad(l.Version.Text, 13)+pad(infoCount(l), 12)+pad(l.Vendor, 14)+infoExpiry(l.Expiry))
		}
	}
}

// pad left-aligns s in width columns, with at least one space after it.
func pad(s string, width int) string {
	n := width - len(s)
	if n < 1 {
		n = 1
	}
	return s + strings.Repeat(" ", n)
}

func infoCount(f *licfile.Feature) string {
	if f.Count == 0 {
		return "uncounted"
	}
	return fmt.Sprint(f.Count)
}

// infoExpiry is the expiry as written, but the keyword permanent reads
// permanent(no expiration date) as in lmstat -a.
func infoExpiry(d licfile.Date) string {
	if strings.EqualFold(d.Text, "permanent") {
		return "permanent(no expiration date)"
	}
	return d.Text
}
