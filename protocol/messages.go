package protocol

import (
	"fmt"

	"golm/lmutil/protocol/lmerr"
)

// Version is the protocol version this package speaks; Hello carries it.
const Version = 1

// Magic starts every Hello payload.
const Magic = "GOLM"

// Type is a frame's message type.
type Type byte

// The message types. Numbers are part of the wire format: never reuse one.
const (
	TypeHello                 Type = 1
	TypeError                 Type = 2
	TypeOK                    Type = 3
	TypeEnd                   Type = 4
	TypeLocate                Type = 5
	TypeLocateReply           Type = 6
	TypeCheckout              Type = 7
	TypeGranted               Type = 8
	TypeCheckin               Type = 9
	TypeHeartbeat             Type = 10
	TypeHeartbeatAck          Type = 11
	TypeServerStatusRequest   Type = 12
	TypeServerStatus          Type = 13
	TypeVendorStatus          Type = 14
	TypeFeatureStatusRequest  Type = 15
	TypeFeatureHeader         Type = 16
	TypePoolStatus            Type = 17
	TypeUserEntry             Type = 18
	TypeReservationEntry      Type = 19
	TypeShutdown              Type = 20
	TypeReread                Type = 21
	TypeRemove                Type = 22
	TypeRemoveHandle          Type = 23
	TypeReady                 Type = 24
	_                         Type = 25 // reserved: LOG_LINE, withdrawn (vendor daemons write the debug log themselves); never reused
	TypeQueued                Type = 26
	TypeQueuePoll             Type = 27
	TypeIdle                  Type = 28
	TypeHostIDs               Type = 29
	TypeLinger                Type = 30
	TypeSwitchReportLog       Type = 31
	TypeNewReportLog          Type = 32
	TypeSwitchDebugLog        Type = 33
	TypeLogSwitched           Type = 34
	TypeLocateHandoff         Type = 35
	TypeHandedOff             Type = 36
	TypeSignedGranted         Type = 37
	TypeLicenseFileRequest    Type = 38
	TypeLicenseText           Type = 39
	TypeHostInfo              Type = 40
	TypeVendorStatsRequest    Type = 41
	TypeVendorStats           Type = 42
	TypeVendorStatsExtRequest Type = 43
	TypeVendorStatsExt        Type = 44
	TypeUsageHistoryRequest   Type = 45
	TypeUsageHistory          Type = 46
)

var typeNames = [...]string{
	TypeHello:                 "HELLO",
	TypeError:                 "ERROR",
	TypeOK:                    "OK",
	TypeEnd:                   "END",
	TypeLocate:                "LOCATE",
	TypeLocateReply:           "LOCATE_REPLY",
	TypeCheckout:              "CHECKOUT",
	TypeGranted:               "GRANTED",
	TypeCheckin:               "CHECKIN",
	TypeHeartbeat:             "HEARTBEAT",
	TypeHeartbeatAck:          "HEARTBEAT_ACK",
	TypeServerStatusRequest:   "SERVER_STATUS_REQUEST",
	TypeServerStatus:          "SERVER_STATUS",
	TypeVendorStatus:          "VENDOR_STATUS",
	TypeFeatureStatusRequest:  "FEATURE_STATUS_REQUEST",
	TypeFeatureHeader:         "FEATURE_HEADER",
	TypePoolStatus:            "POOL_STATUS",
	TypeUserEntry:             "USER_ENTRY",
	TypeReservationEntry:      "RESERVATION_ENTRY",
	TypeShutdown:              "SHUTDOWN",
	TypeReread:                "REREAD",
	TypeRemove:                "REMOVE",
	TypeRemoveHandle:          "REMOVE_HANDLE",
	TypeReady:                 "READY",
	TypeQueued:                "QUEUED",
	TypeQueuePoll:             "QUEUE_POLL",
	TypeIdle:                  "IDLE",
	TypeHostIDs:               "HOSTIDS",
	TypeLinger:                "LINGER",
	TypeSwitchReportLog:       "SWITCH_REPORT_LOG",
	TypeNewReportLog:          "NEW_REPORT_LOG",
	TypeSwitchDebugLog:        "SWITCH_DEBUG_LOG",
	TypeLogSwitched:           "LOG_SWITCHED",
	TypeLocateHandoff:         "LOCATE_HANDOFF",
	TypeHandedOff:             "HANDED_OFF",
	TypeSignedGranted:         "SIGNED_GRANTED",
	TypeLicenseFileRequest:    "LICENSE_FILE_REQUEST",
	TypeLicenseText:           "LICENSE_TEXT",
	TypeHostInfo:              "HOST_INFO",
	TypeVendorStatsRequest:    "VENDOR_STATS_REQUEST",
	TypeVendorStats:           "VENDOR_STATS",
	TypeVendorStatsExtRequest: "VENDOR_STATS_EXT_REQUEST",
	TypeVendorStatsExt:        "VENDOR_STATS_EXT",
	TypeUsageHistoryRequest:   "USAGE_HISTORY_REQUEST",
	TypeUsageHistory:          "USAGE_HISTORY",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	if n := t.triadName(); n != "" {
		return n
	}
	return fmt.Sprintf("TYPE_%d", byte(t))
}

