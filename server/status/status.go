// Package status is the machine-readable form of what lmstat -a shows:
// lmgrd, its vendor daemons, and per feature the seats issued, in use,
// queued and reserved, the license lines and their users. lmstat -a
// -json prints it and lmgrd -http serves it; both build it here from the
// same status streams lmstat reads, so that the two never disagree.
//
// The JSON form is versioned: SchemaVersion changes only when a field is
// removed or changes meaning, and schema/status-v1.json describes it.
// New fields may be added within a version; readers ignore what they do
// not know.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// SchemaVersion is the version of the JSON form, the "schema_version"
// field of every document.
const SchemaVersion = 1

// SchemaName names the JSON Schema of this version (the file
// schema/status-v1.json in the source tree).
const SchemaName = "golm-status-v1"

// Status is one document: the status of every license server asked.
type Status struct {
	SchemaVersion int       `json:"schema_version"`
	Schema        string    `json:"schema"`
	Time          time.Time `json:"time"` // when the status was read
	Servers       []*Server `json:"servers"`
}

// Server is one license server (one source of the license path, or the
// lmgrd that serves the page).
type Server struct {
	// Name is the port@host list lmstat prints after "License server
	// status:".
	Name         string    `json:"name"`
	Host         string    `json:"host,omitempty"`
	Port         int       `json:"port,omitempty"`
	Version      string    `json:"version,omitempty"`
	Up           bool      `json:"up"`
	Master       bool      `json:"master"`
	LicenseFiles []string  `json:"license_files"`
	Error        *Error    `json:"error,omitempty"` // why the server could not be asked
	Vendors      []*Vendor `json:"vendors"`
	// Members are the three servers of a triad in SERVER-line order, as
	// lmstat's server lines show them; absent for one server. The
	// fields above are then the member that answers for the triad (the
	// master, else the first that is up), as lmstat -a shows it.
	Members []*Member `json:"members,omitempty"`
}

// Member is one server of a three-server triad.
type Member struct {
	Name    string `json:"name"` // port@host, as its SERVER line says
	Up      bool   `json:"up"`
	Master  bool   `json:"master"`
	Version string `json:"version,omitempty"` // its lmgrd's, when up
	Error   *Error `json:"error,omitempty"`   // why it could not be asked, when down
}

// Vendor is one vendor daemon and the features it serves.
type Vendor struct {
	Name     string     `json:"name"`
	Up       bool       `json:"up"`
	Version  string     `json:"version,omitempty"`
	Port     int        `json:"port,omitempty"`
	Error    *Error     `json:"error,omitempty"` // down, or its features could not be read
	Features []*Feature `json:"features"`
	// Stats are the vendor daemon's counters (ReadStats), for /metrics;
	// not part of the JSON document.
	Stats *protocol.VendorStats `json:"-"`
	// StatsExt are its later counters and Usage the usage history of
	// its features that have one (ReadStats), for /metrics and the
	// page's charts; not part of the JSON document.
	StatsExt *protocol.VendorStatsExt          `json:"-"`
	Usage    map[string]*protocol.UsageHistory `json:"-"`
}

// Feature is one feature's "Users of" block.
type Feature struct {
	Name string `json:"name"`
	// Issued and InUse are the seats of the "Users of" line; InUse
	// counts reservations, not queued requests.
	Issued    int        `json:"issued"`
	InUse     int        `json:"in_use"`
	Queued    int        `json:"queued"`   // seats asked for by queued requests
	Reserved  int        `json:"reserved"` // seats held by RESERVE lines
	Uncounted bool       `json:"uncounted"`
	Error     *Error     `json:"error,omitempty"` // "Cannot get users of"
	Licenses  []*License `json:"licenses"`
}

// License is one license line (pool) of a feature.
type License struct {
	Version   string `json:"version"`
	Vendor    string `json:"vendor"`
	Expiry    string `json:"expiry"` // as written: "permanent", "1-jan-2030"
	Permanent bool   `json:"permanent"`
	// ExpiryDate is the last day the line is good (YYYY-MM-DD), empty
	// for a permanent line; ExpiresAt the first instant it is not, in
	// the server's time zone.
	ExpiryDate   string         `json:"expiry_date,omitempty"`
	ExpiresAt    *time.Time     `json:"expires_at,omitempty"`
	VendorString string         `json:"vendor_string"`
	Type         string         `json:"type"` // floating, nodelocked, uncounted
	HostID       string         `json:"hostid,omitempty"`
	Issued       int            `json:"issued"`
	InUse        int            `json:"in_use"`
	Users        []*User        `json:"users"`
	Reservations []*Reservation `json:"reservations"`
}

