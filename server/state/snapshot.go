package state

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"time"

	"golm/lmutil/licfile"
)

// A dump of the state (Snapshot, Restore) holds everything Apply depends
// on besides the pools of the license files and the options policy: the
// clocks, the next handle, the sessions, the seats with their handles,
// lingers and charges, the queue in arrival order, the pools an lmreread
// removed that still have seats, and the warnings waiting for the next
// Tick. The live pools and the policy come from the files: the dump
// names the live pools by key, and Restore checks them against the
// state it restores into.
//
// The format: the magic "golm-seats", a version byte, the body, and the
// CRC-32C of everything before it. Integers are varints, strings and
// lists are a length and their elements, and every list is written in
// a fixed order (by handle, session or arrival), so that the same state
// always gives the same bytes.

// dumpMagic starts every dump.
const dumpMagic = "golm-seats"

// dumpVersion is the version of the dump format Snapshot writes.
const dumpVersion = 1

// MaxDumpBytes bounds the dump Restore reads.
const MaxDumpBytes = 1 << 30

// ErrDump is a dump Restore cannot use: malformed, of another format
// version, or taken with other pools than the state's.
var ErrDump = errors.New("state: bad seat table dump")

// Snapshot writes a dump of the state to w: enough, with the same pools
// and policy, for Restore to give a state that answers the commands
// that follow exactly as this one does. Times keep their wall clock
// reading and their zone (UTC, Local or a fixed offset), not their
// monotonic reading: commands from a replicated log carry none either.
func (s *State) Snapshot(w io.Writer) error {
	s.mu.Lock()
	b := s.dump()
	s.mu.Unlock()
	_, err := w.Write(b)
	return err
}

func (s *State) dump() []byte {
	e := &encoder{b: append(make([]byte, 0, 4096), dumpMagic...)}
	e.b = append(e.b, dumpVersion)
	e.time(s.now)
	e.time(s.elapsed)
	e.time(s.last)
	e.uint(uint64(s.nextHandle))
	e.uint(s.queueSeq)
	e.uint(uint64(len(s.pending)))
	for _, w := range s.pending {
		e.string(w)
	}

	idx := make(map[*Pool]int, len(s.pools))
	for i, p := range s.pools {
		idx[p] = i
	}
	poolRef := func(p *Pool) uint64 {
		if i, ok := idx[p]; ok {
			return uint64(i) + 1
		}
		return 0
	}
	e.uint(uint64(len(s.pools)))
	for _, p := range s.pools {
		if !p.Removed {
			e.b = append(e.b, 0)
			e.string(p.Key())
			e.int(int64(p.Count))
			e.bool(p.Uncounted)
			continue
		}
		e.b = append(e.b, 1)
		e.removedPool(p, poolRef(p.Suite))
	}

	ids := make([]uint64, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	e.uint(uint64(len(ids)))
	for _, id := range ids {
		si := s.sessions[id]
		e.uint(id)
		e.time(si.seen)
		e.bool(si.idle)
		e.time(si.idleSince)
	}

	seats := make([]*Seat, 0, len(s.seats))
	for _, st := range s.seats {
		seats = append(seats, st)
	}
	sortByHandle(seats)
	e.uint(uint64(len(seats)))
	for _, st := range seats {
		e.uint(uint64(st.Handle))
		e.uint(poolRef(st.Pool))
		e.uint(st.Session)
		e.client(st.Client)
		e.string(st.Version)
		e.string(st.VendorData)
		e.int(int64(st.Count))
		e.time(st.Start)
		e.string(st.Dup)
		e.uint(uint64(st.Companion))
		e.int(int64(st.AppLinger))
		e.int(int64(st.Linger))
		e.time(st.LingerUntil)
		e.uint(poolRef(st.charge))
	}

	items := make([]*queuedItem, 0, len(s.waiting))
	for _, it := range s.waiting {
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b *queuedItem) int { return cmp.Compare(a.seq, b.seq) })
	e.uint(uint64(len(items)))
	for _, it := range items {
		w := it.w
		e.uint(it.seq)
		e.uint(uint64(w.Handle))
		e.uint(w.Session)
		e.client(w.Client)
		e.string(w.Feature)
		e.string(w.Version)
		e.string(w.VendorData)
		e.int(int64(w.Count))
		e.int(int64(w.Linger))
		e.time(w.Since)
	}
	return binary.LittleEndian.AppendUint32(e.b, crc32.Checksum(e.b, crcTable))
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Restore replaces the seat table of s, a state no command has been
// applied to, with the one a dump of Snapshot holds. s gives the live
// pools and the policy: it must be built (NewState, then a Reread or
// SetPolicy if the dumped state had them) from the same license files
// and options as the dumped state's, so that the live pools are the same
// keys in the same order; the pools an lmreread removed come from the
// dump. A dump that is malformed, of an unknown version, or of other
// pools is refused with an error wrapping ErrDump, and s is unchanged.
func (s *State) Restore(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxDumpBytes+1))
	if err != nil {
		return err
	}
	if len(data) > MaxDumpBytes {
		return fmt.Errorf("%w: larger than %d bytes", ErrDump, MaxDumpBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seats) > 0 || len(s.sessions) > 0 || len(s.waiting) > 0 || !s.last.IsZero() || !s.now.IsZero() {
		return errors.New("state: restore into a state that has served commands")
	}
	n, err := s.undump(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDump, err)
	}
	s.seatTable = n.seatTable
	return nil
}

