package reportlog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Magic is the first word of every report log file; Version follows it.
const (
	Magic   = "#golm-reportlog"
	Version = "v1"
)

// HashLen is the number of hex digits of a record hash.
const HashLen = 32

// Genesis is the prev hash of the first record of a chain.
var Genesis = strings.Repeat("0", HashLen)

// TimeLayout is how record times are written (always UTC).
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MaxLine bounds the length of one line; longer lines are not records.
const MaxLine = 64 << 10

// maxValue bounds one field's value before escaping; longer values are cut
// (at a UTF-8 boundary) by the writer so that a record always fits MaxLine.
const maxValue = 1024

// Event is the kind of a record.
type Event string

// The events of a report log.
const (
	EventStart   Event = "START"   // vendor daemon started
	EventStop    Event = "STOP"    // vendor daemon stopping
	EventOut     Event = "OUT"     // checkout granted
	EventIn      Event = "IN"      // license returned (Reason says why)
	EventDeny    Event = "DENY"    // checkout refused (Code says why)
	EventQueue   Event = "QUEUE"   // request queued
	EventDequeue Event = "DEQUEUE" // queued request left the queue
	EventReread  Event = "REREAD"  // license and options files reread
	EventSwitch  Event = "SWITCH"  // log continues in another file (Detail)
)

var events = map[Event]bool{
	EventStart: true, EventStop: true, EventOut: true, EventIn: true, EventDeny: true,
	EventQueue: true, EventDequeue: true, EventReread: true, EventSwitch: true,
}

// Valid reports whether e is one of the events above.
func (e Event) Valid() bool { return events[e] }

// Checkin reasons carried by EventIn records.
const (
	ReasonNormal   = "normal"   // the client checked the license in
	ReasonExit     = "exit"     // the client exited or its connection dropped
	ReasonRemove   = "lmremove" // an administrator removed it
	ReasonTimeout  = "timeout"  // the client was idle past TIMEOUT
	ReasonShutdown = "shutdown" // the vendor daemon shut down
)

// Switch reasons carried by EventSwitch records.
const (
	ReasonSwitchr = "lmswitchr"
	ReasonNewLog  = "lmnewlog"
)

// Record is one event of the report log.
type Record struct {
	Time    time.Time
	Seq     uint64
	Event   Event
	Feature string
	Version string
	User    string
	Host    string
	Display string
	Project string
	Count   int
	Handle  uint64
	Pool    string
	Code    int
	Reason  string
	Detail  string
	// Hash is the record's chained hash; the writer sets it.
	Hash string
}

// keys are the field names in their fixed order.
var keys = [...]string{"time", "seq", "event", "feature", "version", "user", "host",
	"display", "project", "count", "handle", "pool", "code", "reason", "detail", "hash"}

// body renders every field but the hash, as hashed.
func (r *Record) body() string {
	var b strings.Builder
	b.Grow(256)
	field := func(i int, v string) {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(keys[i])
		b.WriteByte('=')
		b.WriteString(v)
	}
	field(0, r.Time.UTC().Format(TimeLayout))
	field(1, strconv.FormatUint(r.Seq, 10))
	field(2, Escape(string(r.Event)))
	field(3, Escape(r.Feature))
	field(4, Escape(r.Version))
	field(5, Escape(r.User))
	field(6, Escape(r.Host))
	field(7, Escape(r.Display))
	field(8, Escape(r.Project))
	field(9, strconv.Itoa(r.Count))
	field(10, strconv.FormatUint(r.Handle, 10))
	field(11, Escape(r.Pool))
	field(12, strconv.Itoa(r.Code))
	field(13, Escape(r.Reason))
	field(14, Escape(r.Detail))
	return b.String()
}

// ChainHash is the hash of a record whose line up to "\thash=" is body and
// whose predecessor's hash is prev.
func ChainHash(prev, body string) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\t'})
	h.Write([]byte(body))
	return hex.EncodeToString(h.Sum(nil))[:HashLen]
}

// Line renders the record as one line, '\n' included, chained to prev;
// it sets r.Hash.
func (r *Record) Line(prev string) string {
	body := r.body()
	r.Hash = ChainHash(prev, body)
	return body + "\thash=" + r.Hash + "\n"
}

// truncate cuts the free-text fields to maxValue bytes at a rune boundary.
func (r *Record) truncate() {
	for _, p := range []*string{&r.Feature, &r.Version, &r.User, &r.Host, &r.Display,
		&r.Project, &r.Pool, &r.Reason, &r.Detail} {
		if len(*p) > maxValue {
			s := (*p)[:maxValue]
			for len(s) > 0 && !utf8.ValidString(s) {
				s = s[:len(s)-1]
			}
			*p = s
		}
	}
}

// Escape makes s safe as a field value, and as a word a shell or a
// line-oriented tool might read: the value it returns holds only ASCII
// letters and digits, the punctuation - _ . , : / @ + = and printable
// non-ASCII characters (unicode.IsPrint: letters, marks, numbers,
// punctuation and symbols, so no space, no line or paragraph separator,
// no C1 control, no format character). A backslash is written \\, a tab
// \t, a newline \n, a carriage return \r, and every other byte of s, of
// a character not in the list above or of invalid UTF-8, as \xHH. An
// escaped rune is written as all of its UTF-8 bytes, so that Unescape,
// which turns each \xHH back into its byte, gives s back exactly.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case plain(c):
			b.WriteByte(c)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 || !unicode.IsPrint(r) {
				n = max(n, 1)
				for j := 0; j < n; j++ {
					hexByte(&b, s[i+j])
				}
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		default:
			hexByte(&b, c)
		}
		i++
	}
	return b.String()
}

