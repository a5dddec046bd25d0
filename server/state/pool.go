package state

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"golm/lmutil/licfile"
)

// Pool is a group of licenses counted together: the first counted
// FEATURE line of a feature name, plus every INCREMENT (and UPGRADE) line
// with the same name, version and node-lock hostid, and vendor string
// when the publisher asks for that (manual 3.2.4). Uncounted lines make
// pools of their own with Count 0 and no limit.
type Pool struct {
	Feature      string
	Vendor       string
	Version      licfile.Version
	Expiry       licfile.Date
	Start        licfile.Date
	Count        int // 0: uncounted
	Uncounted    bool
	HostID       licfile.HostIDList
	VendorString string
	// Overdraft is how many seats beyond Count the license allows.
	Overdraft int
	// Dup is the pool's duplicate grouping (DUP_GROUP=).
	Dup DupMask
	// UserBased and HostBased are the USER_BASED / HOST_BASED limits:
	// -1 when absent, else the number of INCLUDEd users or hosts allowed.
	UserBased, HostBased int
	// Package is the PACKAGE name a component pool came from, "" else.
	Package string
	// Suite is the pool of the package feature that a checkout of this
	// component also checks out (OPTIONS=SUITE), nil otherwise.
	Suite *Pool
	// SuiteOnly marks the pool of an OPTIONS=SUITE package feature: it is
	// checked out only together with a component (-125 alone).
	SuiteOnly bool
	// Lines are the license lines that make up the pool, in file order.
	Lines []*licfile.Feature
	// Parts are the seats each line gives the pool, with the line's own
	// dates: a line counts only from its START to the end of its expiry
	// day, so an expired or not yet started INCREMENT adds nothing to
	// the lines beside it. Count and Overdraft are the sums over all
	// parts, whatever their dates.
	Parts []PoolPart
	// Removed marks a pool that an lmreread took away: its seats stay out
	// until they are checked in, counting against the new pools, but it
	// grants nothing new.
	Removed bool
}

// PoolPart is what one license line gives its pool.
type PoolPart struct {
	Line      *licfile.Feature
	Count     int
	Overdraft int
	Start     licfile.Date
	Expiry    licfile.Date
}

// validAt reports whether the part counts at now.
func (pp PoolPart) validAt(now time.Time) bool {
	return !Expired(pp.Expiry, now) && !notStarted(pp.Start, now)
}

// parts are the pool's parts; a pool built without them (by hand) is one
// part with its own count and dates.
func (p *Pool) parts() []PoolPart {
	if len(p.Parts) > 0 {
		return p.Parts
	}
	return []PoolPart{{Count: p.Count, Overdraft: p.Overdraft, Start: p.Start, Expiry: p.Expiry}}
}

// validAt reports whether any line of the pool is valid at now.
func (p *Pool) validAt(now time.Time) bool {
	for _, pp := range p.parts() {
		if pp.validAt(now) {
			return true
		}
	}
	return false
}

// countAt is the seats the pool's lines valid at now give, and the
// overdraft they allow.
func (p *Pool) countAt(now time.Time) (count, overdraft int) {
	if p.Uncounted {
		return 0, 0
	}
	for _, pp := range p.parts() {
		if pp.validAt(now) {
			count += pp.Count
			overdraft += max(pp.Overdraft, 0)
		}
	}
	return count, overdraft
}

// allExpired reports whether every line of the pool has expired at now
// (rather than some not having started yet).
func (p *Pool) allExpired(now time.Time) bool {
	for _, pp := range p.parts() {
		if !Expired(pp.Expiry, now) {
			return false
		}
	}
	return true
}

// nextChange is the first instant after now at which a line of the pool
// starts or expires; zero when none will.
func (p *Pool) nextChange(now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, pp := range p.parts() {
		if t, ok := dateTime(pp.Start); ok {
			consider(t)
		}
		if t, ok := dateTime(pp.Expiry); ok {
			consider(t.AddDate(0, 0, 1))
		}
	}
	return next
}

// Key identifies a pool across rereads: name, version, hostid and
// vendor string.
func (p *Pool) Key() string {
	return poolKey(p.Feature, p.Version, p.HostID, p.VendorString)
}

