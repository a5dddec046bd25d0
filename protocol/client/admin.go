package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"iter"
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// Admin is an lmutil command's connection to one lmgrd: server and
// vendor status for lmstat, lmdown, lmreread and lmremove. Its calls are
// not safe for concurrent use, and a status iterator must be drained (or
// abandoned with break) before the next call.
type Admin struct {
	cfg   *config
	addr  licfile.ServerAddr
	conn  *protocol.Conn
	hello *protocol.Hello // lmgrd's
	mine  *protocol.Hello
}

// DialAdmin connects to lmgrd at the first answering server of spec (a
// license file's SERVER lines or a port@host) as an admin tool. The
// identity sent is the process's (WithUser and friends override it).
//
// A server on this host is reached on its local admin socket when the
// socket is the server's (root's, the caller's own, or held by the user
// that owns the server's TCP port; see dialAdminDaemon), else over
// loopback. Either way the server decides by the caller's uid as the
// kernel reports it; it takes admin requests from other hosts only when
// started with -allow-remote-admin. Vendor and the lmremove calls reach
// the vendor daemon the same way.
func DialAdmin(ctx context.Context, spec []licfile.ServerAddr, opts ...Option) (*Admin, error) {
	cfg := newConfig(opts)
	m := cfg.machine
	if m == nil {
		m, _ = licfile.MachineProbe{Getenv: cfg.getenv, Hostname: cfg.hostname}.Machine()
		cfg.machine = m
	}
	id := protocol.Identity{User: cfg.user, Host: cfg.host, Display: cfg.display, PID: cfg.pid, Project: cfg.project, Program: cfg.program}
	if id.User == "" {
		id.User = m.User
	}
	if id.Host == "" {
		id.Host = m.Hostname
	}
	if id.Display == "" {
		id.Display = m.Display
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	mine := &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, Identity: id, Software: cfg.software, JobID: binary.BigEndian.Uint64(b[:]) | 1}
	c, h, addr, err := dialAdminLmgrd(ctx, cfg, spec, mine)
	if err != nil {
		return nil, err
	}
	return &Admin{cfg: cfg, addr: addr, conn: c, hello: h, mine: mine}, nil
}

// Addr is the lmgrd that answered.
func (a *Admin) Addr() licfile.ServerAddr { return a.addr }

// Server is lmgrd's Hello: its name, host, version and run.
func (a *Admin) Server() *protocol.Hello { return a.hello }

// Close closes the connection.
func (a *Admin) Close() error { return a.conn.Close() }

