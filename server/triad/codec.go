package triad

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"golm/lmutil/server/state"
)

// Codec version: the first byte of every encoded batch. A member that
// reads a version it does not know refuses the entry instead of guessing.
const codecVersion = 1

// Hash names the license or options text a Reread or SetPolicy was built
// from (its SHA-256). Pools hold pointers and parsed lines, so the log
// carries the name of the text, and every member builds its own pools
// from its own copy of the same files (Config.PoolsByHash).
type Hash [32]byte

// String is the hash in hex, as log lines show it.
func (h Hash) String() string { return fmt.Sprintf("%x", h[:]) }

// Reread is an lmreread as the log carries it: replace the pools with
// those built from the license text whose hash is Hash.
type Reread struct{ Hash Hash }

// SetPolicy is an options file change as the log carries it: the policy
// built from the options text whose hash is Hash.
type SetPolicy struct{ Hash Hash }

// TimedOut is a session the master found silent for longer than the
// timeout: every member applies it as a state.Disconnect, and the
// report log gives its seats the timeout reason rather than the exit
// one.
type TimedOut struct {
	Session uint64
	Now     time.Time
}

// RotateLog is lmswitchr (New false) or lmnewlog (New true) of a
// triad: every member switches its report log to Path (as the client
// sent it, resolved by each member) when it commits, at the master's
// time Now, so that the three logs stay the same.
type RotateLog struct {
	Path string
	New  bool
	Now  time.Time
}

// Command is one replicated command: a state.Checkout, Checkin,
// SetIdle, Disconnect, Tick, Remove, RemoveHandle, Revoke or Heartbeat,
// or a Reread, SetPolicy or TimedOut of this package. state.Reread and
// state.SetPolicy carry pools and policies, which do not travel (use
// this package's, by hash). Which sessions are silent is the master's
// own knowledge, so the master proposes a TimedOut for each. A Heartbeat is proposed at most once
// per session per Tick, never once per client heartbeat.
type Command any

// Errors of the codec.
var (
	// ErrVersion is an entry of a codec version this member does not know.
	ErrVersion = errors.New("triad: unknown log entry version")
	// ErrCorrupt is an entry that does not decode.
	ErrCorrupt = errors.New("triad: corrupt log entry")
	// ErrNotReplicated is a command that is not replicated.
	ErrNotReplicated = errors.New("triad: command is not replicated")
	// ErrTooLarge is a command with a field beyond the codec's bounds.
	ErrTooLarge = errors.New("triad: command too large")
)

// Command tags. Never renumber: logs and snapshots on disk hold them.
const (
	tagCheckout     = 1
	tagCheckin      = 2
	tagHeartbeat    = 3
	tagSetIdle      = 4
	tagDisconnect   = 5
	tagTick         = 6
	tagRemove       = 7
	tagRemoveHandle = 8
	tagReread       = 9
	tagSetPolicy    = 10
	tagRevoke       = 11
	tagTimedOut     = 12
	tagRotateLog    = 13
)

// Bounds that a decoder holds a hostile or corrupt entry to, so that a
// length field cannot make it allocate without end.
const (
	maxString   = 1 << 12
	maxList     = 1 << 16
	maxBatchLen = 1 << 20
)

