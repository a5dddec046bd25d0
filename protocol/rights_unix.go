//go:build unix

package protocol

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
)

// CanPassConns reports whether this system can pass a connection to
// another process over a Unix-domain socket (SendConn).
const CanPassConns = true

// NewRightsConn wraps a Unix-domain connection on which the peer passes
// file descriptors with its frames (SendConn): Recv reads the frames, and
// TakeFD returns the descriptors in the order they came.
func NewRightsConn(uc *net.UnixConn) *Conn {
	r := &rightsReader{uc: uc}
	c := &Conn{nc: uc, r: NewReader(r), w: NewWriter(uc)}
	c.rights = r
	return c
}

// rightsReader reads a Unix-domain connection with recvmsg, keeping the
// file descriptors that come with the bytes.
type rightsReader struct {
	uc  *net.UnixConn
	mu  sync.Mutex
	fds []int
}

// maxRights is how many descriptors one read takes at most; the sender
// passes one per frame.
const maxRights = 16

func (r *rightsReader) Read(p []byte) (int, error) {
	oob := make([]byte, syscall.CmsgSpace(4*maxRights))
	n, oobn, _, _, err := r.uc.ReadMsgUnix(p, oob)
	if oobn > 0 {
		if msgs, perr := syscall.ParseSocketControlMessage(oob[:oobn]); perr == nil {
			for i := range msgs {
				if fds, ferr := syscall.ParseUnixRights(&msgs[i]); ferr == nil {
					r.mu.Lock()
					r.fds = append(r.fds, fds...)
					r.mu.Unlock()
				}
			}
		}
	}
	if n < 0 { // recvmsg failed
		n = 0
	}
	if n == 0 && err == nil && len(p) > 0 {
		// A stream socket reads nothing only at its end; ReadMsgUnix,
		// unlike Read, does not say so.
		err = io.EOF
	}
	return n, err
}

// TakeFD returns the oldest file descriptor that came on the connection
// and was not taken yet; the caller owns it. false when there is none, or
// c was not made by NewRightsConn.
func (c *Conn) TakeFD() (int, bool) {
	r := c.rights
	if r == nil {
		return -1, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fds) == 0 {
		return -1, false
	}
	fd := r.fds[0]
	r.fds = r.fds[1:]
	return fd, true
}

// CloseFDs closes the descriptors that came and were not taken.
func (c *Conn) CloseFDs() {
	for {
		fd, ok := c.TakeFD()
		if !ok {
			return
		}
		syscall.Close(fd)
	}
}

// SendConn writes m as one frame on c, a Unix-domain connection, and
// passes the file descriptor of nc with it (SCM_RIGHTS): the receiver
// gets its own descriptor of the same socket (NewRightsConn, TakeFD).
// nc stays open here; closing it does not close the receiver's.
func (c *Conn) SendConn(m Message, nc net.Conn) error {
	uc, ok := c.nc.(*net.UnixConn)
	if !ok {
		return errors.New("protocol: a connection is passed over a Unix-domain socket only")
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return errors.New("protocol: the connection has no file descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	frame, err := AppendFrame(nil, m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.setWriteDeadline(); err != nil {
		return err
	}
	var n int
	var werr error
	if cerr := raw.Control(func(fd uintptr) {
		n, _, werr = uc.WriteMsgUnix(frame, syscall.UnixRights(int(fd)), nil)
	}); cerr != nil {
		return cerr
	}
	if werr != nil {
		return werr
	}
	if n < len(frame) { // the descriptor went with the first bytes
		_, werr = uc.Write(frame[n:])
	}
	return werr
}
