package licfile

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"
)

// benchLicense is a signed license file of lines lines (a SERVER, a
// VENDOR and FEATURE lines) and the key that verifies it.
func benchLicense(b *testing.B, lines int) ([]byte, ed25519.PublicKey) {
	b.Helper()
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64))) // fixed seed: same file every run
	if err != nil {
		b.Fatal(err)
	}
	var text bytes.Buffer
	text.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
	for i := range lines - 2 {
		fmt.Fprintf(&text, "FEATURE f%05d demo 1.0 permanent 10 VENDOR_STRING=\"bench %d\"\n", i, i)
	}
	f, err := Parse(bytes.NewReader(text.Bytes()), "bench.lic")
	if err != nil {
		b.Fatal(err)
	}
	signed, _, err := SignFile(text.Bytes(), f, map[string]ed25519.PrivateKey{"demo": priv})
	if err != nil {
		b.Fatal(err)
	}
	return signed, pub
}

// BenchmarkParseVerify measures parsing a signed license file and
// verifying every line's signature, as a vendor daemon does at start and
// at lmreread; one op is the whole file.
func BenchmarkParseVerify(b *testing.B) {
	for _, lines := range []int{100, 2000} {
		data, pub := benchLicense(b, lines)
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				f, err := Parse(bytes.NewReader(data), "bench.lic")
				if err != nil {
					b.Fatal(err)
				}
				lines := make([]Line, len(f.Features))
				for i, l := range f.Features {
					lines[i] = l
				}
				for _, err := range VerifyAll(pub, f, lines) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkParse measures parsing alone, without signatures, of a signed
// file of 3 lines, of 2,000 lines and of the 20,000 lines the benchmark
// suite reads.
func BenchmarkParse(b *testing.B) {
	for _, lines := range []int{3, 2000, 20000} {
		data, _ := benchLicense(b, lines)
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(bytes.NewReader(data), "bench.lic"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyAll measures VerifyAll over every line of a parsed
// 20,000-line signed file, with the manifest SignFile writes and with the
// manifest line taken out, so that each line is verified alone.
func BenchmarkVerifyAll(b *testing.B) {
	data, pub := benchLicense(b, 20000)
	i := bytes.Index(data, []byte("\n# golm-manifest "))
	if i < 0 {
		b.Fatal("no manifest in the signed file")
	}
	for _, bc := range []struct {
		name string
		data []byte
	}{{"manifest", data}, {"none", data[:i+1]}} {
		f, err := Parse(bytes.NewReader(bc.data), "bench.lic")
		if err != nil {
			b.Fatal(err)
		}
		lines := make([]Line, len(f.Features))
		for i, l := range f.Features {
			lines[i] = l
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range VerifyAll(pub, f, lines) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