// The license types of License.Type.
const (
	TypeFloating   = "floating"
	TypeNodelocked = "nodelocked"
	TypeUncounted  = "uncounted"
)

// User is one checkout, or one queued request, of a license line.
type User struct {
	User       string    `json:"user"`
	Host       string    `json:"host"`
	Display    string    `json:"display"`
	VendorData string    `json:"vendor_data,omitempty"`
	Version    string    `json:"version"`
	ServerHost string    `json:"server_host"`
	Port       int       `json:"port"`
	Handle     uint64    `json:"handle"` // what lmremove -h takes
	Start      time.Time `json:"start"`
	Count      int       `json:"count"`
	Queued     bool      `json:"queued"`
	Linger     *Linger   `json:"linger,omitempty"` // a lingering seat
}

// Linger is the linger of a seat whose client checked it in, in seconds.
type Linger struct {
	Remaining int `json:"remaining"`
	Total     int `json:"total"`
}

// Reservation is one RESERVE line's seats.
type Reservation struct {
	Count      int    `json:"count"`
	Kind       string `json:"kind"` // USER, HOST, GROUP, ...
	Name       string `json:"name"`
	ServerHost string `json:"server_host"`
	Port       int    `json:"port"`
}

// Error is a FlexLM error: its code, minor number and lmutil's message.
type Error struct {
	Code    int    `json:"code"`
	Minor   int    `json:"minor"`
	Message string `json:"message"`
}

// ErrorOf is err as an Error; an error without a FlexLM code is -1.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	var le *lmerr.Error
	if errors.As(err, &le) {
		return &Error{Code: int(le.Code), Minor: int(le.Minor), Message: le.Error()}
	}
	return &Error{Code: int(lmerr.NoConfFile), Message: err.Error()}
}

// Source is one lmgrd as lmstat asks it: its status stream, and the
// feature status stream of one of its vendor daemons.
type Source interface {
	ServerStatus(ctx context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error)
	FeatureStatus(ctx context.Context, vendor, feature string) (iter.Seq2[protocol.Message, error], error)
}

// New is an empty document read at now.
func New(now time.Time) *Status {
	return &Status{SchemaVersion: SchemaVersion, Schema: SchemaName, Time: now, Servers: []*Server{}}
}

// Read asks src for everything lmstat -a shows. name is the server's
// port@host ("" to take lmgrd's own); loc is the time zone expiry
// instants are given in (nil for UTC). An lmgrd that cannot be asked is
// a Server with Up false and its Error; a vendor daemon likewise.
func Read(ctx context.Context, name string, src Source, loc *time.Location) *Server {
	st, seq, err := src.ServerStatus(ctx)
	if err != nil {
		return &Server{Name: name, LicenseFiles: []string{}, Vendors: []*Vendor{}, Error: ErrorOf(err)}
	}
	var vendors []*protocol.VendorStatus
	for vs, err := range seq {
		if err != nil {
			s := FromStatus(ctx, name, st, vendors, src, loc)
			s.Error = ErrorOf(err)
			return s
		}
		vendors = append(vendors, vs)
	}
	return FromStatus(ctx, name, st, vendors, src, loc)
}

// FromStatus is Read of a server whose status and vendor daemons have
// already been read: it asks src for the features of those that are up.
func FromStatus(ctx context.Context, name string, st *protocol.ServerStatus, vendors []*protocol.VendorStatus, src Source, loc *time.Location) *Server {
	if loc == nil {
		loc = time.UTC
	}
	s := &Server{Name: name, LicenseFiles: []string{}, Vendors: []*Vendor{}}
	s.Host, s.Port, s.Version, s.Master, s.Up = st.Host, st.Port, st.Version, st.Master, true
	if st.LicenseFiles != nil {
		s.LicenseFiles = st.LicenseFiles
	}
	if s.Name == "" && st.Host != "" {
		s.Name = portAtHost(st.Port, st.Host)
	}
	for _, vs := range vendors {
		v := &Vendor{Name: vs.Name, Up: vs.Up, Version: vs.Version, Port: vs.Port, Features: []*Feature{}}
		if !vs.Up {
			code, minor := vs.Code, vs.Minor
			if code == 0 {
				code, minor = lmerr.VendorDown, lmerr.MinorVendorDown
			}
			v.Error = ErrorOf(lmerr.New(code, minor))
		}
		s.Vendors = append(s.Vendors, v)
	}
	for _, v := range s.Vendors {
		if v.Up {
			readFeatures(ctx, v, src, loc)
		}
	}
	return s
}

// StatsSource is a Source that can also ask a vendor daemon for its
// counters.
type StatsSource interface {
	VendorStats(ctx context.Context, vendor string) (*protocol.VendorStats, error)
}