// NodeLocked reports whether the pool is locked to hosts: it has a hostid
// other than ANY or DEMO.
func (p *Pool) NodeLocked() bool {
	for _, h := range p.HostID {
		if h.Type != licfile.HostIDAny && h.Type != licfile.HostIDDemo {
			return true
		}
	}
	return false
}

func poolKey(name string, v licfile.Version, h licfile.HostIDList, vs string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('|')
	b.WriteString(strconv.FormatUint(v.Int, 10) + "." + v.Frac)
	b.WriteByte('|')
	for i, id := range h {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToLower(id.Text))
	}
	b.WriteByte('|')
	b.WriteString(vs)
	return b.String()
}

// DupMask is a DUP_GROUP: which parts of a client's identity make two
// checkouts duplicates that share one seat.
type DupMask uint8

// The DUP_GROUP letters (manual 3.2.4). DupSite makes every checkout of
// the pool a duplicate of every other.
const (
	DupUser DupMask = 1 << iota
	DupHost
	DupDisplay
	DupVendorData
	DupSite
)

// parseDupGroup reads a DUP_GROUP value: any combination of U, H, D and V,
// SITE, or NONE ("" and NONE are no grouping). ok is false for anything
// else.
func parseDupGroup(s string) (m DupMask, ok bool) {
	switch u := strings.ToUpper(strings.TrimSpace(s)); u {
	case "", "NONE":
		return 0, true
	case "SITE":
		return DupSite, true
	default:
		for _, c := range u {
			switch c {
			case 'U':
				m |= DupUser
			case 'H':
				m |= DupHost
			case 'D':
				m |= DupDisplay
			case 'V':
				m |= DupVendorData
			default:
				return 0, false
			}
		}
	}
	return m, true
}

// dupKey is the key that makes two seats of a pool with mask m
// duplicates; "" when m groups nothing.
func dupKey(m DupMask, c Client, vendorData string) string {
	if m == 0 {
		return ""
	}
	if m&DupSite != 0 {
		return "site"
	}
	var b strings.Builder
	b.WriteByte('g')
	if m&DupUser != 0 {
		b.WriteString("|u=" + c.User)
	}
	if m&DupHost != 0 {
		b.WriteString("|h=" + strings.ToLower(c.Host))
	}
	if m&DupDisplay != 0 {
		b.WriteString("|d=" + c.Display)
	}
	if m&DupVendorData != 0 {
		b.WriteString("|v=" + vendorData)
	}
	return b.String()
}

// PoolRules are the publisher's choices about how lines form pools.
type PoolRules struct {
	// VendorStringPools keeps INCREMENT lines whose VENDOR_STRING differs
	// in separate pools; by default they add to one pool.
	VendorStringPools bool
}

// BuildPools groups a vendor's verified license lines into pools, in file
// order, with the default PoolRules.
func BuildPools(vendor string, lines []*licfile.Feature, packages ...*licfile.Package) []*Pool {
	return PoolRules{}.Build(vendor, lines, packages)
}

