package licfile

import (
	"strconv"
	"strings"
	"time"
)

// monthNumber returns the month a three-letter name in any case stands
// for (jan, FEB, Mar, ...), 0 for anything else. No other character folds
// to one of the ASCII letters of the month names, so comparing ASCII
// letters case-insensitively is what strings.ToLower would give.
func monthNumber(s string) time.Month {
	if len(s) != 3 {
		return 0
	}
	var lower [3]byte
	for i := range 3 {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for i, name := range monthAbbrev {
		if string(lower[:]) == name {
			return time.Month(i + 1)
		}
	}
	return 0
}

// ParseDate parses a license date: d-mmm-yyyy with the month name in any
// case (7-may-1996, 31-MAY-2025), or the keyword permanent (any case).
// A two-digit year means 19yy (manual: dates before 2000 may have two
// digits, later ones must have four). A year of 0, 00, 000 or 0000 and
// permanent mean the license never expires. Anything else is ErrDate (-11).
func ParseDate(s string) (Date, error) {
	bad := func() (Date, error) { return Date{}, errorf(ErrDate, "invalid date %q", s) }
	if strings.EqualFold(s, "permanent") {
		return Date{Text: s, Day: 1, Month: time.January}, nil
	}
	ds, rest, ok := strings.Cut(s, "-")
	if !ok {
		return bad()
	}
	ms, ys, ok := strings.Cut(rest, "-")
	if !ok || strings.IndexByte(ys, '-') >= 0 {
		return bad()
	}
	if len(ds) == 0 || len(ds) > 2 || !isDigits(ds) || len(ys) == 0 || len(ys) > 4 || !isDigits(ys) {
		return bad()
	}
	m := monthNumber(ms)
	if m == 0 {
		return bad()
	}
	day, _ := strconv.Atoi(ds)
	year, _ := strconv.Atoi(ys)
	switch {
	case year == 0:
		// permanent: the day and month still have to be a real date.
	case len(ys) == 2:
		year += 1900
	case len(ys) == 4:
	default:
		return bad()
	}
	check := year
	if check == 0 {
		check = 2000 // a leap year, so 29-feb-0 is accepted
	}
	if day < 1 || day > daysIn(m, check) {
		return bad()
	}
	return Date{Text: s, Day: day, Month: m, Year: year}, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsZero reports whether the date is absent (no START= on the line).
func (d Date) IsZero() bool { return d.Text == "" }

// Permanent reports whether the date never expires: year 0 or the
// keyword permanent.
func (d Date) Permanent() bool { return d.Text != "" && d.Year == 0 }

// Time returns the start of the date's day in UTC; the zero Time for a
// permanent or absent date.
func (d Date) Time() time.Time {
	if d.Year == 0 {
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// Expired reports whether a license with this expiry date has expired at
// now. A license is good through its whole expiry day in now's time
// zone, and a permanent or absent date never expires.
func (d Date) Expired(now time.Time) bool {
	if d.Year == 0 {
		return false
	}
	y, m, day := now.Date()
	if y != d.Year {
		return y > d.Year
	}
	if m != d.Month {
		return m > d.Month
	}
	return day > d.Day
}

// String returns the date as written.
func (d Date) String() string { return d.Text }
