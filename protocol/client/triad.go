package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// A license server of three SERVER lines (a triad) grants only through
// its master. A client tries the servers in SERVER-line order; a member
// that is not the master answers -96 naming the master ("Master:
// port@host"), and the job goes there and remembers it, for later
// checkouts and for reconnects. When the master dies, the job reconnects
// to the others in order and re-checks-out its licenses with their
// handles: the new master has the same seat table and re-adopts them.
// While no master has a quorum (-96) a reconnecting job keeps its
// licenses and tries again.

// masterOf is the master a not-master answer names.
func masterOf(err error) (licfile.ServerAddr, bool) {
	e, minor := triadAnswer(err)
	if minor != lmerr.MinorTriadNotMaster {
		return licfile.ServerAddr{}, false
	}
	for _, d := range e.Detail {
		if m, ok := strings.CutPrefix(d, "Master: "); ok {
			spec, err := licfile.ParseServerSpec(strings.TrimSpace(m))
			if err == nil && len(spec) == 1 {
				return spec[0], true
			}
		}
	}
	return licfile.ServerAddr{}, false
}

// triadBusy reports whether err is a triad's -96: no master with a
// quorum just now, or this member is not the master.
func triadBusy(err error) bool {
	_, minor := triadAnswer(err)
	return minor == lmerr.MinorTriadNotMaster || minor == lmerr.MinorTriadNoQuorum
}

// triadAnswer is err as a triad member's -96 and its minor number; 0
// for any other error.
func triadAnswer(err error) (*lmerr.Error, lmerr.Minor) {
	var e *lmerr.Error
	if !errors.As(err, &e) || e.Code != lmerr.ServerDown {
		return nil, 0
	}
	return e, e.Minor
}

// heard acts on a -96 from the member at of spec: a master it names is
// tried first next, and after a no-quorum answer the member after it.
func (j *Job) heard(spec []licfile.ServerAddr, at licfile.ServerAddr, err error) {
	j.noteMaster(spec, err)
	j.passOver(spec, at, err)
}

// noteMaster remembers the master a not-master answer from spec named.
// Only a server of spec is followed: a member that names any other host
// (misconfigured, or not a member at all) cannot send the job, with its
// user and host names, to a server the license does not name.
func (j *Job) noteMaster(spec []licfile.ServerAddr, err error) bool {
	m, ok := masterOf(err)
	if !ok {
		return false
	}
	for _, a := range spec {
		if strings.EqualFold(a.Host, m.Host) && a.Port == m.Port {
			j.masters.Store(specString(spec), a)
			return true
		}
	}
	return false
}

// passOver makes the member after at in spec the first to try next when
// at answered -96 for want of a quorum: a member cut off from the other
// two answers so for as long as the partition lasts, while the two may
// have a master.
func (j *Job) passOver(spec []licfile.ServerAddr, at licfile.ServerAddr, err error) {
	if _, minor := triadAnswer(err); minor != lmerr.MinorTriadNoQuorum {
		return
	}
	for i, a := range spec {
		if a == at {
			j.masters.Store(specString(spec), spec[(i+1)%len(spec)])
			return
		}
	}
}

// ordered is spec with the master last heard of first.
func (j *Job) ordered(spec []licfile.ServerAddr) []licfile.ServerAddr {
	v, ok := j.masters.Load(specString(spec))
	if !ok || len(spec) < 2 {
		return spec
	}
	m := v.(licfile.ServerAddr)
	out := []licfile.ServerAddr{m}
	for _, a := range spec {
		if a != m {
			out = append(out, a)
		}
	}
	return out
}

// triadCheckout is a checkout that follows a not-master answer to the
// master, at most twice.
// While the triad elects a master (-96, no quorum) it tries again for up
// to the job's master wait (WithMasterWait), so that a checkout made
// during a failover waits for the new master rather than failing.
func (j *Job) triadCheckout(ctx context.Context, spec []licfile.ServerAddr, vc *vendorConn, do func(*vendorConn) (*License, error)) (*License, error) {
	lic, err := do(vc)
	giveUp := time.Now().Add(j.cfg.masterWait)
	for moves := 0; err != nil && len(spec) > 1; {
		switch {
		case j.noteMaster(spec, err) && moves < 2:
			moves++
		case triadBusy(err) && time.Now().Before(giveUp):
			t := time.NewTimer(triadRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, err
			case <-t.C:
			}
		default:
			return lic, err
		}
		vc.mu.Lock()
		j.passOver(spec, vc.addr, err)
		rerr := vc.reconnectLocked(ctx)
		vc.mu.Unlock()
		if rerr != nil && !triadBusy(rerr) {
			return nil, rerr
		}
		lic, err = do(vc)
	}
	return lic, err
}

// triadRetry is the pause between two tries while a triad has no master.
const triadRetry = 200 * time.Millisecond

// otherLoopback reports whether host is a loopback address other than
// 127.0.0.1 and ::1: the members of a triad on one host may listen on
// 127.0.0.2 and 127.0.0.3 with the port of the one on 127.0.0.1, whose
// admin socket has the same name, so such a server is dialled at its own
// address, never through the admin socket or localhost.
func otherLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && !ip.Equal(net.IPv4(127, 0, 0, 1)) && !ip.Equal(net.IPv6loopback)
}

// atMaster runs do on a, and once more on the master's lmgrd when a's
// vendor daemon is a triad member that is not the master (lmremove goes
// through the master, which commits it for the three).
func (a *Admin) atMaster(ctx context.Context, do func(*Admin) (int, error)) (int, error) {
	n, err := do(a)
	m, ok := masterOf(err)
	if !ok || m.Host == a.addr.Host && m.Port == a.addr.Port {
		return n, err
	}
	c, h, addr, derr := dialAdminLmgrd(ctx, a.cfg, []licfile.ServerAddr{m}, a.mine)
	if derr != nil {
		return n, err
	}
	at := &Admin{cfg: a.cfg, addr: addr, conn: c, hello: h, mine: a.mine}
	defer at.Close()
	return do(at)
}