// Message is one decoded frame.
type Message interface {
	// Type is the frame's message type.
	Type() Type
	// AppendPayload appends the encoded payload (without length and type).
	AppendPayload(b []byte) []byte
	decode(d *decoder)
}

// New returns an empty message of type t, or nil for an unknown type.
func New(t Type) Message {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeError:
		return new(Error)
	case TypeOK:
		return new(OK)
	case TypeEnd:
		return new(End)
	case TypeLocate:
		return new(Locate)
	case TypeLocateReply:
		return new(LocateReply)
	case TypeCheckout:
		return new(Checkout)
	case TypeGranted:
		return new(Granted)
	case TypeSignedGranted:
		return new(SignedGranted)
	case TypeCheckin:
		return new(Checkin)
	case TypeHeartbeat:
		return new(Heartbeat)
	case TypeHeartbeatAck:
		return new(HeartbeatAck)
	case TypeServerStatusRequest:
		return new(ServerStatusRequest)
	case TypeServerStatus:
		return new(ServerStatus)
	case TypeVendorStatus:
		return new(VendorStatus)
	case TypeFeatureStatusRequest:
		return new(FeatureStatusRequest)
	case TypeFeatureHeader:
		return new(FeatureHeader)
	case TypePoolStatus:
		return new(PoolStatus)
	case TypeUserEntry:
		return new(UserEntry)
	case TypeReservationEntry:
		return new(ReservationEntry)
	case TypeShutdown:
		return new(Shutdown)
	case TypeReread:
		return new(Reread)
	case TypeRemove:
		return new(Remove)
	case TypeRemoveHandle:
		return new(RemoveHandle)
	case TypeReady:
		return new(Ready)
	case TypeQueued:
		return new(Queued)
	case TypeQueuePoll:
		return new(QueuePoll)
	case TypeIdle:
		return new(Idle)
	case TypeHostIDs:
		return new(HostIDs)
	case TypeHostInfo:
		return new(HostInfo)
	case TypeVendorStatsRequest:
		return new(VendorStatsRequest)
	case TypeVendorStats:
		return new(VendorStats)
	case TypeVendorStatsExtRequest:
		return new(VendorStatsExtRequest)
	case TypeVendorStatsExt:
		return new(VendorStatsExt)
	case TypeUsageHistoryRequest:
		return new(UsageHistoryRequest)
	case TypeUsageHistory:
		return new(UsageHistory)
	case TypeLinger:
		return new(Linger)
	case TypeSwitchReportLog:
		return new(SwitchReportLog)
	case TypeNewReportLog:
		return new(NewReportLog)
	case TypeSwitchDebugLog:
		return new(SwitchDebugLog)
	case TypeLogSwitched:
		return new(LogSwitched)
	case TypeLocateHandoff:
		return new(LocateHandoff)
	case TypeHandedOff:
		return new(HandedOff)
	case TypeLicenseFileRequest:
		return new(LicenseFileRequest)
	case TypeLicenseText:
		return new(LicenseText)
	}
	return newTriad(t)
}

// Decode decodes payload as a message of type t. Any malformation is a
// *Violation.
func Decode(t Type, payload []byte) (Message, error) {
	return decodeWith(new(decoder), t, payload)
}

// decodeWith decodes with d, which a Reader reuses so that decoding a
// frame allocates only the message and its strings.
func decodeWith(d *decoder, t Type, payload []byte) (Message, error) {
	m := New(t)
	if m == nil {
		return nil, violationf("unknown message type %d", byte(t))
	}
	*d = decoder{b: payload}
	m.decode(d)
	err := d.done()
	d.b = nil
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	return m, nil
}

// Role says what the sender of a Hello is.
type Role uint8

// The roles.
const (
	RoleClient        Role = 1 // an application checking licenses out
	RoleAdmin         Role = 2 // an lmutil command (lmstat, lmdown, lmremove, ...)
	RoleVendorControl Role = 3 // a vendor daemon on its control channel to lmgrd
	RoleServer        Role = 4 // lmgrd or a vendor daemon answering a Hello
)

func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleAdmin:
		return "admin"
	case RoleVendorControl:
		return "vendor-control"
	case RoleServer:
		return "server"
	}
	return fmt.Sprintf("role-%d", uint8(r))
}

// Identity is who is asking: what lmstat shows and what options-file
// INCLUDE/EXCLUDE rules match. Servers fill it for themselves too.
type Identity struct {
	User    string
	Host    string
	Display string
	PID     int
	Project string // LM_PROJECT
	Program string // the application's program name
}

func (id *Identity) append(b []byte) []byte {
	b = appendString(b, id.User)
	b = appendString(b, id.Host)
	b = appendString(b, id.Display)
	b = appendUint(b, uint64(id.PID))
	b = appendString(b, id.Project)
	return appendString(b, id.Program)
}

func (id *Identity) decode(d *decoder) {
	id.User = d.string()
	id.Host = d.string()
	id.Display = d.string()
	id.PID = d.uint32()
	id.Project = d.string()
	id.Program = d.string()
}

