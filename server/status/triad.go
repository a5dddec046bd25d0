package status

import (
	"context"
	"strings"
	"sync"
	"time"

	"golm/lmutil/protocol"
)

// Conn is a Source on one connection, closed when done.
type Conn interface {
	Source
	Close() error
}

// Asked is one member of a triad as AskTriad found it: its connection,
// status and vendor daemons, or why it could not be asked.
type Asked struct {
	Conn    Conn // nil when Err is set
	Status  *protocol.ServerStatus
	Vendors []*protocol.VendorStatus
	Err     error
}

// AskTriad asks the n members of a triad for their status, all at once,
// dial(ctx, i) connecting to the i-th in SERVER-line order. lead is the
// member that answers for the triad, the master, else the first that is
// up; -1 when none is. When ctx has a deadline, a member has half the
// time left to answer, so that a member that does not (a host that is
// gone, whose packets are dropped) leaves the other half for reading the
// features of the member that answers. The caller closes the members' connections
// (CloseAll). lmstat's text and JSON and the status page read a triad
// through here, so that they never disagree.
func AskTriad(ctx context.Context, n int, dial func(ctx context.Context, i int) (Conn, error)) (ms []Asked, lead int) {
	ms = make([]Asked, n)
	var wg sync.WaitGroup
	for i := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms[i] = askMember(ctx, i, dial)
		}()
	}
	wg.Wait()
	lead = -1
	for i, m := range ms {
		if m.Err == nil && (lead < 0 || m.Status.Master && !ms[lead].Status.Master) {
			lead = i
		}
	}
	return ms, lead
}

func askMember(ctx context.Context, i int, dial func(ctx context.Context, i int) (Conn, error)) Asked {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)/2))
		defer cancel()
	}
	c, err := dial(ctx, i)
	if err != nil {
		return Asked{Err: err}
	}
	st, seq, err := c.ServerStatus(ctx)
	if err != nil {
		c.Close()
		return Asked{Err: err}
	}
	m := Asked{Conn: c, Status: st}
	for vs, err := range seq {
		if err != nil {
			c.Close()
			return Asked{Err: err}
		}
		m.Vendors = append(m.Vendors, vs)
	}
	return m
}

// CloseAll closes the connections of the members that were asked.
func CloseAll(ms []Asked) {
	for _, m := range ms {
		if m.Conn != nil {
			m.Conn.Close()
		}
	}
}

// Members are the Member list of a triad asked by AskTriad; names are
// the members' port@host in SERVER-line order.
func Members(names []string, ms []Asked) []*Member {
	out := make([]*Member, len(ms))
	for i, m := range ms {
		mb := &Member{}
		if i < len(names) {
			mb.Name = names[i]
		}
		if m.Err != nil {
			mb.Error = ErrorOf(m.Err)
		} else {
			mb.Up, mb.Master, mb.Version = true, m.Status.Master, m.Status.Version
		}
		out[i] = mb
	}
	return out
}

// ReadTriad is Read of a triad: its members (names in SERVER-line
// order, dial as for AskTriad) and everything lmstat -a shows as the
// member that answers for the triad sees it. stats, when not -1, is the
// member whose vendor daemons' counters ReadStats reads (for /metrics,
// each member's own: its triad role is its own). A triad none of whose members can
// be asked is a Server with Up false and the first member's error.
func ReadTriad(ctx context.Context, names []string, dial func(ctx context.Context, i int) (Conn, error), loc *time.Location, stats int) *Server {
	name := strings.Join(names, ",")
	if len(names) == 0 {
		return &Server{Name: name, LicenseFiles: []string{}, Vendors: []*Vendor{}, Members: []*Member{}}
	}
	ms, lead := AskTriad(ctx, len(names), dial)
	defer CloseAll(ms)
	var s *Server
	if lead < 0 {
		s = &Server{Name: name, LicenseFiles: []string{}, Vendors: []*Vendor{}, Error: ErrorOf(ms[0].Err)}
	} else {
		m := ms[lead]
		s = FromStatus(ctx, name, m.Status, m.Vendors, m.Conn, loc)
		if stats >= 0 && stats < len(ms) && ms[stats].Conn != nil {
			ReadStats(ctx, s, ms[stats].Conn)
		}
	}
	s.Members = Members(names, ms)
	return s
}
