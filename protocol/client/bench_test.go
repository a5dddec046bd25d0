package client

import (
	"context"
	"testing"
)

// BenchmarkCheckoutCheckin is the client's side of a checkout+checkin
// pair on an open connection, against the in-process fake server.
func BenchmarkCheckoutCheckin(b *testing.B) {
	f := newFakeServer(b, map[string]int{"f1": 1})
	j, err := Open(context.Background(), f.spec(), testOpts()...)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		lic, err := j.Checkout(ctx, "f1", "1.0", 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := lic.Checkin(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewClient is a whole short-lived client against the fake
// server: open a job, ask lmgrd, connect to the vendor daemon, check
// out, check in, close.
func BenchmarkNewClient(b *testing.B) {
	f := newFakeServer(b, map[string]int{"f1": 1})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		j, err := Open(ctx, f.spec(), testOpts()...)
		if err != nil {
			b.Fatal(err)
		}
		lic, err := j.Checkout(ctx, "f1", "1.0", 1)
		if err != nil {
			b.Fatal(err)
		}
		if err := lic.Checkin(ctx); err != nil {
			b.Fatal(err)
		}
		j.Close()
	}
}
