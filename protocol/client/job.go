package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// Job is an application's licensing session: its identity, its license
// path and one connection per vendor daemon it checked licenses out of.
// A Job is safe for concurrent use.
type Job struct {
	cfg     *config
	sources []licfile.Source
	ident   protocol.Identity
	jobID   uint64
	machine *licfile.Machine

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[string]*vendorConn
	vendorOf map[string]string // spec|feature → vendor, for port@host sources
	local    map[*License]bool
	masters  sync.Map // spec → the triad master last heard of (triad.go)
}

// License is a granted checkout.
type License struct {
	Feature      string
	Version      string // the version of the license line that granted it
	Requested    string // the version asked for
	Count        int
	Expiry       string // the line's expiry as written
	VendorString string
	// Source is the license path entry that granted it: a license file
	// or a port@host spec.
	Source string
	// Server is lmgrd's port@host, "" for a license granted locally from
	// an uncounted line.
	Server string

	job *Job
	vc  *vendorConn // nil for a local license

	mu      sync.Mutex
	handle  uint64
	run     uint64
	lost    error
	lostCh  chan struct{} // closed when lost is set; made by Lost
	done    bool
	pending bool // queued at the server, not granted yet
}

// Local reports whether the license was granted from an uncounted line
// without a server.
func (l *License) Local() bool { return l.vc == nil }

// Handle is the server's handle of the checkout (lmstat -a shows it; 0 for
// a local license). It changes when the job reconnects to a restarted
// vendor daemon, and when it checks out again a license that lmremove or
// the TIMEOUT option took back.
func (l *License) Handle() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.handle
}

// Err is non-nil when the license was lost: the server refused to grant
// it again after a reconnect, or after lmremove or the TIMEOUT option
// took it back (its seats were taken meanwhile, or its line is gone).
func (l *License) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Lost returns a channel that is closed when the license is lost, so
// that an application learns of it at once rather than at its next look
// at Err: lmremove or the TIMEOUT option took the seat and it could not
// be had again, the server refused it after a reconnect, or the vendor
// daemon stayed out of reach longer than the loss timeout
// (WithLossTimeout). Err then says why.
func (l *License) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostCh == nil {
		l.lostCh = make(chan struct{})
		if l.lost != nil {
			close(l.lostCh)
		}
	}
	return l.lostCh
}

// loseLocked records that the license is lost because of err. l.mu is
// held.
func (l *License) loseLocked(err error) {
	if l.lost != nil {
		return
	}
	l.lost = err
	if l.lostCh != nil {
		close(l.lostCh)
	}
}

// Open starts a job on licensePath, a -c style license path list, or ""
// for $VENDOR_LICENSE_FILE and $LM_LICENSE_FILE (see WithVendor). It does
// not connect to any server yet. A job given the publisher's public key
// (WithPublicKey) checks every grant itself; one without trusts the
// servers it checks out of.
func Open(ctx context.Context, licensePath string, opts ...Option) (*Job, error) {
	cfg := newConfig(opts)
	if cfg.keyErr != nil {
		return nil, newError(lmerr.BadCode, lmerr.MinorClientKeyConfig, cfg.keyErr.Error())
	}
	j := &Job{cfg: cfg, conns: map[string]*vendorConn{}, vendorOf: map[string]string{}, local: map[*License]bool{}}
	j.sources = licfile.ResolvePath(licensePath, cfg.vendor, licfile.PathEnv{Getenv: cfg.getenv, Environ: cfg.environ, Dir: cfg.dir, Home: cfg.home})
	if len(j.sources) == 0 {
		return nil, newError(lmerr.NoConfFile, lmerr.MinorClientNoLicensePath, "License path: "+licensePath)
	}
	m := cfg.machine
	if m == nil {
		m, _ = licfile.MachineProbe{Getenv: cfg.getenv, Hostname: cfg.hostname}.Machine()
	}
	j.machine = m
	j.ident = protocol.Identity{User: cfg.user, Host: cfg.host, Display: cfg.display, PID: cfg.pid, Project: cfg.project, Program: cfg.program}
	if j.ident.User == "" {
		j.ident.User = m.User
	}
	if j.ident.Host == "" {
		j.ident.Host = m.Hostname
	}
	if j.ident.Display == "" {
		j.ident.Display = m.Display
	}

	var b [8]byte
	for j.jobID == 0 {
		_, _ = rand.Read(b[:])
		j.jobID = binary.BigEndian.Uint64(b[:])
	}
	j.ctx, j.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return j, nil
}