// ExtSource is a Source that can also ask a vendor daemon for the
// counters and usage history that came after its first counters
// (VENDOR_STATS_EXT, USAGE_HISTORY).
type ExtSource interface {
	// VendorExtras returns the vendor daemon's later counters and the
	// usage history of those of features that have one.
	VendorExtras(ctx context.Context, vendor string, features []string) (*protocol.VendorStatsExt, map[string]*protocol.UsageHistory, error)
}

// MaxUsageFeatures bounds the features of one vendor daemon whose usage
// history ReadStats asks for.
const MaxUsageFeatures = 256

// ReadStats fills the Stats, StatsExt and Usage of s's vendor daemons
// that are up, when src can ask for them; a vendor daemon that does not
// answer (or is older than the request) keeps none.
func ReadStats(ctx context.Context, s *Server, src Source) {
	ss, _ := src.(StatsSource)
	es, _ := src.(ExtSource)
	for _, v := range s.Vendors {
		if !v.Up {
			continue
		}
		if ss != nil {
			v.Stats, _ = ss.VendorStats(ctx, v.Name)
		}
		if es != nil && v.Stats != nil {
			var names []string
			for _, f := range v.Features {
				if f.Error == nil && len(names) < MaxUsageFeatures {
					names = append(names, f.Name)
				}
			}
			v.StatsExt, v.Usage, _ = es.VendorExtras(ctx, v.Name, names)
		}
	}
}

// readFeatures fills v's features from its feature status stream.
func readFeatures(ctx context.Context, v *Vendor, src Source, loc *time.Location) {
	seq, err := src.FeatureStatus(ctx, v.Name, "")
	if err != nil {
		v.Error = ErrorOf(err)
		return
	}
	var f *Feature
	var l *License
	for m, err := range seq {
		if err != nil {
			v.Error = ErrorOf(err)
			return
		}
		switch m := m.(type) {
		case *protocol.FeatureHeader:
			f = &Feature{Name: m.Name, Issued: m.Issued, InUse: m.InUse, Uncounted: m.Uncounted, Licenses: []*License{}}
			if m.Code != 0 {
				f.Error = ErrorOf(lmerr.New(m.Code, m.Minor))
			}
			v.Features = append(v.Features, f)
			l = nil
		case *protocol.PoolStatus:
			if f == nil {
				continue
			}
			l = license(m, loc)
			f.Licenses = append(f.Licenses, l)
		case *protocol.UserEntry:
			if l == nil {
				continue
			}
			u := &User{User: m.User, Host: m.Host, Display: m.Display, VendorData: m.VendorData, Version: m.Version,
				ServerHost: m.ServerHost, Port: m.Port, Handle: m.Handle, Start: time.Unix(m.Start, 0).UTC(), Count: m.Count, Queued: m.Queued}
			if m.LingerTotal > 0 {
				u.Linger = &Linger{Remaining: m.LingerRemaining, Total: m.LingerTotal}
			}
			if u.Queued {
				f.Queued += u.Count
			}
			l.Users = append(l.Users, u)
		case *protocol.ReservationEntry:
			if l == nil {
				continue
			}
			l.Reservations = append(l.Reservations, &Reservation{Count: m.Count, Kind: m.Kind, Name: m.Name, ServerHost: m.ServerHost, Port: m.Port})
			f.Reserved += m.Count
		}
	}
}

// license is the License of a pool record.
func license(p *protocol.PoolStatus, loc *time.Location) *License {
	l := &License{Version: p.Version, Vendor: p.Vendor, Expiry: p.Expiry, VendorString: p.VendorString, HostID: p.HostID,
		Issued: p.Issued, InUse: p.InUse, Users: []*User{}, Reservations: []*Reservation{}}
	switch p.LicenseType {
	case protocol.Nodelocked:
		l.Type = TypeNodelocked
	case protocol.UncountedNodelocked:
		l.Type = TypeUncounted
	default:
		l.Type = TypeFloating
	}
	if d, err := licfile.ParseDate(p.Expiry); err == nil {
		if d.Permanent() {
			l.Permanent = true
		} else {
			l.ExpiryDate = d.Time().Format(time.DateOnly)
			// Good through the whole expiry day in the server's zone.
			end := time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc)
			l.ExpiresAt = &end
		}
	} else if strings.EqualFold(p.Expiry, "permanent") || p.Expiry == "" {
		l.Permanent = true
	}
	return l
}

func portAtHost(port int, host string) string { return strconv.Itoa(port) + "@" + host }

// WriteJSON writes doc as JSON followed by a newline, indented when
// indent is set. Characters that mean something to HTML are escaped,
// so that the document is safe wherever it ends up.
func WriteJSON(w io.Writer, doc *Status, indent bool) error {
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(doc)
}