// Hello is the first frame in each direction.
type Hello struct {
	Version  int  // protocol Version
	Role     Role // RoleClient, RoleAdmin, RoleVendorControl or RoleServer
	Identity Identity
	// Daemon is the server's name ("lmgrd" or the vendor name) in a
	// server's Hello, and the vendor a vendor daemon serves in its
	// control-channel Hello; "" from clients.
	Daemon string
	// Software is the sender's golm version ("0.1.0"), which lmstat prints
	// as v0.1.0.
	Software string
	// JobID names a client's job across reconnects; 0 for admin tools.
	JobID uint64
	// RunID is fixed for the life of a server process; 0 from clients.
	RunID uint64
}

// Type implements Message.
func (*Hello) Type() Type { return TypeHello }

// AppendPayload implements Message.
func (m *Hello) AppendPayload(b []byte) []byte {
	b = append(b, Magic...)
	b = appendUint(b, uint64(m.Version))
	b = appendUint(b, uint64(m.Role))
	b = m.Identity.append(b)
	b = appendString(b, m.Daemon)
	b = appendString(b, m.Software)
	b = appendUint(b, m.JobID)
	return appendUint(b, m.RunID)
}

func (m *Hello) decode(d *decoder) {
	if len(d.b) < len(Magic) || string(d.b[:len(Magic)]) != Magic {
		d.fail("bad magic")
		return
	}
	d.b = d.b[len(Magic):]
	m.Version = d.uint32()
	r := d.uint()
	if d.err == nil && (r < uint64(RoleClient) || r > uint64(RoleServer)) {
		d.fail("unknown role %d", r)
	}
	m.Role = Role(r)
	m.Identity.decode(d)
	m.Daemon = d.string()
	m.Software = d.string()
	m.JobID = d.uint()
	m.RunID = d.uint()
}

// Error is a peer error: a FlexLM error number and minor number, an
// optional errno, a text overriding the standard one, and supporting
// detail lines (the -verbose form's "Feature: f1").
type Error struct {
	Code   lmerr.Code // negative FlexLM error number
	Minor  lmerr.Minor
	Errno  int
	Text   string // "" for the standard text of Code
	Detail []string
}

// Type implements Message.
func (*Error) Type() Type { return TypeError }

// AppendPayload implements Message.
func (m *Error) AppendPayload(b []byte) []byte {
	b = appendInt(b, int64(m.Code))
	b = appendInt(b, int64(m.Minor))
	b = appendInt(b, int64(m.Errno))
	b = appendString(b, m.Text)
	return appendStrings(b, m.Detail)
}

func (m *Error) decode(d *decoder) {
	m.Code = lmerr.Code(d.smallInt())
	m.Minor = lmerr.Minor(d.smallInt())
	m.Errno = d.smallInt()
	m.Text = d.string()
	m.Detail = d.strings()
}

// LMError converts the frame into an *lmerr.Error.
func (m *Error) LMError() *lmerr.Error {
	e := lmerr.New(m.Code, m.Minor, m.Detail...)
	e.Text = m.Text
	if m.Errno > 0 {
		e.Errno = errnoOf(m.Errno)
	}
	return e
}

// ErrorOf builds an Error frame from an *lmerr.Error.
func ErrorOf(e *lmerr.Error) *Error {
	return &Error{Code: e.Code, Minor: e.Minor, Errno: int(e.Errno), Text: e.Text, Detail: e.Detail}
}

// OK acknowledges a request; Count says how many things it affected
// (daemons shut down, seats removed) where that means something.
type OK struct{ Count int }

// Type implements Message.
func (*OK) Type() Type { return TypeOK }

// AppendPayload implements Message.
func (m *OK) AppendPayload(b []byte) []byte { return appendUint(b, uint64(m.Count)) }
func (m *OK) decode(d *decoder)             { m.Count = d.uint32() }

// End ends a streamed reply.
type End struct{}

// Type implements Message.
func (*End) Type() Type { return TypeEnd }

// AppendPayload implements Message.
func (*End) AppendPayload(b []byte) []byte { return b }
func (*End) decode(*decoder)               {}

// Locate asks lmgrd where the vendor daemon Vendor listens. A client
// that knows only the feature (it was given port@host, not a license
// file) leaves Vendor "" and names Feature: lmgrd answers for the vendor
// daemon whose license lines serve it, or for its only vendor daemon, and
// with -5 when no license line names the feature.
type Locate struct {
	Vendor  string
	Feature string
}

// Type implements Message.
func (*Locate) Type() Type { return TypeLocate }

// AppendPayload implements Message.
func (m *Locate) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Vendor)
	return appendString(b, m.Feature)
}

func (m *Locate) decode(d *decoder) {
	m.Vendor = d.string()
	m.Feature = d.string()
}

// LocateHandoff asks lmgrd, like Locate, for the vendor daemon that
// serves Vendor (or Feature), and asks it to hand this very connection
// over to that vendor daemon instead of redirecting the client to the
// daemon's port. lmgrd answers HandedOff when it did: the connection then
// belongs to the vendor daemon, and the client's next frame is its Hello
// to the vendor daemon. Otherwise lmgrd answers as to Locate (a
// LocateReply to follow, or an Error) and the client connects to the
// vendor daemon itself.
type LocateHandoff struct {
	Vendor  string
	Feature string
}

// Type implements Message.
func (*LocateHandoff) Type() Type { return TypeLocateHandoff }

