package commands

import (
	"fmt"
	"io"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// statStream is what a vendor daemon streams for lmstat -a: features
// features of one floating line each, with users seats in use in each.
func statStream(features, users int) []protocol.Message {
	var ms []protocol.Message
	for f := range features {
		name := fmt.Sprintf("f%05d", f)
		ms = append(ms,
			&protocol.FeatureHeader{Name: name, Issued: 100, InUse: users},
			&protocol.PoolStatus{Feature: name, Version: "1.0", Vendor: "demo", Expiry: "permanent", VendorString: "bench", Issued: 100, InUse: users})
		for u := range users {
			ms = append(ms, &protocol.UserEntry{User: fmt.Sprintf("u%d", f*users+u), Host: "host1", Display: fmt.Sprintf(":%d", u),
				Version: "1.0", ServerHost: "srv", Port: 27000, Handle: uint64(101 + f*users + u), Start: 1700000000, Count: 1})
		}
	}
	return ms
}

// BenchmarkStatRender measures rendering lmstat -a's feature section for
// 10,000 seats over 1,000 features, the records as they arrive from the
// vendor daemon; one op is the whole table.
func BenchmarkStatRender(b *testing.B) {
	ms := statStream(1000, 10)
	var out countingWriter
	b.ReportAllocs()
	for b.Loop() {
		w := newStatWriter(&out, statMode{server: true, vendors: true, features: true}, time.UTC)
		for _, m := range ms {
			w.message(m)
		}
		w.endFeature()
	}
	b.ReportMetric(float64(out.n)/float64(b.N), "bytes/op")
}

// BenchmarkUserLine measures one user line of lmstat -a.
func BenchmarkUserLine(b *testing.B) {
	u := &protocol.UserEntry{User: "alice", Host: "host1", Display: "/dev/pts/1", Version: "1.0", ServerHost: "srv", Port: 27000, Handle: 401, Start: 1700000000, Count: 1}
	b.ReportAllocs()
	for b.Loop() {
		io.WriteString(io.Discard, userLine(u, time.UTC, false))
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
