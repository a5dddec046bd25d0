package licfile

import (
	"errors"
	"strings"
	"testing"
)

func parseOne(t *testing.T, src string) Line {
	t.Helper()
	f, err := Parse(strings.NewReader(src), "t.lic")
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	if len(f.Order) != 1 {
		t.Fatalf("Parse(%q) gave %d lines, want 1", src, len(f.Order))
	}
	return f.Order[0]
}

func TestFeatureFormats(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		format  Format
		key     string
		vstr    string
		hostid  string
		count   int
		counted bool
		locked  bool
	}{
		{"v2", `FEATURE xyz_app xyzd 2.300 31-dec-2005 20 123456789012 "xyz"`, FormatV2, "123456789012", "xyz", "", 20, true, false},
		{"v2 hostid", `FEATURE f1 xyzd 1.000 1-jan-2005 0 key1 "" 12001234`, FormatV2, "key1", "", "12001234", 0, false, true},
		{"v2 typed hostid", `FEATURE f1 xyzd 1.000 1-jan-2005 0 key1 "" HOSTNAME=globes`, FormatV2, "key1", "", "HOSTNAME=globes", 0, false, true},
		{"v3", `FEATURE f1 xyzd 1.00 1-jan-2005 3 key HOSTID=1300ab43`, FormatV3, "key", "", "1300ab43", 3, true, true},
		{"v3 no attributes", `FEATURE f1 xyzd 1.00 1-jan-2005 2 key3`, FormatV3, "key3", "", "", 2, true, false},
		{"v3 vendor string", `FEATURE f1 xyzd 1.0 1-jan-2005 2 key3 VENDOR_STRING="a b"`, FormatV3, "key3", "a b", "", 2, true, false},
		{"v7.1", `INCREMENT f1 xyzd 1.000 1-jan-2005 5 SIGN=9BFAC0316462`, FormatV71, "", "", "", 5, true, false},
		{"v7.1 bare keyword first", `FEATURE f1 xyzd 1.0 permanent 5 SUPERSEDE SIGN=AB`, FormatV71, "", "", "", 5, true, false},
		{"v7.1 uncounted", `FEATURE f1 demo 1.0 1-jan-2005 uncounted HOSTID=USER=joe SIGN=AB`, FormatV71, "", "", "USER=joe", 0, false, true},
		{"lower-case keyword", `feature f1 xyzd 1.0 1-jan-2005 Uncounted HOSTID=ANY`, FormatV71, "", "", "ANY", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := parseOne(t, tt.src).(*Feature)
			if !ok {
				t.Fatal("not a *Feature")
			}
			if f.Format != tt.format || f.Key != tt.key || f.VendorString != tt.vstr || f.HostID.String() != tt.hostid || f.Count != tt.count {
				t.Errorf("got format %d key %q vendor string %q hostid %q count %d\nwant format %d key %q vendor string %q hostid %q count %d",
					f.Format, f.Key, f.VendorString, f.HostID.String(), f.Count, tt.format, tt.key, tt.vstr, tt.hostid, tt.count)
			}
			if f.Counted() != tt.counted || f.NodeLocked() != tt.locked {
				t.Errorf("Counted %v NodeLocked %v, want %v %v", f.Counted(), f.NodeLocked(), tt.counted, tt.locked)
			}
		})
	}
}