// Build groups a vendor's verified license lines into pools, in file
// order (manual 3.2.4-3.2.6): the first counted FEATURE line of a name
// counts and later counted FEATURE lines of that name are ignored;
// INCREMENT lines add to the pool with the same key; UPGRADE lines move
// seats from the closest preceding line with version >= from and < to
// into a pool of the new version; lines superseded by a later SUPERSEDE
// line are dropped; PACKAGE lines enabled by a pool of the package's name
// turn it into component pools.
func (r PoolRules) Build(vendor string, lines []*licfile.Feature, packages []*licfile.Package) []*Pool {
	lines = dropSuperseded(vendor, lines)
	var pools []*Pool
	byKey := map[string]*Pool{}
	counted := map[string]bool{} // a counted FEATURE line of the name was seen
	type placed struct {
		line *licfile.Feature
		pool *Pool
	}
	var done []placed
	partOf := func(p *Pool, f *licfile.Feature) int {
		for i := range p.Parts {
			if p.Parts[i].Line == f {
				return i
			}
		}
		return -1
	}
	key := func(name string, v licfile.Version, f *licfile.Feature) string {
		vs := ""
		if r.VendorStringPools {
			vs = f.VendorString
		}
		return poolKey(name, v, f.HostID, vs)
	}
	add := func(f *licfile.Feature, version licfile.Version, count int, merge bool) *Pool {
		k := key(f.Name, version, f)
		if p := byKey[k]; p != nil && merge && count > 0 && !p.Uncounted {
			p.Count += count
			p.Overdraft += max(f.Overdraft, 0)
			p.Lines = append(p.Lines, f)
			p.Parts = append(p.Parts, PoolPart{Line: f, Count: count, Overdraft: max(f.Overdraft, 0), Start: f.Start, Expiry: f.Expiry})
			if laterDate(f.Expiry, p.Expiry) {
				p.Expiry = f.Expiry
			}
			if earlierStart(f.Start, p.Start) {
				p.Start = f.Start
			}
			return p
		}
		p := newPool(f, version, count)
		if count > 0 {
			if _, dup := byKey[k]; !dup {
				byKey[k] = p
			}
		}
		pools = append(pools, p)
		return p
	}
	for _, f := range lines {
		if f == nil || f.Vendor != vendor {
			continue
		}
		switch f.Kind {
		case licfile.KindFeature:
			if f.Count > 0 {
				if counted[f.Name] {
					continue // only the first counted FEATURE line is used
				}
				counted[f.Name] = true
			}
			done = append(done, placed{f, add(f, f.Version, f.Count, false)})
		case licfile.KindIncrement:
			done = append(done, placed{f, add(f, f.Version, f.Count, true)})
		case licfile.KindUpgrade:
			if f.Count == 0 {
				// v6+: an uncounted UPGRADE upgrades the closest
				// preceding uncounted line of a version it upgrades
				// (manual 3.2.6); there are no seats to move.
				var from *Pool
				for i := len(done) - 1; i >= 0 && from == nil; i-- {
					if d := done[i]; d.line.Name == f.Name && d.pool.Uncounted &&
						compareVersion(d.line.Version, f.FromVersion) >= 0 && compareVersion(d.line.Version, f.Version) < 0 {
						from = d.pool
					}
				}
				if from != nil {
					p := add(f, f.Version, 0, false)
					if len(p.HostID) == 0 {
						p.HostID = from.HostID // never wider than the line upgraded
					}
					done = append(done, placed{f, p})
				}
				continue
			}
			// The closest preceding line of the name with from <= version < to.
			var from *Pool
			var fromLine *licfile.Feature
			for i := len(done) - 1; i >= 0; i-- {
				d := done[i]
				if d.line.Name == f.Name && compareVersion(d.line.Version, f.FromVersion) >= 0 &&
					compareVersion(d.line.Version, f.Version) < 0 && !d.pool.Uncounted {
					from, fromLine = d.pool, d.line
					break
				}
			}
			if from == nil {
				continue
			}
			n := min(f.Count, from.Count)
			from.Count -= n
			// The seats go from the line upgraded, then, when it has
			// fewer, from the pool's other lines, last first.
			left := n
			order := []int{partOf(from, fromLine)}
			for i := len(from.Parts) - 1; i >= 0; i-- {
				order = append(order, i)
			}
			for _, i := range order {
				if i < 0 || left == 0 {
					continue
				}
				take := min(left, from.Parts[i].Count)
				from.Parts[i].Count -= take
				left -= take
			}
			if n > 0 {
				done = append(done, placed{f, add(f, f.Version, n, true)})
			}
		}
	}
	return expandPackages(pools, vendor, packages)
}

