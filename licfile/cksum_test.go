package licfile

import (
	"strings"
	"testing"
)

func TestReduce(t *testing.T) {
	tests := []struct {
		name string
		sum  uint32
		want int
	}{
		{"zero", 0, 0},
		{"one byte", 0xbb, 0xbb},
		{"two bytes", 0x2bb, 0xbd},
		{"carry wraps", 0xffff, 0xfe},
		{"four bytes", 0x01020304, 10},
		{"all ones", 0xffffffff, 0xfc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reduce(tt.sum); got != tt.want {
				t.Errorf("Reduce(%#x) = %d, want %d", tt.sum, got, tt.want)
			}
		})
	}
}

func TestChecksumManualExamples(t *testing.T) {
	// Manual 7.3's example output: the SERVER and DAEMON lines sum to
	// 189 and 166.
	server := &Server{
		Span:   Span{Raw: "SERVER speedy 08002b32b161 2837"},
		Host:   "speedy",
		HostID: HostID{Type: HostIDEther, Text: "08002b32b161", Value: "08002b32b161"},
		Port:   2837,
	}
	daemon := &Vendor{
		Span:    Span{Raw: `DAEMON xyzd C:\flexlm\xyzd.exe`},
		Keyword: "DAEMON",
		Name:    "xyzd",
		Path:    `C:\flexlm\xyzd.exe`,
	}
	tests := []struct {
		name string
		line Line
		k    bool
		want int
	}{
		{"SERVER", server, false, 189},
		{"SERVER -k", server, true, 189},
		{"DAEMON", daemon, false, 166},
		{"DAEMON -k", daemon, true, 166},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LineChecksum(tt.line, nil, tt.k); got != tt.want {
				t.Errorf("checksum of %q = %d, want %d (text %q)", tt.line.LineSpan().Raw, got, tt.want, ChecksumText(tt.line, nil, tt.k))
			}
		})
	}
}

func TestChecksumIgnoresEditableFields(t *testing.T) {
	base := &Server{HostID: HostID{Type: HostIDEther, Text: "08002b32b161", Value: "08002b32b161"}, Host: "speedy", Port: 2837}
	moved := &Server{HostID: HostID{Type: HostIDEther, Text: "08002B32B161", Value: "08002b32b161"}, Host: "other", Port: 1700}
	if a, b := LineChecksum(base, nil, false), LineChecksum(moved, nil, false); a != b {
		t.Errorf("SERVER checksum changed with host, port and hex case: %d vs %d", a, b)
	}
	if a, b := LineChecksum(base, nil, true), LineChecksum(moved, nil, true); a == b {
		t.Errorf("case-sensitive SERVER checksum ignored the hex case: both %d", a)
	}
	d1 := &Vendor{Keyword: "DAEMON", Name: "xyzd", Path: "/etc/xyzd"}
	d2 := &Vendor{Keyword: "DAEMON", Name: "xyzd", Path: "/opt/xyzd", Options: "/x.opt", Port: 5}
	if a, b := LineChecksum(d1, nil, false), LineChecksum(d2, nil, false); a != b {
		t.Errorf("DAEMON checksum changed with path, options and port: %d vs %d", a, b)
	}
}

func TestFeatureChecksum(t *testing.T) {
	f := testFeature()
	servers := testServers()
	folded := LineChecksum(f, servers, false)
	if want := Checksum(strings.ToLower(SignedText(f, servers))); folded != want {
		t.Errorf("feature checksum = %d, want checksum of folded signed form %d", folded, want)
	}
	g := testFeature()
	g.Name = strings.ToUpper(g.Name)
	if got := LineChecksum(g, servers, false); got != folded {
		t.Errorf("case-folded checksum changed with the name's case: %d, want %d", got, folded)
	}
	if a, b := LineChecksum(f, servers, true), LineChecksum(g, servers, true); a == b {
		t.Errorf("case-sensitive checksum ignored the name's case: both %d", a)
	}
	h := testFeature()
	h.Count++
	if got := LineChecksum(h, servers, false); got == folded {
		t.Errorf("checksum did not change with the count: %d", got)
	}
}

func TestCheckCk(t *testing.T) {
	servers := testServers()
	f := testFeature()
	if ok, has := CheckCk(f, servers); !ok || has {
		t.Errorf("CheckCk without ck= = %v, %v; want true, false", ok, has)
	}
	f.Ck, f.HasCk = LineChecksum(f, servers, false), true
	if ok, has := CheckCk(f, servers); !ok || !has {
		t.Errorf("CheckCk with the right ck= = %v, %v; want true, true", ok, has)
	}
	f.Ck = (f.Ck + 1) % 256
	if ok, has := CheckCk(f, servers); ok || !has {
		t.Errorf("CheckCk with a wrong ck= = %v, %v; want false, true", ok, has)
	}
}

func TestFileChecksum(t *testing.T) {
	server := &Server{HostID: HostID{Type: HostIDEther, Text: "08002b32b161", Value: "08002b32b161"}}
	daemon := &Vendor{Keyword: "DAEMON", Name: "xyzd"}
	lines := []Line{server, daemon}
	// 699 + 931 = 1630 = 0x65e → 0x06 + 0x5e = 100.
	if got := FileChecksum(lines, nil, false); got != 100 {
		t.Errorf("FileChecksum = %d, want 100", got)
	}
	if got := FileChecksum(nil, nil, false); got != 0 {
		t.Errorf("FileChecksum of nothing = %d, want 0", got)
	}
}
