package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOptionsSimpleExample implements manual 6.5.1:
//
//	RESERVE 1 compile USER robert
//	RESERVE 3 compile HOST mainline
//	EXCLUDE compile USER lori
//
// reserves a license for robert and three for the host mainline, and
// keeps lori from compile. Reserved seats count as in use and are
// dedicated to their holders: others get -101 once only reserved seats
// are left.
func TestOptionsSimpleExample(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "RESERVE 1 compile USER robert\nRESERVE 3 compile HOST mainline\nEXCLUDE compile USER lori\n"
	h := newHarness(t, lic("FEATURE compile demo 1.0 permanent 5"), opts)
	h.wantStatus("compile", "compile issued=5 inuse=4\n v1.0 floating issued=5 inuse=4\n"+
		"  RESERVATION 1 USER robert\n  RESERVATION 3 HOST mainline\n")
	h.client("lori", "mainline", "d").want("compile", "1.0", 1, -38)
	h.client("x", "pc", "d").want("compile", "1.0", 1, 0) // the one unreserved seat
	h.client("y", "pc", "d").want("compile", "1.0", 1, -101)
	h.client("robert", "pc", "d").want("compile", "1.0", 1, 0)
	h.client("robert", "pc", "d").want("compile", "1.0", 1, -101)
	m := h.client("z", "mainline", "d")
	m.want("compile", "1.0", 2, 0)
	h.wantStatus("compile", "compile issued=5 inuse=5\n v1.0 floating issued=5 inuse=5\n"+
		"  x pc d v1.0 x1\n  robert pc d v1.0 x1\n  z mainline d v1.0 x2\n  RESERVATION 1 HOST mainline\n")
	m.want("compile", "1.0", 1, 0)
	m.want("compile", "1.0", 1, -4)
	h.wantLog(`DENIED: "compile" lori@mainline  (User/host on EXCLUDE list for feature. (-38,363))`,
		`DENIED: "compile" y@pc  (All licenses are reserved for others. (-101,357))`)
}

// TestOptionsReservationsBeyondCount: "The sum total of the licenses
// reserved must be less than or equal to the number of licenses ... If
// fewer licenses are available, only the first set of reservations (up
// to the license limit) is used" (manual 6.5.1), with a warning naming
// the options file line in the debug log.
func TestOptionsReservationsBeyondCount(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "RESERVE 1 compile USER robert\nRESERVE 3 compile HOST mainline\nRESERVE 1 compile USER mel\n"
	h := newHarness(t, lic("FEATURE compile demo 1.0 permanent 2"), opts)
	h.wantStatus("compile", "compile issued=2 inuse=2\n v1.0 floating issued=2 inuse=2\n"+
		"  RESERVATION 1 USER robert\n  RESERVATION 1 HOST mainline\n")
	h.wantLog("demo.opt:2:", "demo.opt:3:", "reservation dropped")
	h.client("mel", "pc", "d").want("compile", "1.0", 1, -101)
}

// TestOptionsGroupExclude implements manual 6.5.2:
//
//	GROUP Hackers bob howard james
//	EXCLUDE toothbrush GROUP Hackers
func TestOptionsGroupExclude(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "# First define the group \"Hackers\"\nGROUP Hackers bob howard\nGROUP Hackers james\n# Then exclude the group\nEXCLUDE toothbrush GROUP Hackers\n"
	h := newHarness(t, lic("FEATURE toothbrush demo 1.0 permanent 5"), opts)
	for _, u := range []string{"bob", "howard", "james"} {
		h.client(u, "pc", "d").want("toothbrush", "1.0", 1, -38)
	}
	h.client("alice", "pc", "d").want("toothbrush", "1.0", 1, 0)
}

