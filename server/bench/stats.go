package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Runs is the result of several runs of one measurement.
type Runs []float64

// Median is the middle value (the mean of the two middle ones for an
// even count), NaN for no runs.
func (r Runs) Median() float64 {
	if len(r) == 0 {
		return math.NaN()
	}
	s := slices.Clone(r)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Spread is the half-range of the runs relative to their median, in
// percent: the ± a median is reported with.
func (r Runs) Spread() float64 {
	if len(r) < 2 {
		return 0
	}
	m := r.Median()
	if m == 0 {
		return 0
	}
	return (slices.Max(r) - slices.Min(r)) / 2 / math.Abs(m) * 100
}

// Format prints the median with unit and the spread, as the range of the
// runs: "31,204 pairs/s (29,800–32,100, n=5)".
func (r Runs) Format(unit string, digits int) string {
	if len(r) == 0 {
		return "n/a"
	}
	if len(r) == 1 {
		return fmt.Sprintf("%s %s (n=1)", Group(r[0], digits), unit)
	}
	return fmt.Sprintf("%s %s (%s–%s, n=%d)", Group(r.Median(), digits), unit, Group(slices.Min(r), digits), Group(slices.Max(r), digits), len(r))
}

// Group formats v with digits decimals and thousands separators.
func Group(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	s := fmt.Sprintf("%.*f", digits, math.Abs(v))
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i:]
			break
		}
	}
	var out []byte
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, intPart[i])
	}
	sign := ""
	if v < 0 {
		sign = "-"
	}
	return sign + string(out) + frac
}

// Percentile returns the q-th quantile (0 < q < 1) of sorted samples by
// the nearest-rank method, 0 for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Millis is d in milliseconds as a float.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
