package protocol

// VendorStatsRequest asks a vendor daemon for its counters since it
// started (lmgrd -http's /metrics). It answers with one VendorStats.
type VendorStatsRequest struct{}

// Type implements Message.
func (*VendorStatsRequest) Type() Type { return TypeVendorStatsRequest }

// AppendPayload implements Message.
func (*VendorStatsRequest) AppendPayload(b []byte) []byte { return b }
func (*VendorStatsRequest) decode(*decoder)               {}

// VendorStats are a vendor daemon's counters since it started.
type VendorStats struct {
	Checkouts uint64        // checkouts granted at once
	Queued    uint64        // checkouts that went into the queue
	Denials   []DenialCount // checkouts denied, by FlexLM error code
	// Connections is the client connections open now.
	Connections uint64
	// LatencyBounds are the upper bounds, in microseconds, of the
	// checkout latency buckets; LatencyCounts has one count per bucket
	// and one more for the checkouts above the last bound; LatencySum is
	// the sum of all latencies in microseconds.
	LatencyBounds []uint64
	LatencyCounts []uint64
	LatencySum    uint64
}

// DenialCount is how many checkouts were denied with Code.
type DenialCount struct {
	Code  int
	Count uint64
}

// Type implements Message.
func (*VendorStats) Type() Type { return TypeVendorStats }

// AppendPayload implements Message.
func (m *VendorStats) AppendPayload(b []byte) []byte {
	b = appendUint(b, m.Checkouts)
	b = appendUint(b, m.Queued)
	b = appendUint(b, uint64(len(m.Denials)))
	for _, d := range m.Denials {
		b = appendInt(b, int64(d.Code))
		b = appendUint(b, d.Count)
	}
	b = appendUint(b, m.Connections)
	b = appendUints(b, m.LatencyBounds)
	b = appendUints(b, m.LatencyCounts)
	return appendUint(b, m.LatencySum)
}

func appendUints(b []byte, vs []uint64) []byte {
	b = appendUint(b, uint64(len(vs)))
	for _, v := range vs {
		b = appendUint(b, v)
	}
	return b
}

func (m *VendorStats) decode(d *decoder) {
	m.Checkouts = d.uint()
	m.Queued = d.uint()
	if n := d.listLen(); n > 0 {
		m.Denials = make([]DenialCount, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			code := d.int()
			if code < -255 || code > 0 {
				d.fail("denial code %d out of range", code)
				return
			}
			m.Denials = append(m.Denials, DenialCount{Code: int(code), Count: d.uint()})
		}
	}
	m.Connections = d.uint()
	m.LatencyBounds = d.uints()
	m.LatencyCounts = d.uints()
	m.LatencySum = d.uint()
}

func (d *decoder) uints() []uint64 {
	n := d.listLen()
	if n == 0 {
		return nil
	}
	vs := make([]uint64, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		vs = append(vs, d.uint())
	}
	return vs
}

// VendorStatsExtRequest asks a vendor daemon for the counters that came
// after VendorStats (queue wait, report log, triad). It answers with one
// VendorStatsExt; a vendor daemon older than these messages closes the
// connection as on any unknown message, so lmgrd asks it last, on a
// connection of its own.
type VendorStatsExtRequest struct{}

// Type implements Message.
func (*VendorStatsExtRequest) Type() Type { return TypeVendorStatsExtRequest }

// AppendPayload implements Message.
func (*VendorStatsExtRequest) AppendPayload(b []byte) []byte { return b }
func (*VendorStatsExtRequest) decode(*decoder)               {}

// The triad roles of VendorStatsExt.TriadRole.
const (
	TriadNone    = 0 // not in a three-server triad
	TriadMaster  = 1
	TriadStandby = 2
)

// VendorStatsExt are more of a vendor daemon's counters since it
// started.
type VendorStatsExt struct {
	// QueueWaitBounds are the upper bounds, in milliseconds, of the
	// buckets of the time queued checkouts waited until they were
	// granted; QueueWaitCounts has one count per bucket and one more for
	// the waits above the last bound; QueueWaitSum is the sum of all
	// waits in milliseconds.
	QueueWaitBounds []uint64
	QueueWaitCounts []uint64
	QueueWaitSum    uint64
	// ReportLog says that the vendor daemon has a report log (REPORTLOG);
	// ReportRecords is the records written to it and ReportWriteErrors
	// the writes of a record that failed.
	ReportLog         bool
	ReportRecords     uint64
	ReportWriteErrors uint64
	// TriadRole is TriadNone, TriadMaster or TriadStandby; TriadTerm is
	// the triad's election term and TriadQuorum whether the vendor daemon
	// sees a majority of the triad. The last two mean nothing with
	// TriadNone.
	TriadRole   uint64
	TriadTerm   uint64
	TriadQuorum bool
	// Started is when the vendor daemon started (Unix seconds), for its
	// uptime.
	Started int64
}

// Type implements Message.
func (*VendorStatsExt) Type() Type { return TypeVendorStatsExt }

// AppendPayload implements Message.
func (m *VendorStatsExt) AppendPayload(b []byte) []byte {
	b = appendUints(b, m.QueueWaitBounds)
	b = appendUints(b, m.QueueWaitCounts)
	b = appendUint(b, m.QueueWaitSum)
	b = appendBool(b, m.ReportLog)
	b = appendUint(b, m.ReportRecords)
	b = appendUint(b, m.ReportWriteErrors)
	b = appendUint(b, m.TriadRole)
	b = appendUint(b, m.TriadTerm)
	b = appendBool(b, m.TriadQuorum)
	return appendInt(b, m.Started)
}

func (m *VendorStatsExt) decode(d *decoder) {
	m.QueueWaitBounds = d.uints()
	m.QueueWaitCounts = d.uints()
	m.QueueWaitSum = d.uint()
	m.ReportLog = d.bool()
	m.ReportRecords = d.uint()
	m.ReportWriteErrors = d.uint()
	m.TriadRole = d.uint()
	if m.TriadRole > TriadStandby {
		d.fail("triad role %d out of range", m.TriadRole)
	}
	m.TriadTerm = d.uint()
	m.TriadQuorum = d.bool()
	m.Started = d.int()
}