// Identity is what the job tells servers about itself.
func (j *Job) Identity() protocol.Identity { return j.ident }

// Sources is the resolved license path the job walks.
func (j *Job) Sources() []licfile.Source { return j.sources }

func (j *Job) hello() *protocol.Hello {
	return &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: j.ident, Software: j.cfg.software, JobID: j.jobID}
}

// Checkout checks count licenses of feature at version or later out of
// the first source of the license path that grants them. The error is an
// *Error with the FlexLM code of the most telling denial.
func (j *Job) Checkout(ctx context.Context, feature, version string, count int) (*License, error) {
	lic, tried, err := j.checkout(ctx, feature, version, count, 0)
	j.diagnose(feature, version, count, lic, tried, err)
	if err != nil {
		return nil, err
	}
	return lic, nil
}

// CheckoutQueued is a non-blocking queued checkout (FlexLM's
// LM_CO_QUEUE, manual B.2.2): a license granted at once is returned with
// a nil error; when every seat is taken the request waits in the vendor
// daemon's queue, and CheckoutQueued returns the pending License with
// error -35 ("In the queue for this feature"). Its Wait blocks until the
// vendor daemon grants it; its Checkin leaves the queue. Queued requests
// are granted strictly in arrival order. Other denials are returned as
// by Checkout, with a nil License.
func (j *Job) CheckoutQueued(ctx context.Context, feature, version string, count int) (*License, error) {
	lic, tried, err := j.checkout(ctx, feature, version, count, protocol.CheckoutQueue)
	j.diagnose(feature, version, count, lic, tried, err)
	if err != nil && !(lic != nil && codeOf(err) == lmerr.InQueue) {
		return nil, err
	}
	return lic, err
}

// CheckoutWait is a blocking queued checkout (FlexLM's LM_CO_WAIT): it
// waits in the vendor daemon's queue until a seat is granted or ctx
// ends; then it leaves the queue and returns ctx's error.
func (j *Job) CheckoutWait(ctx context.Context, feature, version string, count int) (*License, error) {
	lic, err := j.CheckoutQueued(ctx, feature, version, count)
	if codeOf(err) != lmerr.InQueue {
		return lic, err
	}
	if err := lic.Wait(ctx); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), j.cfg.dialTimeout)
		defer cancel()
		_ = lic.Checkin(cctx)
		return nil, err
	}
	return lic, nil
}

// SetIdle tells every vendor daemon the job holds licenses from that the
// application is idle (or busy again), so that the options file's
// TIMEOUT may reclaim its seats (manual 6.2.13).
func (j *Job) SetIdle(ctx context.Context, idle bool) error {
	j.mu.Lock()
	conns := make([]*vendorConn, 0, len(j.conns))
	for _, vc := range j.conns {
		conns = append(conns, vc)
	}
	j.mu.Unlock()
	var first error
	for _, vc := range conns {
		vc.mu.Lock()
		vc.idle = idle
		if vc.alive() {
			if _, err := vc.link.call(ctx, &protocol.Idle{Idle: idle}, j.cfg.callTimeout); err != nil && first == nil {
				first = err
			}
		}
		if !idle {
			// Seats the TIMEOUT option took back while the application
			// was idle are checked out again now that it is busy.
			vc.verifyHeldLocked(ctx, nil, j.cfg.callTimeout)
		}
		vc.mu.Unlock()
	}
	return first
}