// undump decodes a dump into a new state with the pools and policy of s.
func (s *State) undump(data []byte) (*State, error) {
	if len(data) < len(dumpMagic)+1+4 || string(data[:len(dumpMagic)]) != dumpMagic {
		return nil, errors.New("not a seat table dump")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if v := data[len(dumpMagic)]; v != dumpVersion {
		return nil, fmt.Errorf("format version %d, want %d", v, dumpVersion)
	}
	if crc32.Checksum(body, crcTable) != sum {
		return nil, errors.New("checksum mismatch")
	}
	d := &decoder{b: body[len(dumpMagic)+1:]}
	n := &State{seatTable: seatTable{
		policy:          s.policy,
		seats:           map[uint32]*Seat{},
		sessions:        map[uint64]*sessionInfo{},
		bySession:       map[uint64][]*Seat{},
		queues:          map[string]*featureQueue{},
		waiting:         map[uint32]*queuedItem{},
		queuedBySession: map[uint64][]*queuedItem{},
		invariant:       s.invariant,
	}}
	n.now, n.elapsed, n.last = d.time(), d.time(), d.time()
	n.nextHandle = uint32(d.uintMax(1<<32 - 1))
	queueSeq := d.uint()
	for range d.count() {
		n.pending = append(n.pending, d.string())
	}

	// The pools: the live ones are s's, in order; the removed ones are
	// built from the dump, their suites linked once all are known.
	npools := d.count()
	live := s.pools
	n.pools = make([]*Pool, 0, npools)
	suites := map[*Pool]uint64{}
	for range npools {
		if d.err != nil {
			break
		}
		switch d.byte() {
		case 0:
			key, count, uncounted := d.string(), d.int(), d.bool()
			if d.err != nil {
				break
			}
			if len(live) == 0 || live[0].Removed || live[0].Key() != key || int64(live[0].Count) != count || live[0].Uncounted != uncounted {
				return nil, fmt.Errorf("pool %q is not the state's pool %d", key, len(n.pools)+1)
			}
			n.pools = append(n.pools, live[0])
			live = live[1:]
		case 1:
			p, suite := d.removedPool()
			suites[p] = suite
			n.pools = append(n.pools, p)
		default:
			d.fail("bad pool kind")
		}
	}
	if d.err == nil && len(live) > 0 {
		return nil, fmt.Errorf("the state has %d pools the dump does not", len(live))
	}
	pool := func(ref uint64) *Pool {
		if ref == 0 || ref > uint64(len(n.pools)) {
			d.fail("bad pool reference")
			return nil
		}
		return n.pools[ref-1]
	}
	for p, ref := range suites {
		if ref != 0 {
			p.Suite = pool(ref)
		}
	}

	var ids uint64 // the last session read
	for i := range d.count() {
		id := d.uint()
		si := &sessionInfo{seen: d.time(), idle: d.bool(), idleSince: d.time()}
		if d.err != nil {
			break
		}
		if i > 0 && id <= ids {
			d.fail("sessions out of order")
		}
		ids = id
		n.sessions[id] = si
	}

	seats := make([]*Seat, 0, min(d.remaining(), 1<<16))
	var last uint32
	for range d.count() {
		if d.err != nil {
			break
		}
		st := &Seat{Handle: uint32(d.uintMax(1<<32 - 1))}
		st.Pool = pool(d.uint())
		st.Session = d.uint()
		st.Client = d.client()
		st.Version = d.string()
		st.VendorData = d.string()
		st.Count = int(d.intIn(1, 1<<31-1))
		st.Start = d.time()
		st.Dup = d.string()
		st.Companion = uint32(d.uintMax(1<<32 - 1))
		st.AppLinger = time.Duration(d.intIn(0, 1<<63-1))
		st.Linger = time.Duration(d.intIn(0, 1<<63-1))
		st.LingerUntil = d.time()
		if ref := d.uint(); ref != 0 {
			st.charge = pool(ref)
		}
		if d.err != nil {
			break
		}
		switch {
		case st.Handle <= last: // and no handle 0
			d.fail("seats out of handle order")
		case st.Lingering() && st.Session != 0:
			d.fail("a lingering seat held by a session")
		case st.charge != nil && (st.charge.Removed || st.charge.Uncounted || !st.Pool.Removed || st.Pool.Uncounted):
			d.fail("a seat charged to a pool it cannot count against")
		}
		last = st.Handle
		seats = append(seats, st)
		n.seats[st.Handle] = st
	}
	for _, st := range seats {
		if d.err != nil {
			break
		}
		if st.Companion != 0 {
			if c := n.seats[st.Companion]; c == nil || c == st || c.Companion != st.Handle {
				d.fail("a seat with a broken companion")
			}
		}
	}

	var prevSeq uint64
	for range d.count() {
		if d.err != nil {
			break
		}
		seq := d.uint()
		w := &Waiter{Handle: uint32(d.uintMax(1<<32 - 1)), Session: d.uint(), Client: d.client(), Feature: d.string(),
			Version: d.string(), VendorData: d.string(), Count: int(d.intIn(1, 1<<31-1)),
			Linger: time.Duration(d.intIn(0, 1<<63-1)), Since: d.time()}
		if d.err != nil {
			break
		}
		switch {
		case seq <= prevSeq || seq > queueSeq:
			d.fail("queue out of arrival order")
		case w.Handle == 0 || n.seats[w.Handle] != nil || n.waiting[w.Handle] != nil:
			d.fail("a queued request with a handle in use")
		case n.queuedFor(w.Session, w.Feature) || len(n.queuedBySession[w.Session]) >= MaxQueuedPerSession:
			d.fail("a session with too many queued requests")
		}
		if _, ok := parseVersion(w.Version); !ok {
			d.fail("a queued request for a bad version")
		}
		if d.err != nil {
			break
		}
		prevSeq = seq
		n.queueSeq = seq - 1
		n.enqueueWaiter(w)
	}
	n.queueSeq = queueSeq
	if d.err == nil && len(d.b) > 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	for _, st := range seats {
		if st.Session != 0 {
			n.bySession[st.Session] = append(n.bySession[st.Session], st) // handle order
		}
		if st.Lingering() {
			n.pushLinger(st)
		}
	}
	for _, p := range n.pools {
		if p.Removed && !slices.ContainsFunc(seats, func(st *Seat) bool { return st.Pool == p }) {
			return nil, errors.New("a removed pool without seats")
		}
	}
	n.refresh() // the indexes and reservations, from the pools, policy and clock
	if err := n.checkLocked(); err != nil {
		return nil, err
	}
	if err := n.checkIndexes(); err != nil {
		return nil, err
	}
	if err := n.checkQueue(); err != nil {
		return nil, err
	}
	return n, nil
}

// encoder appends a dump's values to b.
type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) string(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// Time zones of a dumped time.
const (
	zoneNone  = iota // the zero time
	zoneUTC          // UTC
	zoneLocal        // the server's local time
	zoneFixed        // a name and an offset
)

func (e *encoder) time(t time.Time) {
	switch {
	case t.IsZero():
		e.b = append(e.b, zoneNone)
		return
	case t.Location() == time.UTC:
		e.b = append(e.b, zoneUTC)
	case t.Location() == time.Local:
		e.b = append(e.b, zoneLocal)
	default:
		name, off := t.Zone()
		e.b = append(e.b, zoneFixed)
		e.string(name)
		e.int(int64(off))
	}
	e.int(t.Unix())
	e.uint(uint64(t.Nanosecond()))
}

func (e *encoder) client(c Client) {
	for _, s := range [...]string{c.User, c.Host, c.Display, c.Project, c.Program, c.IP, c.Platform, c.Long} {
		e.string(s)
	}
	e.int(int64(c.PID))
	e.uint(c.JobID)
	e.uint(uint64(len(c.Ethers)))
	for _, s := range c.Ethers {
		e.string(s)
	}
}

func (e *encoder) version(v licfile.Version) {
	e.string(v.Text)
	e.uint(v.Int)
	e.string(v.Frac)
}

func (e *encoder) date(d licfile.Date) {
	e.string(d.Text)
	e.int(int64(d.Day))
	e.int(int64(d.Month))
	e.int(int64(d.Year))
}

// removedPool writes what a pool an lmreread removed is to the state: it
// grants nothing, so its license lines are not kept.
func (e *encoder) removedPool(p *Pool, suite uint64) {
	e.string(p.Feature)
	e.string(p.Vendor)
	e.version(p.Version)
	e.date(p.Expiry)
	e.date(p.Start)
	e.int(int64(p.Count))
	e.bool(p.Uncounted)
	e.uint(uint64(len(p.HostID)))
	for _, h := range p.HostID {
		e.int(int64(h.Type))
		e.string(h.Text)
		e.string(h.Value)
	}
	e.string(p.VendorString)
	e.int(int64(p.Overdraft))
	e.uint(uint64(p.Dup))
	e.int(int64(p.UserBased))
	e.int(int64(p.HostBased))
	e.string(p.Package)
	e.uint(suite)
	e.bool(p.SuiteOnly)
	e.uint(uint64(len(p.Parts)))
	for _, pp := range p.Parts {
		e.int(int64(pp.Count))
		e.int(int64(pp.Overdraft))
		e.date(pp.Start)
		e.date(pp.Expiry)
	}
}

// decoder reads a dump's values from b. The first error sticks: every
// later read returns a zero value, so a decoding loop checks err once
// per element.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
	d.b = nil
}

