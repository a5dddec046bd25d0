package options

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golm/lmutil/licfile"
)

// Type is the kind of the members an option line names.
type Type uint8

// The member types of manual 6.2.
const (
	TypeUser      Type = iota + 1 // USER: the user name, case-sensitive
	TypeHost                      // HOST: the host name, compared ignoring case
	TypeDisplay                   // DISPLAY: the X display (or terminal), case-sensitive
	TypeInternet                  // INTERNET: the peer IPv4 address, * matching any part
	TypeProject                   // PROJECT: the client's LM_PROJECT, case-sensitive
	TypeGroup                     // GROUP: a user group of GROUP/USER_GROUP lines
	TypeHostGroup                 // HOST_GROUP: a host group of HOST_GROUP lines
)

var typeNames = [...]string{
	TypeUser:      "USER",
	TypeHost:      "HOST",
	TypeDisplay:   "DISPLAY",
	TypeInternet:  "INTERNET",
	TypeProject:   "PROJECT",
	TypeGroup:     "GROUP",
	TypeHostGroup: "HOST_GROUP",
}

// String returns the type's keyword as lmstat prints it (USER, HOST_GROUP).
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return ""
}

// parseType reads a member type keyword in any case; USER_GROUP is an
// alias of GROUP as on the line keyword.
func parseType(s string) (Type, bool) {
	u := strings.ToUpper(s)
	if u == "USER_GROUP" {
		return TypeGroup, true
	}
	for t, n := range typeNames {
		if n != "" && n == u {
			return Type(t), true
		}
	}
	return 0, false
}

// Requester is who asks for a license, as the vendor daemon knows it.
// User, Host and Display are what the client says; IP must be the
// connection's real peer address, never one the client claims; Project
// is the client's LM_PROJECT.
type Requester struct {
	User    string
	Host    string
	Display string
	IP      netip.Addr
	Project string
}

// Selector names the license lines an option applies to:
// feature[:keyword=value] (manual 6.2, "Feature Specification"). With no
// keyword it selects every line of the feature.
type Selector struct {
	Feature string
	// Key is the selector keyword: upper case for the standard ones
	// (VERSION, HOSTID, EXPDATE, KEY, SIGN, VENDOR_STRING, ISSUER,
	// NOTICE, SN), as written for the lower-case user-editable ones
	// (dist_info, user_info, asset_info, ...); "" when absent.
	Key   string
	Value string // the value, unquoted

	version licfile.Version
	hostids licfile.HostIDList
	expiry  licfile.Date
}

// String renders the selector as written in canonical form.
func (s *Selector) String() string {
	if s.Key == "" {
		return s.Feature
	}
	v := s.Value
	if v == "" || strings.ContainsAny(v, " \t") {
		v = `"` + v + `"`
	}
	return s.Feature + ":" + s.Key + "=" + v
}

// MatchesLine reports whether the license line is one the selector's
// keyword=value picks. The feature name is not compared (the caller has
// looked the feature up already). A selector without a keyword matches
// every line, nil included; one with a keyword never matches nil.
func (s *Selector) MatchesLine(line *licfile.Feature) bool {
	if s.Key == "" {
		return true
	}
	if line == nil {
		return false
	}
	switch s.Key {
	case "VERSION":
		return line.Version.Compare(s.version) == 0
	case "HOSTID":
		if len(line.HostID) != len(s.hostids) {
			return false
		}
		for i, h := range s.hostids {
			if h.Type != line.HostID[i].Type || h.Value != line.HostID[i].Value {
				return false
			}
		}
		return true
	case "EXPDATE":
		e := line.Expiry
		if e.Permanent() || s.expiry.Permanent() {
			return e.Permanent() && s.expiry.Permanent()
		}
		return e.Day == s.expiry.Day && e.Month == s.expiry.Month && e.Year == s.expiry.Year
	case "KEY":
		return line.Key != "" && strings.EqualFold(line.Key, s.Value)
	case "SIGN":
		return line.Sign != "" && equalSign(line.Sign, s.Value)
	case "VENDOR_STRING":
		return line.VendorString == s.Value
	case "ISSUER":
		return line.Issuer == s.Value
	case "NOTICE":
		return line.Notice == s.Value
	case "SN":
		return line.SN == s.Value
	}
	for i := range line.Attrs {
		a := &line.Attrs[i]
		if a.Key == s.Key && a.Value == s.Value {
			return true
		}
	}
	return false
}

