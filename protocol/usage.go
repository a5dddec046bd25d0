package protocol

// UsageHistoryRequest asks a vendor daemon for the usage history of one
// feature (lmgrd -http's chart). It answers with one UsageHistory, with
// no series when it has none (no report log, or a feature past its
// bound). One feature a request keeps the answer within a frame.
type UsageHistoryRequest struct {
	Feature string
}

// Type implements Message.
func (*UsageHistoryRequest) Type() Type { return TypeUsageHistoryRequest }

// AppendPayload implements Message.
func (m *UsageHistoryRequest) AppendPayload(b []byte) []byte { return appendString(b, m.Feature) }
func (m *UsageHistoryRequest) decode(d *decoder)             { m.Feature = d.string() }

// UsageHistory is a feature's seats in use over time, from the vendor
// daemon's report log.
type UsageHistory struct {
	Feature string
	// Total is the licensed seats the report log's OUT records say; 0
	// when none says.
	Total uint64
	// InUse is the seats in use now, by the report log.
	InUse  uint64
	Series []UsageSeries
}

// UsageSeries is seats in use in buckets of Step seconds from Start
// (Unix seconds): InUse[i] is the most seats in use in bucket i.
type UsageSeries struct {
	Start int64
	Step  uint64
	InUse []uint64
}

// Type implements Message.
func (*UsageHistory) Type() Type { return TypeUsageHistory }

// AppendPayload implements Message.
func (m *UsageHistory) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Feature)
	b = appendUint(b, m.Total)
	b = appendUint(b, m.InUse)
	b = appendUint(b, uint64(len(m.Series)))
	for _, s := range m.Series {
		b = appendInt(b, s.Start)
		b = appendUint(b, s.Step)
		b = appendUints(b, s.InUse)
	}
	return b
}

// maxUsageSeries bounds the series of one UsageHistory.
const maxUsageSeries = 8

func (m *UsageHistory) decode(d *decoder) {
	m.Feature = d.string()
	m.Total = d.uint()
	m.InUse = d.uint()
	n := d.listLen()
	if n > maxUsageSeries {
		d.fail("%d usage series exceed %d", n, maxUsageSeries)
		return
	}
	if n > 0 {
		m.Series = make([]UsageSeries, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		s := UsageSeries{Start: d.int(), Step: d.uint()}
		if d.err == nil && s.Step == 0 {
			d.fail("usage series step 0")
			return
		}
		s.InUse = d.uints()
		m.Series = append(m.Series, s)
	}
}
