package options

import (
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// groups holds the GROUP and HOST_GROUP definitions flattened into sets:
// nested groups expanded, user names lower-cased when GROUPCASEINSENSITIVE
// is on, host names always lower-cased (ASCII only on both sides).
type groups struct {
	fold  bool
	users map[string]map[string]struct{}
	hosts map[string]map[string]struct{}
}

// asciiLower lower-cases the ASCII letters of s.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// inFolded looks s up, lower-cased, in a set of lower-cased keys without
// allocating for names up to 256 bytes.
func inFolded(set map[string]struct{}, s string) bool {
	var buf [256]byte
	if len(s) > len(buf) {
		_, ok := set[asciiLower(s)]
		return ok
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		b[i] = lower(s[i])
	}
	_, ok := set[string(b)]
	return ok
}

func (g *groups) userIn(group, user string) bool {
	if g == nil || user == "" {
		return false
	}
	set := g.users[group]
	if set == nil {
		return false
	}
	if g.fold {
		return inFolded(set, user)
	}
	_, ok := set[user]
	return ok
}

func (g *groups) hostIn(group, host string) bool {
	if g == nil || host == "" {
		return false
	}
	set := g.hosts[group]
	if set == nil {
		return false
	}
	if inFolded(set, host) {
		return true
	}
	short := firstLabel(host)
	return short != host && inFolded(set, short)
}

// firstLabel returns a host name up to its first dot.
func firstLabel(host string) string {
	if i := strings.IndexByte(host, '.'); i > 0 {
		return host[:i]
	}
	return host
}

// hostMatch compares an options host name with the requester's host
// ignoring case; a short name also matches the requester's fully
// qualified name (HOST mainline admits mainline.example.com).
func hostMatch(name, host string) bool {
	if host == "" {
		return false
	}
	return strings.EqualFold(name, host) || strings.EqualFold(name, firstLabel(host))
}

func matchName(g *groups, t Type, name string, r *Requester) bool {
	switch t {
	case TypeUser:
		return name == r.User
	case TypeHost:
		return hostMatch(name, r.Host)
	case TypeDisplay:
		return name == r.Display
	case TypeProject:
		return name == r.Project
	case TypeGroup:
		return g.userIn(name, r.User)
	case TypeHostGroup:
		return g.hostIn(name, r.Host)
	}
	return false
}

func matchIP(p *ipPattern, r *Requester) bool {
	if !r.IP.IsValid() {
		return false
	}
	a := r.IP.Unmap()
	if !a.Is4() {
		return false
	}
	return p.matches(a.As4())
}

// index returns the index of the first member r matches, or -1.
func (m *Members) index(g *groups, r *Requester) int {
	if m.Type == TypeInternet {
		for i := range m.internet {
			if matchIP(&m.internet[i], r) {
				return i
			}
		}
		return -1
	}
	for i, name := range m.Names {
		if matchName(g, m.Type, name, r) {
			return i
		}
	}
	return -1
}

// Matches reports whether r is one of the rule's members.
func (r *Rule) Matches(q Requester) bool { return r.index(r.g, &q) >= 0 }

// Matches reports whether r is one of the MAX line's members.
func (m *Max) Matches(r Requester) bool { return m.index(m.g, &r) >= 0 }

// AppliesTo reports whether the MAX line covers the license line (its
// selector's keyword=value; see Selector.MatchesLine).
func (m *Max) AppliesTo(line *licfile.Feature) bool { return m.Selector.MatchesLine(line) }

// Counts reports whether a seat held by holder counts against the limit
// this MAX line sets for r: both are members, and for a USER, HOST,
// DISPLAY, PROJECT or INTERNET list they are the same member (each has a
// limit of its own), while a GROUP or HOST_GROUP shares one limit.
func (m *Max) Counts(holder, r Requester) bool {
	h := m.index(m.g, &holder)
	if h < 0 {
		return false
	}
	if m.Type == TypeGroup || m.Type == TypeHostGroup {
		return m.index(m.g, &r) >= 0
	}
	return h == m.index(m.g, &r)
}

// Allowed decides whether r may use the feature's license line (nil when
// the caller has no particular line) by the INCLUDE and EXCLUDE rules of
// manual 6.4: a feature the file closes (Closed) is denied to everyone
// with -39; an EXCLUDE or EXCLUDEALL matching r denies with -38 and
// beats any INCLUDE; when the feature (through INCLUDE lines whose
// selector picks the line) or the daemon (INCLUDEALL) has an INCLUDE
// list, anyone not on one is denied with -39. It does not allocate.
func (o *Options) Allowed(feature string, line *licfile.Feature, r Requester) (ok bool, code lmerr.Code) {
	if o == nil {
		return true, 0
	}
	fr := o.feature[feature]
	if o.closedAll != nil || fr != nil && fr.closed != nil {
		return false, lmerr.NotIncluded // a restricting line failed: see Closed
	}
	for _, ru := range o.excAll {
		if ru.index(o.g, &r) >= 0 {
			return false, lmerr.Excluded
		}
	}
	if fr != nil {
		for _, ru := range fr.exclude {
			if ru.Selector.MatchesLine(line) && ru.index(o.g, &r) >= 0 {
				return false, lmerr.Excluded
			}
		}
	}
	listed := false
	for _, ru := range o.incAll {
		listed = true
		if ru.index(o.g, &r) >= 0 {
			return true, 0
		}
	}
	if fr != nil {
		for _, ru := range fr.include {
			if !ru.Selector.MatchesLine(line) {
				continue
			}
			listed = true
			if ru.index(o.g, &r) >= 0 {
				return true, 0
			}
		}
	}
	if listed {
		return false, lmerr.NotIncluded
	}
	return true, 0
}

// IncludeRules returns the INCLUDE and INCLUDEALL lines that apply to
// the feature's license line, in file order: the users a USER_BASED or
// HOST_BASED line admits (manual 6.2.5).
func (o *Options) IncludeRules(feature string, line *licfile.Feature) []*Rule {
	if o == nil {
		return nil
	}
	var out []*Rule
	for _, ru := range o.Access {
		if !ru.Include() {
			continue
		}
		if ru.All() {
			out = append(out, ru)
		}
	}
	if fr := o.feature[feature]; fr != nil {
		for _, ru := range fr.include {
			if ru.Selector.MatchesLine(line) {
				out = append(out, ru)
			}
		}
	}
	return out
}

// MaxRules returns the MAX lines of the feature (its packages' included),
// in file order. The slice belongs to o: do not modify it. For a
// checkout of n seats by r of a line, the vendor daemon denies with -87
// when, for some rule that AppliesTo the line and Matches r, the seats
// held by holders that rule Counts plus n exceed its Limit.
func (o *Options) MaxRules(feature string) []*Max {
	if o == nil {
		return nil
	}
	if fr := o.feature[feature]; fr != nil {
		return fr.limits
	}
	return nil
}

// maxFor returns the smallest MAX limit that applies to r for the
// feature's license line, and whether any does.
func (o *Options) maxFor(feature string, line *licfile.Feature, r Requester) (limit int, ok bool) {
	for _, m := range o.MaxRules(feature) {
		if m.Selector.MatchesLine(line) && m.index(m.g, &r) >= 0 && (!ok || m.Limit < limit) {
			limit, ok = m.Limit, true
		}
	}
	return limit, ok
}

// Reservations returns the reservations of the feature's license line
// (nil for every line of the feature that a selector does not restrict),
// in file order.
func (o *Options) Reservations(feature string, line *licfile.Feature) []Reservation {
	if o == nil {
		return nil
	}
	fr := o.feature[feature]
	if fr == nil {
		return nil
	}
	var out []Reservation
	for _, rv := range fr.reserves {
		if rv.Selector.MatchesLine(line) {
			out = append(out, *rv)
		}
	}
	return out
}

// setting returns the LINGER, TIMEOUT or MAX_OVERDRAFT line that applies
// to the feature's license line: one with a selector beats one without,
// and among equals the last in the file wins.
func (o *Options) setting(keyword, feature string, line *licfile.Feature) *Setting {
	if o == nil {
		return nil
	}
	fr := o.feature[feature]
	if fr == nil {
		return nil
	}
	var best *Setting
	for _, s := range fr.settings {
		if s.Keyword != keyword || !s.Selector.MatchesLine(line) {
			continue
		}
		if best == nil || s.Selector.Key != "" || best.Selector.Key == "" {
			best = s
		}
	}
	return best
}

// Linger returns the LINGER time of the feature's license line.
func (o *Options) Linger(feature string, line *licfile.Feature) (time.Duration, bool) {
	if s := o.setting("LINGER", feature, line); s != nil {
		return time.Duration(s.Value) * time.Second, true
	}
	return 0, false
}

// Timeout returns the idle timeout of the feature's license line: its
// TIMEOUT, else TIMEOUTALL, raised to the minimum (MinTimeout, or
// DefaultMinTimeout when that is 0). ok is false when neither is set:
// then seats never time out.
func (o *Options) Timeout(feature string, line *licfile.Feature) (d time.Duration, ok bool) {
	if o == nil {
		return 0, false
	}
	if s := o.setting("TIMEOUT", feature, line); s != nil {
		d, ok = time.Duration(s.Value)*time.Second, true
	} else if o.HasTimeoutAll {
		d, ok = o.TimeoutAll, true
	} else {
		return 0, false
	}
	min := o.MinTimeout
	if min <= 0 {
		min = DefaultMinTimeout
	}
	if d < min {
		d = min
	}
	return d, true
}

// MaxOverdraft returns the MAX_OVERDRAFT of the feature's license line:
// the vendor daemon allows at most the smaller of it and the line's
// OVERDRAFT.
func (o *Options) MaxOverdraft(feature string, line *licfile.Feature) (int, bool) {
	if s := o.setting("MAX_OVERDRAFT", feature, line); s != nil {
		return s.Value, true
	}
	return 0, false
}

// ExpandPackages makes every option that names a package apply to its
// components too (manual 6.2, v5.11+): components returns the component
// feature names of a package name, and nil for any other name. Call it
// once the license file is known, before o is shared; calling it again
// replaces the previous expansion. A nil components undoes it.
func (o *Options) ExpandPackages(components func(pkg string) []string) {
	if o == nil {
		return
	}
	o.index(components)
}

// index builds the per-feature lookup tables.
func (o *Options) index(components func(string) []string) {
	o.feature = make(map[string]*featureRules)
	o.incAll, o.excAll, o.closedAll = nil, nil, nil
	targets := func(name string) []*featureRules {
		names := []string{name}
		if components != nil {
			for _, c := range components(name) {
				dup := false
				for _, n := range names {
					dup = dup || n == c
				}
				if !dup {
					names = append(names, c)
				}
			}
		}
		out := make([]*featureRules, len(names))
		for i, n := range names {
			fr := o.feature[n]
			if fr == nil {
				fr = &featureRules{}
				o.feature[n] = fr
			}
			out[i] = fr
		}
		return out
	}
	for _, ru := range o.Access {
		switch {
		case ru.Keyword == "INCLUDEALL":
			o.incAll = append(o.incAll, ru)
		case ru.Keyword == "EXCLUDEALL":
			o.excAll = append(o.excAll, ru)
		default:
			for _, fr := range targets(ru.Selector.Feature) {
				if ru.Include() {
					fr.include = append(fr.include, ru)
				} else {
					fr.exclude = append(fr.exclude, ru)
				}
			}
		}
	}
	for _, m := range o.Limits {
		for _, fr := range targets(m.Selector.Feature) {
			fr.limits = append(fr.limits, m)
		}
	}
	for _, rv := range o.Reserves {
		for _, fr := range targets(rv.Selector.Feature) {
			fr.reserves = append(fr.reserves, rv)
		}
	}
	for _, s := range o.Settings {
		for _, fr := range targets(s.Selector.Feature) {
			fr.settings = append(fr.settings, s)
		}
	}
	for _, c := range o.Closures {
		if c.Feature == "" {
			if o.closedAll == nil {
				o.closedAll = c
			}
			continue
		}
		for _, fr := range targets(c.Feature) {
			if fr.closed == nil {
				fr.closed = c
			}
		}
	}
}
