package options

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"

	"golm/lmutil/protocol/lmerr"
)

// licenseLines parses license file text and returns its FEATURE lines.
func licenseLines(t testing.TB, src string) []*licfile.Feature {
	t.Helper()
	f, err := licfile.Parse(strings.NewReader(src), "test.lic")
	if err != nil {
		t.Fatalf("licfile.Parse: %v", err)
	}
	return f.Features
}

const testLicense = `SERVER host1 ANY 27000
VENDOR demo
FEATURE f1 demo 1.0 permanent 4 VENDOR_STRING=lab HOSTID=ID=1234 SN=77 \
	ISSUER=acme NOTICE="for the lab" dist_info=blue SIGN="AB12 CD34"
FEATURE f1 demo 2.0 1-jan-2030 4 SIGN=0000
`

func TestSelectorMatchesLine(t *testing.T) {
	lines := licenseLines(t, testLicense)
	v1, v2 := lines[0], lines[1]
	for _, c := range []struct {
		sel    string
		v1, v2 bool
	}{
		{"f1", true, true},
		{"f1:VERSION=1.0", true, false},
		{"f1:VERSION=1", true, false},
		{"f1:version=2.000", false, true},
		{"f1:HOSTID=ID=1234", true, false},
		{"f1:HOSTID=ID=12-34", true, false},
		{"f1:EXPDATE=permanent", true, false},
		{"f1:EXPDATE=1-JAN-2030", false, true},
		{"f1:VENDOR_STRING=lab", true, false},
		{"f1:VENDOR_STRING=Lab", false, false},
		{"f1:SN=77", true, false},
		{"f1:ISSUER=acme", true, false},
		{`f1:NOTICE="for the lab"`, true, false},
		{"f1:dist_info=blue", true, false},
		{"f1:user_info=blue", false, false},
		{`f1:SIGN="ab12cd34"`, true, false},
		{"f1:SIGN=0000", false, true},
		{"f1:KEY=0000", false, false},
	} {
		t.Run(c.sel, func(t *testing.T) {
			o := mustParse(t, "EXCLUDE "+c.sel+" USER bob\n")
			s := &o.Access[0].Selector
			if got := s.MatchesLine(v1); got != c.v1 {
				t.Errorf("%s MatchesLine(v1.0 line) = %v, want %v", s, got, c.v1)
			}
			if got := s.MatchesLine(v2); got != c.v2 {
				t.Errorf("%s MatchesLine(v2.0 line) = %v, want %v", s, got, c.v2)
			}
			if got, want := s.MatchesLine(nil), s.Key == ""; got != want {
				t.Errorf("%s MatchesLine(nil) = %v, want %v", s, got, want)
			}
		})
	}
}

