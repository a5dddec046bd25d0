package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/bench"
)

// halfFrameConns is how many connections the half-frame figure opens to
// each daemon.
const halfFrameConns = 3000

// halfFrames measures what connections cost that each send a frame
// header announcing protocol.MaxFrame bytes and then nothing: the RSS
// growth of the vendor daemon and of lmgrd with halfFrameConns of them
// open on each, and the part of it the headers added to the same
// connections open and silent. It starts a server of its own, so that
// no memory an earlier figure left the daemons to return to the system
// comes off the growth while it is measured.
func (s *suite) halfFrames() error {
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, "halfframes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lic, err := bench.WriteLicense(dir, s.keys, port, 1, 10)
	if err != nil {
		return err
	}
	// Connections past 10,000 would be refused; the handshake timeout is
	// lengthened so that none is dropped while it is measured.
	srv, err := bench.StartLmgrd(s.lmutil, lic, dir, []string{"GOLM_MAX_CONNECTIONS=100000", "GOLM_HANDSHAKE_TIMEOUT=2m"}, 30*time.Second)
	if err != nil {
		return err
	}
	defer srv.Stop()
	hdr := binary.BigEndian.AppendUint32(nil, protocol.MaxFrame)
	rss := func() (lmgrd, vendor int64) {
		ml, _ := bench.ReadMemory(srv.PID())
		mv, _ := bench.ReadMemory(srv.VendorPID)
		return ml.RSS, mv.RSS
	}
	l0, v0 := rss()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, port := range []int{srv.VendorPort, srv.Port} {
		for i := range halfFrameConns {
			// Spread over loopback addresses, as the clients of the other
			// figures are, so that no pair of addresses runs out of ports.
			c, err := net.DialTimeout("tcp", net.JoinHostPort(fmt.Sprintf("127.0.0.%d", 200+i%50), strconv.Itoa(port)), 10*time.Second)
			if err != nil {
				return fmt.Errorf("half-frame connection %d to port %d: %w", i+1, port, err)
			}
			conns = append(conns, c)
		}
	}
	// The daemons take each connection as it comes; give the last ones
	// time to be taken.
	s.sleep(2 * time.Second)
	l1, v1 := rss()
	for _, c := range conns {
		if _, err := c.Write(hdr); err != nil {
			return err
		}
	}
	s.sleep(2 * time.Second)
	l2, v2 := rss()
	for _, d := range []struct {
		name       string
		r0, r1, r2 int64
	}{{"vendor daemon", v0, v1, v2}, {"lmgrd", l0, l1, l2}} {
		g := d.r2 - d.r0
		s.add(fmt.Sprintf("RSS growth, %s, %d connections announcing 64 KiB", d.name, halfFrameConns),
			fmt.Sprintf("%s (%s of it the headers)", mb(g), mb(d.r2-d.r1)), "< 20 MB", ptr(g < 20<<20))
	}
	s.note("half frames: %d connections to each daemon, silent for 2 s, then each sending a 4-byte frame header announcing %d bytes and nothing more; RSS read 2 s after the last connection and 2 s after the last header", halfFrameConns, protocol.MaxFrame)
	return nil
}

// queueFloodRequests is how many queued checkouts the queue-flood figure
// sends over one connection.
const queueFloodRequests = 20000

