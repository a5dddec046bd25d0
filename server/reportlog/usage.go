package reportlog

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// DetailTotal is the key of an OUT record's detail that says how many
// seats the license pool the checkout came from has: total=N (none for
// an uncounted pool).
const DetailTotal = "total"

// Filter selects what Usage reports on: records in [From, To] (a zero
// bound is open) of Feature ("" for every feature).
type Filter struct {
	From, To time.Time
	Feature  string
}

func (f Filter) before(t time.Time) bool { return !f.From.IsZero() && t.Before(f.From) }
func (f Filter) after(t time.Time) bool  { return !f.To.IsZero() && t.After(f.To) }

// FeatureUsage is what a report log says about one feature.
type FeatureUsage struct {
	Feature   string
	Checkouts int         // OUT records
	Denials   map[int]int // denials by FlexLM error code (DenialCount of the DENY records)
	Queued    int         // QUEUE records
	Peak      int         // most seats out at once
	PeakAt    time.Time   // when Peak was first reached
	SeatHours float64     // seats held × hours, within the window
	Users     []UserUsage // by seat-hours, then checkouts, then name
	// Total is the licensed seats the OUT records say (total=), summed
	// over the feature's pools at their last record; 0 when none says.
	Total int
	// InUse is the seats out after each change within the window, in
	// time order, and DenialsAt the denials each DENY record stands for
	// (DenialCount), when Usage.TrackSeries was called.
	InUse     []Point
	DenialsAt []Point
}

// Point is a number at a time: seats in use, or denials.
type Point struct {
	Time time.Time
	N    int
}

// DenialCount is the total of Denials.
func (u *FeatureUsage) DenialCount() int {
	n := 0
	for _, c := range u.Denials {
		n += c
	}
	return n
}

// DenialCodes returns the codes of Denials, most frequent first.
func (u *FeatureUsage) DenialCodes() []int {
	codes := make([]int, 0, len(u.Denials))
	for c := range u.Denials {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if u.Denials[codes[i]] != u.Denials[codes[j]] {
			return u.Denials[codes[i]] > u.Denials[codes[j]]
		}
		return codes[i] > codes[j]
	})
	return codes
}

// UserUsage is one user's share of a feature.
type UserUsage struct {
	User      string
	Checkouts int
	Denials   int
	SeatHours float64
}

// open is a checkout not yet returned.
type open struct {
	feature, user string
	count         int
	since         time.Time
}

// Usage accumulates usage statistics from records given in chain order.
type Usage struct {
	filter   Filter
	features map[string]*FeatureUsage
	users    map[string]map[string]*UserUsage
	current  map[string]int // seats out now, by feature
	handles  map[uint64]*open
	entered  bool
	last     time.Time
	series   bool
	totals   map[string]map[string]int // by feature and pool
}

// TrackSeries makes Result fill in FeatureUsage.InUse and DenialsAt.
func (u *Usage) TrackSeries() { u.series = true }

// point adds the seats of feature out now to its series.
func (u *Usage) point(feature string, t time.Time) {
	if u.series && u.entered {
		f := u.feature(feature)
		f.InUse = append(f.InUse, Point{t, u.current[feature]})
	}
}

// NewUsage starts the statistics for filter.
func NewUsage(filter Filter) *Usage {
	return &Usage{filter: filter, features: map[string]*FeatureUsage{},
		users: map[string]map[string]*UserUsage{}, current: map[string]int{},
		handles: map[uint64]*open{}, totals: map[string]map[string]int{}}
}

func (u *Usage) feature(name string) *FeatureUsage {
	f := u.features[name]
	if f == nil {
		f = &FeatureUsage{Feature: name, Denials: map[int]int{}}
		u.features[name] = f
		u.users[name] = map[string]*UserUsage{}
	}
	return f
}

func (u *Usage) user(feature, name string) *UserUsage {
	u.feature(feature)
	uu := u.users[feature][name]
	if uu == nil {
		uu = &UserUsage{User: name}
		u.users[feature][name] = uu
	}
	return uu
}

// clip returns the hours of [a, b] inside the window.
func (u *Usage) clip(a, b time.Time) float64 {
	if !u.filter.From.IsZero() && a.Before(u.filter.From) {
		a = u.filter.From
	}
	if !u.filter.To.IsZero() && b.After(u.filter.To) {
		b = u.filter.To
	}
	if !b.After(a) {
		return 0
	}
	return b.Sub(a).Hours()
}

