package licfile

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestParseAllocatesForItsSize checks that the parser's preallocated
// blocks follow the file: a license of a few lines must not pay for the
// blocks a file of thousands of lines is carved from.
func TestParseAllocatesForItsSize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		features int
		maxBytes int64 // per parse
	}{
		{"3 lines", 1, 16 << 10},
		{"10 lines", 8, 32 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var text strings.Builder
			text.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
			for i := range tc.features {
				fmt.Fprintf(&text, "FEATURE f%d demo 1.0 permanent 10 VENDOR_STRING=\"v %d\" SIGN=0\n", i, i)
			}
			data := []byte(text.String())
			const runs = 50
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				if _, err := Parse(bytes.NewReader(data), "small.lic"); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			got := int64(after.TotalAlloc-before.TotalAlloc) / runs
			t.Logf("%d lines: %d bytes a parse", tc.features+2, got)
			if got > tc.maxBytes || got == 0 {
				t.Errorf("parsing %d lines allocates %d bytes, want at most %d", tc.features+2, got, tc.maxBytes)
			}
		})
	}
}

// TestParseBigFileInBlocks checks that sizing the blocks to the file
// keeps a big file carved out of few allocations, not one per line.
func TestParseBigFileInBlocks(t *testing.T) {
	var text strings.Builder
	text.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
	const features = 20000
	for i := range features {
		fmt.Fprintf(&text, "FEATURE f%05d demo 1.0 permanent 10 VENDOR_STRING=\"v %d\" SIGN=0\n", i, i)
	}
	data := []byte(text.String())
	got := testing.AllocsPerRun(2, func() {
		if _, err := Parse(bytes.NewReader(data), "big.lic"); err != nil {
			t.Fatal(err)
		}
	})
	if got > features/50 {
		t.Errorf("parsing %d lines: %.0f allocations, want at most %d", features+2, got, features/50)
	}
}
