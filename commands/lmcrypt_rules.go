package commands

import (
	"fmt"
	"strings"
	"time"

	"golm/lmutil/licfile"
)

// issueProblems are the rules of the manual that a license file parses
// without but lmcrypt refuses to sign, and the warnings it prints for
// lines that sign but serve nobody. Refused: an uncounted line without a
// hostid (uncounted lines are node-locked, manual 3.2.4), two SERVER
// lines (one, or three for redundant servers, manual 3.2.1), and a date
// with a two-digit year (which means 19yy: 1-jan-05 is 1905, not 2005).
// Warned: an expiry date that has passed.
func issueProblems(name string, f *licfile.File, now time.Time) (problems, warnings []string) {
	at := func(line int, format string, args ...any) string {
		return fmt.Sprintf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	if len(f.Servers) == 2 {
		problems = append(problems, at(f.Servers[1].Pos.Line,
			"two SERVER lines: a license names one server, or three redundant ones"))
	}
	for _, l := range f.Features {
		_, what, _ := strings.Cut(describeLine(name, l), ": ")
		if l.Count == 0 && len(l.HostID) == 0 {
			problems = append(problems, at(l.Pos.Line, "%s: an uncounted line needs a HOSTID", what))
		}
		for _, d := range []struct {
			field string
			date  licfile.Date
		}{{"expiration date", l.Expiry}, {"START", l.Start}, {"ISSUED", l.Issued}} {
			if twoDigitYear(d.date) {
				problems = append(problems, at(l.Pos.Line, "%s: %s %s reads as %d-%s-%d: write the year with four digits",
					what, d.field, d.date.Text, d.date.Day, strings.ToLower(d.date.Month.String()[:3]), d.date.Year))
			}
		}
		if l.Expiry.Expired(now) && !twoDigitYear(l.Expiry) {
			warnings = append(warnings, at(l.Pos.Line, "%s: expired on %s", what, l.Expiry.Text))
		}
	}
	return problems, warnings
}

// twoDigitYear reports whether d was written with a two-digit year other
// than 00 (which means permanent).
func twoDigitYear(d licfile.Date) bool {
	i := strings.LastIndexByte(d.Text, '-')
	return i >= 0 && len(d.Text)-i-1 == 2 && d.Year != 0
}