func newPool(f *licfile.Feature, version licfile.Version, count int) *Pool {
	dup, _ := parseDupGroup(f.DupGroup)
	p := &Pool{
		Feature:      f.Name,
		Vendor:       f.Vendor,
		Version:      version,
		Expiry:       f.Expiry,
		Start:        f.Start,
		Count:        count,
		Uncounted:    count <= 0,
		HostID:       f.HostID,
		VendorString: f.VendorString,
		Overdraft:    max(f.Overdraft, 0),
		Dup:          dup,
		UserBased:    basedLimit(f.UserBased, count),
		HostBased:    basedLimit(f.HostBased, count),
		Lines:        []*licfile.Feature{f},
	}
	if p.Uncounted {
		p.Overdraft = 0
	}
	p.Parts = []PoolPart{{Line: f, Count: max(count, 0), Overdraft: p.Overdraft, Start: f.Start, Expiry: f.Expiry}}
	// USER_BASED and HOST_BASED count users or hosts, not processes.
	if p.Dup == 0 && p.UserBased >= 0 {
		p.Dup = DupUser
	}
	if p.Dup == 0 && p.HostBased >= 0 {
		p.Dup = DupHost
	}
	return p
}

// basedLimit turns USER_BASED / HOST_BASED (-1 absent, 0 bare, n) into the
// number of users or hosts allowed (-1 when absent).
func basedLimit(v, count int) int {
	switch {
	case v < 0:
		return -1
	case v == 0:
		return count
	}
	return v
}

// issueDate is when a line was issued: ISSUED=, else START=; ok false if
// the line says neither.
func issueDate(f *licfile.Feature) (time.Time, bool) {
	if t, ok := dateTime(f.Issued); ok {
		return t, true
	}
	return dateTime(f.Start)
}

// dropSuperseded removes the lines that a SUPERSEDE line makes
// ineffective: lines of the superseded feature names (the line's own name
// for a bare SUPERSEDE) issued before its ISSUED date, or, when it has no
// date, every such line written before it.
func dropSuperseded(vendor string, lines []*licfile.Feature) []*licfile.Feature {
	gone := map[*licfile.Feature]bool{}
	for i, s := range lines {
		if s == nil || s.Vendor != vendor || !s.Superseded {
			continue
		}
		names := s.Supersede
		if len(names) == 0 {
			names = []string{s.Name}
		}
		cut, dated := issueDate(s)
		for j, f := range lines {
			if f == nil || f == s || f.Vendor != vendor || !slices.Contains(names, f.Name) {
				continue
			}
			if dated {
				if t, ok := issueDate(f); ok && !t.Before(cut) {
					continue
				}
			} else if j > i {
				continue
			}
			gone[f] = true
		}
	}
	if len(gone) == 0 {
		return lines
	}
	out := make([]*licfile.Feature, 0, len(lines))
	for _, f := range lines {
		if !gone[f] {
			out = append(out, f)
		}
	}
	return out
}

// expandPackages turns every pool enabled for a PACKAGE (a pool of the
// package's name, and its version when the package has one) into
// component pools (manual 3.2.5). A component's version and count
// override the enabling line's; a count multiplies the enabling count.
// Without OPTIONS=SUITE the package feature's pool goes away; with it,
// it stays as the suite that every component checkout also takes.
func expandPackages(pools []*Pool, vendor string, packages []*licfile.Package) []*Pool {
	if len(packages) == 0 {
		return pools
	}
	pkgOf := map[string]*licfile.Package{}
	for _, pk := range packages {
		if pk != nil && pk.Vendor == vendor {
			if _, dup := pkgOf[pk.Name]; !dup {
				pkgOf[pk.Name] = pk
			}
		}
	}
	var out []*Pool
	byKey := map[string]*Pool{}
	for _, p := range pools {
		pk := pkgOf[p.Feature]
		if pk == nil || p.Package != "" || (pk.Version.Text != "" && compareVersion(pk.Version, p.Version) != 0) {
			out = append(out, p)
			continue
		}
		if pk.Suite {
			p.SuiteOnly = true
			if p.Dup == 0 {
				// One user's components share one seat of the suite.
				p.Dup = DupUser | DupHost | DupDisplay
			}
			out = append(out, p)
		}
		for _, comp := range pk.Components {
			cp := *p
			cp.Feature = comp.Name
			cp.Package = pk.Name
			cp.SuiteOnly = false
			cp.Suite = nil
			cp.Lines = slices.Clone(p.Lines)
			cp.Parts = slices.Clone(p.Parts)
			if comp.Version.Text != "" {
				cp.Version = comp.Version
			}
			if comp.Count > 0 && !pk.Suite && !p.Uncounted {
				cp.Count = comp.Count * p.Count
				for i := range cp.Parts {
					cp.Parts[i].Count *= comp.Count
				}
			}
			if pk.Suite {
				cp.Suite = p
				cp.Dup, _ = parseDupGroup(p.Lines[0].DupGroup)
			}
			k := cp.Key()
			if q := byKey[k]; q != nil && !q.Uncounted && !cp.Uncounted && q.Suite == cp.Suite {
				q.Count += cp.Count
				q.Lines = append(q.Lines, cp.Lines...)
				for _, pp := range cp.Parts {
					pp.Overdraft = 0 // the pool keeps the first enabling line's overdraft
					q.Parts = append(q.Parts, pp)
				}
				if laterDate(cp.Expiry, q.Expiry) {
					q.Expiry = cp.Expiry
				}
				continue
			}
			np := &cp
			byKey[k] = np
			out = append(out, np)
		}
	}
	return out
}

