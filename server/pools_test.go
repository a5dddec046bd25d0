package server

import (
	"testing"

	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// TestPoolsFeatureAndIncrement implements manual 3.2.4 and 3.6 rule 1-2:
// only the first counted FEATURE line of a name counts, INCREMENT lines
// add to the pool with the same name, version and node-lock hostid, and
// other versions or hostids make pools of their own, each its own block.
func TestPoolsFeatureAndIncrement(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"FEATURE f1 demo 1.0 permanent 2",
		"FEATURE f1 demo 1.0 permanent 7", // ignored: a second counted FEATURE
		"INCREMENT f1 demo 1.0 permanent 3 VENDOR_STRING=other",
		"INCREMENT f1 demo 2.0 permanent 1",
		"INCREMENT f1 demo 1.0 permanent 4 HOSTID=HOSTNAME=lab1",
	), "")
	h.wantStatus("f1", "f1 issued=10 inuse=0\n v1.0 floating issued=5 inuse=0\n v2.0 floating issued=1 inuse=0\n v1.0 nodelocked HOSTNAME=lab1 issued=4 inuse=0\n")
	a := h.client("a", "pc", "d")
	a.want("f1", "2.0", 1, 0)
	a.want("f1", "2.0", 1, -4) // v2.0 has one seat
	for i := 0; i < 5; i++ {
		a.want("f1", "1.0", 1, 0)
	}
	a.want("f1", "1.0", 1, -4)
	h.client("b", "lab1", "d").want("f1", "1.0", 1, 0) // the node-locked pool
	h.wantStatus("f1", "f1 issued=10 inuse=7\n v1.0 floating issued=5 inuse=5\n"+
		"  a pc d v1.0 x1\n  a pc d v1.0 x1\n  a pc d v1.0 x1\n  a pc d v1.0 x1\n  a pc d v1.0 x1\n"+
		" v2.0 floating issued=1 inuse=1\n  a pc d v2.0 x1\n"+
		" v1.0 nodelocked HOSTNAME=lab1 issued=4 inuse=1\n  b lab1 d v1.0 x1\n")
}

// TestPoolsVendorStringRule: the publisher may keep lines with different
// vendor strings in separate pools (manual 3.2.4, "and vendor string").
func TestPoolsVendorStringRule(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	text := lic("INCREMENT f1 demo 1.0 permanent 2 VENDOR_STRING=a", "INCREMENT f1 demo 1.0 permanent 3 VENDOR_STRING=b")
	h := newHarness(t, text, "", func(c *VendorConfig) { c.Pools.VendorStringPools = true })
	h.wantStatus("f1", "f1 issued=5 inuse=0\n v1.0 floating issued=2 inuse=0\n v1.0 floating issued=3 inuse=0\n")
	h = newHarness(t, text, "")
	h.wantStatus("f1", "f1 issued=5 inuse=0\n v1.0 floating issued=5 inuse=0\n")
}

// TestUpgradeManualExample implements manual 3.2.6:
//
//	INCREMENT f1 xyzd 1.000 1-jan-2005 5 SIGN=9BFAC0316462
//	UPGRADE f1 xyzd 1.000 2.000 1-jan-2005 2 SIGN=1B9A308CC0F7
//
// "would result in three licenses of v1.0 of f1 and two licenses of
// v2.0" (dates moved past the test clock).
func TestUpgradeManualExample(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"INCREMENT f1 demo 1.000 1-jan-2035 5",
		"UPGRADE f1 demo 1.000 2.000 1-jan-2035 2",
	), "")
	h.wantStatus("f1", "f1 issued=5 inuse=0\n v1.000 floating issued=3 inuse=0\n v2.000 floating issued=2 inuse=0\n")
	c := h.client("u", "h", "d")
	c.want("f1", "2.0", 2, 0)
	c.want("f1", "2.0", 1, -4)
	c.want("f1", "1.0", 3, 0)
	c.want("f1", "1.0", 1, -4)
}

// TestUpgradeClosestPrecedingLine: "An UPGRADE line will operate on the
// closest preceding FEATURE or INCREMENT line with a version number that
// is >= from_feat_version, and < to_feat_version" (manual 3.2.6).
func TestUpgradeClosestPrecedingLine(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"INCREMENT f1 demo 1.0 permanent 4",
		"INCREMENT f1 demo 1.5 permanent 4",
		"INCREMENT f1 demo 3.0 permanent 1",   // not < to
		"UPGRADE f1 demo 1.0 2.0 permanent 6", // takes the 4 of v1.5 only
	), "")
	h.wantStatus("f1", "f1 issued=9 inuse=0\n v1.0 floating issued=4 inuse=0\n v1.5 floating issued=0 inuse=0\n v3.0 floating issued=1 inuse=0\n v2.0 floating issued=4 inuse=0\n")
}