// AppendPayload implements Message.
func (m *LocateHandoff) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Vendor)
	return appendString(b, m.Feature)
}

func (m *LocateHandoff) decode(d *decoder) {
	m.Vendor = d.string()
	m.Feature = d.string()
}

// HandedOff tells a client that lmgrd handed its connection over to the
// vendor daemon Vendor. On lmgrd's control channel to a vendor daemon it
// travels with the client connection's file descriptor.
type HandedOff struct{ Vendor string }

// Type implements Message.
func (*HandedOff) Type() Type { return TypeHandedOff }

// AppendPayload implements Message.
func (m *HandedOff) AppendPayload(b []byte) []byte { return appendString(b, m.Vendor) }
func (m *HandedOff) decode(d *decoder)             { m.Vendor = d.string() }

// LocateReply is lmgrd's redirect: connect to Host:Port for Vendor. Host
// is "" when the vendor daemon runs on lmgrd's own host (the usual case):
// the client then dials the address it reached lmgrd on.
type LocateReply struct {
	Vendor string
	Host   string
	Port   int
}

// Type implements Message.
func (*LocateReply) Type() Type { return TypeLocateReply }

// AppendPayload implements Message.
func (m *LocateReply) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Vendor)
	b = appendString(b, m.Host)
	return appendUint(b, uint64(m.Port))
}

func (m *LocateReply) decode(d *decoder) {
	m.Vendor = d.string()
	m.Host = d.string()
	m.Port = d.port()
}

func (d *decoder) port() int {
	p := d.uint()
	if p > 65535 {
		d.fail("port %d out of range", p)
		return 0
	}
	return int(p)
}

// Checkout flags.
const (
	CheckoutQueue  uint64 = 1 << iota // wait in the queue instead of -4 (LM_CO_QUEUE)
	CheckoutSigned                    // answer with SignedGranted, carrying the license lines
)

// Checkout asks a vendor daemon for Count seats of Feature at Version or
// later. PrevRun/PrevHandle are set when re-checking-out after a
// reconnect (see the package doc); both 0 otherwise.
type Checkout struct {
	Feature    string
	Version    string // requested version, as the application gave it ("1.0")
	Count      int
	VendorData string // vendor-defined checkout data lmstat shows
	Flags      uint64
	PrevRun    uint64
	PrevHandle uint64
}

// Type implements Message.
func (*Checkout) Type() Type { return TypeCheckout }

// AppendPayload implements Message.
func (m *Checkout) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Feature)
	b = appendString(b, m.Version)
	b = appendUint(b, uint64(m.Count))
	b = appendString(b, m.VendorData)
	b = appendUint(b, m.Flags)
	b = appendUint(b, m.PrevRun)
	return appendUint(b, m.PrevHandle)
}

func (m *Checkout) decode(d *decoder) {
	m.Feature = d.string()
	m.Version = d.string()
	m.Count = d.uint32()
	m.VendorData = d.string()
	m.Flags = d.uint()
	m.PrevRun = d.uint()
	m.PrevHandle = d.uint()
}

// Granted answers a successful Checkout.
type Granted struct {
	Handle       uint64 // unique per vendor daemon run; lmstat shows it
	Feature      string
	Version      string // the version of the license line granted
	Expiry       string // the line's expiry as written
	VendorString string
	// Adopted is true when the vendor daemon re-adopted PrevHandle instead
	// of granting a fresh seat.
	Adopted bool
}

// Type implements Message.
func (*Granted) Type() Type { return TypeGranted }

// AppendPayload implements Message.
func (m *Granted) AppendPayload(b []byte) []byte {
	b = appendUint(b, m.Handle)
	b = appendString(b, m.Feature)
	b = appendString(b, m.Version)
	b = appendString(b, m.Expiry)
	b = appendString(b, m.VendorString)
	return appendBool(b, m.Adopted)
}

func (m *Granted) decode(d *decoder) {
	m.Handle = d.uint()
	m.Feature = d.string()
	m.Version = d.string()
	m.Expiry = d.string()
	m.VendorString = d.string()
	m.Adopted = d.bool()
}

// SignedFormGolm1 is SignedGranted.Form for lines in licfile's signed form
// "golm-sig-1" (licfile.SignedText), checked with the vendor's Ed25519
// public key.
const SignedFormGolm1 = 1

// MaxGrantLines bounds the license lines one SignedGranted carries.
const MaxGrantLines = 8

// GrantLine is a license line as a grant carries it: its signed form and
// its SIGN= value, so that the application can check the line with the
// publisher's public key.
type GrantLine struct {
	Text string // the signed form (licfile.SignedText)
	Sign string // the SIGN= value
}

// SignedGranted answers a Checkout with CheckoutSigned, and every later
// Checkout and QueuePoll on the same connection, in place of Granted: the
// grant and the license lines it comes from, in the signed form Form
// (SignedFormGolm1). Lines holds the first lines of the seat's pool
// and, for a PACKAGE component, the PACKAGE line first; at most
// MaxGrantLines. A vendor daemon older than SignedGranted ignores the
// flag and answers Granted, which tells the application that no line
// came.
type SignedGranted struct {
	Granted
	Form  int
	Lines []GrantLine
}