func (d *decoder) remaining() int { return len(d.b) }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// uint reads a varint in its shortest form: a dump has one encoding.
func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("truncated or bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n != uvarintLen(uint64(v)<<1^uint64(v>>63)) {
		d.fail("truncated or bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uvarintLen is how many bytes binary.AppendUvarint writes for v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (d *decoder) uintMax(max uint64) uint64 {
	v := d.uint()
	if v > max {
		d.fail("number out of range")
		return 0
	}
	return v
}

func (d *decoder) intIn(lo, hi int64) int64 {
	v := d.int()
	if v < lo || v > hi {
		d.fail("number out of range")
		return lo
	}
	return v
}

// count reads a list's length: each element takes at least one byte,
// so a length beyond the bytes left is malformed.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail("list longer than the dump")
		return 0
	}
	return int(n)
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad boolean")
	return false
}

func (d *decoder) string() string {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail("string longer than the dump")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	var loc *time.Location
	switch d.byte() {
	case zoneNone:
		return time.Time{}
	case zoneUTC:
		loc = time.UTC
	case zoneLocal:
		loc = time.Local
	case zoneFixed:
		name, off := d.string(), d.intIn(-24*3600, 24*3600)
		loc = time.FixedZone(name, int(off))
	default:
		d.fail("bad time zone")
		return time.Time{}
	}
	sec, nsec := d.int(), d.uintMax(999_999_999)
	if d.err != nil {
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec)).In(loc)
	if t.IsZero() {
		d.fail("a zero time with a zone")
	}
	return t
}

