package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/server/bench"
)

// exchanges are the request/reply sizes of a checkout+checkin pair as
// golm's client sends them, for the echo baseline.
func exchanges() []bench.Exchange {
	size := func(m protocol.Message) int {
		b, _ := protocol.AppendFrame(nil, m) // small fixed messages: no error
		return max(len(b), 1)
	}
	co := &protocol.Checkout{Feature: bench.FeatureName(123), Version: "1.0", Count: 1}
	gr := &protocol.Granted{Handle: 123456, Feature: bench.FeatureName(123), Version: "1.0", Expiry: "permanent", VendorString: "bench 123"}
	ci := &protocol.Checkin{Handle: 123456}
	ok := &protocol.OK{Count: 1}
	return []bench.Exchange{{Request: size(co), Reply: size(gr)}, {Request: size(ci), Reply: size(ok)}}
}

// echoMain serves the echo baseline on 127.0.0.1:0, prints "port N" and
// serves until standard input closes.
func echoMain(args []string) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, _ = bench.RaiseNoFile(1 << 17) // as far as allowed
	s, err := bench.NewEchoServer("127.0.0.1:0", exchanges())
	if err != nil {
		return err
	}
	fmt.Printf("port %s\n", s.Addr().String()[strings.LastIndexByte(s.Addr().String(), ':')+1:])
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); s.Close() }()
	s.Serve()
	return nil
}

// holdMain opens -n jobs on -c, each holding one seat of a feature
// (job i takes feature (offset+i) mod features) and heartbeating every
// -heartbeat. It prints "ready OK ERRORS" when every job has tried, then
// answers each "count" line of standard input with "count AGAIN LOST
// LAST": the seats checked out again after a reconnect, those lost, and
// the Unix time in nanoseconds of the last re-checkout (0: none). When
// standard input closes it prints "done HELD LOST", the seats still held
// and those lost (License.Err) meanwhile.
func holdMain(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	path := fs.String("c", "", "license path (port@host)")
	n := fs.Int("n", 1000, "clients")
	features := fs.Int("features", 1000, "features in the license")
	offset := fs.Int("offset", 0, "first client number")
	hb := fs.Duration("heartbeat", 5*time.Second, "heartbeat interval")
	par := fs.Int("parallel", 32, "clients connecting at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if lim, err := bench.RaiseNoFile(uint64(*n) + 256); err != nil {
		return fmt.Errorf("%d clients need more file descriptors: %w", *n, err)
	} else if lim < uint64(*n)+256 {
		return fmt.Errorf("%d clients need more than %d file descriptors", *n, lim)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	m := probeMachine()
	// The client's log says when a seat was checked out again.
	var again, dropped, last atomic.Int64
	logf := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		switch {
		case strings.Contains(msg, " re-checked-out after reconnecting"):
			again.Add(1)
			last.Store(time.Now().UnixNano())
		case strings.HasPrefix(msg, "lost "):
			dropped.Add(1)
		}
	}
	jobs := make([]*client.Job, *n)
	lics := make([]*client.License, *n)
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, *par)
	var wg sync.WaitGroup
	for i := range *n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			id := *offset + i
			j, err := client.Open(ctx, *path, client.WithMachine(m), client.WithUser(fmt.Sprintf("u%d", id)),
				client.WithDisplay(fmt.Sprintf(":%d", id)), client.WithHeartbeat(*hb), client.WithPID(id+1), client.WithLogger(logf))
			if err == nil {
				jobs[i] = j
				lics[i], err = j.Checkout(ctx, bench.FeatureName(id%*features), "1.0", 1)
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
	}
	wg.Wait()
	fmt.Printf("ready %d %d\n", int64(*n)-failed.Load(), failed.Load())
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "hold: first error: %v\n", e)
	}
	// Wait for the suite to close our stdin (or a signal).
	eof := make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "count" {
				fmt.Printf("count %d %d %d\n", again.Load(), dropped.Load(), last.Load())
			}
		}
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	held, lost := 0, 0
	for _, l := range lics {
		if l == nil {
			continue
		}
		if l.Err() != nil {
			lost++
		} else {
			held++
		}
	}
	fmt.Printf("done %d %d\n", held, lost)
	// The vendor daemon frees the seats when the connections close;
	// exiting closes them all at once.
	return nil
}