// call sends req and reads one reply, mapping errors to *Error.
func (a *Admin) call(ctx context.Context, req protocol.Message) (protocol.Message, error) {
	m, err := callContext(ctx, a.conn, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	return m, nil
}

// bound makes the end of ctx (cancelled, or its deadline passed) end
// whatever c is waiting for at once; done stops watching and reports
// ctx's error when it ended, after which c is closed: a reply still on
// its way could not be told from the next call's.
func bound(ctx context.Context, c *protocol.Conn) (done func() error) {
	if ctx.Done() == nil {
		return func() error { return nil }
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return func() error {
		if stop() {
			return nil
		}
		c.Close()
		return ctx.Err()
	}
}

// callContext is c.Call bounded by ctx: when ctx ends first, the call
// returns ctx's error and c is closed.
func callContext(ctx context.Context, c *protocol.Conn, req protocol.Message) (protocol.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := bound(ctx, c)
	m, err := c.Call(req)
	if cerr := done(); cerr != nil {
		return nil, cerr
	}
	return m, err
}

// ServerStatus asks lmgrd for its status: lmgrd's own record, then an
// iterator over its vendor daemons' records that reads them off the wire
// one by one.
func (a *Admin) ServerStatus(ctx context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	m, err := a.call(ctx, &protocol.ServerStatusRequest{})
	if err != nil {
		return nil, nil, err
	}
	st, ok := m.(*protocol.ServerStatus)
	if !ok {
		a.conn.Close()
		return nil, nil, newError(lmerr.BadComm, lmerr.MinorClientStatusReply, "SERVER_STATUS_REQUEST answered with "+m.Type().String())
	}
	seq := func(yield func(*protocol.VendorStatus, error) bool) {
		readStream(ctx, a.conn, "server status", func(m protocol.Message) bool {
			_, ok := m.(*protocol.VendorStatus)
			return ok
		}, func(m protocol.Message, err error) bool {
			vs, _ := m.(*protocol.VendorStatus)
			return yield(vs, err)
		})
	}
	return st, seq, nil
}

// Vendor is an admin connection to one vendor daemon, found through lmgrd.
type Vendor struct {
	Name  string
	conn  *protocol.Conn
	hello *protocol.Hello
}

// Vendor connects to vendor daemon name, or to the one serving feature
// when name is "". A down vendor daemon is -97.
func (a *Admin) Vendor(ctx context.Context, name, feature string) (*Vendor, error) {
	m, err := a.call(ctx, &protocol.Locate{Vendor: name, Feature: feature})
	if err != nil {
		return nil, err
	}
	r, ok := m.(*protocol.LocateReply)
	if !ok {
		return nil, newError(lmerr.BadComm, lmerr.MinorClientLocateReply, "LOCATE answered with "+m.Type().String())
	}
	host := r.Host
	if host == "" {
		host = a.addr.Host
	}
	c, h, err := dialAdminDaemon(ctx, a.cfg, host, r.Vendor, r.Port, a.addr.Port, a.mine)
	if err != nil {
		if codeOf(err) == lmerr.NoServer {
			err = lmerr.VendorDownError(r.Vendor, lmerr.MinorClientVendorDown)
		}
		return nil, err
	}
	return &Vendor{Name: r.Vendor, conn: c, hello: h}, nil
}

// Close closes the connection.
func (v *Vendor) Close() error { return v.conn.Close() }

// Server is the vendor daemon's Hello: its name, version and run.
func (v *Vendor) Server() *protocol.Hello { return v.hello }

// FeatureStatus streams feature usage for lmstat -a / -f: for each
// feature a *protocol.FeatureHeader, then for each of its license lines a
// *protocol.PoolStatus followed by its *protocol.UserEntry and
// *protocol.ReservationEntry records. feature "" means every feature.
func (v *Vendor) FeatureStatus(ctx context.Context, feature string) iter.Seq2[protocol.Message, error] {
	return func(yield func(protocol.Message, error) bool) {
		if err := v.conn.Send(&protocol.FeatureStatusRequest{Feature: feature}); err != nil {
			yield(nil, netError(err, lmerr.CantWrite, lmerr.MinorClientWrite))
			return
		}
		readStream(ctx, v.conn, "feature status", func(m protocol.Message) bool {
			switch m.(type) {
			case *protocol.FeatureHeader, *protocol.PoolStatus, *protocol.UserEntry, *protocol.ReservationEntry:
				return true
			}
			return false
		}, yield)
	}
}

// Remove is lmremove feature user host display; it returns how many
// checkouts were removed.
func (v *Vendor) Remove(ctx context.Context, feature, user, host, display string) (int, error) {
	return okCount(ctx, v.conn, &protocol.Remove{Feature: feature, User: user, Host: host, Display: display})
}

// RemoveHandle is lmremove -h feature server_host port handle.
func (v *Vendor) RemoveHandle(ctx context.Context, feature string, handle uint64) (int, error) {
	return okCount(ctx, v.conn, &protocol.RemoveHandle{Feature: feature, Handle: handle})
}

// Shutdown is lmdown: vendor "" shuts lmgrd and every vendor daemon
// down, otherwise only that vendor daemon. It returns how many daemons
// were shut down.
func (a *Admin) Shutdown(ctx context.Context, vendor string, force bool) (int, error) {
	return okCount(ctx, a.conn, &protocol.Shutdown{Vendor: vendor, Force: force})
}

// Reread is lmreread: every vendor daemon, or only vendor.
func (a *Admin) Reread(ctx context.Context, vendor string) (int, error) {
	return okCount(ctx, a.conn, &protocol.Reread{Vendor: vendor})
}

// Remove finds the vendor daemon serving feature and removes the user's
// checkouts of it (lmremove feature user host display).
func (a *Admin) Remove(ctx context.Context, feature, user, host, display string) (int, error) {
	return a.atMaster(ctx, func(a *Admin) (int, error) {
		v, err := a.Vendor(ctx, "", feature)
		if err != nil {
			return 0, err
		}
		defer v.Close()
		return v.Remove(ctx, feature, user, host, display)
	})
}

// RemoveHandle finds the vendor daemon serving feature and removes the
// checkout with handle (lmremove -h).
func (a *Admin) RemoveHandle(ctx context.Context, feature string, handle uint64) (int, error) {
	return a.atMaster(ctx, func(a *Admin) (int, error) {
		v, err := a.Vendor(ctx, "", feature)
		if err != nil {
			return 0, err
		}
		defer v.Close()
		return v.RemoveHandle(ctx, feature, handle)
	})
}

func okCount(ctx context.Context, c *protocol.Conn, req protocol.Message) (int, error) {
	m, err := callContext(ctx, c, req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, err
		}
		return 0, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	ok, isOK := m.(*protocol.OK)
	if !isOK {
		c.Close()
		return 0, newError(lmerr.BadComm, lmerr.MinorClientAdminReply, req.Type().String()+" answered with "+m.Type().String())
	}
	return ok.Count, nil
}

// readStream reads the records of a status stream off c until its END,
// yielding each record accept allows. An ERROR frame ends it with the
// server's error; any other record, a cancelled ctx or a caller that stops
// early closes the connection, since the rest of the stream is unread.
func readStream(ctx context.Context, c *protocol.Conn, what string, accept func(protocol.Message) bool, yield func(protocol.Message, error) bool) {
	done := bound(ctx, c)
	defer done()
	for {
		if err := ctx.Err(); err != nil {
			c.Close()
			yield(nil, err)
			return
		}
		m, err := c.Recv()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				c.Close()
				yield(nil, cerr)
				return
			}
			yield(nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead))
			return
		}
		switch {
		case m.Type() == protocol.TypeEnd:
			return
		case m.Type() == protocol.TypeError:
			yield(nil, fromPeer(m.(*protocol.Error)))
			return
		case accept(m):
			if !yield(m, nil) {
				c.Close()
				return
			}
		default:
			c.Close()
			yield(nil, newError(lmerr.BadComm, lmerr.MinorClientStreamReply, "unexpected "+m.Type().String()+" in "+what))
			return
		}
	}
}