func TestFeatureAttributes(t *testing.T) {
	src := `INCREMENT f1 xyzd 1.5 1-jan-2027 10 DUP_GROUP=UHD ISSUED=1-jan-2025 ISSUER="Acme" ` +
		`NOTICE="Licensed to XYZ corp" OVERDRAFT=3 PLATFORMS="x64_lsb x64_n6" SN=123 START=1-feb-2025 ` +
		`SUPERSEDE="f0 f00" USER_BASED=4 HOST_BASED vendor_info="v i" dist_info=d user_info=u asset_info=a ` +
		`my_note=x ck=123 SIGN="AB CD"`
	f := parseOne(t, src).(*Feature)
	checks := []struct {
		name      string
		got, want any
	}{
		{"DupGroup", f.DupGroup, "UHD"},
		{"Issued", f.Issued.Text, "1-jan-2025"},
		{"Issuer", f.Issuer, "Acme"},
		{"Notice", f.Notice, "Licensed to XYZ corp"},
		{"Overdraft", f.Overdraft, 3},
		{"Platforms", strings.Join(f.Platforms, ","), "x64_lsb,x64_n6"},
		{"SN", f.SN, "123"},
		{"Start", f.Start.Text, "1-feb-2025"},
		{"Supersede", strings.Join(f.Supersede, ","), "f0,f00"},
		{"Superseded", f.Superseded, true},
		{"UserBased", f.UserBased, 4},
		{"HostBased", f.HostBased, 0},
		{"Ck", f.Ck, 123},
		{"HasCk", f.HasCk, true},
		{"Sign", f.Sign, "AB CD"},
		{"Attrs", len(f.Attrs), 18},
		{"Format", f.Format, FormatV71},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		})
	}
	if v, ok := f.Attr("vendor_info"); !ok || v != "v i" {
		t.Errorf(`Attr("vendor_info") = %q, %v; want "v i", true`, v, ok)
	}
	if v, ok := f.Attr("notice"); ok {
		t.Errorf(`Attr("notice") = %q: a lower-case key must not find NOTICE`, v)
	}
	g := parseOne(t, `FEATURE f xyzd 1 permanent 1 SIGN=A`).(*Feature)
	if g.UserBased != -1 || g.HostBased != -1 || g.Superseded {
		t.Errorf("absent USER_BASED/HOST_BASED/SUPERSEDE: got %d %d %v, want -1 -1 false", g.UserBased, g.HostBased, g.Superseded)
	}
}