// Type implements Message.
func (*SignedGranted) Type() Type { return TypeSignedGranted }

// AppendPayload implements Message.
func (m *SignedGranted) AppendPayload(b []byte) []byte {
	b = m.Granted.AppendPayload(b)
	b = appendUint(b, uint64(m.Form))
	lines := m.Lines
	if len(lines) > MaxGrantLines {
		lines = lines[:MaxGrantLines]
	}
	b = appendUint(b, uint64(len(lines)))
	for _, l := range lines {
		b = appendString(b, l.Text)
		b = appendString(b, l.Sign)
	}
	return b
}

func (m *SignedGranted) decode(d *decoder) {
	m.Granted.decode(d)
	m.Form = d.uint32()
	n := d.uint()
	if d.err == nil && n > MaxGrantLines {
		d.fail("%d grant lines exceed %d", n, MaxGrantLines)
		return
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		m.Lines = append(m.Lines, GrantLine{Text: d.string(), Sign: d.string()})
	}
}

// Checkin returns the seats of Handle.
type Checkin struct{ Handle uint64 }

// Type implements Message.
func (*Checkin) Type() Type { return TypeCheckin }

// AppendPayload implements Message.
func (m *Checkin) AppendPayload(b []byte) []byte { return appendUint(b, m.Handle) }
func (m *Checkin) decode(d *decoder)             { m.Handle = d.uint() }

// Heartbeat tells the vendor daemon the client is alive and asks whether
// the server is.
type Heartbeat struct{ Seq uint64 }

// Type implements Message.
func (*Heartbeat) Type() Type { return TypeHeartbeat }

// AppendPayload implements Message.
func (m *Heartbeat) AppendPayload(b []byte) []byte { return appendUint(b, m.Seq) }
func (m *Heartbeat) decode(d *decoder)             { m.Seq = d.uint() }

// HeartbeatAck answers a Heartbeat with its Seq.
type HeartbeatAck struct{ Seq uint64 }

// Type implements Message.
func (*HeartbeatAck) Type() Type { return TypeHeartbeatAck }

// AppendPayload implements Message.
func (m *HeartbeatAck) AppendPayload(b []byte) []byte { return appendUint(b, m.Seq) }
func (m *HeartbeatAck) decode(d *decoder)             { m.Seq = d.uint() }

// ServerStatusRequest asks lmgrd for its status: one ServerStatus, one
// VendorStatus per vendor daemon, then End.
type ServerStatusRequest struct{}

// Type implements Message.
func (*ServerStatusRequest) Type() Type { return TypeServerStatusRequest }

// AppendPayload implements Message.
func (*ServerStatusRequest) AppendPayload(b []byte) []byte { return b }
func (*ServerStatusRequest) decode(*decoder)               {}

// ServerStatus is lmgrd's own line of lmstat.
type ServerStatus struct {
	Host         string // the SERVER host name lmgrd runs as
	Port         int    // lmgrd's port
	Version      string // golm version
	Master       bool   // (MASTER) in lmstat
	LicenseFiles []string
}

// Type implements Message.
func (*ServerStatus) Type() Type { return TypeServerStatus }

// AppendPayload implements Message.
func (m *ServerStatus) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Host)
	b = appendUint(b, uint64(m.Port))
	b = appendString(b, m.Version)
	b = appendBool(b, m.Master)
	return appendStrings(b, m.LicenseFiles)
}

func (m *ServerStatus) decode(d *decoder) {
	m.Host = d.string()
	m.Port = d.port()
	m.Version = d.string()
	m.Master = d.bool()
	m.LicenseFiles = d.strings()
}

// VendorStatus is one vendor daemon's line of lmstat. A down vendor
// daemon has Up false and the error (-97,121) in Code/Minor.
type VendorStatus struct {
	Name    string
	Up      bool
	Version string
	Port    int
	Code    lmerr.Code
	Minor   lmerr.Minor
}

// Type implements Message.
func (*VendorStatus) Type() Type { return TypeVendorStatus }

// AppendPayload implements Message.
func (m *VendorStatus) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Name)
	b = appendBool(b, m.Up)
	b = appendString(b, m.Version)
	b = appendUint(b, uint64(m.Port))
	b = appendInt(b, int64(m.Code))
	return appendInt(b, int64(m.Minor))
}

func (m *VendorStatus) decode(d *decoder) {
	m.Name = d.string()
	m.Up = d.bool()
	m.Version = d.string()
	m.Port = d.port()
	m.Code = lmerr.Code(d.smallInt())
	m.Minor = lmerr.Minor(d.smallInt())
}

// FeatureStatusRequest asks a vendor daemon for feature usage: all
// features, or only Feature when it is not "".
type FeatureStatusRequest struct{ Feature string }

// Type implements Message.
func (*FeatureStatusRequest) Type() Type { return TypeFeatureStatusRequest }

// AppendPayload implements Message.
func (m *FeatureStatusRequest) AppendPayload(b []byte) []byte { return appendString(b, m.Feature) }
func (m *FeatureStatusRequest) decode(d *decoder)             { m.Feature = d.string() }