// equalSign compares two signatures ignoring blanks and case: SIGN=
// values are hex, often quoted and broken into groups.
func equalSign(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && isBlank(a[i]) {
			i++
		}
		for j < len(b) && isBlank(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i++
		j++
	}
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Members is the typed member list of an INCLUDE, EXCLUDE, RESERVE or
// MAX line: USER joe barbara, GROUP stars, INTERNET 123.123.123.*.
type Members struct {
	Type  Type
	Names []string // as written; group names for GROUP and HOST_GROUP

	internet []ipPattern // Type == TypeInternet: Names compiled
}

// ipPattern is a compiled INTERNET pattern: each part 0-255, or -1 for *.
type ipPattern [4]int16

func (p *ipPattern) matches(a [4]byte) bool {
	for i, v := range p {
		if v >= 0 && int16(a[i]) != v {
			return false
		}
	}
	return true
}

// parseIPPattern compiles a dotted IPv4 pattern whose parts are numbers
// 0-255 or *.
func parseIPPattern(s string) (ipPattern, bool) {
	var p ipPattern
	part := 0
	for i := 0; i < 4; i++ {
		end := strings.IndexByte(s[part:], '.')
		if i == 3 {
			if end >= 0 {
				return p, false
			}
			end = len(s)
		} else {
			if end < 0 {
				return p, false
			}
			end += part
		}
		f := s[part:end]
		switch {
		case f == "*":
			p[i] = -1
		case f == "" || len(f) > 3:
			return p, false
		default:
			n := 0
			for j := 0; j < len(f); j++ {
				if f[j] < '0' || f[j] > '9' {
					return p, false
				}
				n = n*10 + int(f[j]-'0')
			}
			if n > 255 {
				return p, false
			}
			p[i] = int16(n)
		}
		part = end + 1
	}
	return p, true
}

// String renders the member list: type then names. The list of an
// INCLUDE kept in spite of an error may lack both.
func (m *Members) String() string {
	s := m.Type.String()
	for _, n := range m.Names {
		s += " " + n
	}
	return strings.TrimSpace(s)
}

// Rule is one INCLUDE, INCLUDEALL, EXCLUDE or EXCLUDEALL line.
type Rule struct {
	Pos      Pos
	Keyword  string   // INCLUDE, INCLUDEALL, EXCLUDE or EXCLUDEALL
	Selector Selector // empty Feature for the ...ALL keywords
	Members

	g *groups
}

// All reports whether the rule applies to every feature (INCLUDEALL,
// EXCLUDEALL).
func (r *Rule) All() bool { return strings.HasSuffix(r.Keyword, "ALL") }

// Include reports whether the rule is an INCLUDE or INCLUDEALL.
func (r *Rule) Include() bool { return strings.HasPrefix(r.Keyword, "INCLUDE") }

// String renders the rule as a canonical options line.
func (r *Rule) String() string {
	s := r.Keyword
	if !r.All() {
		s += " " + r.Selector.String()
	}
	if m := r.Members.String(); m != "" {
		s += " " + m
	}
	return s
}

// Reservation is one member of a RESERVE line: RESERVE 2 f1 USER a b
// reserves two seats for a and two for b. Count seats of the pools the
// selector picks are dedicated to requesters the reservation matches.
type Reservation struct {
	Pos      Pos
	Count    int
	Selector Selector
	Type     Type
	Name     string // the member, or the group name for GROUP/HOST_GROUP

	g        *groups
	internet ipPattern
}

// Matches reports whether r may use a seat of this reservation.
func (rv Reservation) Matches(r Requester) bool {
	if rv.Type == TypeInternet {
		return matchIP(&rv.internet, &r)
	}
	return matchName(rv.g, rv.Type, rv.Name, &r)
}

// String renders the reservation as a canonical RESERVE line.
func (rv Reservation) String() string {
	return "RESERVE " + strconv.Itoa(rv.Count) + " " + rv.Selector.String() + " " + rv.Type.String() + " " + rv.Name
}

// Max is one MAX line: at most Limit seats of the feature for its
// members. For GROUP and HOST_GROUP the limit is shared by the whole
// group; for the other types each listed member has a limit of its own.
type Max struct {
	Pos      Pos
	Limit    int
	Selector Selector
	Members

	g *groups
}

// String renders the rule as a canonical MAX line.
func (m *Max) String() string {
	return "MAX " + strconv.Itoa(m.Limit) + " " + m.Selector.String() + " " + m.Members.String()
}

// Setting is a LINGER, TIMEOUT or MAX_OVERDRAFT line: a number for the
// lines of a feature.
type Setting struct {
	Pos      Pos
	Keyword  string // LINGER, TIMEOUT or MAX_OVERDRAFT
	Selector Selector
	Value    int // seconds for LINGER and TIMEOUT, seats for MAX_OVERDRAFT
}

// String renders the setting as a canonical options line.
func (s *Setting) String() string {
	return s.Keyword + " " + s.Selector.String() + " " + strconv.Itoa(s.Value)
}

// NoLog is the set of debug log events NOLOG lines turn off.
type NoLog uint8

// The NOLOG items.
const (
	NoLogIn     NoLog = 1 << iota // IN: checkins
	NoLogOut                      // OUT: checkouts
	NoLogDenied                   // DENIED: denials
	NoLogQueued                   // QUEUED: queued requests
)

// Has reports whether every event of e is turned off.
func (n NoLog) Has(e NoLog) bool { return n&e == e }

// LogPath is the path of a REPORTLOG or DEBUGLOG line.
type LogPath struct {
	Path   string // "" when the file has no such line
	Append bool   // written +path: append instead of overwriting
	Pos    Pos
}

// DefaultMinTimeout is the shortest TIMEOUT or TIMEOUTALL a vendor
// daemon honours unless its publisher sets another: shorter values are
// raised to it (manual 6.2.13).
const DefaultMinTimeout = 900 * time.Second

// Options is a parsed options file. The exported fields describe the
// file; the methods of policy.go evaluate it. An *Options is read-only
// once ExpandPackages has run and safe for concurrent use; a nil
// *Options is the empty file (everything allowed, nothing set).
type Options struct {
	File string

	// Access holds the INCLUDE, INCLUDEALL, EXCLUDE and EXCLUDEALL lines,
	// Reserves one entry per member of every RESERVE line, Limits the
	// MAX lines and Settings the LINGER, TIMEOUT and MAX_OVERDRAFT
	// lines, each in file order.
	Access   []*Rule
	Reserves []*Reservation
	Limits   []*Max
	Settings []*Setting

	// Groups and HostGroups are the GROUP (and USER_GROUP) and HOST_GROUP
	// definitions: the members of every line of a name, concatenated in
	// file order, as written.
	Groups     map[string][]string
	HostGroups map[string][]string
	// GroupCaseInsensitive is GROUPCASEINSENSITIVE ON: user names match
	// GROUP members ignoring case. It applies to the whole file.
	GroupCaseInsensitive bool

	TimeoutAll    time.Duration // TIMEOUTALL, 0 when absent
	HasTimeoutAll bool
	// MinTimeout is the publisher's minimum TIMEOUT; 0 means
	// DefaultMinTimeout. The caller may set it before use.
	MinTimeout time.Duration

	NoLog     NoLog
	ReportLog LogPath
	DebugLog  LogPath

	// Closures are the features served to nobody because a line that
	// restricts them failed to parse, in file order (see Closure). A
	// vendor daemon rereading a file with closures keeps the options it
	// has.
	Closures []*Closure

	g         *groups
	feature   map[string]*featureRules
	incAll    []*Rule
	excAll    []*Rule
	closedAll *Closure
}

// featureRules is everything of one feature name, selectors included.
type featureRules struct {
	include  []*Rule
	exclude  []*Rule
	limits   []*Max
	reserves []*Reservation
	settings []*Setting
	closed   *Closure // the first closure of the feature
}

func secondsDuration(n int) time.Duration { return time.Duration(n) * time.Second }