// TestOptionsExcludeExample implements manual 6.5.3:
//
//	GROUP painters picasso mondrian klee
//	EXCLUDE spell GROUP painters
//	EXCLUDE spell USER bob
//	EXCLUDE spell INTERNET 123.123.123.*
//
// with the INTERNET pattern matched against the connection's real peer
// address, whatever host name the client claims.
func TestOptionsExcludeExample(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "GROUP painters picasso mondrian klee\nEXCLUDE spell GROUP painters\nEXCLUDE spell USER bob\nEXCLUDE spell INTERNET 123.123.123.*\nEXCLUDE grammar INTERNET 127.0.0.*\n"
	h := newHarness(t, lic("FEATURE spell demo 1.0 permanent 5", "FEATURE grammar demo 1.0 permanent 5"), opts)
	for _, u := range []string{"picasso", "klee", "bob"} {
		h.client(u, "pc", "d").want("spell", "1.0", 1, -38)
	}
	h.client("ann", "123.123.123.9", "d").want("spell", "1.0", 1, 0) // a claimed name is no address
	h.client("ann", "pc", "d").want("grammar", "1.0", 1, -38)        // the loopback peer is
}

// TestOptionsIncludeExample implements manual 6.5.4:
//
//	INCLUDE paint USER picasso
//	INCLUDE paint USER mondrian
//	INCLUDE paint HOST bigbrush
//
// "Anyone not in an INCLUDE statement will not be allowed to use that
// feature" (6.2.5), and EXCLUDE beats INCLUDE (6.4).
func TestOptionsIncludeExample(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "INCLUDE paint USER picasso\nINCLUDE paint USER mondrian\nINCLUDE paint HOST bigbrush\nEXCLUDE paint USER mondrian\n"
	h := newHarness(t, lic("FEATURE paint demo 1.0 permanent 5", "FEATURE other demo 1.0 permanent 1"), opts)
	h.client("picasso", "pc", "d").want("paint", "1.0", 1, 0)
	h.client("anyone", "bigbrush", "d").want("paint", "1.0", 1, 0)
	h.client("klee", "pc", "d").want("paint", "1.0", 1, -39)
	h.client("mondrian", "pc", "d").want("paint", "1.0", 1, -38)
	h.client("klee", "pc", "d").want("other", "1.0", 1, 0)
	h.wantLog(`DENIED: "paint" klee@pc  (User/host not on INCLUDE list for feature. (-39,364))`)
}

// TestOptionsMax implements MAX (manual 6.2.8, "Limits usage for a group
// or user"): -87 beyond the limit; each listed user has a limit of their
// own, a GROUP shares one.
func TestOptionsMax(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "GROUP lab ann ben\nMAX 2 f1 USER joe\nMAX 1 f1 GROUP lab\n"
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 10"), opts)
	joe := h.client("joe", "pc", "d")
	joe.want("f1", "1.0", 2, 0)
	joe.want("f1", "1.0", 1, -87)
	h.client("ann", "pc", "d").want("f1", "1.0", 1, 0)
	h.client("ben", "pc", "d").want("f1", "1.0", 1, -87)
	h.client("zed", "pc", "d").want("f1", "1.0", 5, 0)
	h.wantLog("(Checkout exceeds MAX specified in options file. (-87,358))")
}

// TestOptionsProject: PROJECT members match the client's LM_PROJECT
// (manual 6.2, "Reporting on Projects with LM_PROJECT").
func TestOptionsProject(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "RESERVE 1 f1 PROJECT apollo\nINCLUDE f2 PROJECT gemini\n"
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1", "FEATURE f2 demo 1.0 permanent 1"), opts)
	h.client("u", "h", "d", "mercury").want("f1", "1.0", 1, -101)
	h.client("u", "h", "d", "apollo").want("f1", "1.0", 1, 0)
	h.client("u", "h", "d").want("f2", "1.0", 1, -39)
	h.client("u", "h", "d", "gemini").want("f2", "1.0", 1, 0)
	h.wantStatus("", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  u h d v1.0 x1\nf2 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  u h d v1.0 x1\n")
}

// TestOptionsReservationKinds: lmstat shows a reservation line for every
// member type (OUTPUT-FORMATS.md, "Reservation lines").
func TestOptionsReservationKinds(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	opts := "GROUP g1 a\nHOST_GROUP hg h1\nRESERVE 1 f1 USER u1\nRESERVE 1 f1 HOST h2\nRESERVE 1 f1 DISPLAY :0\nRESERVE 1 f1 INTERNET 10.0.0.*\nRESERVE 1 f1 PROJECT p\nRESERVE 2 f1 GROUP g1\nRESERVE 1 f1 HOST_GROUP hg\n"
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 10"), opts)
	h.wantStatus("f1", "f1 issued=10 inuse=8\n v1.0 floating issued=10 inuse=8\n"+
		"  RESERVATION 1 USER u1\n  RESERVATION 1 HOST h2\n  RESERVATION 1 DISPLAY :0\n  RESERVATION 1 INTERNET 10.0.0.*\n"+
		"  RESERVATION 1 PROJECT p\n  RESERVATION 2 GROUP g1\n  RESERVATION 1 HOST_GROUP hg\n")
}

// TestOptionsPackage: a package name in the options file applies to its
// components (manual 6.2, v5.11+).
func TestOptionsPackage(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic(`PACKAGE suite demo 1.0 COMPONENTS="c1 c2"`, "FEATURE suite demo 1.0 permanent 3"), "EXCLUDE suite USER bob\n")
	h.client("bob", "pc", "d").want("c2", "1.0", 1, -38)
	h.client("ann", "pc", "d").want("c2", "1.0", 1, 0)
}

