package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// The scaling benchmarks print curves: each runs at sizes a decade
// apart, and the cost per operation must grow no faster than the size
// (start-up and reread) or not at all (a checkout, lmstat per seat).
// The largest sizes run only with -bench; the tests in scale_test.go
// check the same paths at a small size.

// scaleLicense is a license text of n FEATURE and INCREMENT lines as
// scaleLines makes them, for the vendor daemon benchmarks.
func scaleLicense(n int) string {
	var b strings.Builder
	b.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
	for i, k := 0, 0; k < n; i++ {
		fmt.Fprintf(&b, "FEATURE f%06d demo 1.0 permanent 10\n", i)
		k++
		for j := 0; j < 3 && k < n; j++ {
			v := "1.0"
			if j == 2 {
				v = "2.0"
			}
			fmt.Fprintf(&b, "INCREMENT f%06d demo %s permanent 5\n", i, v)
			k++
		}
	}
	return b.String()
}

// BenchmarkVendorStart measures a vendor daemon's start-up on a signed
// license file of n lines: reading, verifying, building the pools and
// the state, binding its port. BenchmarkVendorReread measures its
// lmreread of the same file.
func BenchmarkVendorStart(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			cfg := scaleVendorConfig(b, n)
			b.ReportAllocs()
			for b.Loop() {
				v, err := NewVendor(cfg)
				if err != nil {
					b.Fatal(err)
				}
				v.Shutdown(context.Background())
			}
		})
	}
}

func BenchmarkVendorReread(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			v, err := NewVendor(scaleVendorConfig(b, n))
			if err != nil {
				b.Fatal(err)
			}
			defer v.Shutdown(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Reread(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func scaleVendorConfig(tb testing.TB, n int) VendorConfig {
	dir := tb.TempDir()
	p := signedLicense(tb, dir, scaleLicense(n))
	return VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0", ServerHost: "srv",
		LmgrdPort: 27000, Executable: filepath.Join(dir, "demo")}
}