// TestAllowed exercises the precedence rules of manual 6.4 beyond the
// manual's examples.
func TestAllowed(t *testing.T) {
	lines := licenseLines(t, testLicense)
	v1, v2 := lines[0], lines[1]
	o := mustParse(t, `
GROUP devs ann bob
GROUP all devs ops
GROUP ops carl all
HOST_GROUP lab h1 H2
HOST_GROUP site lab h3
INCLUDE f1 GROUP all
EXCLUDE f1 USER bob
INCLUDE f2:VERSION=2.0 USER ann
EXCLUDE f3 DISPLAY :0
EXCLUDE f3 PROJECT secret
INCLUDE f4 HOST_GROUP site
INCLUDE f5 INTERNET 10.1.*.* 192.168.0.1
INCLUDE f6 USER dora
EXCLUDE f6 USER dora
`)
	ip := netip.MustParseAddr
	for _, c := range []struct {
		name    string
		feature string
		line    *licfile.Feature
		r       Requester
		ok      bool
		code    lmerr.Code
	}{
		{"in a nested group", "f1", nil, Requester{User: "ann"}, true, 0},
		{"in a cyclic group", "f1", nil, Requester{User: "carl"}, true, 0},
		{"excluded beats included", "f1", nil, Requester{User: "bob"}, false, lmerr.Excluded},
		{"outside the include list", "f1", nil, Requester{User: "eve"}, false, lmerr.NotIncluded},
		{"group member names are case sensitive", "f1", nil, Requester{User: "ANN"}, false, lmerr.NotIncluded},
		{"a group name is not a member", "f1", nil, Requester{User: "devs"}, false, lmerr.NotIncluded},
		{"include of another line does not apply", "f2", v1, Requester{User: "eve"}, true, 0},
		{"include of this line", "f2", v2, Requester{User: "eve"}, false, lmerr.NotIncluded},
		{"included on this line", "f2", v2, Requester{User: "ann"}, true, 0},
		{"no line: the selected include does not apply", "f2", nil, Requester{User: "eve"}, true, 0},
		{"excluded display", "f3", nil, Requester{User: "ann", Display: ":0"}, false, lmerr.Excluded},
		{"other display", "f3", nil, Requester{User: "ann", Display: ":1"}, true, 0},
		{"excluded project", "f3", nil, Requester{User: "ann", Project: "secret"}, false, lmerr.Excluded},
		{"other project", "f3", nil, Requester{User: "ann", Project: "Secret"}, true, 0},
		{"host in a nested host group", "f4", nil, Requester{User: "x", Host: "h2.example.com"}, true, 0},
		{"host in the outer host group", "f4", nil, Requester{User: "x", Host: "H3"}, true, 0},
		{"host outside", "f4", nil, Requester{User: "x", Host: "h4"}, false, lmerr.NotIncluded},
		{"address matching a pattern", "f5", nil, Requester{User: "x", IP: ip("10.1.200.3")}, true, 0},
		{"address matching exactly", "f5", nil, Requester{User: "x", IP: ip("192.168.0.1")}, true, 0},
		{"address outside", "f5", nil, Requester{User: "x", IP: ip("10.2.0.1")}, false, lmerr.NotIncluded},
		{"IPv6 address", "f5", nil, Requester{User: "x", IP: ip("2001:db8::1")}, false, lmerr.NotIncluded},
		{"no address", "f5", nil, Requester{User: "x"}, false, lmerr.NotIncluded},
		{"included and excluded", "f6", nil, Requester{User: "dora"}, false, lmerr.Excluded},
		{"a feature without options", "f7", nil, Requester{User: "bob"}, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, code := o.Allowed(c.feature, c.line, c.r)
			if ok != c.ok || code != c.code {
				t.Errorf("Allowed(%q, %+v) = %v, %d; want %v, %d", c.feature, c.r, ok, code, c.ok, c.code)
			}
		})
	}
}

func TestAllowedAllFeatures(t *testing.T) {
	o := mustParse(t, "INCLUDEALL USER jane joe\nEXCLUDEALL HOST chaos\nINCLUDE f1 USER ann\n")
	for _, c := range []struct {
		name    string
		feature string
		r       Requester
		ok      bool
		code    lmerr.Code
	}{
		{"jane anywhere", "any", Requester{User: "jane", Host: "h"}, true, 0},
		{"jane on chaos", "any", Requester{User: "jane", Host: "chaos"}, false, lmerr.Excluded},
		{"ann on f1", "f1", Requester{User: "ann", Host: "h"}, true, 0},
		{"ann elsewhere", "f2", Requester{User: "ann", Host: "h"}, false, lmerr.NotIncluded},
		{"joe on f1", "f1", Requester{User: "joe", Host: "h"}, true, 0},
		{"eve", "f1", Requester{User: "eve", Host: "h"}, false, lmerr.NotIncluded},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, code := o.Allowed(c.feature, nil, c.r)
			if ok != c.ok || code != c.code {
				t.Errorf("Allowed(%q, %+v) = %v, %d; want %v, %d", c.feature, c.r, ok, code, c.ok, c.code)
			}
		})
	}
}