// queueFlood measures whether one connection that sends a flood of queued
// checkouts for a feature with no free seat slows everybody else: the
// checkout latency p99 of another job before and during
// queueFloodRequests such requests. The vendor daemon bounds the requests
// one connection may queue; what it answers past the bound (an error,
// whatever its code) is counted, not checked.
func (s *suite) queueFlood() error {
	feature := bench.FeatureName(s.features - 1)
	holder, err := s.openJob(1, 3_000_000)
	if err != nil {
		return err
	}
	defer holder.Close()
	if _, err := holder.Checkout(s.ctx, feature, "1.0", 100); err != nil {
		return fmt.Errorf("taking every seat of %s: %w", feature, err)
	}
	other, err := s.openJob(1, 3_000_001)
	if err != nil {
		return err
	}
	defer other.Close()
	// sample runs sequential checkouts from the other job (of features
	// other than the flooded one) until stop is closed, or for s.dur.
	sample := func(stop <-chan struct{}) ([]time.Duration, error) {
		var lat []time.Duration
		end := time.Now().Add(s.dur)
		for i := 0; ; i++ {
			if stop != nil {
				select {
				case <-stop:
					return lat, nil
				default:
				}
			} else if !time.Now().Before(end) {
				return lat, nil
			}
			t := time.Now()
			lic, err := other.Checkout(s.ctx, bench.FeatureName((i*7)%(s.features-1)), "1.0", 1)
			d := time.Since(t)
			if err != nil {
				return lat, err
			}
			if err := lic.Checkin(s.ctx); err != nil {
				return lat, err
			}
			lat = append(lat, d)
		}
	}
	base, err := sample(nil)
	if err != nil {
		return fmt.Errorf("checkout before the queue flood: %w", err)
	}

	nc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.srv.VendorPort)), 10*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	c := protocol.NewConn(nc)
	c.ReadTimeout = time.Minute
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{
		Version: protocol.Version, Role: protocol.RoleClient, JobID: 3_000_002,
		Identity: protocol.Identity{User: "flood", Host: "bench", Display: ":0", PID: 3_000_003, Program: "golm-load"},
	}); err != nil {
		return fmt.Errorf("queue flood handshake: %w", err)
	}
	var queued, refused, others atomic.Int64
	var floodErr error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	// The requests go out in windows of a few dozen, as fast as the
	// replies come back.
	const window = 64
	sent := make(chan struct{}, window)
	go func() {
		defer wg.Done()
		req := &protocol.Checkout{Feature: feature, Version: "1.0", Count: 1, Flags: protocol.CheckoutQueue}
		for range queueFloodRequests {
			select {
			case sent <- struct{}{}:
			case <-stop:
				return
			}
			if err := c.Send(req); err != nil {
				return
			}
		}
	}()
	t0 := time.Now()
	go func() {
		defer wg.Done()
		defer close(stop)
		for range queueFloodRequests {
			m, err := c.Recv()
			if err != nil {
				floodErr = err
				return
			}
			<-sent
			switch m.(type) {
			case *protocol.Queued:
				queued.Add(1)
			case *protocol.Error:
				refused.Add(1)
			default:
				others.Add(1)
			}
		}
	}()
	during, err := sample(stop)
	wg.Wait()
	took := time.Since(t0)
	if err != nil {
		return fmt.Errorf("checkout during the queue flood: %w", err)
	}
	if floodErr != nil {
		s.note("queue flood: the vendor daemon closed the flooding connection after %d replies: %v", queued.Load()+refused.Load()+others.Load(), floodErr)
	}
	if len(base) == 0 || len(during) == 0 {
		return fmt.Errorf("queue flood: %d checkouts before, %d during", len(base), len(during))
	}
	slices.Sort(base)
	slices.Sort(during)
	p99b, p99d := bench.Millis(bench.Percentile(base, 0.99)), bench.Millis(bench.Percentile(during, 0.99))
	s.add("checkout latency p99, another job, without a queue flood", fmt.Sprintf("%.3f ms", p99b), "", nil)
	s.add(fmt.Sprintf("checkout latency p99, another job, during %d queued checkouts on one connection", queueFloodRequests),
		fmt.Sprintf("%.3f ms (%.2f×)", p99d, p99d/p99b), "≤ 2× without", ptr(p99d <= 2*p99b))
	s.note("queue flood: %d queued checkouts of %s (every seat taken) over one connection in %.1f s: %d queued, %d refused, %d other replies; the other job made %d checkouts before and %d during",
		queueFloodRequests, feature, took.Seconds(), queued.Load(), refused.Load(), others.Load(), len(base), len(during))
	return nil
}
