package protocol

import "encoding/binary"

// Field bounds: a decoder refuses anything larger before allocating.
const (
	MaxString = 16 << 10 // bytes in one string field
	MaxList   = 4096     // elements in one list field
)

func appendUint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func appendInt(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }

// appendString appends s, cut to MaxString bytes: a string built from a
// peer's (an error detail quoting a feature name of MaxString bytes) must
// not make a frame the peer refuses.
func appendString(b []byte, s string) []byte {
	if len(s) > MaxString {
		s = s[:MaxString]
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// decoder reads payload fields. The first error sticks; later reads return
// zero values, so a decode function reads all its fields and checks err
// once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = violationf(format, args...)
	}
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uint32 reads an unsigned integer that must fit a non-negative int32
// (ports, pids, counts), as an int.
func (d *decoder) uint32() int {
	v := d.uint()
	if v > 1<<31-1 {
		d.fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

// int reads a signed (zig-zag) varint.
func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// smallInt reads a signed integer that must fit in 32 bits (error codes).
func (d *decoder) smallInt() int {
	v := d.int()
	if v < -1<<31 || v > 1<<31-1 {
		d.fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

func (d *decoder) bool() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 {
		d.fail("short payload")
		return false
	}
	c := d.b[0]
	d.b = d.b[1:]
	if c > 1 {
		d.fail("bad boolean %d", c)
		return false
	}
	return c == 1
}

func (d *decoder) string() string {
	n := d.uint()
	if d.err != nil {
		return ""
	}
	if n > MaxString {
		d.fail("string of %d bytes exceeds %d", n, MaxString)
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("short payload")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strings() []string {
	n := d.listLen()
	if n == 0 {
		return nil
	}
	ss := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ss = append(ss, d.string())
	}
	return ss
}

// listLen reads a list's length: each element needs at least one byte of
// the payload, which bounds it, and MaxList does too.
func (d *decoder) listLen() int {
	n := d.uint()
	if d.err != nil {
		return 0
	}
	if n > MaxList || n > uint64(len(d.b)) {
		d.fail("list of %d elements too long", n)
		return 0
	}
	return int(n)
}

// done checks that the payload was consumed exactly.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}