func TestGroupCaseInsensitive(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		user string
		ok   bool
	}{
		{"off by default", "GROUP g Ann\nINCLUDE f1 GROUP g\n", "ann", false},
		{"off", "GROUPCASEINSENSITIVE off\nGROUP g Ann\nINCLUDE f1 GROUP g\n", "ann", false},
		{"on", "GROUPCASEINSENSITIVE ON\nGROUP g Ann\nINCLUDE f1 GROUP g\n", "aNN", true},
		{"on after the group", "GROUP g Ann\nINCLUDE f1 GROUP g\ngroupcaseinsensitive on\n", "ANN", true},
		{"a long name", "GROUPCASEINSENSITIVE ON\nGROUP g " + strings.Repeat("A", 300) + "\nINCLUDE f1 GROUP g\n", strings.Repeat("a", 300), true},
		{"USER is still case sensitive", "GROUPCASEINSENSITIVE ON\nINCLUDE f1 USER Ann\n", "ann", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := mustParse(t, c.src)
			if ok, _ := o.Allowed("f1", nil, Requester{User: c.user}); ok != c.ok {
				t.Errorf("Allowed(f1, %s) = %v, want %v", c.user, ok, c.ok)
			}
		})
	}
}

// TestIncludeInErrorDenies: an INCLUDE that fails after its feature is
// known still makes an include list, so a typo denies everyone rather
// than admitting everyone.
func TestIncludeInErrorDenies(t *testing.T) {
	for _, src := range []string{
		"INCLUDE f1 USR ann\n",
		"INCLUDE f1 USER\n",
		"INCLUDE f1:VERSION=x USER ann\n",
		"INCLUDE f1 GROUP undefined\n",
		"INCLUDE f1 INTERNET 1.2.3\n",
		"INCLUDEALL HOSTS h1\n",
	} {
		t.Run(strings.TrimSpace(src), func(t *testing.T) {
			o, err := Parse(strings.NewReader(src), "test.opt")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if ok, code := o.Allowed("f1", nil, Requester{User: "ann", Host: "h1"}); ok || code != lmerr.NotIncluded {
				t.Errorf("Allowed = %v, %d; want false, %d", ok, code, lmerr.NotIncluded)
			}
		})
	}
}

func TestNilOptions(t *testing.T) {
	var o *Options
	if ok, code := o.Allowed("f1", nil, Requester{User: "a"}); !ok || code != 0 {
		t.Errorf("nil Allowed = %v, %d; want true, 0", ok, code)
	}
	if _, ok := o.maxFor("f1", nil, Requester{}); ok {
		t.Error("nil maxFor has a limit")
	}
	if rs := o.Reservations("f1", nil); rs != nil {
		t.Errorf("nil Reservations = %v", rs)
	}
	if _, ok := o.Timeout("f1", nil); ok {
		t.Error("nil Timeout is set")
	}
	if _, ok := o.Linger("f1", nil); ok {
		t.Error("nil Linger is set")
	}
	if _, ok := o.MaxOverdraft("f1", nil); ok {
		t.Error("nil MaxOverdraft is set")
	}
	o.ExpandPackages(func(string) []string { return nil })
}

