package protocol

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/protocol/lmerr"
)

// MaxFrame is the largest frame length (type byte plus payload) either
// side accepts or sends.
const MaxFrame = 64 << 10

// Default deadlines for one frame read or write on a Conn.
const (
	DefaultReadTimeout  = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// Violation is a protocol violation: a malformed frame or payload, an
// unknown message type, or a message the conversation does not allow. The
// side that sees it closes the connection.
type Violation struct {
	Reason string
}

func (v *Violation) Error() string { return "protocol violation: " + v.Reason }

// violationf returns a *Violation.
func violationf(format string, args ...any) error {
	return &Violation{Reason: fmt.Sprintf(format, args...)}
}

// IsViolation reports whether err is (or wraps) a *Violation.
func IsViolation(err error) bool {
	var v *Violation
	return errors.As(err, &v)
}

// Reader reads frames. The payload a ReadFrame returns is valid only until
// the next call; Decode copies everything it keeps.
type Reader struct {
	br  *bufio.Reader
	hdr [4]byte // here rather than on the stack, where io.ReadFull would move it to the heap
	buf []byte
	dec decoder
}

// readBuffer is the size of a Reader's buffer. Requests and their replies
// are a few dozen bytes and a HELLO a few hundred, so one read usually
// takes a whole frame; larger frames (status streams) are read straight
// into the frame buffer. A server keeps one Reader per connected client,
// so the buffer is kept small: it is a large part of what a vendor daemon
// spends per idle client (BENCHMARKS.md, bytes per client).
const readBuffer = 512

// eagerFrame is the largest frame buffer a Reader allocates at once. For
// a server, the length in a header is the peer's word until the bytes
// are there: a frame longer than the Reader's own buffer gets a frame
// buffer only once that buffer is full of it, and a frame longer than
// eagerFrame a buffer that grows with the bytes that arrive, doubling up
// to the announced length. A peer that announces MaxFrame and sends
// nothing more costs nothing but its Reader; one that sends part of it,
// eagerFrame or at most about twice what it sent.
const eagerFrame = 4 << 10

// keepFrame is the largest frame buffer a Conn keeps while it waits for
// the next frame (Wait): a server keeps a Conn per client, and one large
// frame in a connection's life must not cost its idle connection
// MaxFrame from then on.
const keepFrame = eagerFrame

// NewReader returns a Reader reading frames from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, readBuffer)}
}

// ReadFrame reads one frame and returns its type and payload. io.EOF means
// the peer closed the connection cleanly between frames; a short frame is
// io.ErrUnexpectedEOF; a bad length is a *Violation.
func (r *Reader) ReadFrame() (Type, []byte, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(r.hdr[:]))
	if n == 0 || n > MaxFrame {
		return 0, nil, violationf("frame length %d out of range 1..%d", n, MaxFrame)
	}
	if n > readBuffer-len(r.hdr) && n > cap(r.buf) {
		// Wait for the bytes before allocating for them.
		if _, err := r.br.Peek(min(n, r.br.Size()-len(r.hdr))); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, err
		}
	}
	var b []byte
	var err error
	if n <= cap(r.buf) || n <= eagerFrame {
		if cap(r.buf) < n {
			r.buf = make([]byte, n)
		}
		b = r.buf[:n]
		_, err = io.ReadFull(r.br, b)
	} else {
		b, err = r.readGrowing(n)
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return Type(b[0]), b[1:], nil
}

// readGrowing reads a frame of n bytes, more than the frame buffer holds
// and than eagerFrame, into a buffer that doubles as the bytes arrive.
func (r *Reader) readGrowing(n int) ([]byte, error) {
	b := r.buf[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(n, max(2*cap(b), eagerFrame)))
			copy(nb, b)
			b = nb
			r.buf = b
		}
		// bufio.Reader.Read reads straight into b once its own buffer is
		// empty, so a large frame is not copied twice.
		m, err := r.br.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil && len(b) < n {
			return nil, err
		}
	}
	return b, nil
}

// peekFrame waits until the next frame, or as much of it as the
// Reader's own buffer holds, has arrived, without allocating for it. A
// bad length is left for ReadFrame to report.
func (r *Reader) peekFrame() error {
	h, err := r.br.Peek(len(r.hdr))
	if err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(h))
	if n == 0 || n > MaxFrame {
		return nil
	}
	_, err = r.br.Peek(min(len(r.hdr)+n, r.br.Size()))
	return err
}

// shrink drops a frame buffer larger than keepFrame; the payload the
// last ReadFrame returned must no longer be in use.
func (r *Reader) shrink() {
	if cap(r.buf) > keepFrame {
		r.buf = nil
	}
}

