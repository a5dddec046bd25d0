package reportlog

import (
	"errors"
	"fmt"
	"os"
	"sort"
)

// Errors of CheckSet, wrapped in a *RecordError at line 1 of the later
// file (and in ErrChain, so that Verify's callers need test only that).
var (
	// ErrGap: records are missing between two files of the set (a file
	// was left out, or the log was restarted from an older file).
	ErrGap = errors.New("records missing between files")
	// ErrFork: two files hold the same sequence numbers, or a file
	// continues another record than the last of the file before it: the
	// chain was continued twice from one point.
	ErrFork = errors.New("the chain forks")
)

// fileRange is the sequence numbers a file of a set holds.
type fileRange struct {
	name        string
	first, last uint64 // last < first: no record
	prev        string // the header's prev
	lastHash    string // the last record's hash (prev when none)
}

// CheckSet looks at the files of a set as one chain, from their headers
// and last records only, and returns every gap and fork between them, in
// chain order: a gap names the files on either side and the sequence
// numbers missing; a fork names the files that hold the same numbers or
// continue different records. A file whose last record does not verify
// is left out of the comparison (Verify reports it). The error is for a
// file that cannot be read or has no header.
func CheckSet(files ...string) ([]error, error) {
	var rs []fileRange
	for _, name := range files {
		h, err := readHeader(name)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		t, err := readTail(f)
		f.Close()
		if err != nil || t.empty {
			continue
		}
		rs = append(rs, fileRange{name: name, first: h.Seq, last: t.seq - 1, prev: h.Prev, lastHash: t.prev})
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].first < rs[j].first })
	var probs []error
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1], rs[i]
		// Compare b with the file before it that reaches furthest, so
		// that one long file overlapping several is one fork each.
		for j := i - 2; j >= 0; j-- {
			if rs[j].last > a.last {
				a = rs[j]
			}
		}
		pos := Position{b.name, 1}
		switch {
		case a.last < a.first:
			// a holds no record: b must start where a does.
			if b.first != a.first || b.prev != a.prev {
				probs = append(probs, &RecordError{pos, fmt.Errorf("%w: %w: %s starts at seq %d, but %s, which holds no record, at seq %d",
					ErrChain, ErrGap, b.name, b.first, a.name, a.first)})
			}
		case b.first <= a.last:
			probs = append(probs, &RecordError{pos, fmt.Errorf("%w: %w: %s holds seq %s and %s seq %s; both hold seq %s",
				ErrChain, ErrFork, a.name, span(a.first, a.last), b.name, span(b.first, b.last), span(b.first, min(a.last, b.last)))})
		case b.first == a.last+1 && b.prev != a.lastHash:
			probs = append(probs, &RecordError{pos, fmt.Errorf("%w: %w after seq %d: %s starts at seq %d but does not continue the last record of %s",
				ErrChain, ErrFork, a.last, b.name, b.first, a.name)})
		case b.first > a.last+1:
			probs = append(probs, &RecordError{pos, fmt.Errorf("%w: %w: seq %s missing between %s (ends at seq %d) and %s (starts at seq %d)",
				ErrChain, ErrGap, span(a.last+1, b.first-1), a.name, a.last, b.name, b.first)})
		}
	}
	return probs, nil
}

func span(a, b uint64) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}