func TestMax(t *testing.T) {
	lines := licenseLines(t, testLicense)
	o := mustParse(t, `
GROUP devs ann bob
MAX 3 f1 GROUP devs
MAX 1 f1 USER ann carl
MAX 2 f1:VERSION=2.0 USER carl
MAX 0 f2 HOST kiosk
`)
	ann, bob, carl := Requester{User: "ann"}, Requester{User: "bob"}, Requester{User: "carl"}
	for _, c := range []struct {
		name    string
		feature string
		line    *licfile.Feature
		r       Requester
		limit   int
		ok      bool
	}{
		{"ann: the smaller of group and user", "f1", nil, ann, 1, true},
		{"bob: the group's", "f1", nil, bob, 3, true},
		{"carl on any line", "f1", lines[0], carl, 1, true},
		{"carl on the v2.0 line", "f1", lines[1], carl, 1, true},
		{"dan", "f1", nil, Requester{User: "dan"}, 0, false},
		{"MAX 0 on kiosk", "f2", nil, Requester{User: "x", Host: "kiosk"}, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			limit, ok := o.maxFor(c.feature, c.line, c.r)
			if limit != c.limit || ok != c.ok {
				t.Errorf("maxFor(%q, %+v) = %d, %v; want %d, %v", c.feature, c.r, limit, ok, c.limit, c.ok)
			}
		})
	}

	rules := o.MaxRules("f1")
	if len(rules) != 3 {
		t.Fatalf("MaxRules(f1) has %d rules, want 3", len(rules))
	}
	group, users, selected := rules[0], rules[1], rules[2]
	for _, c := range []struct {
		name      string
		m         *Max
		holder, r Requester
		want      bool
	}{
		{"a group shares its limit", group, bob, ann, true},
		{"a non-member's seat does not count", group, carl, ann, false},
		{"a seat does not count for a non-member", group, ann, carl, false},
		{"each listed user has a limit of their own", users, carl, ann, false},
		{"a user's own seats count", users, ann, ann, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.Counts(c.holder, c.r); got != c.want {
				t.Errorf("%s Counts(%s, %s) = %v, want %v", c.m, c.holder.User, c.r.User, got, c.want)
			}
		})
	}
	if selected.AppliesTo(lines[0]) || !selected.AppliesTo(lines[1]) {
		t.Errorf("%s applies to the v1.0 line or not to the v2.0 line", selected)
	}
	if !users.Matches(carl) || users.Matches(bob) {
		t.Errorf("%s Matches carl %v, bob %v; want true, false", users, users.Matches(carl), users.Matches(bob))
	}
}

func TestSettings(t *testing.T) {
	lines := licenseLines(t, testLicense)
	v1, v2 := lines[0], lines[1]
	o := mustParse(t, `
LINGER f1 60
LINGER f1:VERSION=2.0 120
LINGER f1 30
TIMEOUT f1 3600
TIMEOUT f2 60
TIMEOUTALL 1800
MAX_OVERDRAFT f1 2
`)
	for _, c := range []struct {
		name string
		get  func() (time.Duration, bool)
		want time.Duration
		ok   bool
	}{
		{"linger: the last line wins", func() (time.Duration, bool) { return o.Linger("f1", v1) }, 30 * time.Second, true},
		{"linger: a selector beats a later plain line", func() (time.Duration, bool) { return o.Linger("f1", v2) }, 120 * time.Second, true},
		{"linger: no line", func() (time.Duration, bool) { return o.Linger("f1", nil) }, 30 * time.Second, true},
		{"linger: another feature", func() (time.Duration, bool) { return o.Linger("f3", nil) }, 0, false},
		{"timeout of the feature", func() (time.Duration, bool) { return o.Timeout("f1", nil) }, time.Hour, true},
		{"timeout below the minimum", func() (time.Duration, bool) { return o.Timeout("f2", nil) }, DefaultMinTimeout, true},
		{"TIMEOUTALL", func() (time.Duration, bool) { return o.Timeout("f3", nil) }, 30 * time.Minute, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.get()
			if got != c.want || ok != c.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, c.want, c.ok)
			}
		})
	}
	t.Run("publisher's minimum", func(t *testing.T) {
		o := mustParse(t, "TIMEOUTALL 100\n")
		o.MinTimeout = 60 * time.Second
		if d, ok := o.Timeout("f", nil); d != 100*time.Second || !ok {
			t.Errorf("Timeout = %v, %v; want 1m40s, true", d, ok)
		}
		o.MinTimeout = 10 * time.Minute
		if d, _ := o.Timeout("f", nil); d != 10*time.Minute {
			t.Errorf("Timeout = %v, want 10m0s", d)
		}
	})
	t.Run("no timeout", func(t *testing.T) {
		if d, ok := mustParse(t, "LINGER f 10\n").Timeout("f", nil); ok || d != 0 {
			t.Errorf("Timeout = %v, %v; want 0, false", d, ok)
		}
	})
	if n, ok := o.MaxOverdraft("f1", v1); n != 2 || !ok {
		t.Errorf("MaxOverdraft(f1) = %d, %v; want 2, true", n, ok)
	}
	if _, ok := o.MaxOverdraft("f2", nil); ok {
		t.Error("MaxOverdraft(f2) is set")
	}
}

