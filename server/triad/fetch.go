package triad

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// The Raft port also carries the members' fetches of report log records:
// a member sent a snapshot past the end of its report log copies the
// records the snapshot compacted from another member (see VendorReplica).
// Raft's own connections start with the type of their first RPC, a byte
// from 0 to 3; a fetch starts with fetchMagic, then one request line,
// "FROM TO\n" in decimal: the records with sequence numbers FROM, FROM+1,
// ... before TO. The answer is record lines, as the serving member's
// report log files hold them, as many as it gives in one answer
// (at most maxFetchRecords), and a line ".". A fetch is served only to
// an address of one of the three members' hosts; a malformed request
// has its connection closed.

// fetchMagic is the first byte of a report log fetch.
const fetchMagic = 'R'

// Bounds of a fetch.
const (
	fetchTimeout    = 10 * time.Second // a whole fetch, on either side
	peekTimeout     = 10 * time.Second // for the first byte of a connection
	maxFetchRecords = 4096             // record lines in one answer
	maxFetchBytes   = 4 << 20          // bytes in one answer
	maxFetchRequest = 48               // bytes of a request line
	maxFetchServing = 4                // fetches served at once
)

// ReportLines is what a member serves fetches from: the record lines
// with sequence numbers from, from+1, ... before to that its report log
// holds, as many as it likes from the first.
type ReportLines func(from, to uint64) ([]string, error)

// streamLayer is the Raft transport's listener: it hands Raft the
// connections that start as Raft's do, and serves the others that are
// fetches.
type streamLayer struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	serve func(net.Conn)
	slots chan struct{}
	wg    sync.WaitGroup
}

func newStreamLayer(addr string, serve func(net.Conn)) (*streamLayer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &streamLayer{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}), serve: serve, slots: make(chan struct{}, maxFetchServing)}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *streamLayer) accept() {
	defer s.wg.Done()
	pause := 5 * time.Millisecond
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			t := time.NewTimer(pause) // out of descriptors: wait
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			}
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
		s.wg.Add(1)
		go s.sort(c)
	}
}

// sort reads the first byte of c: a fetch is served, anything else goes
// to Raft with that byte put back.
func (s *streamLayer) sort(c net.Conn) {
	defer s.wg.Done()
	c.SetReadDeadline(time.Now().Add(peekTimeout))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	if b[0] == fetchMagic {
		select {
		case s.slots <- struct{}{}:
		default:
			c.Close() // busy: the fetching member tries another
			return
		}
		defer func() { <-s.slots }()
		if s.serve == nil {
			c.Close()
			return
		}
		s.serve(c)
		return
	}
	c.SetReadDeadline(time.Time{})
	select {
	case s.conns <- &peekedConn{Conn: c, first: b[0], has: true}:
	case <-s.done:
		c.Close()
	}
}

// Accept is the next Raft connection.
func (s *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close stops listening; connections being sorted are closed.
func (s *streamLayer) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ln.Close()
	})
	return err
}

// Addr is the listener's address, which Raft advertises.
func (s *streamLayer) Addr() net.Addr { return s.ln.Addr() }

// Dial connects to another member's Raft port.
func (s *streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(address), timeout)
}

// peekedConn is a connection whose first byte was read: Read gives it
// back first.
type peekedConn struct {
	net.Conn
	first byte
	has   bool
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.has && len(p) > 0 {
		p[0] = c.first
		c.has = false
		if len(p) == 1 {
			return 1, nil
		}
		n, err := c.Conn.Read(p[1:])
		if err != nil && n == 0 {
			return 1, nil // the error comes with the next Read
		}
		return n + 1, err
	}
	return c.Conn.Read(p)
}

// peerHosts says whether an address is one of the members' hosts: the
// IP addresses their Raft addresses name, resolved again when an
// address is not among them (a host whose address changed), at most
// once every reresolveEvery, so that connections from elsewhere cannot
// make every fetch wait for name lookups.
type peerHosts struct {
	peers    [3]Peer
	mu       sync.Mutex
	ips      map[string]bool
	resolved time.Time // when ips was last resolved
	// lastRefusal and refusals rate-limit the debug log's lines about
	// refused fetches: one a minute, with the count of the others.
	lastRefusal time.Time
	refusals    int
}

// refused says whether to log a refusal now, and how many were not.
func (h *peerHosts) refused() (log bool, unlogged int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.lastRefusal) < time.Minute {
		h.refusals++
		return false, 0
	}
	n := h.refusals
	h.lastRefusal, h.refusals = time.Now(), 0
	return true, n
}

func newPeerHosts(peers [3]Peer) *peerHosts {
	h := &peerHosts{peers: peers, resolved: time.Now()}
	h.ips = h.resolve()
	return h
}

