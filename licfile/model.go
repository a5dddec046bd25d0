package licfile

import "time"

// Kind is the kind of a license file line.
type Kind int

// The line kinds of manual chapter 3.
const (
	KindServer    Kind = iota + 1 // SERVER host hostid [port]
	KindVendor                    // DAEMON or VENDOR
	KindUseServer                 // USE_SERVER
	KindFeature                   // FEATURE
	KindIncrement                 // INCREMENT
	KindUpgrade                   // UPGRADE
	KindPackage                   // PACKAGE
)

// Format is the syntax a FEATURE/INCREMENT/UPGRADE line was written in
// (manual 3.2.4).
type Format int

// The three FEATURE line formats.
const (
	FormatV2  Format = 2  // positional "vendor_str" [hostid], license key
	FormatV3  Format = 3  // v3-v7.0: license key, keyword=value attributes
	FormatV71 Format = 71 // v7.1+: no license key, SIGN= signature
)

// Pos is a position in a license file: 1-based line and column.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Span is where a logical line (with its \ continuations) sits in the file.
type Span struct {
	Pos    Pos    // first character of the line's keyword
	Offset int    // byte offset of the line's first character
	End    int    // byte offset just past its last character (before the newline)
	Raw    string // the exact bytes of Offset:End, continuations included
}

// File is one parsed license file. Lines that failed to parse are absent
// from it and reported in the ErrorList that Parse returns beside it.
type File struct {
	Name      string
	Servers   []*Server
	Vendors   []*Vendor
	UseServer *UseServer // nil when the file has no USE_SERVER line
	Features  []*Feature // FEATURE, INCREMENT and UPGRADE lines, in file order
	Packages  []*Package
	// Order holds every parsed line in file order, as *Server, *Vendor,
	// *UseServer, *Feature or *Package.
	Order []Line
	// Manifests holds the golm-manifest comment lines, in file order
	// (see manifest.go); they are not part of Order.
	Manifests []*Manifest
}

// Line is one parsed license file line.
type Line interface {
	LineKind() Kind
	LineSpan() *Span
	// String renders the line in canonical form: one line, single spaces,
	// the keyword upper-case, values quoted where they need it.
	String() string
}

// Server is a SERVER line.
type Server struct {
	Span
	Host   string // as written; may be this_host or an IP address
	HostID HostID
	Port   int    // 0 when absent: lmgrd uses the first free of 27000-27009
	Attrs  []Attr // HEARTBEAT_INTERVAL=, PRIMARY_IS_MASTER and the like
}

// Vendor is a DAEMON or VENDOR line.
type Vendor struct {
	Span
	Keyword string // "DAEMON" or "VENDOR" as written (upper-cased)
	Name    string
	Path    string // "" when absent
	Options string // options file path, "" when absent
	Port    int    // 0 when absent
}

// UseServer is a USE_SERVER line.
type UseServer struct{ Span }

// Feature is a FEATURE, INCREMENT or UPGRADE line.
type Feature struct {
	Span
	Kind   Kind // KindFeature, KindIncrement or KindUpgrade
	Format Format
	Name   string
	Vendor string
	// FromVersion is UPGRADE's from_feat_version.
	FromVersion Version
	Version     Version
	Expiry      Date
	Count       int    // 0 for uncounted
	CountText   string // as written: "5", "0" or "uncounted"
	Key         string // license key of v2-v7.0 lines; "" for v7.1+
	// VendorString is VENDOR_STRING= or the v2 positional "vendor_str".
	VendorString string
	HostID       HostIDList // HOSTID= or the v2 positional hostid; nil if floating
	// Attrs is every keyword=value (and bare keyword) attribute in the order
	// written, including the ones also decoded into the typed fields below.
	Attrs []Attr

	DupGroup   string // DUP_GROUP= value as written (UHDV, SITE, NONE, ...)
	Issued     Date
	Issuer     string
	Notice     string
	Overdraft  int
	Platforms  []string
	SN         string
	Start      Date
	Supersede  []string // SUPERSEDE="f1 f2"; empty for a bare SUPERSEDE
	Superseded bool     // the line carries SUPERSEDE, bare or with a list
	UserBased  int      // -1 absent, 0 for bare USER_BASED (limit = count), n for USER_BASED=n
	HostBased  int      // as UserBased
	Sign       string   // SIGN= value, or a golm signature written as the license key; "" if unsigned
	Ck         int      // ck= value
	HasCk      bool
}

// Package is a PACKAGE line.
type Package struct {
	Span
	Name       string
	Vendor     string
	Version    Version // may be empty: then any enabling version matches
	Key        string  // license key (pre-v7.1), "" when absent
	Components []Component
	Suite      bool // OPTIONS=SUITE
	Attrs      []Attr
	Sign       string
	Ck         int
	HasCk      bool
}

// Component is one entry of COMPONENTS="name[:version[:count]] ...".
type Component struct {
	Name    string
	Version Version // empty when absent: the enabling line's version
	Count   int     // 0 when absent: the enabling line's count
}

// Attr is one keyword=value (or bare keyword) attribute as written.
type Attr struct {
	Pos      Pos
	Key      string // as written; lowercase keys are user-editable
	Value    string // unquoted value
	HasValue bool   // false for bare keywords (SUPERSEDE, USER_BASED)
	Quoted   bool   // the value was written in double quotes
}

// Version is a feature version: a non-negative decimal number compared as
// a number (1.10 > 1.9 is false: 1.10 == 1.1 < 1.9; 2.300 == 2.3).
type Version struct {
	Text string // as written
	Int  uint64 // integer part
	Frac string // fraction digits without trailing zeros
}

// Date is a license date d-mmm-yyyy. Year 0 (0, 00, 000, 0000) and the
// keyword permanent never expire.
type Date struct {
	Text  string // as written, "" when absent
	Day   int
	Month time.Month
	Year  int // 0 for a permanent date
}

// HostIDType is the kind of a hostid (manual appendix A).
type HostIDType int

// The hostid kinds.
const (
	HostIDEther    HostIDType = iota + 1 // 12 hex digits (an Ethernet address)
	HostIDLong                           // other hex number (32-bit hostid)
	HostIDDecimal                        // #2005771344
	HostIDAny                            // ANY
	HostIDDemo                           // DEMO
	HostIDHostname                       // HOSTNAME=host
	HostIDUser                           // USER=user
	HostIDDisplay                        // DISPLAY=display
	HostIDInternet                       // INTERNET=198.156.*.*
	HostIDID                             // ID=1234-5678 (dashes ignored)
	HostIDOther                          // TYPE=value golm does not know (DISK_SERIAL_NUM=, FLEXID=, ...)
)

// HostID is one hostid as written and decoded.
type HostID struct {
	Type  HostIDType
	Text  string // as written: "HOSTNAME=globes", "08002b32b161"
	Value string // the value part, normalised: hex lower-case, ID without dashes
}

// HostIDList is a HOSTID="id1 id2" list; any member may match.
type HostIDList []HostID

// Machine is what this host is, for matching hostids. LocalMachine fills
// it from the operating system; tests build their own.
type Machine struct {
	Ethers   []string // 12 lower-case hex digits each, loopback and all-zero excluded
	Hostname string
	User     string
	Display  string
	IPs      []string // dotted IPv4 addresses
	// Long is the 32-bit hostid (lmhostid -long) as 8 lower-case hex
	// digits; "" when unknown.
	Long string
}