// ReadMessage reads one frame and decodes it.
func (r *Reader) ReadMessage() (Message, error) {
	t, p, err := r.ReadFrame()
	if err != nil {
		return nil, err
	}
	return decodeWith(&r.dec, t, p)
}

// Writer writes frames. It is not safe for concurrent use; Conn serialises
// writers.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer writing frames to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteMessage encodes m into one frame and writes it with a single Write.
func (w *Writer) WriteMessage(m Message) error {
	b, err := AppendFrame(w.buf[:0], m)
	if err != nil {
		return err
	}
	w.buf = b
	_, err = w.w.Write(b)
	return err
}

// AppendFrame appends m's whole frame (length, type, payload) to b.
func AppendFrame(b []byte, m Message) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0, byte(m.Type()))
	b = m.AppendPayload(b)
	n := len(b) - start - 4
	if n > MaxFrame {
		return b[:start], violationf("%s frame of %d bytes exceeds %d", m.Type(), n, MaxFrame)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// Conn is a framed connection with a deadline on every read and write.
// Send may be called from several goroutines; Recv from one at a time.
type Conn struct {
	nc net.Conn
	r  *Reader

	wmu sync.Mutex
	w   *Writer

	// rights, when not nil, collects the file descriptors that arrive
	// on a Unix-domain connection (NewRightsConn).
	rights *rightsReader

	// rdl and wdl are the read and write deadlines last set, so that a
	// busy connection does not reset its deadlines on every frame (see
	// nextDeadline).
	rdl, wdl deadline

	// ReadTimeout bounds each Recv; 0 means DefaultReadTimeout, a negative
	// value no deadline (a server waiting for an idle client's next
	// request, which it bounds by heartbeats instead).
	ReadTimeout time.Duration
	// WriteTimeout bounds each Send; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// NewConn wraps nc.
func NewConn(nc net.Conn) *Conn {
	return &Conn{nc: nc, r: NewReader(nc), w: NewWriter(nc)}
}

// NetConn returns the underlying connection (for peer addresses and
// credentials).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Buffered is how many bytes the connection read ahead of the frames
// it returned.
func (c *Conn) Buffered() int { return c.r.br.Buffered() }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Wait blocks until the next frame has begun to arrive (or the read
// deadline of Recv passes, or the connection fails), reading what is
// there into the connection's buffer; Recv then decodes it. Wait keeps
// the waiting goroutine's stack shallow: a server that waits for many
// idle clients with Wait and handles their requests elsewhere keeps
// small stacks.
func (c *Conn) Wait() error {
	if c.r.br.Buffered() > 0 {
		return nil
	}
	// Recv's payload is decoded and gone: an idle connection keeps no
	// large frame buffer while it waits.
	c.r.shrink()
	if err := c.setReadDeadline(); err != nil {
		return err
	}
	_, err := c.r.br.Peek(1)
	return err
}

// WaitFrame is Wait for the whole of the next frame, or as much of it as
// the connection's read buffer holds (a few hundred bytes: all of a
// HELLO). A server waits with it on a shallow stack for a new
// connection's HELLO, so that a peer that sends nothing, or a header
// and nothing more, costs no deeper stack and no frame buffer.
func (c *Conn) WaitFrame() error {
	if err := c.setReadDeadline(); err != nil {
		return err
	}
	return c.r.peekFrame()
}

func (c *Conn) setReadDeadline() error {
	return c.rdl.refresh(c.ReadTimeout, DefaultReadTimeout, c.nc.SetReadDeadline)
}

// setWriteDeadline is setReadDeadline for writes; c.wmu is held.
func (c *Conn) setWriteDeadline() error {
	return c.wdl.refresh(c.WriteTimeout, DefaultWriteTimeout, c.nc.SetWriteDeadline)
}

// SetReadDeadline sets the connection's read deadline to t, as
// net.Conn's does, for a caller that must end a wait at once (t in the
// past) or lift the deadline (t zero) from outside Recv, such as from
// another goroutine. The next Wait or Recv sets its own deadline again.
// The deadlines of the underlying connection must be set only through
// Conn, which otherwise keeps a deadline it believes current.
func (c *Conn) SetReadDeadline(t time.Time) error {
	err := c.nc.SetReadDeadline(t)
	c.rdl.stale.Store(true)
	return err
}

// SetDeadline is SetReadDeadline for both directions.
func (c *Conn) SetDeadline(t time.Time) error {
	err := c.nc.SetDeadline(t)
	c.rdl.stale.Store(true)
	c.wdl.stale.Store(true)
	return err
}

// deadline is the deadline last set on one direction of a connection.
// at and set belong to the goroutine that reads (or, for writes, holds
// wmu); stale may be set from any goroutine.
type deadline struct {
	at    time.Time // zero: none set yet, or none wanted
	set   bool      // at was set
	stale atomic.Bool
}

// refresh sets the deadline for an operation with timeout d (0: def)
// through setter, unless the one set already fits (see nextDeadline) and
// nobody set another since.
func (dl *deadline) refresh(d, def time.Duration, setter func(time.Time) error) error {
	if d == 0 {
		d = def
	}
	if dl.stale.Swap(false) {
		dl.set = false
	}
	at, change := nextDeadline(dl.at, dl.set, time.Now(), d)
	if !change {
		return nil
	}
	if err := setter(at); err != nil {
		return err
	}
	dl.at, dl.set = at, true
	return nil
}

// deadlineSlack is the fraction of a timeout by which a deadline may
// outlast it: a deadline is set to now+d+d/deadlineSlack and left alone
// while it still lies at least d ahead, so an operation times out between
// d and d+d/deadlineSlack after it began, never sooner, and a connection
// busy with many frames a second sets its deadline a few times a second
// instead of once per frame (each set takes the runtime's timer locks).
const deadlineSlack = 8

// nextDeadline returns the deadline to set for an operation with timeout
// d (d < 0: none) starting at now, given the deadline cur last set (set
// false: none was), and whether it differs from cur.
func nextDeadline(cur time.Time, set bool, now time.Time, d time.Duration) (time.Time, bool) {
	if d < 0 {
		return time.Time{}, !set || !cur.IsZero()
	}
	lo := now.Add(d)
	hi := lo.Add(d / deadlineSlack)
	if set && !cur.IsZero() && !cur.Before(lo) && !cur.After(hi) {
		return cur, false
	}
	return hi, true
}

// Send writes m as one frame.
func (c *Conn) Send(m Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.setWriteDeadline(); err != nil {
		return err
	}
	return c.w.WriteMessage(m)
}

// SendAll writes ms as consecutive frames with one deadline and one
// Write: a stream of many small frames (a status) costs one system call
// instead of one per frame. The buffer is not kept after the call.
func (c *Conn) SendAll(ms []Message) error {
	if len(ms) == 0 {
		return nil
	}
	var b []byte
	for _, m := range ms {
		var err error
		if b, err = AppendFrame(b, m); err != nil {
			return err
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.setWriteDeadline(); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

// Recv reads and decodes the next frame. An Error frame is returned as a
// message (*Error); use Call or AsError to turn it into a Go error.
func (c *Conn) Recv() (Message, error) {
	if err := c.setReadDeadline(); err != nil {
		return nil, err
	}
	return c.r.ReadMessage()
}

// Call sends req and reads one reply. An Error frame comes back as a
// *PeerError; any other reply is returned as is.
func (c *Conn) Call(req Message) (Message, error) {
	if err := c.Send(req); err != nil {
		return nil, err
	}
	m, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if e, ok := m.(*Error); ok {
		return nil, &PeerError{Msg: e}
	}
	return m, nil
}

// PeerError is an Error frame the peer sent in reply to a request.
type PeerError struct{ Msg *Error }

func (e *PeerError) Error() string {
	return fmt.Sprintf("peer error %d,%d %s", e.Msg.Code, e.Msg.Minor, e.Msg.Text)
}

// ClientHandshake sends hello and reads the server's Hello. An Error frame
// in reply is returned as a *PeerError.
func ClientHandshake(c *Conn, hello *Hello) (*Hello, error) {
	m, err := c.Call(hello)
	if err != nil {
		return nil, err
	}
	h, ok := m.(*Hello)
	if !ok {
		return nil, violationf("handshake: got %s, want HELLO", m.Type())
	}
	if h.Version != Version {
		return nil, violationf("handshake: server speaks protocol version %d, want %d", h.Version, Version)
	}
	return h, nil
}

// ServerHandshake reads the client's Hello. A wrong protocol version is
// answered with an Error frame (-83) before the violation is returned; the
// caller then closes the connection. On success the caller sends its own
// Hello.
func ServerHandshake(c *Conn) (*Hello, error) {
	m, err := c.Recv()
	if err != nil {
		return nil, err
	}
	h, ok := m.(*Hello)
	if !ok {
		return nil, violationf("handshake: got %s, want HELLO", m.Type())
	}
	if h.Version != Version {
		_ = c.Send(&Error{Code: lmerr.ClientNewer, Minor: lmerr.MinorHandshakeVersion, Text: fmt.Sprintf("protocol version %d, server speaks %d", h.Version, Version)})
		return nil, violationf("handshake: client speaks protocol version %d, want %d", h.Version, Version)
	}
	return h, nil
}