// TestOptionsNoLog implements NOLOG (manual 6.2.10): the events named are
// left out of the debug log.
func TestOptionsNoLog(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "NOLOG OUT\nNOLOG DENIED\nNOLOG QUEUED\n")
	c := h.client("joe", "pc", "d")
	hd := c.want("f1", "1.0", 1, 0)
	h.client("ann", "pc", "d").want("f1", "1.0", 1, -4)
	h.client("ann", "pc", "d").queue("f1", "1.0", 1)
	c.checkin(hd)
	log := h.log.String()
	for _, gone := range []string{"OUT:", "DENIED:", "QUEUED:"} {
		if strings.Contains(log, gone) {
			t.Errorf("NOLOG left %q in the log:\n%s", gone, log)
		}
	}
	h.wantLog(`IN: "f1" joe@pc  `)
}

// TestOptionsErrorsDoNotStopTheDaemon: a bad line that restricts
// nothing is logged with its file:line and skipped; the good lines apply
// (manual 6, golm's rule).
func TestOptionsErrorsDoNotStopTheDaemon(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "NOLOG INN\nEXCLUDE f1 USER ann\n")
	h.wantLog("demo.opt:1:")
	h.client("ann", "pc", "d").want("f1", "1.0", 1, -38)
	h.client("bob", "pc", "d").want("f1", "1.0", 1, 0)
}

// TestOptionsFound: the options file is the DAEMON line's (options= or
// the positional path after the daemon's; manual 6.5.1: "DAEMON xyzd
// /etc/xyzd /a/b/xyzd/licenses/xyzd.opt"), else VENDOR.opt beside the
// license file.
func TestOptionsFound(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name, vendorLine, file string
	}{
		{"options=", "VENDOR demo options=opts/mine.opt", "opts/mine.opt"},
		{"positional", "DAEMON demo /nonexistent/demo opts/mine.opt", "opts/mine.opt"},
		{"beside the license", "VENDOR demo", "demo.opt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := signedLicense(t, dir, "SERVER this_host ANY 27000\n"+tt.vendorLine+"\nFEATURE f1 demo 1.0 permanent 2\n")
			os.MkdirAll(filepath.Join(dir, "opts"), 0o755)
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte("EXCLUDE f1 USER bob\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, lic("FEATURE unused demo 1.0 permanent 1"), "", func(c *VendorConfig) { c.LicenseFiles = []string{p} })
			h.client("bob", "pc", "d").want("f1", "1.0", 1, -38)
			h.wantLog("Using options file: " + `"` + filepath.Join(dir, tt.file) + `"`)
		})
	}
}

// TestRereadRereadsOptions: lmreread rereads the options file too (where
// golm differs from manual 6.3).
func TestRereadRereadsOptions(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "EXCLUDE f1 USER bob\n")
	h.client("bob", "pc", "d").want("f1", "1.0", 1, -38)
	if err := os.WriteFile(filepath.Join(h.dir, "demo.opt"), []byte("EXCLUDE f1 USER ann\nRESERVE 1 f1 USER carl\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.v.Reread(); err != nil {
		t.Fatal(err)
	}
	h.client("bob", "pc", "d").want("f1", "1.0", 1, 0)
	h.client("ann", "pc", "d").want("f1", "1.0", 1, -38)
	h.client("dan", "pc", "d").want("f1", "1.0", 1, -101)
	h.client("carl", "pc", "d").want("f1", "1.0", 1, 0)
}
