package options

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"golm/lmutil/protocol/lmerr"
)

// parseManual parses one of the manual's example options files.
func parseManual(t *testing.T, name string) *Options {
	t.Helper()
	o, err := ParseFile(filepath.Join("..", "testdata", "options", name))
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return o
}

func mustParse(t testing.TB, src string) *Options {
	t.Helper()
	o, err := Parse(strings.NewReader(src), "test.opt")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return o
}

// access is one Allowed case.
type access struct {
	name    string
	feature string
	r       Requester
	ok      bool
	code    lmerr.Code
}

func checkAccess(t *testing.T, o *Options, cases []access) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, code := o.Allowed(c.feature, nil, c.r)
			if ok != c.ok || code != c.code {
				t.Errorf("Allowed(%q, %+v) = %v, %d; want %v, %d", c.feature, c.r, ok, code, c.ok, c.code)
			}
		})
	}
}

// TestManual651Simple is manual 6.5.1:
//
//	RESERVE 1 compile USER robert
//	RESERVE 3 compile HOST mainline
//	EXCLUDE compile USER lori
//
// reserves one license of "compile" for robert and three for anyone on
// host mainline, and keeps lori from using compile. "There must be a
// minimum of four licenses on the "compile" FEATURE line. If fewer
// licenses are available, only the first set of reservations (up to the
// license limit) is used."
func TestManual651Simple(t *testing.T) {
	o := parseManual(t, "manual-6.5.1-simple.opt")
	checkAccess(t, o, []access{
		{"lori is excluded", "compile", Requester{User: "lori", Host: "mainline"}, false, lmerr.Excluded},
		{"robert may", "compile", Requester{User: "robert", Host: "desk"}, true, 0},
		{"anyone else may", "compile", Requester{User: "sue", Host: "desk"}, true, 0},
		{"lori may use other features", "link", Requester{User: "lori"}, true, 0},
	})

	rs := o.Reservations("compile", nil)
	if len(rs) != 2 {
		t.Fatalf("Reservations(compile) = %v, want 2", rs)
	}
	robert, mainline := rs[0], rs[1]
	for _, c := range []struct {
		name string
		rv   Reservation
		r    Requester
		want bool
	}{
		{"robert's seat for robert", robert, Requester{User: "robert", Host: "desk"}, true},
		{"robert's seat not for sue", robert, Requester{User: "sue", Host: "desk"}, false},
		{"mainline's seats for anyone on mainline", mainline, Requester{User: "sue", Host: "mainline"}, true},
		{"host names ignore case and domain", mainline, Requester{User: "sue", Host: "MainLine.example.com"}, true},
		{"mainline's seats not for desk", mainline, Requester{User: "robert", Host: "desk"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.rv.Matches(c.r); got != c.want {
				t.Errorf("%s Matches(%+v) = %v, want %v", c.rv, c.r, got, c.want)
			}
		})
	}
}

