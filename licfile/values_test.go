package licfile

import (
	"errors"
	"testing"
	"time"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		int  uint64
		frac string
		err  bool
	}{
		{"1", 1, "", false},
		{"1.000", 1, "", false},
		{"2.300", 2, "3", false},
		{"2016.050", 2016, "05", false},
		{".5", 0, "5", false},
		{"1.", 1, "", false},
		{"", 0, "", true},
		{".", 0, "", true},
		{"1.0a", 0, "", true},
		{"v2", 0, "", true},
		{"1.2.3", 0, "", true},
		{"-1", 0, "", true},
		{"99999999999999999999999", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseVersion(tt.in)
			if tt.err {
				if !errors.Is(err, ErrVersion) || CodeOf(err) != -77 {
					t.Fatalf("ParseVersion(%q) error = %v, want ErrVersion (-77)", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseVersion(%q): %v", tt.in, err)
			}
			if v.Int != tt.int || v.Frac != tt.frac || v.Text != tt.in {
				t.Errorf("ParseVersion(%q) = %+v, want Int %d Frac %q", tt.in, v, tt.int, tt.frac)
			}
		})
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.000", 0},
		{"2.300", "2.3", 0},
		{"1.10", "1.9", -1},
		{"1.9", "1.10", 1},
		{"1.12", "1.9", -1},
		{"10", "9.99", 1},
		{"1.05", "1.5", -1},
		{"2016.050", "2016.05", 0},
		{"0.1", ".1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			a, _ := ParseVersion(tt.a)
			b, _ := ParseVersion(tt.b)
			if got := a.Compare(b); got != tt.want {
				t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := b.Compare(a); got != -tt.want {
				t.Errorf("%s.Compare(%s) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in        string
		y         int
		m         time.Month
		d         int
		permanent bool
		err       bool
	}{
		{"7-may-1996", 1996, time.May, 7, false, false},
		{"31-MAY-2025", 2025, time.May, 31, false, false},
		{"01-Jan-2005", 2005, time.January, 1, false, false},
		{"1-jan-99", 1999, time.January, 1, false, false},
		{"1-jan-0", 0, time.January, 1, true, false},
		{"1-jan-00", 0, time.January, 1, true, false},
		{"1-jan-000", 0, time.January, 1, true, false},
		{"01-jan-0000", 0, time.January, 1, true, false},
		{"permanent", 0, time.January, 1, true, false},
		{"PERMANENT", 0, time.January, 1, true, false},
		{"29-feb-2024", 2024, time.February, 29, false, false},
		{"29-feb-2023", 0, 0, 0, false, true},
		{"31-foo-2005", 0, 0, 0, false, true},
		{"0-jan-2005", 0, 0, 0, false, true},
		{"32-jan-2005", 0, 0, 0, false, true},
		{"1-jan-205", 0, 0, 0, false, true},
		{"1-jan-5", 0, 0, 0, false, true},
		{"1-jan-20055", 0, 0, 0, false, true},
		{"1-jan", 0, 0, 0, false, true},
		{"", 0, 0, 0, false, true},
		{"1-jan-2005-x", 0, 0, 0, false, true},
		{"+1-jan-2005", 0, 0, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDate(tt.in)
			if tt.err {
				if !errors.Is(err, ErrDate) || CodeOf(err) != -11 {
					t.Fatalf("ParseDate(%q) error = %v, want ErrDate (-11)", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tt.in, err)
			}
			if d.Year != tt.y || d.Month != tt.m || d.Day != tt.d || d.Permanent() != tt.permanent || d.Text != tt.in {
				t.Errorf("ParseDate(%q) = %+v permanent %v, want %d-%v-%d permanent %v", tt.in, d, d.Permanent(), tt.d, tt.m, tt.y, tt.permanent)
			}
		})
	}
}

func TestDateExpired(t *testing.T) {
	loc := time.FixedZone("X", 5*3600)
	tests := []struct {
		date string
		now  time.Time
		want bool
	}{
		{"31-dec-2005", time.Date(2005, 12, 31, 23, 59, 0, 0, time.UTC), false},
		{"31-dec-2005", time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"31-dec-2005", time.Date(2005, 12, 31, 23, 0, 0, 0, loc), false},
		{"1-jan-2005", time.Date(2004, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{"15-mar-2005", time.Date(2005, 4, 1, 0, 0, 0, 0, time.UTC), true},
		{"15-mar-2005", time.Date(2005, 3, 16, 0, 0, 0, 0, time.UTC), true},
		{"1-jan-0", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"permanent", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.date+"_at_"+tt.now.Format(time.RFC3339), func(t *testing.T) {
			d, err := ParseDate(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Expired(tt.now); got != tt.want {
				t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestDateTime(t *testing.T) {
	d, _ := ParseDate("7-may-1996")
	if got, want := d.Time(), time.Date(1996, 5, 7, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	p, _ := ParseDate("permanent")
	if got := p.Time(); !got.IsZero() {
		t.Errorf("permanent Time() = %v, want the zero Time", got)
	}
}

func TestParseHostID(t *testing.T) {
	tests := []struct {
		in    string
		typ   HostIDType
		value string
	}{
		{"08002b32b161", HostIDEther, "08002b32b161"},
		{"08002B32B161", HostIDEther, "08002b32b161"},
		{"17007ea8", HostIDLong, "17007ea8"},
		{"0122345", HostIDLong, "122345"},
		{"778DA450", HostIDLong, "778da450"},
		{"#2005771344", HostIDDecimal, "778da450"},
		{"ANY", HostIDAny, "ANY"},
		{"any", HostIDAny, "ANY"},
		{"DEMO", HostIDDemo, "DEMO"},
		{"HOSTNAME=globes", HostIDHostname, "globes"},
		{"USER=joe", HostIDUser, "joe"},
		{"DISPLAY=bigbrush:0.0", HostIDDisplay, "bigbrush:0.0"},
		{"INTERNET=198.156.*.*", HostIDInternet, "198.156.*.*"},
		{"ID=1234-5678", HostIDID, "12345678"},
		{"ID=12345678", HostIDID, "12345678"},
		{"DISK_SERIAL_NUM=3e2e17fd", HostIDOther, "3e2e17fd"},
		{"FLEXID=7-b28520b9", HostIDOther, "7-b28520b9"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := ParseHostID(tt.in)
			if err != nil {
				t.Fatalf("ParseHostID(%q): %v", tt.in, err)
			}
			if h.Type != tt.typ || h.Value != tt.value || h.Text != tt.in {
				t.Errorf("ParseHostID(%q) = %+v, want type %d value %q", tt.in, h, tt.typ, tt.value)
			}
		})
	}
	for _, bad := range []string{"", "nothex", "zz17001234", "#", "#12x", "HOSTNAME=", "=x", "INTERNET=1.2.3", "INTERNET=1.2.3.256", "INTERNET=a.b.c.d", "ID=12ab", "ID=--", "0123456789abcdef01", "1-2=3"} {
		t.Run("bad_"+bad, func(t *testing.T) {
			if _, err := ParseHostID(bad); !errors.Is(err, ErrHostID) {
				t.Errorf("ParseHostID(%q) error = %v, want ErrHostID", bad, err)
			}
		})
	}
}

func TestHostIDMatches(t *testing.T) {
	m := &Machine{
		Ethers:   []string{"0800200005ac", "00c04f9a7e21"},
		Hostname: "globes.example.com",
		User:     "joe",
		Display:  ":0",
		IPs:      []string{"127.0.0.1", "198.156.7.42"},
		Long:     "778da450",
	}
	tests := []struct {
		hostid string
		want   bool
	}{
		{"ANY", true},
		{"DEMO", true},
		{"ID=1234-5678", true},
		{"0800200005AC", true},
		{"00c04f9a7e22", false},
		{"778DA450", true},
		{"0778da450", true},
		{"#2005771344", true},
		{"#2005771345", false},
		{"HOSTNAME=globes", true},
		{"HOSTNAME=GLOBES.example.com", true},
		{"HOSTNAME=other", false},
		{"USER=joe", true},
		{"USER=Joe", false},
		{"DISPLAY=:0", true},
		{"DISPLAY=:1", false},
		{"INTERNET=198.156.*.*", true},
		{"INTERNET=198.157.*.*", false},
		{"INTERNET=*.*.*.42", true},
		{"FLEXID=7-b28520b9", false},
	}
	for _, tt := range tests {
		t.Run(tt.hostid, func(t *testing.T) {
			h, err := ParseHostID(tt.hostid)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Matches(m); got != tt.want {
				t.Errorf("%s.Matches = %v, want %v", tt.hostid, got, tt.want)
			}
		})
	}
	t.Run("nil machine", func(t *testing.T) {
		any, _ := ParseHostID("ANY")
		user, _ := ParseHostID("USER=joe")
		if !any.Matches(nil) || user.Matches(nil) {
			t.Errorf("with a nil Machine: ANY matches %v (want true), USER=joe %v (want false)", any.Matches(nil), user.Matches(nil))
		}
	})
}

func TestHostIDList(t *testing.T) {
	l, err := ParseHostIDList("12001234  1700ab12 USER=joe")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.String(), "12001234 1700ab12 USER=joe"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	tests := []struct {
		name string
		m    *Machine
		want bool
	}{
		{"second member", &Machine{Long: "1700AB12"}, true},
		{"third member", &Machine{User: "joe"}, true},
		{"none", &Machine{Long: "1", User: "ann"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Matches(tt.m); got != tt.want {
				t.Errorf("Matches(%+v) = %v, want %v", tt.m, got, tt.want)
			}
		})
	}
	if !(HostIDList(nil)).Matches(&Machine{}) {
		t.Error("an empty (floating) list must match every machine")
	}
	if _, err := ParseHostIDList("  "); !errors.Is(err, ErrHostID) {
		t.Errorf("empty list error = %v, want ErrHostID", err)
	}
}

func TestComponent(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		version string
		count   int
		err     bool
	}{
		{"comp1", "comp1", "", 0, false},
		{"comp1:1.5", "comp1", "1.5", 0, false},
		{"comp3:2.0:4", "comp3", "2.0", 4, false},
		{"c1::4", "c1", "", 4, false},
		{"c1:1.x", "", "", 0, true},
		{"c1:1.0:0", "", "", 0, true},
		{"c1:1.0:x", "", "", 0, true},
		{":1.0", "", "", 0, true},
		{"a:1:2:3", "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseComponent(tt.in)
			if tt.err {
				if !errors.Is(err, ErrPackage) {
					t.Fatalf("ParseComponent(%q) error = %v, want ErrPackage", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.name || c.Version.Text != tt.version || c.Count != tt.count {
				t.Errorf("ParseComponent(%q) = %+v", tt.in, c)
			}
			if got := c.String(); got != tt.in {
				t.Errorf("String() = %q, want %q", got, tt.in)
			}
		})
	}
}