// FeatureHeader starts one feature's part of a feature status stream: the
// "Users of F:" line. Code is non-zero when the feature cannot be served
// (-18 for "unsupported by licensed server", anything else for "Cannot get
// users of F").
type FeatureHeader struct {
	Name      string
	Issued    int // total seats of every line of the feature
	InUse     int // seats in use, reservations included, queued excluded
	Uncounted bool
	Code      lmerr.Code
	Minor     lmerr.Minor
}

// Type implements Message.
func (*FeatureHeader) Type() Type { return TypeFeatureHeader }

// AppendPayload implements Message.
func (m *FeatureHeader) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Name)
	b = appendUint(b, uint64(m.Issued))
	b = appendUint(b, uint64(m.InUse))
	b = appendBool(b, m.Uncounted)
	b = appendInt(b, int64(m.Code))
	return appendInt(b, int64(m.Minor))
}

func (m *FeatureHeader) decode(d *decoder) {
	m.Name = d.string()
	m.Issued = d.uint32()
	m.InUse = d.uint32()
	m.Uncounted = d.bool()
	m.Code = lmerr.Code(d.smallInt())
	m.Minor = lmerr.Minor(d.smallInt())
}

// LicenseType is a pool's type line in lmstat -a.
type LicenseType uint8

// The license types.
const (
	Floating            LicenseType = 1 // "floating license"
	Nodelocked          LicenseType = 2 // `nodelocked license, locked to "ID=1234"`
	UncountedNodelocked LicenseType = 3 // "uncounted nodelocked license locked to ..."
	maxLicenseType                  = UncountedNodelocked
)

// PoolStatus is one license line (pool) of the current feature, the
// `"F" v1.0, vendor: ...` block of lmstat -a. UserEntry and
// ReservationEntry frames that follow belong to it.
type PoolStatus struct {
	Feature      string
	Version      string // the line's version as written
	Vendor       string
	Expiry       string // as written in the file ("permanent", "1-jan-2030")
	VendorString string // "" when the line has none
	LicenseType  LicenseType
	HostID       string // the hostid as written, for nodelocked lines
	Issued       int
	InUse        int
}

// Type implements Message.
func (*PoolStatus) Type() Type { return TypePoolStatus }

// AppendPayload implements Message.
func (m *PoolStatus) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Feature)
	b = appendString(b, m.Version)
	b = appendString(b, m.Vendor)
	b = appendString(b, m.Expiry)
	b = appendString(b, m.VendorString)
	b = appendUint(b, uint64(m.LicenseType))
	b = appendString(b, m.HostID)
	b = appendUint(b, uint64(m.Issued))
	return appendUint(b, uint64(m.InUse))
}

func (m *PoolStatus) decode(d *decoder) {
	m.Feature = d.string()
	m.Version = d.string()
	m.Vendor = d.string()
	m.Expiry = d.string()
	m.VendorString = d.string()
	t := d.uint()
	if d.err == nil && (t < uint64(Floating) || t > uint64(maxLicenseType)) {
		d.fail("unknown license type %d", t)
	}
	m.LicenseType = LicenseType(t)
	m.HostID = d.string()
	m.Issued = d.uint32()
	m.InUse = d.uint32()
}

// UserEntry is one user line of lmstat -a.
type UserEntry struct {
	User       string
	Host       string
	Display    string
	VendorData string // vendor-defined checkout data, "" if none
	Version    string // the version the client asked for
	ServerHost string
	Port       int // lmgrd's port
	Handle     uint64
	Start      int64 // checkout time, Unix seconds
	Count      int
	// LingerRemaining and LingerTotal are in seconds; both 0 unless the
	// seat is lingering.
	LingerRemaining int
	LingerTotal     int
	Queued          bool
}

// Type implements Message.
func (*UserEntry) Type() Type { return TypeUserEntry }

// AppendPayload implements Message.
func (m *UserEntry) AppendPayload(b []byte) []byte {
	b = appendString(b, m.User)
	b = appendString(b, m.Host)
	b = appendString(b, m.Display)
	b = appendString(b, m.VendorData)
	b = appendString(b, m.Version)
	b = appendString(b, m.ServerHost)
	b = appendUint(b, uint64(m.Port))
	b = appendUint(b, m.Handle)
	b = appendInt(b, m.Start)
	b = appendUint(b, uint64(m.Count))
	b = appendUint(b, uint64(m.LingerRemaining))
	b = appendUint(b, uint64(m.LingerTotal))
	return appendBool(b, m.Queued)
}

func (m *UserEntry) decode(d *decoder) {
	m.User = d.string()
	m.Host = d.string()
	m.Display = d.string()
	m.VendorData = d.string()
	m.Version = d.string()
	m.ServerHost = d.string()
	m.Port = d.port()
	m.Handle = d.uint()
	m.Start = d.int()
	m.Count = d.uint32()
	m.LingerRemaining = d.uint32()
	m.LingerTotal = d.uint32()
	m.Queued = d.bool()
}

// ReservationEntry is one reservation line of lmstat -a:
// "\t1 RESERVATION for HOST pc11 (server/27000)".
type ReservationEntry struct {
	Count      int
	Kind       string // USER, HOST, HOST_GROUP, GROUP, DISPLAY, INTERNET, PROJECT
	Name       string
	ServerHost string
	Port       int
}

// Type implements Message.
func (*ReservationEntry) Type() Type { return TypeReservationEntry }