// Encode appends the encoding of a batch of commands to dst: the version
// byte, the number of commands, then each command's tag and fields.
func Encode(dst []byte, cmds []Command) ([]byte, error) {
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, uint64(len(cmds)))
	for _, c := range cmds {
		var err error
		if dst, err = encodeOne(dst, c); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func encodeOne(b []byte, cmd Command) ([]byte, error) {
	if err := checkBounds(cmd); err != nil {
		return nil, err
	}
	switch c := cmd.(type) {
	case state.Checkout:
		b = append(b, tagCheckout)
		b = binary.AppendUvarint(b, c.Session)
		b = putClient(b, c.Client)
		b = putString(b, c.Feature)
		b = putString(b, c.Version)
		b = putString(b, c.VendorData)
		b = binary.AppendVarint(b, int64(c.Count))
		b = putBool(b, c.Queue)
		b = binary.AppendVarint(b, int64(c.Linger))
		b = binary.AppendUvarint(b, uint64(c.PrevHandle))
		b = putBool(b, c.Adopt)
		b = putTime(b, c.Now)
	case state.Checkin:
		b = append(b, tagCheckin)
		b = binary.AppendUvarint(b, c.Session)
		b = binary.AppendUvarint(b, uint64(c.Handle))
		b = putTime(b, c.Now)
	case state.Heartbeat:
		b = append(b, tagHeartbeat)
		b = binary.AppendUvarint(b, c.Session)
		b = putTime(b, c.Now)
	case state.SetIdle:
		b = append(b, tagSetIdle)
		b = binary.AppendUvarint(b, c.Session)
		b = putBool(b, c.Idle)
		b = putTime(b, c.Now)
	case state.Disconnect:
		b = append(b, tagDisconnect)
		b = binary.AppendUvarint(b, c.Session)
		b = putTime(b, c.Now)
	case state.Tick:
		b = append(b, tagTick)
		b = putTime(b, c.Now)
	case TimedOut:
		b = append(b, tagTimedOut)
		b = binary.AppendUvarint(b, c.Session)
		b = putTime(b, c.Now)
	case state.Remove:
		b = append(b, tagRemove)
		b = putString(b, c.Feature)
		b = putString(b, c.User)
		b = putString(b, c.Host)
		b = putString(b, c.Display)
		b = putTime(b, c.Now)
	case state.RemoveHandle:
		b = append(b, tagRemoveHandle)
		b = putString(b, c.Feature)
		b = binary.AppendUvarint(b, uint64(c.Handle))
		b = putTime(b, c.Now)
	case Reread:
		b = append(b, tagReread)
		b = append(b, c.Hash[:]...)
	case SetPolicy:
		b = append(b, tagSetPolicy)
		b = append(b, c.Hash[:]...)
	case RotateLog:
		b = append(b, tagRotateLog)
		b = putString(b, c.Path)
		b = putBool(b, c.New)
		b = putTime(b, c.Now)
	case state.Revoke:
		b = append(b, tagRevoke)
		b = binary.AppendUvarint(b, uint64(len(c.Handles)))
		for _, h := range c.Handles {
			b = binary.AppendUvarint(b, uint64(h))
		}
	default:
		return nil, fmt.Errorf("%w: %T", ErrNotReplicated, cmd)
	}
	return b, nil
}

// Decode decodes a batch that Encode made. It never panics, whatever the
// input, and refuses trailing bytes.
func Decode(data []byte) ([]Command, error) {
	if len(data) == 0 {
		return nil, ErrCorrupt
	}
	if data[0] != codecVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, data[0])
	}
	d := decoder{b: data[1:]}
	n := d.uvarint()
	// Every command takes at least one byte, which bounds n by the input.
	if d.err != nil || n > uint64(len(d.b)) || n > maxBatchLen {
		return nil, ErrCorrupt
	}
	cmds := make([]Command, 0, n)
	for range n {
		c := d.command()
		if d.err != nil {
			return nil, ErrCorrupt
		}
		cmds = append(cmds, c)
	}
	if len(d.b) != 0 {
		return nil, ErrCorrupt
	}
	return cmds, nil
}

func (d *decoder) command() Command {
	switch tag := d.byte(); tag {
	case tagCheckout:
		var c state.Checkout
		c.Session = d.uvarint()
		c.Client = d.client()
		c.Feature = d.string()
		c.Version = d.string()
		c.VendorData = d.string()
		c.Count = d.int()
		c.Queue = d.bool()
		c.Linger = time.Duration(d.varint())
		c.PrevHandle = d.uint32()
		c.Adopt = d.bool()
		c.Now = d.time()
		return c
	case tagCheckin:
		var c state.Checkin
		c.Session = d.uvarint()
		c.Handle = d.uint32()
		c.Now = d.time()
		return c
	case tagHeartbeat:
		var c state.Heartbeat
		c.Session = d.uvarint()
		c.Now = d.time()
		return c
	case tagSetIdle:
		var c state.SetIdle
		c.Session = d.uvarint()
		c.Idle = d.bool()
		c.Now = d.time()
		return c
	case tagDisconnect:
		var c state.Disconnect
		c.Session = d.uvarint()
		c.Now = d.time()
		return c
	case tagTick:
		return state.Tick{Now: d.time()}
	case tagTimedOut:
		var c TimedOut
		c.Session = d.uvarint()
		c.Now = d.time()
		return c
	case tagRemove:
		var c state.Remove
		c.Feature = d.string()
		c.User = d.string()
		c.Host = d.string()
		c.Display = d.string()
		c.Now = d.time()
		return c
	case tagRemoveHandle:
		var c state.RemoveHandle
		c.Feature = d.string()
		c.Handle = d.uint32()
		c.Now = d.time()
		return c
	case tagReread:
		return Reread{Hash: d.hash()}
	case tagSetPolicy:
		return SetPolicy{Hash: d.hash()}
	case tagRotateLog:
		var c RotateLog
		c.Path = d.string()
		c.New = d.bool()
		c.Now = d.time()
		return c
	case tagRevoke:
		n := d.count()
		var c state.Revoke
		if n > 0 {
			c.Handles = make([]uint32, 0, n)
		}
		for range n {
			c.Handles = append(c.Handles, d.uint32())
		}
		return c
	default:
		d.fail()
		return nil
	}
}