// TestManual652MultipleUsers is manual 6.5.2: three EXCLUDE lines
//
//	EXCLUDE toothbrush USER bob
//	EXCLUDE toothbrush USER howard
//	EXCLUDE toothbrush USER james
//
// and "an easier way", a GROUP,
//
//	GROUP Hackers bob howard james
//	EXCLUDE toothbrush GROUP Hackers
//
// both "exclude "bob," "howard," and "james" from using the feature
// called "toothbrush"". Likewise one line per host (pre-v4) or a
// HOST_GROUP writers fred barney (v4+) excludes "all users logged in on
// the hosts "fred" and "barney" from using a feature called "f1"".
func TestManual652MultipleUsers(t *testing.T) {
	users := []access{
		{"bob", "toothbrush", Requester{User: "bob", Host: "h"}, false, lmerr.Excluded},
		{"howard", "toothbrush", Requester{User: "howard", Host: "h"}, false, lmerr.Excluded},
		{"james", "toothbrush", Requester{User: "james", Host: "h"}, false, lmerr.Excluded},
		{"user names are case sensitive", "toothbrush", Requester{User: "Bob", Host: "h"}, true, 0},
		{"anyone else", "toothbrush", Requester{User: "ann", Host: "h"}, true, 0},
		{"other features", "comb", Requester{User: "bob", Host: "h"}, true, 0},
	}
	hosts := []access{
		{"on fred", "f1", Requester{User: "ann", Host: "fred"}, false, lmerr.Excluded},
		{"on barney", "f1", Requester{User: "bob", Host: "barney.example.com"}, false, lmerr.Excluded},
		{"on BARNEY", "f1", Requester{User: "bob", Host: "BARNEY"}, false, lmerr.Excluded},
		{"on wilma", "f1", Requester{User: "ann", Host: "wilma"}, true, 0},
		{"a user named fred", "f1", Requester{User: "fred", Host: "wilma"}, true, 0},
		{"other features", "f2", Requester{User: "ann", Host: "fred"}, true, 0},
	}
	for _, c := range []struct {
		file  string
		cases []access
	}{
		{"manual-6.5.2-exclude-users.opt", users},
		{"manual-6.5.2-group.opt", users},
		{"manual-6.5.2-pre-v4-hosts.opt", hosts},
		{"manual-6.5.2-host-group.opt", hosts},
	} {
		t.Run(c.file, func(t *testing.T) {
			checkAccess(t, parseManual(t, c.file), c.cases)
		})
	}
}

// TestManual653Exclude is manual 6.5.3:
//
//	#First Define the group "painters"
//	GROUP painters picasso mondrian klee
//	EXCLUDE spell GROUP painters
//	EXCLUDE spell USER bob
//	EXCLUDE spell INTERNET 123.123.123.*
//
// It keeps the painters, bob and everyone on the 123.123.123 network from
// using spell: "the two EXCLUDE statements concatenate to create a list
// of four users".
func TestManual653Exclude(t *testing.T) {
	o := parseManual(t, "manual-6.5.3-exclude.opt")
	ip := netip.MustParseAddr
	checkAccess(t, o, []access{
		{"picasso", "spell", Requester{User: "picasso"}, false, lmerr.Excluded},
		{"mondrian", "spell", Requester{User: "mondrian"}, false, lmerr.Excluded},
		{"klee", "spell", Requester{User: "klee"}, false, lmerr.Excluded},
		{"bob", "spell", Requester{User: "bob"}, false, lmerr.Excluded},
		{"from 123.123.123.7", "spell", Requester{User: "ann", IP: ip("123.123.123.7")}, false, lmerr.Excluded},
		{"from 123.123.123.7 as IPv4-mapped IPv6", "spell", Requester{User: "ann", IP: ip("::ffff:123.123.123.7")}, false, lmerr.Excluded},
		{"from 123.123.124.7", "spell", Requester{User: "ann", IP: ip("123.123.124.7")}, true, 0},
		{"no address", "spell", Requester{User: "ann"}, true, 0},
		{"painters may paint", "paint", Requester{User: "klee"}, true, 0},
	})
}

// TestManual654Include is manual 6.5.4:
//
//	INCLUDE paint USER picasso
//	INCLUDE paint USER mondrian
//	INCLUDE paint HOST bigbrush
//
// lets picasso, mondrian and anyone on host bigbrush use paint, and no
// one else: "Anyone not in an INCLUDE statement will not be allowed to
// use that feature" (6.2.5).
func TestManual654Include(t *testing.T) {
	o := parseManual(t, "manual-6.5.4-include.opt")
	checkAccess(t, o, []access{
		{"picasso", "paint", Requester{User: "picasso", Host: "easel"}, true, 0},
		{"mondrian", "paint", Requester{User: "mondrian", Host: "easel"}, true, 0},
		{"anyone on bigbrush", "paint", Requester{User: "klee", Host: "bigbrush"}, true, 0},
		{"klee on easel", "paint", Requester{User: "klee", Host: "easel"}, false, lmerr.NotIncluded},
		{"a user named bigbrush", "paint", Requester{User: "bigbrush", Host: "easel"}, false, lmerr.NotIncluded},
		{"klee may use other features", "spell", Requester{User: "klee", Host: "easel"}, true, 0},
	})
}