// AppendPayload implements Message.
func (m *ReservationEntry) AppendPayload(b []byte) []byte {
	b = appendUint(b, uint64(m.Count))
	b = appendString(b, m.Kind)
	b = appendString(b, m.Name)
	b = appendString(b, m.ServerHost)
	return appendUint(b, uint64(m.Port))
}

func (m *ReservationEntry) decode(d *decoder) {
	m.Count = d.uint32()
	m.Kind = d.string()
	m.Name = d.string()
	m.ServerHost = d.string()
	m.Port = d.port()
}

// Shutdown asks lmgrd to shut down (lmdown): only vendor daemon Vendor,
// or everything when Vendor is "". From lmgrd to a vendor daemon on the
// control channel it means "exit now". The requester is the Hello's
// identity.
type Shutdown struct {
	Vendor string
	Force  bool // lmdown -force: even with licenses checked out
}

// Type implements Message.
func (*Shutdown) Type() Type { return TypeShutdown }

// AppendPayload implements Message.
func (m *Shutdown) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Vendor)
	return appendBool(b, m.Force)
}

func (m *Shutdown) decode(d *decoder) {
	m.Vendor = d.string()
	m.Force = d.bool()
}

// Reread asks lmgrd to reread its license files (lmreread) and pass that
// on to vendor daemon Vendor, or all when "". lmgrd sends it on to the
// vendor daemons on their control channels.
type Reread struct{ Vendor string }

// Type implements Message.
func (*Reread) Type() Type { return TypeReread }

// AppendPayload implements Message.
func (m *Reread) AppendPayload(b []byte) []byte { return appendString(b, m.Vendor) }
func (m *Reread) decode(d *decoder)             { m.Vendor = d.string() }

// Remove asks a vendor daemon to remove the seats of Feature held by
// user/host/display (lmremove feature user host display).
type Remove struct {
	Feature string
	User    string
	Host    string
	Display string
}

// Type implements Message.
func (*Remove) Type() Type { return TypeRemove }

// AppendPayload implements Message.
func (m *Remove) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Feature)
	b = appendString(b, m.User)
	b = appendString(b, m.Host)
	return appendString(b, m.Display)
}

func (m *Remove) decode(d *decoder) {
	m.Feature = d.string()
	m.User = d.string()
	m.Host = d.string()
	m.Display = d.string()
}

// RemoveHandle asks a vendor daemon to remove the checkout Handle of
// Feature (lmremove -h feature server_host port handle).
type RemoveHandle struct {
	Feature string
	Handle  uint64
}

// Type implements Message.
func (*RemoveHandle) Type() Type { return TypeRemoveHandle }

// AppendPayload implements Message.
func (m *RemoveHandle) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Feature)
	return appendUint(b, m.Handle)
}

func (m *RemoveHandle) decode(d *decoder) {
	m.Feature = d.string()
	m.Handle = d.uint()
}

// Ready is the vendor daemon telling lmgrd, on the control channel, that
// it listens on Port.
type Ready struct {
	Port    int
	PID     int
	Version string
}

// Type implements Message.
func (*Ready) Type() Type { return TypeReady }

// AppendPayload implements Message.
func (m *Ready) AppendPayload(b []byte) []byte {
	b = appendUint(b, uint64(m.Port))
	b = appendUint(b, uint64(m.PID))
	return appendString(b, m.Version)
}

func (m *Ready) decode(d *decoder) {
	m.Port = d.port()
	m.PID = d.uint32()
	m.Version = d.string()
}

// Queued answers a Checkout with CheckoutQueue that found no free seat,
// and a QueuePoll whose request still waits: the request is in the queue
// under Handle (lmstat shows it "queued for N licenses").
type Queued struct {
	Handle uint64
	// Position is the request's place among those queued for the
	// feature, 1 for the next to be granted.
	Position int
}

// Type implements Message.
func (*Queued) Type() Type { return TypeQueued }

// AppendPayload implements Message.
func (m *Queued) AppendPayload(b []byte) []byte {
	b = appendUint(b, m.Handle)
	return appendUint(b, uint64(m.Position))
}

func (m *Queued) decode(d *decoder) {
	m.Handle = d.uint()
	m.Position = d.uint32()
}

// QueuePoll asks about the queued request Handle: the answer is Granted
// once the vendor daemon granted it (the seat is then the client's),
// Queued while it waits, or Error(-41) when there is no such request.
// Checkin{Handle} takes a request out of the queue.
type QueuePoll struct{ Handle uint64 }

// Type implements Message.
func (*QueuePoll) Type() Type { return TypeQueuePoll }

// AppendPayload implements Message.
func (m *QueuePoll) AppendPayload(b []byte) []byte { return appendUint(b, m.Handle) }
func (m *QueuePoll) decode(d *decoder)             { m.Handle = d.uint() }

// Idle tells the vendor daemon that the application is idle (or busy
// again), for the options file's TIMEOUT; answered with OK.
type Idle struct{ Idle bool }

// Type implements Message.
func (*Idle) Type() Type { return TypeIdle }

// AppendPayload implements Message.
func (m *Idle) AppendPayload(b []byte) []byte { return appendBool(b, m.Idle) }
func (m *Idle) decode(d *decoder)             { m.Idle = d.bool() }