// TestPackageManualExample implements manual 3.2.5:
//
//	PACKAGE suite xyzd 1.0 2CBF44FCB9C1 COMPONENTS="c1:1.5:2 c2:3.0:4"
//	FEATURE suite xyzd 1.0 1-jan-2005 3 321E78A17EC1 SN=123
//
// is "equivalent to"
//
//	FEATURE c1 xyzd 1.5 1-jan-2005 6 0D3AD5F26BEC SN=123
//	FEATURE c2 xyzd 3.0 1-jan-2005 12 EB16C5AE61F0 SN=123
//
// and without OPTIONS=SUITE the package feature itself is gone.
func TestPackageManualExample(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		`PACKAGE suite demo 1.0 COMPONENTS="c1:1.5:2 c2:3.0:4"`,
		"FEATURE suite demo 1.0 1-jan-2035 3 SN=123",
	), "")
	h.wantStatus("", "c1 issued=6 inuse=0\n v1.5 floating issued=6 inuse=0\nc2 issued=12 inuse=0\n v3.0 floating issued=12 inuse=0\n")
	c := h.client("u", "h", "d")
	c.want("suite", "1.0", 1, -5)
	c.want("c1", "1.6", 1, -25)
	c.want("c1", "1.5", 6, 0)
	c.want("c1", "1.0", 1, -4)
	c.want("c2", "3.0", 12, 0)
	c.want("c2", "3.0", 1, -4)
}

// TestPackageSuite implements the OPTIONS=SUITE example of manual 3.2.5:
// "When comp1 or comp2 is checked out, suite will also be checked out."
// One user's components share one suite seat; the suite alone is not
// checkable (-125).
func TestPackageSuite(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		`PACKAGE suite demo 1.0 OPTIONS=SUITE COMPONENTS="comp1 comp2"`,
		"FEATURE suite demo 1.0 permanent 5",
	), "")
	u := h.client("u0", "h", "d")
	u.want("suite", "1.0", 1, -125)
	u.want("comp1", "1.0", 1, 0)
	u.want("comp2", "1.0", 1, 0)
	h.wantStatus("suite", "suite issued=5 inuse=1\n v1.0 floating issued=5 inuse=1\n  u0 h d v1.0 x1\n  u0 h d v1.0 x1\n")
	var last *testClient
	for i := 1; i < 5; i++ {
		last = h.client("u"+string(rune('0'+i)), "h", "d")
		last.want("comp2", "1.0", 1, 0)
	}
	// Five users hold the five suite seats: a sixth gets no comp1 either.
	h.client("u9", "h", "d").want("comp1", "1.0", 1, -4)
	// The suite seat goes back with its component.
	last.c.Close()
	h.eventuallyStatus("suite", "suite issued=5 inuse=4\n v1.0 floating issued=5 inuse=4\n"+
		"  u0 h d v1.0 x1\n  u0 h d v1.0 x1\n  u1 h d v1.0 x1\n  u2 h d v1.0 x1\n  u3 h d v1.0 x1\n")
	h.client("u9", "h", "d").want("comp1", "1.0", 1, 0)
}

// TestSupersede implements manual 3.2.4 SUPERSEDE: "all licenses issued
// before the date specified in ISSUED= are superseded by this line and
// become ineffective".
func TestSupersede(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"FEATURE f1 demo 1.0 permanent 5 ISSUED=1-jan-2020",
		"INCREMENT f1 demo 1.0 permanent 3 ISSUED=1-jun-2021 SUPERSEDE",
		"INCREMENT f2 demo 1.0 permanent 2 ISSUED=1-jan-2020",
		`INCREMENT f3 demo 1.0 permanent 1 ISSUED=1-jun-2021 SUPERSEDE="f2"`,
	), "")
	h.wantStatus("", "f1 issued=3 inuse=0\n v1.0 floating issued=3 inuse=0\nf3 issued=1 inuse=0\n v1.0 floating issued=1 inuse=0\n")
	h.client("u", "h", "d").want("f2", "1.0", 1, -5)
}

// TestDatesAndHosts: START dates (-31), expiry (-10), node-locked counted
// lines (-9 elsewhere), manual 3.2.4 and 3.4.2.
func TestDatesAndHosts(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"FEATURE later demo 1.0 permanent 2 START=1-jan-2030",
		"FEATURE old demo 1.0 1-jan-2020 2",
		"FEATURE locked demo 1.00 1-jan-2035 3 HOSTID=HOSTNAME=lulu",
	), "")
	c := h.client("u", "h", "d")
	c.want("later", "1.0", 1, -31)
	c.want("old", "1.0", 1, -10)
	c.want("locked", "1.0", 1, -9)
	l := h.client("u", "lulu", "d")
	l.want("locked", "1.0", 3, 0)
	l.want("locked", "1.0", 1, -4)
}

// TestEthernetLockedLine: a counted line locked to an Ethernet address
// serves a remote client that reports that address (manual 3.4.2's
// "FEATURE f1 xyzd 1.00 1-jan-2005 3 key HOSTID=1300ab43" with an
// Ethernet hostid).
func TestEthernetLockedLine(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.00 permanent 3 HOSTID=08002b32b161"), "")
	c := h.client("u", "h", "d")
	c.want("f1", "1.0", 1, -9)
	c.call(&protocol.HostIDs{Ethers: []string{"0800.2B32.B161", "08002B32B161", "nonsense"}})
	c.want("f1", "1.0", 1, 0)
}

