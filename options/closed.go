package options

import (
	"errors"
	"io/fs"
	"sort"
	"strings"
	"syscall"
)

// A line that restricts access and cannot be parsed must never widen
// access: dropping an EXCLUDE would admit the excluded, dropping an
// INCLUDE everybody. Such a line closes what it names instead: a Closure.

// Closure is a feature that an options file serves to nobody until it is
// fixed: a line that restricts access (INCLUDE, INCLUDEALL, EXCLUDE,
// EXCLUDEALL, INCLUDE_BORROW, EXCLUDE_BORROW, RESERVE, MAX,
// MAX_OVERDRAFT, or a GROUP or HOST_GROUP line one of those uses) failed
// to parse. When the bad line names no feature that can be read (it is
// truncated, unreadable, an INCLUDEALL or EXCLUDEALL) or the file itself
// cannot be read, Feature is "" and every feature is closed.
type Closure struct {
	Feature string // "" for every feature
	// Err is why: the *ParseError of the bad line (for a bad group, the
	// GROUP or HOST_GROUP line's), or why the file cannot be read.
	Err error
}

// String names what is closed and why:
//
//	f1 is served to nobody: vendor.opt:3:12: INCLUDE: unknown type "USR" (-90)
func (c *Closure) String() string {
	what := "every feature"
	if c.Feature != "" {
		what = c.Feature
	}
	return what + " is served to nobody: " + c.Err.Error()
}

// Closed returns the closure that keeps the feature from everybody, nil
// when the file lets it be served. It does not allocate.
func (o *Options) Closed(feature string) *Closure {
	if o == nil {
		return nil
	}
	if o.closedAll != nil {
		return o.closedAll
	}
	if fr := o.feature[feature]; fr != nil {
		return fr.closed
	}
	return nil
}

// Unreadable returns the options of a file that exists, or that the
// license file names, but cannot be read: every feature closed. err is
// the error of opening or reading path.
func Unreadable(path string, err error) *Options {
	o := &Options{File: path, Groups: map[string][]string{}, HostGroups: map[string][]string{}, g: &groups{}}
	o.Closures = []*Closure{{Err: &FileError{File: path, Reason: reason(err)}}}
	o.index(nil)
	return o
}

// FileError is an options file that cannot be read, printed like a
// ParseError without a position:
//
//	vendor.opt: cannot open options file: permission denied (-30)
type FileError struct {
	File   string
	Reason string // the operating system's words: "permission denied"
}

// Error prints file: cannot open options file: reason (-30).
func (e *FileError) Error() string {
	return e.File + ": cannot open options file: " + e.Reason + " (-30)"
}

// Unwrap returns ErrUnreadable.
func (e *FileError) Unwrap() error { return ErrUnreadable }

// reason is the operating system's words for err, without Go's wrapping
// (the path and the call): "no such file or directory".
func reason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Restricting option keywords and the word of their line that names the
// feature: 1 or 2; 0 for every feature (the ...ALL keywords); -1 for a
// group definition, whose name is word 1. INCLUDE_BORROW and
// EXCLUDE_BORROW (later FlexNet releases) are read and checked like
// INCLUDE; golm lends no licenses for borrowing, so they change nothing
// else.
var restricting = map[string]int{
	"INCLUDE": 1, "EXCLUDE": 1, "INCLUDE_BORROW": 1, "EXCLUDE_BORROW": 1,
	"INCLUDEALL": 0, "EXCLUDEALL": 0,
	"RESERVE": 2, "MAX": 2, "MAX_OVERDRAFT": 1,
	"GROUP": -1, "USER_GROUP": -1, "HOST_GROUP": -1,
}

// restrictingByLength are the restricting keywords, shortest first, so
// that a truncated keyword is taken for the shortest it begins.
var restrictingByLength = []string{"MAX", "GROUP", "INCLUDE", "EXCLUDE", "RESERVE", "INCLUDEALL", "EXCLUDEALL", "HOST_GROUP", "USER_GROUP", "MAX_OVERDRAFT", "INCLUDE_BORROW", "EXCLUDE_BORROW"}

// otherKeywords are the keywords that restrict nothing: a misspelling
// nearer to one of them than to a restricting one is no restriction.
var otherKeywords = []string{"LINGER", "TIMEOUT", "TIMEOUTALL", "NOLOG", "REPORTLOG", "DEBUGLOG", "GROUPCASEINSENSITIVE"}

