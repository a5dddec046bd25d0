package licfile

import (
	"strconv"
	"strings"
)

// ParseVersion parses a feature version: a non-negative decimal number
// with an optional fraction ("1", "1.000", "2016.050", ".5"). Letters or
// anything else are ErrVersion (-77, "must be floating-point number with
// no letters").
func ParseVersion(s string) (Version, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	if s == "" || (intPart == "" && frac == "") || !isDigits(intPart) || !isDigits(frac) {
		return Version{}, errorf(ErrVersion, "invalid version %q", s)
	}
	v := Version{Text: s, Frac: strings.TrimRight(frac, "0")}
	if intPart != "" {
		n, err := strconv.ParseUint(intPart, 10, 64)
		if err != nil {
			return Version{}, errorf(ErrVersion, "invalid version %q", s)
		}
		v.Int = n
	}
	return v, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Compare compares two versions as numbers: -1 if v < w, 0 if they are
// equal (1.0 == 1.000), +1 if v > w. 1.10 is 1.1, which is less than 1.9.
func (v Version) Compare(w Version) int {
	switch {
	case v.Int < w.Int:
		return -1
	case v.Int > w.Int:
		return 1
	}
	// Fractions without trailing zeros compare as digit strings: a
	// shorter prefix is the smaller number, and digit order is numeric.
	return strings.Compare(v.Frac, w.Frac)
}

// IsZero reports whether the version is absent (a PACKAGE line without
// one, a COMPONENTS entry without one).
func (v Version) IsZero() bool { return v.Text == "" }

// String returns the version as written.
func (v Version) String() string { return v.Text }
