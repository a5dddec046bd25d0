package licfile

import (
	"strings"
	"testing"
)

func TestDemoHostIDOnlyUncounted(t *testing.T) {
	tests := []struct {
		name, line string
		wantErr    string // "" for a good line
	}{
		{"uncounted demo", "FEATURE f1 demo 1.0 permanent uncounted HOSTID=DEMO SIGN=AAAA", ""},
		{"zero count demo", "FEATURE f1 demo 1.0 permanent 0 HOSTID=DEMO SIGN=AAAA", ""},
		{"counted demo", "FEATURE f1 demo 1.0 permanent 4 HOSTID=DEMO SIGN=AAAA", "x.lic:1:33: HOSTID=DEMO on a counted line (-2)"},
		{"counted demo lower case", "INCREMENT f1 demo 1.0 permanent 1 HOSTID=demo SIGN=AAAA", "x.lic:1:35: HOSTID=DEMO on a counted line (-2)"},
		{"counted demo in a list", "FEATURE f1 demo 1.0 permanent 2 HOSTID=\"ANY DEMO\" SIGN=AAAA", "x.lic:1:33: HOSTID=DEMO on a counted line (-2)"},
		{"counted demo v2 positional", "FEATURE f1 demo 1.0 1-jan-2005 2 0123456789AB \"vs\" DEMO", "x.lic:1:1: HOSTID=DEMO on a counted line (-2)"},
		{"counted any", "FEATURE f1 demo 1.0 permanent 4 HOSTID=ANY SIGN=AAAA", ""},
		{"counted upgrade demo", "UPGRADE f1 demo 1.0 2.0 permanent 4 HOSTID=DEMO SIGN=AAAA", "x.lic:1:37: HOSTID=DEMO on a counted line (-2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tt.line+"\n"), "x.lic")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("Parse error = %q, want %q", got, tt.wantErr)
			}
			if tt.wantErr != "" && (CodeOf(err) != -2 || len(f.Features) != 0) {
				t.Errorf("CodeOf = %d, features kept %d; want -2 and the line left out", CodeOf(err), len(f.Features))
			}
		})
	}
}

func TestAllowsPlatform(t *testing.T) {
	tests := []struct {
		name      string
		platforms []string
		platform  string
		want      bool
	}{
		{"no list", nil, "x64_lsb", true},
		{"no list unknown platform", nil, "", true},
		{"listed", []string{"sun4_u5", "x64_lsb"}, "x64_lsb", true},
		{"listed other case", []string{"X64_LSB"}, "x64_lsb", true},
		{"not listed", []string{"i86_n3", "sun4_u5"}, "x64_lsb", false},
		{"prefix only", []string{"x64"}, "x64_lsb", false},
		{"unknown platform", []string{"x64_lsb"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Feature{Platforms: tt.platforms}
			if got := f.AllowsPlatform(tt.platform); got != tt.want {
				t.Errorf("AllowsPlatform(%q) with %q = %v, want %v", tt.platform, tt.platforms, got, tt.want)
			}
		})
	}
}

func TestPlatformName(t *testing.T) {
	for _, tt := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "x64_lsb"}, {"linux", "386", "i86_lsb"}, {"linux", "arm64", "a64_lsb"},
		{"darwin", "arm64", "a64_mac"}, {"windows", "amd64", "x64_n6"}, {"windows", "386", "i86_n3"},
		{"linux", "riscv64", "riscv64_linux"}, {"", "", ""},
	} {
		if got := PlatformName(tt.goos, tt.goarch); got != tt.want {
			t.Errorf("PlatformName(%q, %q) = %q, want %q", tt.goos, tt.goarch, got, tt.want)
		}
	}
}

// TestKeywordsKnownToTheParser: every line keyword and attribute that
// Keywords lists (and the documentation is checked against) is one the
// parser accepts, and a keyword it does not list is unknown (-90).
func TestKeywordsKnownToTheParser(t *testing.T) {
	known := map[string]bool{}
	for _, k := range Keywords() {
		known[k] = true
	}
	for _, k := range lineKeywords {
		t.Run(k, func(t *testing.T) {
			_, err := Parse(strings.NewReader(k+" x y 1.0 permanent 1\n"), "x.lic")
			if err != nil && strings.Contains(err.Error(), "unknown line keyword") {
				t.Errorf("%s: %v", k, err)
			}
		})
	}
	for k := range featureKeys {
		if !known[k] {
			t.Errorf("Keywords lacks attribute %s", k)
		}
	}
	for _, k := range []string{"LICENSE", "FEATURES", "SERVERS"} {
		_, err := Parse(strings.NewReader(k+" x y 1.0 permanent 1\n"), "x.lic")
		if CodeOf(err) != -90 || known[k] {
			t.Errorf("%s: error %v (known %v), want -90 and not listed", k, err, known[k])
		}
	}
	_, err := Parse(strings.NewReader("FEATURE f1 demo 1.0 permanent 1 PLATFORM=x64_lsb\n"), "x.lic")
	if CodeOf(err) != -90 || known["PLATFORM"] {
		t.Errorf("PLATFORM=: error %v, want -90 and not listed", err)
	}
}
