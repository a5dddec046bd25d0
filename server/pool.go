package server

import (
	"strconv"
	"strings"
	"time"

	"golm/lmutil/licfile"
)

// Pool is a group of licenses counted together: the first FEATURE line of
// a feature name, plus every INCREMENT line with the same name, version,
// node-lock hostid and vendor string (manual 3.2.4). Uncounted lines make
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
	// Lines are the license lines that make up the pool, in file order.
	Lines []*licfile.Feature
	// Removed marks a pool that an lmreread took away: its seats stay out
	// until they are checked in, but it grants nothing new.
	Removed bool
}

// Key identifies a pool across rereads: name, version, hostid and vendor
// string.
func (p *Pool) Key() string {
	return poolKey(p.Feature, p.Version, p.HostID, p.VendorString)
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

// BuildPools groups a vendor's verified license lines into pools, in file
// order. Lines of other vendors, UPGRADE lines and FEATURE lines that
// follow a line of the same name are skipped.
func BuildPools(vendor string, lines []*licfile.Feature) []*Pool {
	var pools []*Pool
	byKey := map[string]*Pool{}
	seen := map[string]bool{}
	for _, f := range lines {
		if f == nil || f.Vendor != vendor {
			continue
		}
		switch f.Kind {
		case licfile.KindFeature:
			if seen[f.Name] {
				continue // only the first FEATURE line of a name is used
			}
		case licfile.KindIncrement:
		default:
			continue
		}
		seen[f.Name] = true
		counted := f.Count > 0
		key := poolKey(f.Name, f.Version, f.HostID, f.VendorString)
		if p := byKey[key]; p != nil && counted && !p.Uncounted && f.Kind == licfile.KindIncrement {
			p.Count += f.Count
			p.Lines = append(p.Lines, f)
			if laterDate(f.Expiry, p.Expiry) {
				p.Expiry = f.Expiry
			}
			continue
		}
		p := &Pool{
			Feature:      f.Name,
			Vendor:       f.Vendor,
			Version:      f.Version,
			Expiry:       f.Expiry,
			Start:        f.Start,
			Count:        f.Count,
			Uncounted:    !counted,
			HostID:       f.HostID,
			VendorString: f.VendorString,
			Lines:        []*licfile.Feature{f},
		}
		if counted {
			byKey[key] = p
		}
		pools = append(pools, p)
	}
	return pools
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

// ParseVersion reads a requested feature version ("1.0", "2024.05", "5").
// ok is false when s is not a non-negative decimal number.
func ParseVersion(s string) (v licfile.Version, ok bool) {
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

// expired reports whether a license whose expiry is d has expired at now:
// a license is good through the whole of its expiry day.
func expired(d licfile.Date, now time.Time) bool {
	t, ok := dateTime(d)
	return ok && !now.Before(t.AddDate(0, 0, 1))
}

// notStarted reports whether a START date d is still in the future at now.
func notStarted(d licfile.Date, now time.Time) bool {
	t, ok := dateTime(d)
	return ok && now.Before(t)
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