func (j *Job) checkout(ctx context.Context, feature, version string, count int, flags uint64) (*License, []string, error) {
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return nil, nil, newError(lmerr.BadParam, lmerr.MinorClientClosed, "the job is closed")
	}
	if feature == "" || count < 1 {
		return nil, nil, newError(lmerr.BadParam, lmerr.MinorClientBadParam, "Feature: "+feature)
	}
	if version == "" {
		version = "0"
	}
	want, err := licfile.ParseVersion(version)
	if err != nil {
		return nil, nil, newError(lmerr.BadVersion, lmerr.MinorClientBadVersion, "Feature: "+feature, "Version: "+version)
	}
	var errs errorSet
	var tried []string
	for _, src := range j.sources {
		if err := ctx.Err(); err != nil {
			return nil, tried, err
		}
		tried = append(tried, src.String())
		var lic *License
		var err error
		if src.IsServer() {
			lic, err = j.serverCheckout(ctx, src, src.Servers, j.cfg.vendor, feature, version, count, flags)
		} else {
			lic, err = j.fileCheckout(ctx, src, feature, version, want, count, flags)
		}
		if err == nil {
			return lic, tried, nil
		}
		if lic != nil && codeOf(err) == lmerr.InQueue {
			return lic, tried, err
		}
		j.cfg.log("checkout %s from %s: %v", feature, src.String(), err)
		errs.add(err)
	}
	return nil, tried, errs.best(feature, j.sources)
}

// errorSet keeps the most telling of the errors of the sources tried,
// the most specific first: a source that refused (a denial), then one
// that was read or reached and has no such feature (-5) or no server for
// it (-13), then a server
// that could not be reached, then a file that could not be read.
type errorSet struct{ denial, noFeature, unreachable, missing error }

func (s *errorSet) add(err error) {
	var slot *error
	switch codeOf(err) {
	case lmerr.NoFeature, lmerr.NoServerLines:
		slot = &s.noFeature
	case lmerr.NoConfFile:
		slot = &s.missing
	case lmerr.BadHost, lmerr.NoServer, lmerr.ServerDown, lmerr.VendorDown, lmerr.CantRead, lmerr.CantWrite, lmerr.BadComm:
		slot = &s.unreachable
	default:
		slot = &s.denial
	}
	if *slot == nil {
		*slot = err
	}
}

func (s *errorSet) best(feature string, sources []licfile.Source) error {
	for _, e := range []error{s.denial, s.noFeature, s.unreachable} {
		if e != nil {
			return e
		}
	}
	// Nothing could be read: -1, naming every path tried.
	return newError(lmerr.NoConfFile, lmerr.MinorClientNoSource, "Feature: "+feature, "License path: "+licfile.PathString(sources))
}

// serverSpec turns SERVER lines into addresses, keeping "no port" as 0 so
// that the whole default range is tried.
func serverSpec(servers []*licfile.Server) []licfile.ServerAddr {
	spec := make([]licfile.ServerAddr, 0, len(servers))
	for _, s := range servers {
		spec = append(spec, licfile.ServerAddr{Host: s.Host, Port: s.Port})
	}
	return spec
}

