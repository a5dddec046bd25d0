package licfile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFlexVersion(t *testing.T) {
	for _, v := range FlexVersions {
		t.Run(v.String(), func(t *testing.T) {
			got, err := ParseFlexVersion(v.String())
			if err != nil || got != v {
				t.Errorf("ParseFlexVersion(%q) = %v, %v; want %v", v.String(), got, err, v)
			}
		})
	}
	for _, bad := range []string{"", "1", "5.2", "7.10", "8", "v2"} {
		t.Run(bad, func(t *testing.T) {
			if _, err := ParseFlexVersion(bad); err == nil {
				t.Errorf("ParseFlexVersion(%q) succeeded", bad)
			}
		})
	}
}

// TestConvertEveryLine converts every line of testdata to every release:
// each result is a line of that release's syntax that signs the same,
// and each refusal is a *ConvertError.
func TestConvertEveryLine(t *testing.T) {
	converted := map[FlexVersion]int{}
	for _, l := range allTestdataLines(t) {
		for _, v := range FlexVersions {
			t.Run("v"+v.String()+"/"+l.String(), func(t *testing.T) {
				text, err := Convert(l, v)
				if err != nil {
					var ce *ConvertError
					if !errors.As(err, &ce) || ce.Version != v {
						t.Fatalf("error %v is not a *ConvertError for v%s", err, v)
					}
					return
				}
				converted[v]++
				again := mustLine(t, text)
				if !signsSame(l, again) {
					t.Errorf("%q signs differently from %q", text, l)
				}
				checkSyntaxOf(t, v, text, again)
			})
		}
	}
	for _, v := range FlexVersions {
		if converted[v] == 0 {
			t.Errorf("no line converted to v%s", v)
		}
	}
}

// checkSyntaxOf checks that a converted line uses only its release's syntax.
func checkSyntaxOf(t *testing.T, v FlexVersion, text string, l Line) {
	t.Helper()
	if v < FlexV6 {
		for _, word := range []string{"permanent", "uncounted", "VENDOR "} {
			if strings.Contains(text, word) {
				t.Errorf("v%s line %q holds %q", v, text, word)
			}
		}
	}
	f, ok := l.(*Feature)
	if !ok {
		return
	}
	switch {
	case v == FlexV2 && f.Format != FormatV2:
		t.Errorf("v2 line %q is in format %d", text, f.Format)
	case v > FlexV2 && v < FlexV71 && f.Format != FormatV3:
		t.Errorf("v%s line %q is in format %d", v, text, f.Format)
	case v == FlexV71 && f.Format != FormatV71:
		t.Errorf("v7.1 line %q is in format %d", text, f.Format)
	}
}