// scope is what a line would close if it failed.
type scope struct {
	restricts bool
	all       bool   // every feature
	feature   string // the feature it names
	group     string // a group definition: its name
	groupType Type   // TypeGroup or TypeHostGroup
}

// classify reads a logical line roughly, so that it works on a line too
// long or too broken to parse: is it a restricting line, and what does
// it name? An unknown keyword restricts when it starts with INCLUDE or
// EXCLUDE, is a misspelling or truncation of a restricting keyword
// (INCLUD, EXLCUDE, RES), or is not readable text at all.
func classify(text string) scope {
	words := roughWords(text)
	if len(words) == 0 {
		return scope{}
	}
	kw := strings.ToUpper(words[0])
	at, known := restricting[kw]
	if !known {
		switch {
		case !readable(kw):
			return scope{restricts: true, all: true}
		case strings.HasPrefix(kw, "INCLUDE"), strings.HasPrefix(kw, "EXCLUDE"):
			at = 1
			if strings.Contains(kw[len("INCLUDE"):], "ALL") {
				at = 0
			}
		default:
			near, ok := nearestRestricting(kw)
			if !ok {
				return scope{}
			}
			kw, at = near, restricting[near]
		}
	}
	switch {
	case at == 0:
		return scope{restricts: true, all: true}
	case at < 0:
		if len(words) < 2 || !readable(words[1]) {
			return scope{restricts: true, all: true}
		}
		t := TypeGroup
		if kw == "HOST_GROUP" {
			t = TypeHostGroup
		}
		return scope{restricts: true, group: words[1], groupType: t}
	case len(words) <= at:
		return scope{restricts: true, all: true}
	}
	feat, _, _ := strings.Cut(words[at], ":")
	if feat == "" || !readable(feat) {
		return scope{restricts: true, all: true}
	}
	return scope{restricts: true, feature: feat}
}

// roughWords cuts a line at blanks and drops double quotes, whether or
// not they pair up.
func roughWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isBlank(byte(r)) }) {
		if w = strings.ReplaceAll(w, `"`, ""); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// readable reports whether s is printable ASCII: what keywords, feature
// names and group names are made of.
func readable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// nearestRestricting returns the restricting keyword kw is a misspelling
// or a truncation of: a keyword it begins (EXCL, RES), else one within
// one edit for keywords of up to five letters (MAX, GROUP), two for
// longer ones, and no nearer to a keyword that restricts nothing.
func nearestRestricting(kw string) (string, bool) {
	for _, k := range restrictingByLength {
		if strings.HasPrefix(k, kw) {
			return k, true
		}
	}
	best, bestD := "", 1<<30
	for k := range restricting {
		if d := editDistance(kw, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	limit := 2
	if len(best) <= 5 {
		limit = 1
	}
	if bestD > limit {
		return "", false
	}
	for _, k := range otherKeywords {
		if editDistance(kw, k) < bestD {
			return "", false
		}
	}
	return best, true
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// brokenIn returns the error of a broken group that name stands for,
// itself or nested to any depth, or nil.
func brokenIn(defs map[string][]string, broken map[string]*ParseError, name string) *ParseError {
	seen := map[string]bool{}
	var walk func(string) *ParseError
	walk = func(g string) *ParseError {
		if seen[g] {
			return nil
		}
		seen[g] = true
		if e := broken[g]; e != nil {
			return e
		}
		for _, m := range defs[g] {
			if e := broken[m]; e != nil {
				return e
			}
			if _, isGroup := defs[m]; isGroup {
				if e := walk(m); e != nil {
					return e
				}
			}
		}
		return nil
	}
	return walk(name)
}

// sortClosures orders closures by the position of their error, the
// unreadable file first.
func sortClosures(cs []*Closure) {
	key := func(c *Closure) (string, int, int) {
		var pe *ParseError
		if errors.As(c.Err, &pe) {
			return pe.File, pe.Line, pe.Column
		}
		return "", 0, 0
	}
	sort.SliceStable(cs, func(i, j int) bool {
		fi, li, ci := key(cs[i])
		fj, lj, cj := key(cs[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
}