// MaxHostIDs bounds the hostids one HostIDs message carries.
const MaxHostIDs = 32

// HostIDs reports the client's Ethernet hostids (12 lower-case hex digits
// each) so that node-locked counted lines can match a remote client;
// answered with OK. A client sends it once, right behind its Hello (see
// the package doc on the handshake), and only when it has hostids.
type HostIDs struct{ Ethers []string }

// Type implements Message.
func (*HostIDs) Type() Type { return TypeHostIDs }

// AppendPayload implements Message.
func (m *HostIDs) AppendPayload(b []byte) []byte { return appendStrings(b, m.Ethers) }

func (m *HostIDs) decode(d *decoder) {
	m.Ethers = d.strings()
	if d.err == nil && len(m.Ethers) > MaxHostIDs {
		d.fail("%d hostids, at most %d", len(m.Ethers), MaxHostIDs)
	}
}

// MaxHostInfo bounds each field of a HostInfo message.
const MaxHostInfo = 64

// HostInfo reports the client's platform name (x64_lsb), for lines with
// PLATFORMS=, and its 32-bit hostid (lmhostid -long, hex), for lines
// node-locked to a 32-bit or #decimal hostid; answered with OK. A client
// sends it once, right behind its Hello (and HostIDs), with "" for what
// it does not know. A client that never sends it is on no platform a
// PLATFORMS= list names.
type HostInfo struct {
	Platform string
	Long     string
}

// Type implements Message.
func (*HostInfo) Type() Type { return TypeHostInfo }

// AppendPayload implements Message.
func (m *HostInfo) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Platform)
	return appendString(b, m.Long)
}

func (m *HostInfo) decode(d *decoder) {
	m.Platform = d.string()
	m.Long = d.string()
	if d.err == nil && (len(m.Platform) > MaxHostInfo || len(m.Long) > MaxHostInfo) {
		d.fail("host info field longer than %d bytes", MaxHostInfo)
	}
}

// Linger sets the linger of the connection's later checkouts (FlexLM's
// LM_A_LINGER, the publisher's linger): a checked-in seat stays held for
// Seconds more; answered with OK. The options file's LINGER may make it
// longer.
type Linger struct{ Seconds int }

// Type implements Message.
func (*Linger) Type() Type { return TypeLinger }

// AppendPayload implements Message.
func (m *Linger) AppendPayload(b []byte) []byte { return appendUint(b, uint64(m.Seconds)) }
func (m *Linger) decode(d *decoder)             { m.Seconds = d.uint32() }

// SwitchReportLog is lmswitchr: the vendor daemon ends its report log
// file and continues the log in Path, a path on the server (relative to
// the directory of the vendor daemon's options file). Answered with
// LogSwitched or an Error.
type SwitchReportLog struct{ Path string }

// Type implements Message.
func (*SwitchReportLog) Type() Type { return TypeSwitchReportLog }

// AppendPayload implements Message.
func (m *SwitchReportLog) AppendPayload(b []byte) []byte { return appendString(b, m.Path) }
func (m *SwitchReportLog) decode(d *decoder)             { m.Path = d.string() }

// NewReportLog is lmnewlog: the vendor daemon renames its report log
// file to Path (a path on the server, as for SwitchReportLog) and
// continues the log in a new file under the REPORTLOG name. Answered with
// LogSwitched or an Error.
type NewReportLog struct{ Path string }

// Type implements Message.
func (*NewReportLog) Type() Type { return TypeNewReportLog }

// AppendPayload implements Message.
func (m *NewReportLog) AppendPayload(b []byte) []byte { return appendString(b, m.Path) }
func (m *NewReportLog) decode(d *decoder)             { m.Path = d.string() }

// SwitchDebugLog is lmswitch: the vendor daemon writes its debug log
// lines to Path (a path on the server, as for SwitchReportLog) from now
// on. Answered with LogSwitched or an Error.
type SwitchDebugLog struct{ Path string }

// Type implements Message.
func (*SwitchDebugLog) Type() Type { return TypeSwitchDebugLog }

// AppendPayload implements Message.
func (m *SwitchDebugLog) AppendPayload(b []byte) []byte { return appendString(b, m.Path) }
func (m *SwitchDebugLog) decode(d *decoder)             { m.Path = d.string() }

// LogSwitched answers SwitchReportLog, NewReportLog and SwitchDebugLog:
// vendor daemon Vendor's log now goes to Path (absolute, on the server); Kept is where
// lmnewlog moved the records so far ("" otherwise); Seq is the sequence
// number of the report log's SWITCH record (0 for the debug log).
type LogSwitched struct {
	Vendor string
	Path   string
	Kept   string
	Seq    uint64
}

// Type implements Message.
func (*LogSwitched) Type() Type { return TypeLogSwitched }

// AppendPayload implements Message.
func (m *LogSwitched) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Vendor)
	b = appendString(b, m.Path)
	b = appendString(b, m.Kept)
	return appendUint(b, m.Seq)
}

func (m *LogSwitched) decode(d *decoder) {
	m.Vendor = d.string()
	m.Path = d.string()
	m.Kept = d.string()
	m.Seq = d.uint()
}