// release returns an open checkout at t.
func (u *Usage) release(h uint64, o *open, t time.Time) {
	hours := u.clip(o.since, t) * float64(o.count)
	if hours > 0 {
		u.feature(o.feature).SeatHours += hours
		u.user(o.feature, o.user).SeatHours += hours
	}
	u.current[o.feature] -= o.count
	delete(u.handles, h)
	u.point(o.feature, t)
}

// Add takes the next record.
func (u *Usage) Add(r Record) {
	if u.filter.after(r.Time) {
		// Seats still out are cut at the window's end by Result. Not
		// here: a record kept while the log could not be written may
		// follow this one with an earlier time.
		return
	}
	if !u.entered && !u.filter.before(r.Time) {
		// Seats held when the window opens count towards its peak.
		u.entered = true
		for name, n := range u.current {
			if f := u.feature(name); n > f.Peak {
				f.Peak, f.PeakAt = n, u.filter.From
			}
			u.point(name, u.filter.From)
		}
	}
	u.last = r.Time
	in := u.entered
	if u.filter.Feature != "" && r.Feature != u.filter.Feature && r.Event != EventStart && r.Event != EventStop {
		return
	}
	switch r.Event {
	case EventOut:
		if _, dup := u.handles[r.Handle]; dup {
			return
		}
		n := max(r.Count, 1)
		u.handles[r.Handle] = &open{feature: r.Feature, user: r.User, count: n, since: r.Time}
		u.current[r.Feature] += n
		if t, ok := detailInt(r.Detail, DetailTotal); ok {
			if u.totals[r.Feature] == nil {
				u.totals[r.Feature] = map[string]int{}
			}
			u.totals[r.Feature][r.Pool] = t
		}
		u.point(r.Feature, r.Time)
		if in {
			f := u.feature(r.Feature)
			f.Checkouts++
			u.user(r.Feature, r.User).Checkouts++
			if c := u.current[r.Feature]; c > f.Peak {
				f.Peak, f.PeakAt = c, r.Time
			}
		}
	case EventIn:
		if o := u.handles[r.Handle]; o != nil {
			u.release(r.Handle, o, r.Time)
		}
	case EventDeny:
		// A summary record stands for the repeats it counts.
		if n := DenialCount(r); in {
			f := u.feature(r.Feature)
			f.Denials[r.Code] += n
			u.user(r.Feature, r.User).Denials += n
			if u.series {
				f.DenialsAt = append(f.DenialsAt, Point{r.Time, n})
			}
		}
	case EventQueue:
		if in {
			u.feature(r.Feature).Queued++
		}
	case EventStart, EventStop:
		// A vendor daemon that starts or stops holds no seats.
		for h, o := range u.handles {
			u.release(h, o, r.Time)
		}
	}
}

// finish returns every open checkout at t.
func (u *Usage) finish(t time.Time) {
	for h, o := range u.handles {
		u.release(h, o, t)
	}
}

// Result returns the statistics by feature name. Checkouts still open are
// counted up to the window's end, or to the last record when the window
// has none.
func (u *Usage) Result() []*FeatureUsage {
	end := u.last
	if !u.filter.To.IsZero() && u.filter.To.After(end) && len(u.handles) > 0 {
		end = u.filter.To
	}
	u.finish(end)
	names := make([]string, 0, len(u.features))
	for n := range u.features {
		if u.filter.Feature == "" || n == u.filter.Feature {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]*FeatureUsage, 0, len(names))
	for _, n := range names {
		f := u.features[n]
		if f.Checkouts == 0 && f.DenialCount() == 0 && f.Queued == 0 && f.SeatHours == 0 {
			continue
		}
		f.Total = 0
		for _, t := range u.totals[n] {
			f.Total += t
		}
		// A record kept while the log could not be written carries the
		// time it happened, which may be before the record it follows.
		byTime := func(p []Point) {
			sort.SliceStable(p, func(i, j int) bool { return p[i].Time.Before(p[j].Time) })
		}
		byTime(f.InUse)
		byTime(f.DenialsAt)
		f.Users = f.Users[:0]
		for _, uu := range u.users[n] {
			f.Users = append(f.Users, *uu)
		}
		sort.Slice(f.Users, func(i, j int) bool {
			a, b := f.Users[i], f.Users[j]
			if a.SeatHours != b.SeatHours {
				return a.SeatHours > b.SeatHours
			}
			if a.Checkouts != b.Checkouts {
				return a.Checkouts > b.Checkouts
			}
			return a.User < b.User
		})
		out = append(out, f)
	}
	return out
}

// detailInt returns the number of key=N in a record's comma-separated
// detail.
func detailInt(detail, key string) (int, bool) {
	for _, kv := range strings.Split(detail, ",") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n, true
			}
		}
	}
	return 0, false
}
