package server

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/server/state"
)

// resign writes text as the license file in dir, signed with the key
// signedLicense made there, as the publisher's new file for a reread.
func resign(t *testing.T, dir, text string) {
	t.Helper()
	key, err := licfile.LoadPrivateKey(filepath.Join(dir, "demo.key"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := licfile.Parse(strings.NewReader(text), "license.lic")
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := licfile.SignFile([]byte(text), f, map[string]ed25519.PrivateKey{"demo": key.Key})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "license.lic"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIssuedCountsValidLines: over a real connection, a feature's
// INCREMENT lines give seats, and count as issued in the status lmstat
// prints, only while they are valid, in either order; an expired line is
// logged EXPIRED and gives nothing.
func TestIssuedCountsValidLines(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	// Each line has its own block (its own dates); the users sit under
	// the line valid now.
	const valid = " v1.0 floating issued=3 inuse=3\n  u0 h d v1.0 x1\n  u1 h d v1.0 x1\n  u2 h d v1.0 x1\n"
	const invalid = " v1.0 floating issued=0 inuse=0\n"
	tests := []struct {
		name   string
		lines  []string
		blocks string
	}{
		{"expired first", []string{"INCREMENT p9 demo 1.0 1-jan-2020 2", "INCREMENT p9 demo 1.0 permanent 3"}, invalid + valid},
		{"expired last", []string{"INCREMENT p9 demo 1.0 permanent 3", "INCREMENT p9 demo 1.0 1-jan-2020 2"}, valid + invalid},
		{"future START first", []string{"INCREMENT p9 demo 1.0 permanent 2 START=1-jan-2030", "INCREMENT p9 demo 1.0 permanent 3"}, invalid + valid},
		{"future START last", []string{"INCREMENT p9 demo 1.0 permanent 3", "INCREMENT p9 demo 1.0 permanent 2 START=1-jan-2030"}, valid + invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic(tt.lines...), "")
			for i := range 3 {
				h.client(fmt.Sprintf("u%d", i), "h", "d").want("p9", "1.0", 1, 0)
			}
			h.client("late", "h", "d").want("p9", "1.0", 1, -4)
			h.wantStatus("p9", "p9 issued=3 inuse=3\n"+tt.blocks)
		})
	}
	t.Run("logged", func(t *testing.T) {
		h := newHarness(t, lic("INCREMENT p9 demo 1.0 1-jan-2020 2", "INCREMENT p9 demo 1.0 permanent 3"), "")
		h.wantLog("EXPIRED: p9")
	})
	t.Run("expires while running", func(t *testing.T) {
		h := newHarness(t, lic("INCREMENT p9 demo 1.0 15-mar-2026 2", "INCREMENT p9 demo 1.0 permanent 3"), "")
		var cs []*testClient
		var hs []uint64
		for i := range 5 {
			c := h.client(fmt.Sprintf("u%d", i), "h", "d")
			cs, hs = append(cs, c), append(hs, c.want("p9", "1.0", 1, 0))
		}
		// Past midnight the expired line's seats stay out but count no
		// more as issued, and no new seat is granted until fewer than
		// 3 are out.
		h.clock.Add(14 * time.Hour)
		h.eventuallyStatus("p9", "p9 issued=3 inuse=5\n v1.0 floating issued=0 inuse=0\n v1.0 floating issued=3 inuse=5\n"+
			"  u0 h d v1.0 x1\n  u1 h d v1.0 x1\n  u2 h d v1.0 x1\n  u3 h d v1.0 x1\n  u4 h d v1.0 x1\n")
		// Logged with the vendor daemon's first Tick after midnight.
		for deadline := time.Now().Add(15 * time.Second); !strings.Contains(h.log.String(), "EXPIRED: p9"); {
			if time.Now().After(deadline) {
				t.Fatalf("no EXPIRED line after midnight:\n%s", h.log.String())
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
		cs[0].checkin(hs[0])
		cs[1].checkin(hs[1])
		h.client("late", "h", "d").want("p9", "1.0", 1, -4)
		cs[2].checkin(hs[2])
		h.client("late", "h", "d").want("p9", "1.0", 1, 0)
	})
}

// TestRereadOtherLinesKeepsCount: lmreread of a validly signed file whose
// line for a fully used feature has another version does not grant the
// feature again: new checkouts are denied until fewer seats are out than
// the new line gives; the holders keep their seats.
func TestRereadOtherLinesKeepsCount(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 4"), "")
	var holders []*testClient
	var handles []uint64
	for i := range 4 {
		c := h.client(fmt.Sprintf("u%d", i), "h", "d")
		holders, handles = append(holders, c), append(handles, c.want("f1", "1.0", 1, 0))
	}
	for i, text := range []string{"FEATURE f1 demo 2.0 permanent 4", "FEATURE f1 demo 3.0 permanent 4"} {
		resign(t, h.dir, lic(text))
		if err := h.v.Reread(); err != nil {
			t.Fatal(err)
		}
		h.client("new", "h", "d").want("f1", "1.0", 1, -4)
		if i == 0 {
			h.wantStatus("f1", "f1 issued=4 inuse=4\n v2.0 floating issued=4 inuse=0\n v1.0 floating issued=0 inuse=4\n"+
				"  u0 h d v1.0 x1\n  u1 h d v1.0 x1\n  u2 h d v1.0 x1\n  u3 h d v1.0 x1\n")
		}
	}
	holders[0].checkin(handles[0])
	h.client("new", "h", "d").want("f1", "1.0", 1, 0)
	h.client("newer", "h", "d").want("f1", "1.0", 1, -4)
}

// TestLingerCapAndRemove: over a real connection, an application's
// request for seven days of linger is cut to DefaultLingerCap, the
// options file's LINGER raises the cap, and lmremove (by user, host and
// display, or by handle) frees a lingering seat at once.
func TestLingerCapAndRemove(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const week = 7 * 24 * 3600
	lingering := func(h *harness, total int) string {
		return fmt.Sprintf("f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  joe pc d v1.0 x1 linger %d/%d\n", total, total)
	}
	t.Run("seven days capped", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
		c := h.client("joe", "pc", "d")
		c.call(&protocol.Linger{Seconds: week})
		c.want("f1", "1.0", 1, 0)
		c.c.Close()
		h.eventuallyStatus("f1", lingering(h, int(state.DefaultLingerCap/time.Second)))
		h.clock.Add(state.DefaultLingerCap)
		h.eventuallyStatus("f1", "f1 issued=1 inuse=0\n v1.0 floating issued=1 inuse=0\n")
	})
	t.Run("options LINGER raises the cap", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "LINGER f1 7200\n")
		c := h.client("joe", "pc", "d")
		c.call(&protocol.Linger{Seconds: week})
		c.want("f1", "1.0", 1, 0)
		c.c.Close()
		h.eventuallyStatus("f1", lingering(h, 7200))
	})
	for _, form := range []string{"user host display", "handle"} {
		t.Run("lmremove by "+form, func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
			c := h.client("joe", "pc", "d")
			c.call(&protocol.Linger{Seconds: week})
			hd := c.want("f1", "1.0", 1, 0)
			c.checkin(hd)
			h.wantStatus("f1", lingering(h, int(state.DefaultLingerCap/time.Second)))
			h.client("ann", "pc", "d").want("f1", "1.0", 1, -4)
			var m protocol.Message = &protocol.Remove{Feature: "f1", User: "joe", Host: "pc", Display: "d"}
			if form == "handle" {
				m = &protocol.RemoveHandle{Feature: "f1", Handle: hd}
			}
			admin := h.client("admin", "srv", "c")
			r, err := admin.c.Call(m)
			if err != nil {
				t.Fatalf("lmremove of a lingering seat: %v", err)
			}
			if ok, _ := r.(*protocol.OK); ok == nil || ok.Count != 1 {
				t.Fatalf("lmremove answered %v, want 1 seat removed", r)
			}
			h.wantStatus("f1", "f1 issued=1 inuse=0\n v1.0 floating issued=1 inuse=0\n")
			h.client("ann", "pc", "d").want("f1", "1.0", 1, 0)
			h.wantLog("REMOVING joe@pc from f1")
		})
	}
}

