package bench

import (
	"crypto/ed25519"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRuns(t *testing.T) {
	tests := []struct {
		name         string
		runs         Runs
		median, half float64
	}{
		{"one", Runs{5}, 5, 0},
		{"odd", Runs{3, 1, 2}, 2, 50},
		{"even", Runs{4, 1, 3, 2}, 2.5, 60},
		{"zero median", Runs{0, 0, 0}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.runs.Median(); got != tt.median {
				t.Errorf("Median() = %v, want %v", got, tt.median)
			}
			if got := tt.runs.Spread(); math.Abs(got-tt.half) > 1e-9 {
				t.Errorf("Spread() = %v, want %v", got, tt.half)
			}
		})
	}
	if got := (Runs{}).Median(); !math.IsNaN(got) {
		t.Errorf("Median of no runs = %v, want NaN", got)
	}
	if got, want := (Runs{}).Format("x", 0), "n/a"; got != want {
		t.Errorf("Format of no runs = %q, want %q", got, want)
	}
	if got, want := (Runs{30000, 32000, 31000}).Format("pairs/s", 0), "31,000 pairs/s (30,000–32,000, n=3)"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

func TestGroup(t *testing.T) {
	tests := []struct {
		v      float64
		digits int
		want   string
	}{
		{0, 0, "0"},
		{999, 0, "999"},
		{1000, 0, "1,000"},
		{1234567.891, 2, "1,234,567.89"},
		{-12345, 0, "-12,345"},
		{math.Inf(1), 0, "+Inf"},
	}
	for _, tt := range tests {
		if got := Group(tt.v, tt.digits); got != tt.want {
			t.Errorf("Group(%v, %d) = %q, want %q", tt.v, tt.digits, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 1000; i++ {
		lat = append(lat, time.Duration(i)*time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{0.999, 999 * time.Microsecond},
		{1, 1000 * time.Microsecond},
		{0, 1 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := Percentile(lat, tt.q); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile of nothing = %v, want 0", got)
	}
}

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tlmutil\nPPid:\t42\nVmRSS:\t   12345 kB\n")
	tests := []struct {
		key     string
		want    int64
		wantErr bool
	}{
		{"VmRSS:", 12345 * 1024, false},
		{"PPid:", 42, false},
		{"VmHWM:", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := statusKB(status, tt.key)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("statusKB(%q) = %d, %v; want %d, error %v", tt.key, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRSSAndChildren(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	n, err := RSS(os.Getpid())
	if err != nil || n <= 0 {
		t.Errorf("RSS(self) = %d, %v; want a positive size", n, err)
	}
	m, err := ReadMemory(os.Getpid())
	if err != nil || m.RSS <= 0 || m.Anon+m.File > m.RSS+4096 {
		t.Errorf("ReadMemory(self) = %+v, %v; want RSS ≥ own + file", m, err)
	}
	if got := (Memory{RSS: 3 << 20, Anon: 1 << 20, File: 2 << 20}).String(); got != "3.0 MB (own 1.0 MB, binary 2.0 MB)" {
		t.Errorf("Memory.String() = %q", got)
	}
	kids, err := Children(os.Getppid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range kids {
		found = found || k == os.Getpid()
	}
	if !found {
		t.Errorf("Children(parent) = %v, want it to hold this process %d", kids, os.Getpid())
	}
}

func TestSignedLicenseVerifies(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	text := LicenseText(27000, 5, 3)
	if got := strings.Count(string(text), "\n"); got != 7 {
		t.Errorf("LicenseText has %d lines, want 7", got)
	}
	signed, err := SignLicense(text, priv)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseVerify(signed, pub)
	if err != nil || n != 5 {
		t.Errorf("ParseVerify = %d, %v; want 5 lines verified", n, err)
	}
	edited := strings.Replace(string(signed), "permanent 3", "permanent 4", 1)
	if _, err := ParseVerify([]byte(edited), pub); err == nil {
		t.Error("ParseVerify accepted an edited count")
	}
}

func TestWriteLicense(t *testing.T) {
	dir := t.TempDir()
	p, err := WriteLicense(dir, filepath.Join("..", "..", "testdata", "keys"), 27123, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SERVER this_host ANY 27123", "FEATURE f00002 demo 1.0 permanent 10", "FEATURE hot demo 1.0 permanent 10000", "SIGN="} {
		if !strings.Contains(string(data), want) {
			t.Errorf("license lacks %q:\n%s", want, data)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.pub")); err != nil {
		t.Errorf("no public key beside the license: %v", err)
	}
}

func TestEcho(t *testing.T) {
	xs := []Exchange{{Request: 30, Reply: 70}, {Request: 12, Reply: 9}}
	s, err := NewEchoServer("127.0.0.1:0", xs)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Serve(); close(done) }()
	c, err := DialEcho(s.Addr().String(), xs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := c.RoundTrip(); err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
	}
	s.Close()
	<-done
	if err := c.RoundTrip(); err == nil {
		t.Error("round trip after Close succeeded")
	}
	c.Close()
}

func TestCPUTime(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Skipf("no schedstat here: %v", err)
	}
	// Spin until this process's CPU time moves on: it must, and never back.
	deadline := time.Now().Add(10 * time.Second)
	for x := 0; ; x++ {
		after, err := CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after < before {
			t.Fatalf("CPU time went back from %v to %v", before, after)
		}
		if after > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v while spinning", before)
		}
	}
}

func TestListenOverflows(t *testing.T) {
	o, d, err := ListenOverflows()
	if err != nil {
		t.Skipf("no /proc/net/netstat here: %v", err)
	}
	if o < 0 || d < 0 || d < o {
		t.Errorf("ListenOverflows = %d, ListenDrops = %d: want 0 <= overflows <= drops", o, d)
	}
}

func TestParseUserSystem(t *testing.T) {
	tests := []struct {
		name, stat   string
		user, system time.Duration
		wantErr      bool
	}{
		{"plain", "1234 (demo) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 2500 * time.Millisecond, 750 * time.Millisecond, false},
		{"name with spaces and parens", "99 (a (b) c) R 1 2 3 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 70 * time.Millisecond, 30 * time.Millisecond, false},
		{"no name", "99 a R 1 2 3", 0, 0, true},
		{"short", "99 (a) R 1 2 3", 0, 0, true},
		{"not a number", "99 (a) R 1 2 3 0 -1 0 0 0 0 0 x 3 0", 0, 0, true},
		{"negative", "99 (a) R 1 2 3 0 -1 0 0 0 0 0 -4 3 0", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, s, err := parseUserSystem([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if u != tt.user || s != tt.system {
				t.Errorf("user %v system %v, want %v %v", u, s, tt.user, tt.system)
			}
		})
	}
	if _, _, err := UserSystem(os.Getpid()); err != nil {
		t.Skipf("no /proc/PID/stat here: %v", err)
	}
}