// compareVersion compares two feature versions as numbers: -1, 0 or 1.
func compareVersion(a, b licfile.Version) int {
	switch {
	case a.Int < b.Int:
		return -1
	case a.Int > b.Int:
		return 1
	}
	fa, fb := strings.TrimRight(a.Frac, "0"), strings.TrimRight(b.Frac, "0")
	for len(fa) < len(fb) {
		fa += "0"
	}
	for len(fb) < len(fa) {
		fb += "0"
	}
	return strings.Compare(fa, fb)
}

// parseVersion reads a requested feature version ("1.0", "2024.05", "5").
// ok is false when s is not a non-negative decimal number.
func parseVersion(s string) (v licfile.Version, ok bool) {
	v.Text = s
	if s == "" {
		return v, true
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" {
		return v, false
	}
	for _, part := range []string{ip, fp} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return v, false
			}
		}
	}
	if ip != "" {
		n, err := strconv.ParseUint(ip, 10, 64)
		if err != nil {
			return v, false
		}
		v.Int = n
	}
	v.Frac = strings.TrimRight(fp, "0")
	return v, true
}

// dateTime is the first instant after a license date ends (expiry) or
// the instant it begins (start), in the server's local time. ok is false
// for a permanent or absent date.
func dateTime(d licfile.Date) (start time.Time, ok bool) {
	if d.Year == 0 || d.Month == 0 {
		return time.Time{}, false
	}
	y := d.Year
	if y < 100 {
		y += 1900 // two-digit years are 19xx in old license files
	}
	return time.Date(y, d.Month, d.Day, 0, 0, 0, 0, time.Local), true
}

// Expired reports whether a license whose expiry is d has expired at now:
// a license is good through the whole of its expiry day.
func Expired(d licfile.Date, now time.Time) bool {
	t, ok := dateTime(d)
	return ok && !now.Before(t.AddDate(0, 0, 1))
}

// notStarted reports whether a START date d is still in the future at now.
func notStarted(d licfile.Date, now time.Time) bool {
	t, ok := dateTime(d)
	return ok && now.Before(t)
}

// earlierStart reports whether START date a is before b (none is
// earliest).
func earlierStart(a, b licfile.Date) bool {
	ta, okA := dateTime(a)
	tb, okB := dateTime(b)
	switch {
	case !okA:
		return okB
	case !okB:
		return false
	}
	return ta.Before(tb)
}

// laterDate reports whether a expires after b (permanent is latest).
func laterDate(a, b licfile.Date) bool {
	ta, okA := dateTime(a)
	tb, okB := dateTime(b)
	switch {
	case !okB:
		return false
	case !okA:
		return true
	}
	return ta.After(tb)
}

// platformAllowed reports whether a client on platform may use pool p:
// yes when one of the pool's lines has no PLATFORMS= or lists the
// platform (lines merged into one pool may differ).
func platformAllowed(p *Pool, platform string) bool {
	if len(p.Lines) == 0 {
		return true
	}
	for _, l := range p.Lines {
		if l.AllowsPlatform(platform) {
			return true
		}
	}
	return false
}