func (d *decoder) client() Client {
	var c Client
	for _, p := range [...]*string{&c.User, &c.Host, &c.Display, &c.Project, &c.Program, &c.IP, &c.Platform, &c.Long} {
		*p = d.string()
	}
	c.PID = int(d.intIn(-1<<31, 1<<31-1))
	c.JobID = d.uint()
	for range d.count() {
		c.Ethers = append(c.Ethers, d.string())
	}
	return c
}

func (d *decoder) version() licfile.Version {
	return licfile.Version{Text: d.string(), Int: d.uint(), Frac: d.string()}
}

func (d *decoder) date() licfile.Date {
	return licfile.Date{Text: d.string(), Day: int(d.intIn(0, 31)), Month: time.Month(d.intIn(0, 12)), Year: int(d.intIn(0, 1<<31-1))}
}

func (d *decoder) removedPool() (*Pool, uint64) {
	p := &Pool{Removed: true}
	p.Feature = d.string()
	p.Vendor = d.string()
	p.Version = d.version()
	p.Expiry = d.date()
	p.Start = d.date()
	p.Count = int(d.intIn(0, 1<<31-1))
	p.Uncounted = d.bool()
	for range d.count() {
		p.HostID = append(p.HostID, licfile.HostID{Type: licfile.HostIDType(d.intIn(-1<<31, 1<<31-1)), Text: d.string(), Value: d.string()})
	}
	p.VendorString = d.string()
	p.Overdraft = int(d.intIn(0, 1<<31-1))
	p.Dup = DupMask(d.uintMax(255))
	p.UserBased = int(d.intIn(-1, 1<<31-1))
	p.HostBased = int(d.intIn(-1, 1<<31-1))
	p.Package = d.string()
	suite := d.uint()
	p.SuiteOnly = d.bool()
	for range d.count() {
		p.Parts = append(p.Parts, PoolPart{Count: int(d.intIn(0, 1<<31-1)), Overdraft: int(d.intIn(0, 1<<31-1)), Start: d.date(), Expiry: d.date()})
	}
	return p, suite
}