func specString(spec []licfile.ServerAddr) string {
	parts := make([]string, len(spec))
	for i, a := range spec {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// serverCheckout checks out of the vendor daemon behind spec.
func (j *Job) serverCheckout(ctx context.Context, src licfile.Source, spec []licfile.ServerAddr, vendor, feature, version string, count int, flags uint64) (*License, error) {
	key := specString(spec)
	if vendor == "" {
		j.mu.Lock()
		vendor = j.vendorOf[key+"|"+feature]
		j.mu.Unlock()
	}
	vc, err := j.vendorConn(ctx, spec, vendor, feature)
	if err != nil {
		return nil, err
	}
	return j.triadCheckout(ctx, spec, vc, func(vc *vendorConn) (*License, error) {
		return vc.checkout(ctx, src.String(), feature, version, count, flags)
	})
}

// vendorConn returns the job's connection to the vendor daemon behind
// spec, creating (and connecting) it if needed. With vendor "" it asks
// lmgrd which vendor daemon serves feature.
func (j *Job) vendorConn(ctx context.Context, spec []licfile.ServerAddr, vendor, feature string) (*vendorConn, error) {
	key := specString(spec)
	if vendor != "" {
		j.mu.Lock()
		vc := j.conns[key+"|"+vendor]
		j.mu.Unlock()
		if vc != nil {
			return vc, nil
		}
	}
	c, name, addr, err := locate(ctx, j.cfg, j.ordered(spec), vendor, feature, j.hello())
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		c.Close()
		return nil, newError(lmerr.BadParam, lmerr.MinorClientClosed, "the job is closed")
	}
	j.vendorOf[key+"|"+feature] = name
	if vc := j.conns[key+"|"+name]; vc != nil {
		// Another checkout connected first: keep one connection.
		c.Close()
		return vc, nil
	}
	vc := &vendorConn{job: j, spec: spec, vendor: name, addr: addr, link: newLink(c, j.cfg, j.hello(), j.setup()), stop: make(chan struct{})}
	j.conns[key+"|"+name] = vc
	j.wg.Add(1)
	go vc.keep()
	return vc, nil
}

// setup is what a new connection tells the vendor daemon before its
// first request: the Ethernet hostids of this machine, so that lines
// node-locked to one of them serve this client, its platform and 32-bit
// hostid, for PLATFORMS= and 32-bit hostid lines, and the job's linger.
// Hostids and linger are not sent when there is nothing to say. A server
// that does not know a request refuses it with an Error frame, which
// changes nothing.
func (j *Job) setup() []protocol.Message {
	var out []protocol.Message
	if j.machine != nil && len(j.machine.Ethers) > 0 {
		ethers := j.machine.Ethers
		if len(ethers) > protocol.MaxHostIDs {
			ethers = ethers[:protocol.MaxHostIDs]
		}
		out = append(out, &protocol.HostIDs{Ethers: ethers})
	}
	info := &protocol.HostInfo{Platform: j.cfg.platform}
	if j.machine != nil && len(j.machine.Long) <= protocol.MaxHostInfo {
		info.Long = j.machine.Long
	}
	if len(info.Platform) > protocol.MaxHostInfo {
		info.Platform = ""
	}
	out = append(out, info)
	if j.cfg.linger > 0 {
		out = append(out, &protocol.Linger{Seconds: int(j.cfg.linger / time.Second)})
	}
	return out
}

// Close checks in every license of the job and closes its connections.
func (j *Job) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	conns := make([]*vendorConn, 0, len(j.conns))
	for _, vc := range j.conns {
		conns = append(conns, vc)
		close(vc.stop)
	}
	for l := range j.local {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	}
	j.mu.Unlock()
	// Cancelling first cuts short a reconnect or heartbeat in flight;
	// the checkins below use their own deadline.
	j.cancel()
	j.wg.Wait()
	for _, vc := range conns {
		vc.close()
	}
	return nil
}

// vendorConn is a job's connection to one vendor daemon, kept alive by a
// heartbeat goroutine that reconnects and re-checks-out after a break.
type vendorConn struct {
	job    *Job
	spec   []licfile.ServerAddr
	vendor string
	stop   chan struct{}

	mu   sync.Mutex // serialises requests, reconnects and held
	link *link
	addr licfile.ServerAddr // the lmgrd that answered
	held []*License
	seq  uint64 // last heartbeat sequence number
	idle bool   // the application said it is idle (Job.SetIdle)
}

func (v *vendorConn) alive() bool {
	if v.link == nil {
		return false
	}
	select {
	case <-v.link.dead:
		return false
	default:
		return true
	}
}