func hexByte(b *strings.Builder, c byte) {
	const digits = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}

// plain reports whether Escape writes the byte c as it is.
func plain(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', ',', ':', '/', '@', '+', '=':
		return true
	}
	return false
}

// ErrEscape is wrapped by Unescape's errors.
var ErrEscape = errors.New("bad escape")

// Unescape reverses Escape.
func Unescape(s string) (string, error) {
	if !strings.ContainsRune(s, '\\') {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("%w: trailing backslash", ErrEscape)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%w: short \\x", ErrEscape)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("%w: \\x%s", ErrEscape, s[i+1:i+3])
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", fmt.Errorf("%w: \\%c", ErrEscape, s[i])
		}
	}
	return b.String(), nil
}

// Errors of ParseRecord and ParseHeader.
var (
	ErrFormat  = errors.New("malformed record")
	ErrHeader  = errors.New("malformed header")
	ErrVersion = errors.New("unsupported report log version")
)

// ParseRecord parses one record line (without its '\n'). It checks the
// layout and the values, not the hash: that needs the previous record (see
// Record.Body and ChainHash, or Verify).
func ParseRecord(line string) (Record, error) {
	var r Record
	if len(line) > MaxLine {
		return r, fmt.Errorf("%w: line longer than %d bytes", ErrFormat, MaxLine)
	}
	fields := strings.Split(line, "\t")
	if len(fields) != len(keys) {
		return r, fmt.Errorf("%w: %d fields, want %d", ErrFormat, len(fields), len(keys))
	}
	vals := make([]string, len(keys))
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != keys[i] {
			return r, fmt.Errorf("%w: field %d is not %s=", ErrFormat, i+1, keys[i])
		}
		vals[i] = v
	}
	var err error
	if r.Time, err = time.Parse(TimeLayout, vals[0]); err != nil {
		return r, fmt.Errorf("%w: time %q", ErrFormat, vals[0])
	}
	if r.Seq, err = strconv.ParseUint(vals[1], 10, 64); err != nil || r.Seq == 0 {
		return r, fmt.Errorf("%w: seq %q", ErrFormat, vals[1])
	}
	r.Event = Event(vals[2])
	if !r.Event.Valid() {
		return r, fmt.Errorf("%w: event %q", ErrFormat, vals[2])
	}
	for _, p := range []struct {
		i   int
		dst *string
	}{{3, &r.Feature}, {4, &r.Version}, {5, &r.User}, {6, &r.Host}, {7, &r.Display},
		{8, &r.Project}, {11, &r.Pool}, {13, &r.Reason}, {14, &r.Detail}} {
		if *p.dst, err = Unescape(vals[p.i]); err != nil {
			return r, fmt.Errorf("%w: %s: %v", ErrFormat, keys[p.i], err)
		}
	}
	if r.Count, err = strconv.Atoi(vals[9]); err != nil {
		return r, fmt.Errorf("%w: count %q", ErrFormat, vals[9])
	}
	if r.Handle, err = strconv.ParseUint(vals[10], 10, 64); err != nil {
		return r, fmt.Errorf("%w: handle %q", ErrFormat, vals[10])
	}
	if r.Code, err = strconv.Atoi(vals[12]); err != nil {
		return r, fmt.Errorf("%w: code %q", ErrFormat, vals[12])
	}
	r.Hash = vals[15]
	if !isHash(r.Hash) {
		return r, fmt.Errorf("%w: hash %q", ErrFormat, r.Hash)
	}
	return r, nil
}

// Body returns the part of a record line that its hash covers: everything
// before "\thash=".
func Body(line string) string {
	if i := strings.LastIndex(line, "\thash="); i >= 0 {
		return line[:i]
	}
	return line
}

func isHash(s string) bool {
	if len(s) != HashLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Header is the first line of a report log file.
type Header struct {
	Seq    uint64 // sequence number of the file's first record
	Prev   string // hash of the record before it
	Vendor string // vendor daemon, informational
}

// Line renders the header, '\n' included.
func (h Header) Line() string {
	return fmt.Sprintf("%s %s\tseq=%d\tprev=%s\tvendor=%s\n", Magic, Version, h.Seq, h.Prev, Escape(h.Vendor))
}

// ParseHeader parses a header line (without its '\n').
func ParseHeader(line string) (Header, error) {
	var h Header
	fields := strings.Split(line, "\t")
	magic, ver, _ := strings.Cut(fields[0], " ")
	if magic != Magic {
		return h, fmt.Errorf("%w: does not start with %s", ErrHeader, Magic)
	}
	if ver != Version {
		return h, fmt.Errorf("%w %q", ErrVersion, ver)
	}
	if len(fields) != 4 {
		return h, fmt.Errorf("%w: %d fields, want 4", ErrHeader, len(fields))
	}
	want := []string{"seq", "prev", "vendor"}
	vals := make([]string, 3)
	for i, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != want[i] {
			return h, fmt.Errorf("%w: field %d is not %s=", ErrHeader, i+2, want[i])
		}
		vals[i] = v
	}
	var err error
	if h.Seq, err = strconv.ParseUint(vals[0], 10, 64); err != nil || h.Seq == 0 {
		return h, fmt.Errorf("%w: seq %q", ErrHeader, vals[0])
	}
	if h.Prev = vals[1]; !isHash(h.Prev) {
		return h, fmt.Errorf("%w: prev %q", ErrHeader, vals[1])
	}
	if h.Vendor, err = Unescape(vals[2]); err != nil {
		return h, fmt.Errorf("%w: vendor: %v", ErrHeader, err)
	}
	return h, nil
}