// LicenseFile is one license file as the server that serves it has it.
type LicenseFile struct {
	Path string // as lmgrd was given it, on the server's host
	Text string
}

// LicenseFiles asks lmgrd for the text of the license files it serves,
// in order (lmstat -i and lmcksum with a port@host license path).
func (a *Admin) LicenseFiles(ctx context.Context) ([]LicenseFile, error) {
	if err := a.conn.Send(&protocol.LicenseFileRequest{}); err != nil {
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	var files []LicenseFile
	var texts []*strings.Builder
	var failed error
	readStream(ctx, a.conn, "license files", func(m protocol.Message) bool {
		_, ok := m.(*protocol.LicenseText)
		return ok
	}, func(m protocol.Message, err error) bool {
		if err != nil {
			failed = err
			return false
		}
		t := m.(*protocol.LicenseText)
		if n := len(files); n == 0 || files[n-1].Path != t.Path {
			files = append(files, LicenseFile{Path: t.Path})
			texts = append(texts, new(strings.Builder))
		}
		texts[len(texts)-1].WriteString(t.Text)
		return true
	})
	if failed != nil {
		return nil, failed
	}
	for i := range files {
		files[i].Text = texts[i].String()
	}
	return files, nil
}

// Stats asks the vendor daemon for its counters since it started.
func (v *Vendor) Stats(ctx context.Context) (*protocol.VendorStats, error) {
	m, err := callContext(ctx, v.conn, &protocol.VendorStatsRequest{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	switch m := m.(type) {
	case *protocol.VendorStats:
		return m, nil
	case *protocol.Error:
		return nil, fromPeer(m)
	}
	return nil, newError(lmerr.BadComm, lmerr.MinorClientStatsReply, "VENDOR_STATS_REQUEST answered with "+m.Type().String())
}

// StatsExt asks the vendor daemon for its counters past Stats (queue
// wait, report log, triad). A vendor daemon older than the request
// closes the connection: ask it last.
func (v *Vendor) StatsExt(ctx context.Context) (*protocol.VendorStatsExt, error) {
	m, err := v.conn.Call(&protocol.VendorStatsExtRequest{})
	if err != nil {
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	switch m := m.(type) {
	case *protocol.VendorStatsExt:
		return m, nil
	case *protocol.Error:
		return nil, fromPeer(m)
	}
	return nil, newError(lmerr.BadComm, lmerr.MinorClientStatsReply, "VENDOR_STATS_EXT_REQUEST answered with "+m.Type().String())
}

// UsageHistory asks the vendor daemon for feature's seats in use over
// the last week, from its report log. Like StatsExt, ask it after the
// requests every vendor daemon knows.
func (v *Vendor) UsageHistory(ctx context.Context, feature string) (*protocol.UsageHistory, error) {
	m, err := v.conn.Call(&protocol.UsageHistoryRequest{Feature: feature})
	if err != nil {
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	switch m := m.(type) {
	case *protocol.UsageHistory:
		return m, nil
	case *protocol.Error:
		return nil, fromPeer(m)
	}
	return nil, newError(lmerr.BadComm, lmerr.MinorClientStatsReply, "USAGE_HISTORY_REQUEST answered with "+m.Type().String())
}