func (v *vendorConn) checkout(ctx context.Context, source, feature, version string, count int, flags uint64) (*License, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.alive() {
		if err := v.reconnectLocked(ctx); err != nil {
			return nil, err
		}
	}
	m, err := v.link.call(ctx, &protocol.Checkout{Feature: feature, Version: version, Count: count, Flags: v.job.checkoutFlags(flags)}, v.job.cfg.callTimeout)
	if err != nil {
		return nil, err
	}
	if q, ok := m.(*protocol.Queued); ok && flags&protocol.CheckoutQueue != 0 {
		lic := &License{
			Feature: feature, Requested: version, Count: count, Source: source, Server: v.addr.String(),
			job: v.job, vc: v, handle: q.Handle, run: v.link.hello.RunID, pending: true,
		}
		return lic, newError(lmerr.InQueue, lmerr.MinorClientQueued, "Feature: "+feature)
	}
	g, ok := grantOf(m)
	if !ok {
		v.link.fail(errors.New("CHECKOUT answered with " + m.Type().String()))
		return nil, newError(lmerr.BadComm, lmerr.MinorClientCheckoutReply, "CHECKOUT answered with "+m.Type().String())
	}
	if err := v.job.checkGrant(v.vendor, feature, version, m); err != nil {
		v.refuseLocked(ctx, g, err)
		return nil, err
	}
	lic := &License{
		Feature: feature, Version: g.Version, Requested: version, Count: count,
		Expiry: g.Expiry, VendorString: g.VendorString, Source: source, Server: v.addr.String(),
		job: v.job, vc: v, handle: g.Handle, run: v.link.hello.RunID,
	}
	v.held = append(v.held, lic)
	return lic, nil
}

// reconnectLocked connects through lmgrd again and re-checks-out every
// held license with its previous handle and run, so the server re-adopts
// the seat or grants it afresh, never both. Licenses the server refuses
// are dropped and report the refusal from Err.
func (v *vendorConn) reconnectLocked(ctx context.Context) error {
	if v.link != nil {
		v.link.fail(errReplaced)
	}
	v.link = nil
	j := v.job
	c, _, addr, err := locate(ctx, j.cfg, j.ordered(v.spec), v.vendor, "", j.hello())
	if err != nil {
		return err
	}
	l := newLink(c, j.cfg, j.hello(), j.setup())
	v.link, v.addr = l, addr
	kept := v.held[:0:0]
	for i, lic := range v.held {
		lic.mu.Lock()
		req := &protocol.Checkout{Feature: lic.Feature, Version: lic.Requested, Count: lic.Count, Flags: j.checkoutFlags(0), PrevRun: lic.run, PrevHandle: lic.handle}
		lic.mu.Unlock()
		held, err := v.recheckout(ctx, lic, req, "after reconnecting to")
		if err != nil {
			// The new connection broke too: keep the rest for the next try.
			v.held = append(kept, v.held[i:]...)
			return err
		}
		if held {
			kept = append(kept, lic)
		}
	}
	v.held = kept
	return nil
}

// recheckout checks lic out again with req on the current link and
// records the outcome in lic: its new handle, or the refusal in lic.lost
// (why says when, for the log). It reports whether lic is held again,
// and the error when the connection broke, in which case lic is
// unchanged and the caller keeps it for the next try. v.mu is held.
func (v *vendorConn) recheckout(ctx context.Context, lic *License, req *protocol.Checkout, why string) (held bool, broken error) {
	l, cfg := v.link, v.job.cfg
	m, err := l.call(ctx, req, cfg.callTimeout)
	if err != nil && !v.alive() {
		return false, err
	}
	if err != nil && triadBusy(err) {
		// A triad member that is not the master, or no master yet:
		// keep the license and try again, at the master if named.
		v.job.heard(v.spec, v.addr, err)
		l.fail(err)
		return false, err
	}
	g, ok := grantOf(m)
	var refused error
	if err == nil && ok {
		if refused = v.job.checkGrant(v.vendor, lic.Feature, req.Version, m); refused != nil {
			v.refuseLocked(ctx, g, refused)
		}
	}
	lic.mu.Lock()
	switch {
	case err != nil:
		lic.loseLocked(err)
	case !ok:
		lic.loseLocked(newError(lmerr.BadComm, lmerr.MinorClientRecheckoutReply, "CHECKOUT answered with "+m.Type().String()))
	case refused != nil:
		lic.loseLocked(refused)
	default:
		lic.handle, lic.run = g.Handle, l.hello.RunID
		lic.Version, lic.Expiry, lic.VendorString = g.Version, g.Expiry, g.VendorString
	}
	lost := lic.lost
	lic.mu.Unlock()
	if lost != nil {
		cfg.log("lost %s %s %s: %v", lic.Feature, why, v.vendor, lost)
		return false, nil
	}
	cfg.log("%s handle %d re-checked-out %s %s (adopted %v)", lic.Feature, g.Handle, why, v.vendor, g.Adopted)
	return true, nil
}

