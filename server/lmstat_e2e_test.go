package server_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golm/lmutil/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// policyLicense has several pools of one feature (manual 3.2.4), a
// node-locked uncounted line, a counted node-locked line and a feature
// with reservations.
const policyLicense = `SERVER this_host ANY %d
VENDOR demo
FEATURE f1 demo 1.0 permanent 2
INCREMENT f1 demo 2.0 1-jan-2099 1 VENDOR_STRING=pro
INCREMENT f1 demo 1.0 permanent 3 HOSTID=HOSTNAME=lab1
FEATURE free demo 1.0 permanent uncounted HOSTID=HOSTNAME=testhost
FEATURE compile demo 1.0 permanent 5
`

// policyOptions is manual 6.5.1's example plus a linger.
const policyOptions = `RESERVE 1 compile USER robert
RESERVE 3 compile HOST mainline
EXCLUDE compile USER lori
LINGER f1 600
`

// TestLmstatShowsPolicies runs the real lmutil lmstat -a against a real
// lmgrd and vendor daemon holding every kind of entry: several pools of
// one feature each in its own block, a lingering seat, a queued request,
// reservation lines and an uncounted node-locked line.
func TestLmstatShowsPolicies(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	writeLicense(t, dir, fmt.Sprintf(policyLicense, port))
	if err := os.WriteFile(filepath.Join(dir, "demo.opt"), []byte(policyOptions), 0o644); err != nil {
		t.Fatal(err)
	}
	s := launch(t, dir, port)
	s.waitStarted(1)
	joe := s.vendor("joe")
	h1, _ := checkout(t, joe, "f1")
	checkout(t, joe, "f1")
	if _, err := joe.Call(&protocol.Checkout{Feature: "f1", Version: "2.0", Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := joe.Call(&protocol.Checkin{Handle: h1}); err != nil { // lingers for 600 s
		t.Fatal(err)
	}
	if _, err := s.vendor("ann").Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 2, Flags: protocol.CheckoutQueue}); err != nil {
		t.Fatal(err)
	}
	checkout(t, s.vendor("robert"), "compile")
	checkout(t, s.vendor("pat"), "free")
	got := run(t, dir, "lmstat", "-a", "-c", strconv.Itoa(port)+"@localhost")
	got = strings.ReplaceAll(normaliseLmstat(got, port), dir, "DIR")
	golden := filepath.Join("testdata", "lmstat-policies.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("lmstat -a differs from %s:\n%s", golden, got)
	}
}

var (
	dateLineRE = regexp.MustCompile(`(?m)^Flexible License Manager status on .*$`)
	startRE    = regexp.MustCompile(`start \w{3} \d{1,2}/\d{1,2} \d{1,2}:\d{2}`)
	lingerRE   = regexp.MustCompile(`\(linger: \d+ / `)
	hostREs    = []*regexp.Regexp{
		regexp.MustCompile(`(?m)^() *\S+(: license server UP)`), // its padding too
		regexp.MustCompile(`(License file\(s\) on )[^:]+(:)`),
		regexp.MustCompile(`(Vendor daemon status \(on )[^)]+(\))`),
		regexp.MustCompile(`(\()[^ /()]+(/PORT)`),
		regexp.MustCompile(`(License server status: PORT@)\S+()`),
	}
)

// normaliseLmstat replaces what changes from run to run: the date, start
// times, the port, the server's host name and a linger's remaining
// seconds.
func normaliseLmstat(s string, port int) string {
	s = dateLineRE.ReplaceAllString(s, "Flexible License Manager status on DATE")
	s = startRE.ReplaceAllString(s, "start DATE")
	s = lingerRE.ReplaceAllString(s, "(linger: REMAINING / ")
	s = strings.ReplaceAll(s, strconv.Itoa(port), "PORT")
	for _, re := range hostREs {
		s = re.ReplaceAllString(s, "${1}HOST${2}")
	}
	return s
}