// checkBounds refuses a command that the decoder would refuse, so that
// every entry the leader proposes decodes on every member.
func checkBounds(cmd Command) error {
	var strs []string
	var ints []int
	switch c := cmd.(type) {
	case state.Checkout:
		strs = append([]string{c.Feature, c.Version, c.VendorData, c.Client.User, c.Client.Host,
			c.Client.Display, c.Client.Project, c.Client.Program, c.Client.IP}, c.Client.Ethers...)
		ints = []int{c.Count, c.Client.PID}
		if len(c.Client.Ethers) > maxList {
			return fmt.Errorf("%w: %d hostids", ErrTooLarge, len(c.Client.Ethers))
		}
	case state.Remove:
		strs = []string{c.Feature, c.User, c.Host, c.Display}
	case state.RemoveHandle:
		strs = []string{c.Feature}
	case RotateLog:
		strs = []string{c.Path}
	case state.Revoke:
		if len(c.Handles) > maxList {
			return fmt.Errorf("%w: %d handles", ErrTooLarge, len(c.Handles))
		}
	}
	for _, s := range strs {
		if len(s) > maxString {
			return fmt.Errorf("%w: a %d-byte string", ErrTooLarge, len(s))
		}
	}
	for _, n := range ints {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return fmt.Errorf("%w: %d", ErrTooLarge, n)
		}
	}
	return nil
}

func putString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func putBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// putTime writes t's wall clock in nanoseconds since 1970 (the
// monotonic reading does not travel: each member's State runs on the
// times the log carries), with 0 for the zero time, which UnixNano
// cannot represent, and a nanosecond-exact time at 1970 written as 1ns
// later.
func putTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	n := t.UnixNano()
	if n == 0 {
		n = 1
	}
	return binary.AppendVarint(b, n)
}

func putClient(b []byte, c state.Client) []byte {
	b = putString(b, c.User)
	b = putString(b, c.Host)
	b = putString(b, c.Display)
	b = putString(b, c.Project)
	b = putString(b, c.Program)
	b = binary.AppendVarint(b, int64(c.PID))
	b = putString(b, c.IP)
	b = binary.AppendUvarint(b, uint64(len(c.Ethers)))
	for _, e := range c.Ethers {
		b = putString(b, e)
	}
	return binary.AppendUvarint(b, c.JobID)
}

// decoder reads fields, remembering the first error so that the
// field-by-field code above needs no checks; after an error every read
// returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int {
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail()
		return 0
	}
	return uint32(v)
}

func (d *decoder) count() uint64 {
	n := d.uvarint()
	if n > maxList || n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return n
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > maxString || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	n := d.varint()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (d *decoder) hash() Hash {
	var h Hash
	if len(d.b) < len(h) {
		d.fail()
		return h
	}
	copy(h[:], d.b)
	d.b = d.b[len(h):]
	return h
}

func (d *decoder) client() state.Client {
	var c state.Client
	c.User = d.string()
	c.Host = d.string()
	c.Display = d.string()
	c.Project = d.string()
	c.Program = d.string()
	c.PID = d.int()
	c.IP = d.string()
	if n := d.count(); n > 0 {
		c.Ethers = make([]string, 0, n)
		for range n {
			c.Ethers = append(c.Ethers, d.string())
		}
	}
	c.JobID = d.uvarint()
	return c
}
