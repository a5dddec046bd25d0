package licfile

// refParseDate is the first implementation of ParseDate, kept as the
// reference the allocation-free one must match.

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

var refMonths = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March,
	"apr": time.April, "may": time.May, "jun": time.June,
	"jul": time.July, "aug": time.August, "sep": time.September,
	"oct": time.October, "nov": time.November, "dec": time.December,
}

// refParseDate parses a license date: d-mmm-yyyy with the month name in any
// case (7-may-1996, 31-MAY-2025), or the keyword permanent (any case).
// A two-digit year means 19yy (manual: dates before 2000 may have two
// digits, later ones must have four). A year of 0, 00, 000 or 0000 and
// permanent mean the license never expires. Anything else is ErrDate (-11).
func refParseDate(s string) (Date, error) {
	bad := func() (Date, error) { return Date{}, errorf(ErrDate, "invalid date %q", s) }
	if strings.EqualFold(s, "permanent") {
		return Date{Text: s, Day: 1, Month: time.January}, nil
	}
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return bad()
	}
	ds, ms, ys := parts[0], parts[1], parts[2]
	if len(ds) == 0 || len(ds) > 2 || !isDigits(ds) || len(ys) == 0 || len(ys) > 4 || !isDigits(ys) {
		return bad()
	}
	m, ok := refMonths[strings.ToLower(ms)]
	if !ok {
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

// FuzzParseDate checks ParseDate against the reference: the same date or
// the same error for any text.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1-jan-2005", "31-DEC-99", "29-feb-0", "permanent", "1-jan-20-05", "1--2005", "1-JaN-0000", "1-Kan-2005", "30-feb-2000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gerr := ParseDate(s)
		want, werr := refParseDate(s)
		if got != want || (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("%q: %+v, %v; want %+v, %v", s, got, gerr, want, werr)
		}
	})
}