func TestLogsAndNoLog(t *testing.T) {
	o := mustParse(t, `
NOLOG IN
nolog queued
REPORTLOG /tmp/first.rl
REPORTLOG "+/var/log/my report.rl"
DEBUGLOG vd.dl
`)
	for _, c := range []struct {
		item NoLog
		want bool
	}{{NoLogIn, true}, {NoLogOut, false}, {NoLogDenied, false}, {NoLogQueued, true}, {NoLogIn | NoLogQueued, true}, {NoLogIn | NoLogOut, false}} {
		if got := o.NoLog.Has(c.item); got != c.want {
			t.Errorf("NoLog.Has(%b) = %v, want %v", c.item, got, c.want)
		}
	}
	if got := o.ReportLog; got.Path != "/var/log/my report.rl" || !got.Append || got.Pos.Line != 5 {
		t.Errorf("ReportLog = %+v, want +/var/log/my report.rl from line 5", got)
	}
	if got := o.DebugLog; got.Path != "vd.dl" || got.Append {
		t.Errorf("DebugLog = %+v, want vd.dl without append", got)
	}
}

// TestExpandPackages: "you can use a package name in place of a feature
// name, and the option will apply to all of the components in the
// package" (manual 6.2).
func TestExpandPackages(t *testing.T) {
	o := mustParse(t, `
EXCLUDE suite USER bob
RESERVE 1 suite USER ann
LINGER suite 30
MAX 1 suite USER carl
INCLUDE comp1 USER dan
`)
	components := func(pkg string) []string {
		if pkg == "suite" {
			return []string{"comp1", "comp2", "comp1"}
		}
		return nil
	}
	bob := Requester{User: "bob"}
	if ok, _ := o.Allowed("comp1", nil, Requester{User: "dan"}); !ok {
		t.Fatal("dan is not allowed comp1 before expansion")
	}
	if ok, _ := o.Allowed("comp2", nil, bob); !ok {
		t.Error("the package's EXCLUDE applies to comp2 before ExpandPackages")
	}
	o.ExpandPackages(components)
	for _, feat := range []string{"suite", "comp1", "comp2"} {
		t.Run(feat, func(t *testing.T) {
			if ok, code := o.Allowed(feat, nil, bob); ok || code != lmerr.Excluded {
				t.Errorf("Allowed(%s, bob) = %v, %d; want false, %d", feat, ok, code, lmerr.Excluded)
			}
			if rs := o.Reservations(feat, nil); len(rs) != 1 || rs[0].Name != "ann" {
				t.Errorf("Reservations(%s) = %v, want ann's one", feat, rs)
			}
			if d, ok := o.Linger(feat, nil); d != 30*time.Second || !ok {
				t.Errorf("Linger(%s) = %v, %v; want 30s", feat, d, ok)
			}
			if n, ok := o.maxFor(feat, nil, Requester{User: "carl"}); n != 1 || !ok {
				t.Errorf("maxFor(%s, carl) = %d, %v; want 1, true", feat, n, ok)
			}
		})
	}
	if ok, code := o.Allowed("comp2", nil, Requester{User: "dan"}); !ok {
		t.Errorf("comp1's INCLUDE leaks into comp2: %d", code)
	}
	if ok, code := o.Allowed("comp1", nil, Requester{User: "eve"}); ok || code != lmerr.NotIncluded {
		t.Errorf("Allowed(comp1, eve) = %v, %d; want false, %d", ok, code, lmerr.NotIncluded)
	}
	o.ExpandPackages(nil)
	if ok, _ := o.Allowed("comp2", nil, bob); !ok {
		t.Error("ExpandPackages(nil) did not undo the expansion")
	}
}