var errReplaced = errors.New("connection replaced")

// keep sends heartbeats and recovers a broken connection.
func (v *vendorConn) keep() {
	defer v.job.wg.Done()
	hb := v.job.cfg.heartbeat
	t := time.NewTicker(hb)
	defer t.Stop()
	for {
		v.mu.Lock()
		var dead <-chan struct{}
		if v.link != nil {
			dead = v.link.dead
		}
		v.mu.Unlock()
		select {
		case <-v.stop:
			return
		case <-t.C:
			v.heartbeat()
		case <-dead:
			v.recover()
		}
	}
}

func (v *vendorConn) heartbeat() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.alive() {
		return
	}
	// A server that does not answer within two heartbeats (and at least
	// a second) is taken for dead: the link fails and recover takes over.
	cfg := v.job.cfg
	timeout := min(cfg.callTimeout, max(2*cfg.heartbeat, time.Second))
	v.seq++
	v.verifyHeldLocked(v.job.ctx, &protocol.Heartbeat{Seq: v.seq}, timeout)
}

// verifyHeldLocked asks the vendor daemon, for each license the
// connection holds, whether the seat is still the job's (QUEUE_POLL
// answers GRANTED for a seat held, -41 for one that is not), and checks
// out again each seat an administrator removed with lmremove, or that the
// TIMEOUT option took back from an application that stopped
// heartbeating: "If the application is active, it will re-checkout the
// license after it is freed by lmremove" (lmremove, manual 7.10). A
// license that cannot be had again is lost (License.Err). Nothing is
// checked while the application says it is idle.
//
// lead, when not nil (a heartbeat), goes first: it and the questions go
// out in one write and come back in one round trip however many seats
// are held. v.mu is held.
func (v *vendorConn) verifyHeldLocked(ctx context.Context, lead protocol.Message, timeout time.Duration) {
	if !v.alive() {
		return
	}
	var reqs []protocol.Message
	if lead != nil {
		reqs = append(reqs, lead)
	}
	var asked []*License
	if !v.idle {
		asked = v.held
		for _, lic := range asked {
			reqs = append(reqs, &protocol.QueuePoll{Handle: lic.Handle()})
		}
	}
	if len(reqs) == 0 {
		return
	}
	replies, errs := v.link.callAll(ctx, reqs, timeout)
	if lead != nil {
		if errs[0] != nil {
			if triadBusy(errs[0]) {
				// A triad member that is no longer the master: the
				// job goes on to the master with its seats (recover).
				v.job.heard(v.spec, v.addr, errs[0])
				v.link.fail(errs[0])
			}
			return
		}
		replies, errs = replies[1:], errs[1:]
	}
	kept := v.held[:0:0]
	for i, lic := range asked {
		if _, ok := grantOf(replies[i]); (errs[i] == nil && ok) || codeOf(errs[i]) != lmerr.NeverCheckedOut {
			kept = append(kept, lic) // still held, or not known: ask again next time
			continue
		}
		lic.mu.Lock()
		req := &protocol.Checkout{Feature: lic.Feature, Version: lic.Requested, Count: lic.Count, Flags: v.job.checkoutFlags(0)}
		lic.mu.Unlock()
		held, err := v.recheckout(ctx, lic, req, "after it was taken back by")
		if err != nil {
			// The connection broke: recover re-checks the rest out.
			v.held = append(kept, asked[i:]...)
			return
		}
		if held {
			kept = append(kept, lic)
		}
	}
	if asked != nil {
		v.held = kept
	}
}

