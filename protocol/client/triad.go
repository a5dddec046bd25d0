package client

import (
	"context"
	"errors"
	"strings"

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
	var e *lmerr.Error
	if !errors.As(err, &e) || e.Code != lmerr.ServerDown || e.Minor != lmerr.MinorTriadNotMaster {
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
	var e *lmerr.Error
	if !errors.As(err, &e) || e.Code != lmerr.ServerDown {
		return false
	}
	return e.Minor == lmerr.MinorTriadNotMaster || e.Minor == lmerr.MinorTriadNoQuorum
}

// noteMaster remembers the master a not-master answer from spec named.
func (j *Job) noteMaster(spec []licfile.ServerAddr, err error) bool {
	m, ok := masterOf(err)
	if !ok {
		return false
	}
	j.masters.Store(specString(spec), m)
	return true
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
		if a.Host != m.Host || a.Port != m.Port {
			out = append(out, a)
		}
	}
	return out
}

// triadCheckout is a checkout that follows a not-master answer to the
// master, at most twice.
func (j *Job) triadCheckout(ctx context.Context, spec []licfile.ServerAddr, vc *vendorConn, do func(*vendorConn) (*License, error)) (*License, error) {
	lic, err := do(vc)
	for range 2 {
		if err == nil || !j.noteMaster(spec, err) {
			return lic, err
		}
		vc.mu.Lock()
		rerr := vc.reconnectLocked(ctx)
		vc.mu.Unlock()
		if rerr != nil {
			return nil, rerr
		}
		lic, err = do(vc)
	}
	return lic, err
}