// TestConvert pins conversions of the manual's examples and the reasons
// lines cannot be converted.
func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		line string
		v    FlexVersion
		want string // converted line, or "!" and the error's text
	}{
		{"v7.1 to v2", "INCREMENT f1 xyzd 1.000 1-jan-2005 5 SIGN=9BFAC0316462", FlexV2,
			`INCREMENT f1 xyzd 1.000 1-jan-2005 5 9BFAC0316462 ""`},
		{"v7.1 to v6", "INCREMENT f1 xyzd 1.000 1-jan-2005 5 SIGN=9BFAC0316462", FlexV6,
			"INCREMENT f1 xyzd 1.000 1-jan-2005 5 9BFAC0316462"},
		{"UPGRADE to v2", "UPGRADE f1 xyzd 1.000 2.000 1-jan-2005 2 SIGN=1B9A308CC0F7", FlexV2,
			"!cannot convert to v2: UPGRADE needs v3"},
		{"UPGRADE to v3", "UPGRADE f1 xyzd 1.000 2.000 1-jan-2005 2 SIGN=1B9A308CC0F7", FlexV3,
			"UPGRADE f1 xyzd 1.000 2.000 1-jan-2005 2 1B9A308CC0F7"},
		{"v2 to v3", `FEATURE xyz_app xyzd 2.300 31-dec-2005 20 123456789012 "xyz"`, FlexV3,
			`FEATURE xyz_app xyzd 2.300 31-dec-2005 20 123456789012 VENDOR_STRING="xyz"`},
		{"v2 with hostid to v7.1", `FEATURE f1 xyzd 1.000 1-jan-2005 0 key1 "" 12001234`, FlexV71,
			`FEATURE f1 xyzd 1.000 1-jan-2005 0 VENDOR_STRING="" HOSTID=12001234 SIGN=key1`},
		{"v3 to v7.1 before ck", `FEATURE f1 xyzd 1.0 1-jan-2005 3 key NOTICE="n" ck=12`, FlexV71,
			`FEATURE f1 xyzd 1.0 1-jan-2005 3 NOTICE="n" SIGN=key ck=12`},
		{"v3 to v2", "FEATURE f1 xyzd 1.00 1-jan-2005 0 key1 HOSTID=DEMO ck=5", FlexV2,
			`FEATURE f1 xyzd 1.00 1-jan-2005 0 key1 "" DEMO`},
		{"v3 with NOTICE to v2", `INCREMENT f1 xyzd 1.000 1-jan-0 5 901234567890 HOSTID=INTERNET=195.186.*.* NOTICE="Licensed to XYZ corp"`, FlexV2,
			"!cannot convert to v2: v2 has no keyword=value attributes: NOTICE"},
		{"permanent uncounted to v5.1", "FEATURE f1 xyzd 1.0 permanent uncounted HOSTID=ANY SIGN=AB12", FlexV51,
			"FEATURE f1 xyzd 1.0 1-jan-0 0 AB12 HOSTID=ANY"},
		{"START to v5.1", "FEATURE f1 xyzd 1.0 permanent 3 START=1-jan-2005 SIGN=AB12", FlexV51,
			"!cannot convert to v5.1: START needs v6"},
		{"PLATFORMS to v5.1", `FEATURE f1 xyzd 1.0 1-jan-2005 3 k PLATFORMS="sun4_u5 x86_n3"`, FlexV51,
			`FEATURE f1 xyzd 1.0 1-jan-2005 3 k PLATFORMS="sun4_u5 x86_n3"`},
		{"DUP_GROUP to v3", "FEATURE f1 xyzd 1.0 1-jan-2005 3 k DUP_GROUP=UHD", FlexV3,
			"!cannot convert to v3: DUP_GROUP needs v4"},
		{"hostid list to v4", `FEATURE f1 xyzd 1.0 1-jan-2005 0 k HOSTID="12001234 1700ab12"`, FlexV4,
			"!cannot convert to v4: a hostid list needs v5"},
		{"BORROW", "FEATURE f1 xyzd 1.0 1-jan-2005 3 BORROW SIGN=AB12", FlexV71,
			"!cannot convert to v7.1: BORROW is newer than v7.1"},
		{"unsigned v7.1 to v6", "FEATURE f1 xyzd 1.0 permanent 3", FlexV6,
			"!cannot convert to v6: no license key or SIGN= to write in the key field"},
		{"key and SIGN to v7.1", "FEATURE f1 xyzd 1.0 permanent 3 k SIGN=AB12", FlexV71,
			"!cannot convert to v7.1: the line has both a license key and SIGN="},
		{"VENDOR to v5", "VENDOR xyzd /etc/xyzd options=/o port=2000", FlexV5,
			"DAEMON xyzd /etc/xyzd options=/o port=2000"},
		{"VENDOR to v4", "VENDOR xyzd /etc/xyzd options=/o", FlexV4, "DAEMON xyzd /etc/xyzd /o"},
		{"VENDOR port to v4", "VENDOR xyzd /etc/xyzd port=2000", FlexV4,
			"!cannot convert to v4: a vendor daemon port needs v5"},
		{"VENDOR without path to v5.1", "VENDOR xyzd", FlexV51,
			"!cannot convert to v5.1: a DAEMON line needs a path before v6"},
		{"VENDOR to v6", "VENDOR xyzd", FlexV6, "VENDOR xyzd"},
		{"USE_SERVER to v4", "USE_SERVER", FlexV4, "!cannot convert to v4: USE_SERVER needs v5"},
		{"SERVER heartbeat", "SERVER h 17007ea8 1700 HEARTBEAT_INTERVAL=30", FlexV71,
			"!cannot convert to v7.1: HEARTBEAT_INTERVAL is newer than v7.1"},
		{"SERVER to v2", "SERVER lulu 17001234 1700", FlexV2, "SERVER lulu 17001234 1700"},
		// PACKAGE came with v4, SN and the like with v5 (manual G.2).
		{"PACKAGE to v4", `PACKAGE suite xyzd 1.0 3B24B2F508CB COMPONENTS="comp1 comp2"`, FlexV4,
			`PACKAGE suite xyzd 1.0 3B24B2F508CB COMPONENTS="comp1 comp2"`},
		{"PACKAGE to v3", `PACKAGE suite xyzd 1.0 3B24B2F508CB COMPONENTS="comp1 comp2"`, FlexV3,
			"!cannot convert to v3: PACKAGE needs v4"},
		{"SN to v4", "FEATURE f1 xyzd 1.0 permanent 2 3B24B2F508CB SN=42", FlexV4,
			"!cannot convert to v4: SN needs v5"},
		{"SN to v5", "FEATURE f1 xyzd 1.0 1-jan-0 2 3B24B2F508CB SN=42", FlexV5,
			"FEATURE f1 xyzd 1.0 1-jan-0 2 3B24B2F508CB SN=42"},
		{"USER_BASED to v4", "FEATURE f1 xyzd 1.0 1-jan-0 2 3B24B2F508CB USER_BASED", FlexV4,
			"!cannot convert to v4: USER_BASED needs v5"},
		{"PACKAGE to v7.1", `PACKAGE suite xyzd 1.0 3B24B2F508CB COMPONENTS="comp1 comp2" OPTIONS=SUITE`, FlexV71,
			`PACKAGE suite xyzd 1.0 COMPONENTS="comp1 comp2" OPTIONS=SUITE SIGN=3B24B2F508CB`},
		{"uncounted node-locked UPGRADE to v5", "UPGRADE f1 xyzd 1.0 2.0 permanent uncounted HOSTID=ANY SIGN=AB12", FlexV5,
			"!cannot convert to v5: UPGRADE of an uncounted node-locked line needs v6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Convert(mustLine(t, tt.line), tt.v)
			if want, ok := strings.CutPrefix(tt.want, "!"); ok {
				if err == nil || err.Error() != want {
					t.Errorf("Convert = %q, %v; want error %q", got, err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Convert = %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

// TestConvertSigned converts a file signed by lmcrypt to every release
// that can hold its lines: each converted line still verifies, its
// signature kept in the license key field before v7.1.
func TestConvertSigned(t *testing.T) {
	f, err := ParseFile(filepath.Join("..", "testdata", "keys", "demo.lic"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(filepath.Join("..", "testdata", "keys", "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range FlexVersions {
		t.Run("v"+v.String(), func(t *testing.T) {
			var b strings.Builder
			for _, l := range f.Order {
				text, err := Convert(l, v)
				if err != nil {
					t.Logf("%v", err)
					continue
				}
				b.WriteString(text + "\n")
			}
			back, err := Parse(strings.NewReader(b.String()), "conv.lic")
			if err != nil {
				t.Fatal(err)
			}
			if v < FlexV3 {
				// Neither signed line has a vendor string: v2 cannot
				// hold them without changing what is signed.
				if len(back.Features) != 0 {
					t.Errorf("v2 conversion kept %d signed lines", len(back.Features))
				}
				return
			}
			if len(back.Features) != len(f.Features) {
				t.Fatalf("%d features converted, want %d:\n%s", len(back.Features), len(f.Features), b.String())
			}
			for _, l := range back.Features {
				if err := Verify(pub.Key, back, l); err != nil {
					t.Errorf("%s: %v", l, err)
				}
			}
		})
	}
}

// FuzzConvert checks that no parsed line makes Convert panic, and that
// whatever it writes reads back as a line that signs the same.
func FuzzConvert(f *testing.F) {
	for _, l := range allTestdataLines(f) {
		f.Add(l.String())
	}
	f.Fuzz(func(t *testing.T, src string) {
		file, _ := Parse(strings.NewReader(src), "fuzz.lic")
		for _, l := range file.Order {
			for _, v := range FlexVersions {
				text, err := Convert(l, v)
				if err != nil {
					continue
				}
				again, perr := parseOneLine(text)
				if perr != nil || !signsSame(l, again) {
					t.Fatalf("Convert(%q, v%s) = %q, which does not read back as the same license (%v)", l, v, text, perr)
				}
			}
		}
	})
}