// TestManual62Examples covers the examples inside manual 6.2 and
// appendix C: "EXCLUDE coolsoft USER joe barbara susan", the group
// "stars", "HOST_GROUP Pacific tokyo seattle auckland", "TIMEOUT f1
// 3600" and "RESERVE 1 f1 PROJECT airplane".
func TestManual62Examples(t *testing.T) {
	t.Run("a list of users", func(t *testing.T) {
		o := mustParse(t, "EXCLUDE coolsoft USER joe barbara susan\n")
		checkAccess(t, o, []access{
			{"joe", "coolsoft", Requester{User: "joe"}, false, lmerr.Excluded},
			{"susan", "coolsoft", Requester{User: "susan"}, false, lmerr.Excluded},
			{"ann", "coolsoft", Requester{User: "ann"}, true, 0},
		})
	})
	t.Run("a group of stars", func(t *testing.T) {
		o := mustParse(t, "GROUP stars joe barbara susan\nEXCLUDE coolsoft GROUP stars\n")
		checkAccess(t, o, []access{
			{"barbara", "coolsoft", Requester{User: "barbara"}, false, lmerr.Excluded},
			{"ann", "coolsoft", Requester{User: "ann"}, true, 0},
		})
	})
	t.Run("a host group", func(t *testing.T) {
		o := mustParse(t, "HOST_GROUP Pacific tokyo seattle auckland\nINCLUDEALL HOST_GROUP Pacific\n")
		checkAccess(t, o, []access{
			{"on seattle", "f1", Requester{User: "ann", Host: "seattle"}, true, 0},
			{"on Tokyo.example.jp", "f2", Requester{User: "ann", Host: "Tokyo.example.jp"}, true, 0},
			{"on boston", "f1", Requester{User: "ann", Host: "boston"}, false, lmerr.NotIncluded},
		})
	})
	t.Run("TIMEOUT f1 3600", func(t *testing.T) {
		o := mustParse(t, "TIMEOUT f1 3600\n")
		if d, ok := o.Timeout("f1", nil); !ok || d.Seconds() != 3600 {
			t.Errorf("Timeout(f1) = %v, %v; want 1h0m0s, true", d, ok)
		}
	})
	t.Run("RESERVE 1 f1 PROJECT airplane", func(t *testing.T) {
		o := mustParse(t, "RESERVE 1 f1 PROJECT airplane\n")
		rs := o.Reservations("f1", nil)
		if len(rs) != 1 || rs[0].Type != TypeProject || rs[0].Name != "airplane" {
			t.Fatalf("Reservations(f1) = %v, want one for PROJECT airplane", rs)
		}
		if !rs[0].Matches(Requester{User: "ann", Project: "airplane"}) {
			t.Error("the airplane project's reservation does not admit a member of the project")
		}
		if rs[0].Matches(Requester{User: "ann", Project: "boat"}) {
			t.Error("the airplane project's reservation admits the boat project")
		}
	})
}