func TestServerAndVendorLines(t *testing.T) {
	tests := []struct {
		src  string
		want string // canonical
		chk  func(Line) string
	}{
		{"SERVER enterprise 0122345 21987", "SERVER enterprise 0122345 21987", func(l Line) string {
			s := l.(*Server)
			if s.Host != "enterprise" || s.Port != 21987 || s.HostID.Type != HostIDLong {
				return "fields"
			}
			return ""
		}},
		{"server this_host ANY", "SERVER this_host ANY", func(l Line) string {
			if s := l.(*Server); s.Port != 0 || s.HostID.Type != HostIDAny {
				return "fields"
			}
			return ""
		}},
		{"SERVER 10.0.0.1 ID=1234-5678 27000 HEARTBEAT_INTERVAL=20 PRIMARY_IS_MASTER", "SERVER 10.0.0.1 ID=1234-5678 27000 HEARTBEAT_INTERVAL=20 PRIMARY_IS_MASTER", func(l Line) string {
			if s := l.(*Server); len(s.Attrs) != 2 || s.Attrs[0].Value != "20" || s.Attrs[1].HasValue {
				return "attrs"
			}
			return ""
		}},
		{"VENDOR sampled", "VENDOR sampled", nil},
		{"DAEMON xyzd /etc/xyzd /a/b/xyzd.opt 2837", "DAEMON xyzd /etc/xyzd options=/a/b/xyzd.opt port=2837", func(l Line) string {
			if v := l.(*Vendor); v.Path != "/etc/xyzd" || v.Options != "/a/b/xyzd.opt" || v.Port != 2837 || v.Keyword != "DAEMON" {
				return "fields"
			}
			return ""
		}},
		{"VENDOR xyzd OPTIONS=/x.opt PORT=2000", "VENDOR xyzd options=/x.opt port=2000", nil},
		{"VENDOR xyzd port=2000", "VENDOR xyzd port=2000", func(l Line) string {
			if v := l.(*Vendor); v.Path != "" || v.Port != 2000 {
				return "fields"
			}
			return ""
		}},
		{`DAEMON xyzd "C:\Program Files\xyzd.exe"`, `DAEMON xyzd "C:\Program Files\xyzd.exe"`, nil},
		{"use_server", "USE_SERVER", nil},
		{"PACKAGE suite xyzd 3B24B2F508CB COMPONENTS=c1", "PACKAGE suite xyzd 3B24B2F508CB COMPONENTS=c1", func(l Line) string {
			if p := l.(*Package); p.Key != "3B24B2F508CB" || !p.Version.IsZero() {
				return "key/version"
			}
			return ""
		}},
		{"PACKAGE suite xyzd 1.0 COMPONENTS=\"c1 c2:2.0\" OPTIONS=SUITE SIGN=AB", "PACKAGE suite xyzd 1.0 COMPONENTS=\"c1 c2:2.0\" OPTIONS=SUITE SIGN=AB", func(l Line) string {
			if p := l.(*Package); p.Version.Text != "1.0" || p.Key != "" || !p.Suite || len(p.Components) != 2 || p.Sign != "AB" {
				return "fields"
			}
			return ""
		}},
		{"UPGRADE f1 xyzd 1.000 2.000 1-jan-2005 2 SIGN=1B9A", "UPGRADE f1 xyzd 1.000 2.000 1-jan-2005 2 SIGN=1B9A", func(l Line) string {
			if f := l.(*Feature); f.FromVersion.Text != "1.000" || f.Version.Text != "2.000" || f.Kind != KindUpgrade {
				return "fields"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			l := parseOne(t, tt.src)
			if got := l.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.chk != nil {
				if bad := tt.chk(l); bad != "" {
					t.Errorf("wrong %s: %+v", bad, l)
				}
			}
		})
	}
}

func TestLexing(t *testing.T) {
	src := "# comment\r\n\r\n   \t\r\n  FEATURE f1 xyzd 1.0 \\\r\n\t1-jan-2005 \\\n  2 key\r\n\nSERVER a ANY \\\n\nVENDOR v\\"
	f, err := Parse(strings.NewReader(src), "x.lic")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "FEATURE f1 xyzd 1.0 1-jan-2005 2 key\nSERVER a ANY\nVENDOR v\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	sp := f.Features[0].Span
	if sp.Pos.Line != 4 || sp.Pos.Column != 3 {
		t.Errorf("FEATURE at %d:%d, want 4:3", sp.Pos.Line, sp.Pos.Column)
	}
	if want := "FEATURE f1 xyzd 1.0 \\\r\n\t1-jan-2005 \\\n  2 key"; sp.Raw != want {
		t.Errorf("Raw = %q, want %q", sp.Raw, want)
	}
}

func TestErrorPositions(t *testing.T) {
	src := "SERVER lulu 17001234 1700\n" +
		"FEATURE f1 xyzd 1.0 \\\n" +
		"   31-foo-2005 2 key\n" +
		"FEATURE f2 xyzd 1.0 1-jan-2005 2 key\n" +
		"INCREMENT f3 xyzd x1 1-jan-2005 2 key\n"
	f, err := Parse(strings.NewReader(src), "license.lic")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	want := "license.lic:3:4: invalid date \"31-foo-2005\" (-11)\nlicense.lic:5:19: invalid version \"x1\" (-77)"
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if !errors.Is(err, ErrDate) || !errors.Is(err, ErrVersion) || errors.Is(err, ErrPackage) {
		t.Error("errors.Is does not see the sentinels of the list")
	}
	if len(f.Order) != 2 || len(f.Servers) != 1 || len(f.Features) != 1 {
		t.Errorf("good lines: %d (servers %d, features %d), want 2 (1, 1)", len(f.Order), len(f.Servers), len(f.Features))
	}
	if c := CodeOf(list[0]); c != -11 {
		t.Errorf("CodeOf = %d, want -11", c)
	}
}

func TestFileHelpers(t *testing.T) {
	f, err := Parse(strings.NewReader("VENDOR a\nDAEMON b /x\nFEATURE f a 1 permanent 1 k\nINCREMENT f a 2 permanent 1 k\nFEATURE g b 1 permanent 1 k\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if v := f.Vendor("b"); v == nil || v.Path != "/x" {
		t.Errorf("Vendor(b) = %+v", v)
	}
	if v := f.Vendor("c"); v != nil {
		t.Errorf("Vendor(c) = %+v, want nil", v)
	}
	if got := len(f.Feature("f")); got != 2 {
		t.Errorf("Feature(f) has %d lines, want 2", got)
	}
}

func TestParseFileMissing(t *testing.T) {
	if _, err := ParseFile("testdata/does-not-exist.lic"); err == nil {
		t.Error("ParseFile of a missing file: no error")
	}
}