// TestQueueOnePerFeature: over a real connection, a second queued
// request for the same feature from the same connection is refused with
// -24, and the first stays queued.
func TestQueueOnePerFeature(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
	h.client("hold", "h", "d").want("f1", "1.0", 1, 0)
	c := h.client("joe", "h", "d")
	first, queued, _ := c.queue("f1", "1.0", 1)
	if !queued {
		t.Fatal("first request not queued")
	}
	if _, queued, code := c.queue("f1", "1.0", 1); queued || code != -24 {
		t.Fatalf("second request: queued %v code %d, want -24", queued, code)
	}
	if _, code := c.poll(first); code != 0 {
		t.Fatalf("first request after the refusal: code %d", code)
	}
	h.wantStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  hold h d v1.0 x1\n  queued joe h d x1\n")
}

// TestQueueSessionBound: over a real connection, one connection may have
// MaxQueuedPerSession requests queued; the next is refused with the
// denial it would have had without queueing, and other connections can
// still queue.
func TestQueueSessionBound(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	n := state.MaxQueuedPerSession + 1
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("FEATURE f%d demo 1.0 permanent 1", i))
	}
	h := newHarness(t, lic(lines...), "")
	hold := h.client("hold", "h", "d")
	for i := range n {
		hold.want(fmt.Sprintf("f%d", i), "1.0", 1, 0)
	}
	c := h.client("joe", "h", "d")
	for i := range state.MaxQueuedPerSession {
		if _, queued, code := c.queue(fmt.Sprintf("f%d", i), "1.0", 1); !queued {
			t.Fatalf("request %d: code %d, want queued", i, code)
		}
	}
	last := fmt.Sprintf("f%d", state.MaxQueuedPerSession)
	if _, queued, code := c.queue(last, "1.0", 1); queued || code != -4 {
		t.Fatalf("request over the bound: queued %v code %d, want -4", queued, code)
	}
	if _, queued, _ := h.client("ann", "h", "d").queue(last, "1.0", 1); !queued {
		t.Fatal("another connection could not queue")
	}
}