// TestMixedNodeLockedAndFloating implements manual 3.4.3:
//
//	FEATURE f1 xyzd 1.00 1-jan-2005 0 key1 HOSTID=17001111
//	FEATURE f1 xyzd 1.00 1-jan-2005 0 key2 HOSTID=17002222
//	FEATURE f1 xyzd 1.00 1-jan-2005 2 key3
//
// "allows unlimited use of feature f1 on nodes 17001111 and 17002222,
// while allowing two other licenses for feature f1 to be used anywhere
// else" (host names stand in for the hostids a server cannot see).
func TestMixedNodeLockedAndFloating(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"FEATURE f1 demo 1.00 1-jan-2035 0 HOSTID=HOSTNAME=node1",
		"FEATURE f1 demo 1.00 1-jan-2035 0 HOSTID=HOSTNAME=node2",
		"FEATURE f1 demo 1.00 1-jan-2035 2",
	), "")
	for i := 0; i < 5; i++ {
		h.client("a", "node1", "d").want("f1", "1.0", 3, 0)
		h.client("b", "node2", "d").want("f1", "1.0", 1, 0)
	}
	o := h.client("c", "elsewhere", "d")
	o.want("f1", "1.0", 2, 0)
	o.want("f1", "1.0", 1, -4)
	h.wantLog(`OUT: "f1" a@node1  (3 licenses)`)
}

// TestNodeLockedBeforeFloating implements manual 3.6 rule 3 as v7+ does
// it: even with the floating line first in the file, a client on a
// node-locked host uses its node-locked line, so the floating seat is not
// consumed needlessly.
func TestNodeLockedBeforeFloating(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(
		"FEATURE f1 demo 1.00 permanent 1",
		"FEATURE f1 demo 1.00 permanent 0 HOSTID=HOSTNAME=node1",
		"INCREMENT f1 demo 1.00 permanent 1 HOSTID=HOSTNAME=node2",
	), "")
	h.client("a", "node1", "d").want("f1", "1.0", 1, 0)
	h.client("b", "node2", "d").want("f1", "1.0", 1, 0)
	h.client("c", "other", "d").want("f1", "1.0", 1, 0) // the floating seat is still free
	h.wantStatus("f1", "f1 issued=2 inuse=3\n v1.00 floating issued=1 inuse=1\n  c other d v1.0 x1\n"+
		" v1.00 uncounted HOSTNAME=node1 issued=0 inuse=1\n  a node1 d v1.0 x1\n"+
		" v1.00 nodelocked HOSTNAME=node2 issued=1 inuse=1\n  b node2 d v1.0 x1\n")
}

// TestUseServerServesUncounted implements manual 3.6 rule 4: with
// USE_SERVER an uncounted line is checked out through the server, which
// logs it.
func TestUseServerServesUncounted(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, "SERVER this_host ANY 27000\nVENDOR demo\nUSE_SERVER\nFEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY\n", "")
	c := h.client("joe", "pc", "d")
	hd := c.want("f1", "1.0", 4, 0)
	c.checkin(hd)
	h.wantLog(`OUT: "f1" joe@pc  (4 licenses)`, `IN: "f1" joe@pc  (4 licenses)`)
}

// TestUpgradeUncounted: "UPGRADE lines do not work for node-locked,
// uncounted licenses before v6" (manual 3.2.6), so they do from v6: an
// uncounted UPGRADE of an uncounted node-locked line serves the new
// version on the line's hosts; without a line to upgrade it serves
// nothing.
func TestUpgradeUncounted(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name    string
		lines   []string
		host    string
		version string
		want    lmerr.Code
	}{
		{"upgraded", []string{"FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=lab1",
			"UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=lab1"}, "lab1", "2.0", 0},
		{"old version still served", []string{"FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=lab1",
			"UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=lab1"}, "lab1", "1.0", 0},
		{"other host", []string{"FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=lab1",
			"UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=lab1"}, "lab2", "2.0", -9},
		{"upgrade without hostid keeps the line's", []string{"FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=lab1",
			"UPGRADE f1 demo 1.0 2.0 permanent uncounted"}, "lab2", "2.0", -9},
		{"nothing to upgrade", []string{"FEATURE other demo 1.0 permanent 1", "UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=lab1"}, "lab1", "2.0", -5},
		{"version below from", []string{"FEATURE f1 demo 0.5 permanent uncounted HOSTID=HOSTNAME=lab1",
			"UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=lab1"}, "lab1", "2.0", -25},
		{"upgrade after the line only", []string{"UPGRADE f1 demo 1.0 2.0 permanent uncounted HOSTID=HOSTNAME=lab1",
			"FEATURE f1 demo 1.0 permanent uncounted HOSTID=HOSTNAME=lab1"}, "lab1", "2.0", -25},
		{"counted upgrade of a counted line unchanged", []string{"FEATURE f1 demo 1.0 permanent 2",
			"UPGRADE f1 demo 1.0 2.0 permanent 1"}, "lab1", "2.0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic(tt.lines...), "")
			h.client("u", tt.host, "d").want("f1", tt.version, 1, tt.want)
		})
	}
}