// recover reconnects with backoff until it succeeds, the job holds
// nothing here any more, the connection was made again meanwhile (by a
// checkout), or the job closes. Every try, the first too, waits a random
// moment of up to its backoff window (reconnectPacing): when a vendor
// daemon restarts, its thousands of clients then come back spread over a
// second instead of all at once, on the same schedule, into listen
// queues that would overflow and drop their connection attempts (a
// dropped SYN costs the client a second or more before it is sent again).
func (v *vendorConn) recover() {
	window, limit := reconnectPacing(v.job.cfg.heartbeat)
	var giveUp time.Time // when the held licenses are lost; zero: never
	if d := v.job.cfg.lossTimeout; d > 0 {
		giveUp = time.Now().Add(d)
	}
	for {
		t := time.NewTimer(reconnectPause(window))
		select {
		case <-v.stop:
			t.Stop()
			return
		case <-t.C:
		}
		v.mu.Lock()
		if len(v.held) == 0 || v.alive() {
			if v.link != nil && !v.alive() {
				v.link = nil
			}
			v.mu.Unlock()
			return
		}
		ctx, cancel := context.WithCancel(v.job.ctx)
		go func() {
			select {
			case <-v.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := v.reconnectLocked(ctx)
		cancel()
		v.mu.Unlock()
		if err == nil {
			return
		}
		v.job.cfg.log("reconnecting to vendor daemon %s: %v", v.vendor, err)
		if !giveUp.IsZero() && !time.Now().Before(giveUp) {
			v.loseAll(err)
			return
		}
		window = min(window*2, limit)
	}
}

// loseAll gives up every license the connection holds: the vendor daemon
// stayed out of reach for the loss timeout; err is the last failure to
// reach it. A later checkout connects afresh.
func (v *vendorConn) loseAll(err error) {
	v.mu.Lock()
	held := v.held
	v.held = nil
	v.mu.Unlock()
	for _, lic := range held {
		lic.mu.Lock()
		lic.loseLocked(err)
		lic.mu.Unlock()
		v.job.cfg.log("lost %s: vendor daemon %s out of reach for %v: %v", lic.Feature, v.vendor, v.job.cfg.lossTimeout, err)
	}
}

// poll asks whether the queued lic was granted; done is true once it was.
func (v *vendorConn) poll(lic *License) (done bool, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	lic.mu.Lock()
	h, run, pending := lic.handle, lic.run, lic.pending
	lic.mu.Unlock()
	if !pending {
		return true, nil
	}
	if !v.alive() || v.link.hello == nil || v.link.hello.RunID != run {
		// The connection broke, or the vendor daemon that queued the
		// request is gone: queue it again (at the end of the queue,
		// which a restarted daemon has lost anyway).
		return v.requeueLocked(lic)
	}
	// The caller's ctx ends the waiting, not a poll under way: a call
	// cut short would close the connection and lose the queued request.
	m, err := v.link.call(v.job.ctx, &protocol.QueuePoll{Handle: h}, v.job.cfg.callTimeout)
	if err != nil {
		return false, err
	}
	if _, ok := m.(*protocol.Queued); ok {
		return false, nil
	}
	if g, ok := grantOf(m); ok {
		return v.grantedQueuedLocked(lic, g, m, v.link.hello.RunID)
	}
	v.link.fail(errors.New("QUEUE_POLL answered with " + m.Type().String()))
	return false, newError(lmerr.BadComm, lmerr.MinorClientQueuePollReply, "QUEUE_POLL answered with "+m.Type().String())
}

// Wait blocks until the vendor daemon grants a license that
// CheckoutQueued left in its queue, or ctx ends (the request then stays
// queued: Checkin leaves the queue). It returns at once for a granted
// license. A connection that breaks while the request is queued loses
// the request, and Wait returns the error.
func (l *License) Wait(ctx context.Context) error {
	if l.vc == nil {
		return nil
	}
	t := time.NewTicker(l.job.cfg.queuePoll)
	defer t.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := l.vc.poll(l)
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Queued reports whether the license still waits in the server's queue.
func (l *License) Queued() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending
}

// requeueLocked sends lic's queued request again on a new connection,
// reconnecting first when the old one broke: the request comes back
// Queued under a new handle, or Granted. v.mu is held.
func (v *vendorConn) requeueLocked(lic *License) (done bool, err error) {
	ctx := v.job.ctx
	if !v.alive() {
		if err := v.reconnectLocked(ctx); err != nil {
			return false, err
		}
	}
	lic.mu.Lock()
	req := &protocol.Checkout{Feature: lic.Feature, Version: lic.Requested, Count: lic.Count, Flags: v.job.checkoutFlags(protocol.CheckoutQueue)}
	lic.mu.Unlock()
	m, err := v.link.call(ctx, req, v.job.cfg.callTimeout)
	if err != nil {
		return false, err
	}
	if q, ok := m.(*protocol.Queued); ok {
		lic.mu.Lock()
		lic.handle, lic.run = q.Handle, v.link.hello.RunID
		lic.mu.Unlock()
		v.job.cfg.log("%s queued again at %s after the connection broke", lic.Feature, v.vendor)
		return false, nil
	}
	if g, ok := grantOf(m); ok {
		return v.grantedQueuedLocked(lic, g, m, v.link.hello.RunID)
	}
	v.link.fail(errors.New("CHECKOUT answered with " + m.Type().String()))
	return false, newError(lmerr.BadComm, lmerr.MinorClientRequeueReply, "CHECKOUT answered with "+m.Type().String())
}

// grantedQueuedLocked takes the grant g (reply m) of the queued lic from
// vendor daemon run: lic is held from now on, or, when the job refuses
// the grant (checkGrant), lic is done, its seats go back and the refusal
// is returned. v.mu is held.
func (v *vendorConn) grantedQueuedLocked(lic *License, g *protocol.Granted, m protocol.Message, run uint64) (done bool, err error) {
	lic.mu.Lock()
	requested := lic.Requested
	lic.mu.Unlock()
	if err := v.job.checkGrant(v.vendor, lic.Feature, requested, m); err != nil {
		v.refuseLocked(v.job.ctx, g, err)
		lic.mu.Lock()
		lic.pending, lic.done = false, true
		lic.loseLocked(err)
		lic.mu.Unlock()
		return true, err
	}
	lic.mu.Lock()
	lic.Version, lic.Expiry, lic.VendorString = g.Version, g.Expiry, g.VendorString
	lic.handle, lic.run, lic.pending = g.Handle, run, false
	lic.mu.Unlock()
	v.held = append(v.held, lic)
	return true, nil
}

// checkin returns lic's seats, or takes it out of the queue.
func (v *vendorConn) checkin(ctx context.Context, lic *License) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	lic.mu.Lock()
	pending := lic.pending
	lic.mu.Unlock()
	if pending {
		if !v.alive() {
			return nil
		}
		_, err := v.link.call(ctx, &protocol.Checkin{Handle: lic.Handle()}, v.job.cfg.callTimeout)
		if err != nil && (!v.alive() || codeOf(err) == lmerr.NeverCheckedOut) {
			return nil
		}
		return err
	}
	found := false
	for i, l := range v.held {
		if l == lic {
			v.held = append(v.held[:i], v.held[i+1:]...)
			found = true
			break
		}
	}
	if !found || !v.alive() {
		// A broken connection has given the seats back already.
		return nil
	}
	_, err := v.link.call(ctx, &protocol.Checkin{Handle: lic.Handle()}, v.job.cfg.callTimeout)
	if err != nil && !v.alive() {
		return nil
	}
	return err
}

// close checks in everything still held and closes the connection.
func (v *vendorConn) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), v.job.cfg.dialTimeout)
		for _, lic := range v.held {
			if _, err := v.link.call(ctx, &protocol.Checkin{Handle: lic.Handle()}, v.job.cfg.callTimeout); err != nil && !v.alive() {
				break
			}
		}
		cancel()
		v.link.hangUp()
	}
	for _, lic := range v.held {
		lic.mu.Lock()
		lic.done = true
		lic.mu.Unlock()
	}
	v.held = nil
}

// Checkin returns the license's seats. Checking in twice is an error
// (-41); checking in after the connection broke is not.
func (l *License) Checkin(ctx context.Context) error {
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		return newError(lmerr.NeverCheckedOut, lmerr.MinorClientCheckin, "Feature: "+l.Feature)
	}
	l.done = true
	l.mu.Unlock()
	if l.vc == nil {
		l.job.mu.Lock()
		delete(l.job.local, l)
		l.job.mu.Unlock()
		return nil
	}
	return l.vc.checkin(ctx, l)
}