func (h *peerHosts) resolve() map[string]bool {
	ips := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, p := range h.peers {
		host, _, err := net.SplitHostPort(p.Addr)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); ip != nil {
			ips[ip.String()] = true
			continue
		}
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ips[a.IP.String()] = true
		}
	}
	return ips
}

func (h *peerHosts) allowed(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip := ta.IP.String()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ips[ip] || time.Since(h.resolved) < reresolveEvery {
		return h.ips[ip]
	}
	h.ips, h.resolved = h.resolve(), time.Now()
	return h.ips[ip]
}

// reresolveEvery is the shortest time between two lookups of the
// members' host names for a fetch from an address not among them.
const reresolveEvery = 10 * time.Second

// serveFetch answers one fetch on c from lines, if c comes from one of
// the members' hosts.
func serveFetch(c net.Conn, hosts *peerHosts, lines ReportLines, logf func(string, ...any)) {
	defer c.Close()
	if !hosts.allowed(c.RemoteAddr()) {
		if ok, n := hosts.refused(); ok && n > 0 {
			logf("Report log fetch from %s refused: not one of the triad's hosts (%d more refused since the last such line)", c.RemoteAddr(), n)
		} else if ok {
			logf("Report log fetch from %s refused: not one of the triad's hosts", c.RemoteAddr())
		}
		return
	}
	c.SetDeadline(time.Now().Add(fetchTimeout))
	from, to, ok := readFetchRequest(bufio.NewReaderSize(io.LimitReader(c, maxFetchRequest), maxFetchRequest))
	if !ok {
		return
	}
	var out []string
	if lines != nil {
		out, _ = lines(from, to)
	}
	bw := bufio.NewWriter(c)
	size := 0
	for i, l := range out {
		if i >= maxFetchRecords || strings.ContainsRune(l, '\n') || l == "." {
			break
		}
		if size += len(l) + 1; size > maxFetchBytes {
			break
		}
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	bw.WriteString(".\n")
	bw.Flush()
}

// readFetchRequest reads "FROM TO\n".
func readFetchRequest(r *bufio.Reader) (from, to uint64, ok bool) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	if !found {
		return 0, 0, false
	}
	from, err1 := strconv.ParseUint(a, 10, 64)
	to, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || from == 0 || to <= from {
		return 0, 0, false
	}
	return from, to, true
}

// fetchReport asks the member at addr for the records from ... before
// to and returns the lines of its answer (maybe fewer, maybe none).
func fetchReport(addr string, from, to uint64) ([]string, error) {
	c, err := net.DialTimeout("tcp", addr, fetchTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(fetchTimeout))
	if _, err := fmt.Fprintf(c, "%c%d %d\n", fetchMagic, from, to); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(c, 64<<10)
	var out []string
	size := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, fmt.Errorf("report log fetch from %s: a line longer than %d bytes", addr, br.Size())
			}
			return nil, fmt.Errorf("report log fetch from %s: %w", addr, err)
		}
		s := string(line[:len(line)-1])
		if s == "." {
			return out, nil
		}
		size += len(line)
		if len(out) >= maxFetchRecords || size > maxFetchBytes {
			return nil, fmt.Errorf("report log fetch from %s: answer too long", addr)
		}
		out = append(out, s)
	}
}

// FetchReport fetches from the other members the report log records
// with sequence numbers from ... before to: the lines of the first that
// has some, the master asked first. The lines are as the member's files
// hold them, not checked (reportlog.Writer.AppendLines checks them).
func (m *Member) FetchReport(from, to uint64) ([]string, error) {
	_, leader := m.Leader()
	return fetchFromPeers(m.cfg.Peers, m.cfg.ID, leader, from, to)
}

// fetchFromPeers is FetchReport for member self of peers, leader (if
// known, "" if not) asked first.
func fetchFromPeers(peers [3]Peer, self, leader string, from, to uint64) ([]string, error) {
	var addrs []string
	for _, p := range peers {
		if p.ID != self && p.Addr == leader {
			addrs = append(addrs, p.Addr)
		}
	}
	for _, p := range peers {
		if p.ID != self && p.Addr != leader {
			addrs = append(addrs, p.Addr)
		}
	}
	var errs []error
	for _, a := range addrs {
		lines, err := fetchReport(a, from, to)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(lines) > 0 {
			return lines, nil
		}
		errs = append(errs, fmt.Errorf("report log fetch from %s: no record %d", a, from))
	}
	// One line for the debug log.
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	if len(msgs) == 0 {
		return nil, errors.New("report log fetch: no other member")
	}
	return nil, errors.New(strings.Join(msgs, "; "))
}