func TestReservationsPerMember(t *testing.T) {
	lines := licenseLines(t, testLicense)
	o := mustParse(t, "RESERVE 2 f1 USER a b\nRESERVE 1 f1:VERSION=2.0 INTERNET 10.0.0.*\nRESERVE 3 f1 GROUP g\nGROUP g c\n")
	got := func(line *licfile.Feature) []string {
		var out []string
		for _, rv := range o.Reservations("f1", line) {
			out = append(out, rv.String())
		}
		return out
	}
	want1 := []string{"RESERVE 2 f1 USER a", "RESERVE 2 f1 USER b", "RESERVE 3 f1 GROUP g"}
	want2 := []string{"RESERVE 2 f1 USER a", "RESERVE 2 f1 USER b", "RESERVE 1 f1:VERSION=2.0 INTERNET 10.0.0.*", "RESERVE 3 f1 GROUP g"}
	if g := got(lines[0]); strings.Join(g, "|") != strings.Join(want1, "|") {
		t.Errorf("Reservations(f1 v1.0) = %q, want %q", g, want1)
	}
	if g := got(lines[1]); strings.Join(g, "|") != strings.Join(want2, "|") {
		t.Errorf("Reservations(f1 v2.0) = %q, want %q", g, want2)
	}
	rs := o.Reservations("f1", lines[1])
	if !rs[2].Matches(Requester{IP: netip.MustParseAddr("10.0.0.9")}) || rs[2].Matches(Requester{IP: netip.MustParseAddr("10.0.1.9")}) {
		t.Error("the INTERNET reservation matches the wrong addresses")
	}
	if !rs[3].Matches(Requester{User: "c"}) || rs[3].Matches(Requester{User: "a"}) {
		t.Error("the GROUP reservation matches the wrong users")
	}
}

// TestParsePositions checks error positions through continuations, CRLF
// and leading blanks.
func TestParsePositions(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		want string
	}{
		{"first line", "BOGUS x\n", "test.opt:1:1: unknown keyword \"BOGUS\" (-90)"},
		{"leading blanks", "\n  \t BOGUS x\n", "test.opt:2:5: unknown keyword \"BOGUS\" (-90)"},
		{"CRLF", "EXCLUDE f1 USER a\r\nEXCLUDE f1 USR a\r\n", "test.opt:2:12: EXCLUDE: unknown type \"USR\" (-90)"},
		{"continued", "EXCLUDE f1 \\\n  USR a\n", "test.opt:2:3: EXCLUDE: unknown type \"USR\" (-90)"},
		{"continued twice", "EXCLUDE \\\nf1 \\\n\tUSER a b \\\n  \"c\n", "test.opt:4:3: unterminated quote (-2)"},
		{"missing at the end", "LINGER f1\n", "test.opt:1:10: LINGER: missing seconds (-2)"},
		{"comment continued is still a comment", "# a \\\nBOGUS\n", "test.opt:2:1: unknown keyword \"BOGUS\" (-90)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.src), "test.opt")
			if err == nil || err.Error() != c.want {
				t.Errorf("Parse error = %v, want %s", err, c.want)
			}
		})
	}
}

func TestCodeOf(t *testing.T) {
	_, err := Parse(strings.NewReader("EXCLUDE f1:VERSION=x USER a\n"), "t.opt")
	for _, c := range []struct {
		name string
		err  error
		want lmerr.Code
	}{
		{"parse error", err, -77},
		{"sentinel", ErrKeyword, -90},
		{"group", ErrGroup, -2},
		{"other", errFoo{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := CodeOf(c.err); got != c.want {
				t.Errorf("CodeOf(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
}

type errFoo struct{}

func (errFoo) Error() string { return "foo" }

// TestAllowedDoesNotAllocate: Allowed runs on every checkout.
func TestAllowedDoesNotAllocate(t *testing.T) {
	o, r, line := benchOptions(t)
	allocs := testing.AllocsPerRun(100, func() {
		o.Allowed("f1", line, r)
		o.Allowed("f9", line, r)
		o.maxFor("f1", line, r)
	})
	if allocs != 0 {
		t.Errorf("Allowed allocates %v times per call, want 0", allocs)
	}
}