// TestManual62Keywords checks the one-line examples of manual 6.2, whose
// option lines are lost from the manual's text and rebuilt from the
// sentence that introduces each.
func TestManual62Keywords(t *testing.T) {
	type check struct {
		feature string
		r       Requester
		ok      bool
		code    lmerr.Code
	}
	for _, c := range []struct {
		quote  string
		src    string
		checks []check
	}{
		{`To exclude the user "hank" from the list of users able to use feature "f1"`,
			"EXCLUDE f1 USER hank\n",
			[]check{{"f1", Requester{User: "hank"}, false, lmerr.Excluded}, {"f1", Requester{User: "bob"}, true, 0}, {"f2", Requester{User: "hank"}, true, 0}}},
		{`To exclude any user on the machine "chaos" from using all features served by this vendor daemon`,
			"EXCLUDEALL HOST chaos\n",
			[]check{{"f1", Requester{User: "a", Host: "chaos"}, false, lmerr.Excluded}, {"f2", Requester{User: "a", Host: "chaos"}, false, lmerr.Excluded}, {"f1", Requester{User: "a", Host: "order"}, true, 0}}},
		{`To include user "bob" in the list of users able to use feature "f1"`,
			"INCLUDE f1 USER bob\n",
			[]check{{"f1", Requester{User: "bob"}, true, 0}, {"f1", Requester{User: "hank"}, false, lmerr.NotIncluded}, {"f2", Requester{User: "hank"}, true, 0}}},
		{`To allow the user "jane" to use all features served by this vendor daemon`,
			"INCLUDEALL USER jane\n",
			[]check{{"f1", Requester{User: "jane"}, true, 0}, {"f2", Requester{User: "jane"}, true, 0}, {"f1", Requester{User: "bob"}, false, lmerr.NotIncluded}}},
		{`In FLEXlm v3.0, multiple GROUP lines will add all the specified users into the group ... USER_GROUP is an alias for GROUP`,
			"GROUP Hackers bob howard\nUSER_GROUP Hackers james\nEXCLUDE f1 GROUP Hackers\n",
			[]check{{"f1", Requester{User: "bob"}, false, lmerr.Excluded}, {"f1", Requester{User: "james"}, false, lmerr.Excluded}, {"f1", Requester{User: "ann"}, true, 0}}},
		{`Multiple HOST_GROUP lines will add all the specified hosts into the group`,
			"HOST_GROUP Pacific tokyo seattle\nHOST_GROUP Pacific auckland\nINCLUDE f1 HOST_GROUP Pacific\n",
			[]check{{"f1", Requester{User: "a", Host: "auckland"}, true, 0}, {"f1", Requester{User: "a", Host: "tokyo"}, true, 0}, {"f1", Requester{User: "a", Host: "lima"}, false, lmerr.NotIncluded}}},
	} {
		t.Run(c.quote, func(t *testing.T) {
			o := mustParse(t, c.src)
			for _, k := range c.checks {
				ok, code := o.Allowed(k.feature, nil, k.r)
				if ok != k.ok || code != k.code {
					t.Errorf("Allowed(%q, %+v) = %v, %d; want %v, %d", k.feature, k.r, ok, code, k.ok, k.code)
				}
			}
		})
	}

	t.Run(`To reserve one license of feature "f1" for user "mel"`, func(t *testing.T) {
		rs := mustParse(t, "RESERVE 1 f1 USER mel\n").Reservations("f1", nil)
		if len(rs) != 1 || rs[0].Count != 1 || !rs[0].Matches(Requester{User: "mel"}) || rs[0].Matches(Requester{User: "ann"}) {
			t.Errorf("Reservations(f1) = %v, want one seat for mel only", rs)
		}
	})
	t.Run(`To turn off logging of checkins`, func(t *testing.T) {
		if n := mustParse(t, "NOLOG IN\n").NoLog; n != NoLogIn {
			t.Errorf("NoLog = %b, want IN only", n)
		}
	})
	t.Run(`To turn off logging of checkouts and queued requests two separate NOLOG lines are required`, func(t *testing.T) {
		if n := mustParse(t, "NOLOG OUT\nNOLOG QUEUED\n").NoLog; n != NoLogOut|NoLogQueued {
			t.Errorf("NoLog = %b, want OUT and QUEUED", n)
		}
	})
	t.Run(`We recommend preceding the report_log_path with a + character to append logging entries`, func(t *testing.T) {
		for _, c := range []struct {
			src    string
			path   string
			append bool
		}{
			{"REPORTLOG +/a/b/xyzd/report.log\n", "/a/b/xyzd/report.log", true},
			{"REPORTLOG /a/b/xyzd/report.log\n", "/a/b/xyzd/report.log", false},
		} {
			if got := mustParse(t, c.src).ReportLog; got.Path != c.path || got.Append != c.append {
				t.Errorf("%q: ReportLog = %+v, want %s append %v", c.src, got, c.path, c.append)
			}
		}
	})
}
