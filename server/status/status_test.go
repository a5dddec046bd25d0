package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"strings"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/status"
)

// fakeSource replays recorded status streams.
type fakeSource struct {
	server   *protocol.ServerStatus
	err      error
	vendors  []*protocol.VendorStatus
	features map[string][]protocol.Message // by vendor
	featErr  map[string]error
}

func (f *fakeSource) ServerStatus(context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	if f.err != nil {
		return nil, nil, f.err
	}
	return f.server, func(yield func(*protocol.VendorStatus, error) bool) {
		for _, v := range f.vendors {
			if !yield(v, nil) {
				return
			}
		}
	}, nil
}

func (f *fakeSource) FeatureStatus(_ context.Context, vendor, _ string) (iter.Seq2[protocol.Message, error], error) {
	if err := f.featErr[vendor]; err != nil {
		return nil, err
	}
	return func(yield func(protocol.Message, error) bool) {
		for _, m := range f.features[vendor] {
			if !yield(m, nil) {
				return
			}
		}
	}, nil
}

const start = 1700000000

// workload: f1 has 4 seats, 2 in use by alice and bob (bob 1 of them
// lingering), 1 reserved for carol and 2 queued by dave; f2 is an
// expiring nodelocked line with nobody; f3 has an error; vendor other
// is down.
func workload() *fakeSource {
	return &fakeSource{
		server:  &protocol.ServerStatus{Host: "lic1", Port: 27000, Version: "0.1.0", Master: true, LicenseFiles: []string{"/etc/golm/license.lic"}},
		vendors: []*protocol.VendorStatus{{Name: "demo", Up: true, Version: "0.1.0", Port: 40000}, {Name: "other", Code: -97, Minor: 121}},
		features: map[string][]protocol.Message{"demo": {
			&protocol.FeatureHeader{Name: "f1", Issued: 4, InUse: 3},
			&protocol.PoolStatus{Feature: "f1", Version: "1.0", Vendor: "demo", Expiry: "permanent", VendorString: "e2e", LicenseType: protocol.Floating, Issued: 4, InUse: 3},
			&protocol.UserEntry{User: "alice", Host: "h1", Display: "d1", Version: "1.0", ServerHost: "lic1", Port: 27000, Handle: 101, Start: start, Count: 1},
			&protocol.UserEntry{User: "bob", Host: "h2", Display: "d2", Version: "1.0", ServerHost: "lic1", Port: 27000, Handle: 102, Start: start + 60, Count: 1, LingerRemaining: 20, LingerTotal: 30},
			&protocol.UserEntry{User: "dave", Host: "h4", Display: "d4", Version: "1.0", ServerHost: "lic1", Port: 27000, Handle: 103, Count: 2, Queued: true},
			&protocol.ReservationEntry{Count: 1, Kind: "USER", Name: "carol", ServerHost: "lic1", Port: 27000},
			&protocol.FeatureHeader{Name: "f2", Issued: 1},
			&protocol.PoolStatus{Feature: "f2", Version: "2.0", Vendor: "demo", Expiry: "15-jan-2030", LicenseType: protocol.Nodelocked, HostID: "ID=7", Issued: 1},
			&protocol.FeatureHeader{Name: "f3", Code: -18, Minor: 147},
		}},
	}
}

func TestRead(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	s := status.Read(context.Background(), "", workload(), loc)
	if s.Name != "27000@lic1" || !s.Up || !s.Master || s.Error != nil {
		t.Fatalf("server: got %+v", s)
	}
	if len(s.Vendors) != 2 {
		t.Fatalf("got %d vendors, want 2", len(s.Vendors))
	}
	demo, other := s.Vendors[0], s.Vendors[1]
	if other.Up || other.Error == nil || other.Error.Code != -97 || len(other.Features) != 0 {
		t.Errorf("down vendor: got %+v", other)
	}
	if len(demo.Features) != 3 {
		t.Fatalf("got %d features, want 3", len(demo.Features))
	}
	f1, f2, f3 := demo.Features[0], demo.Features[1], demo.Features[2]
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"f1 issued", f1.Issued, 4}, {"f1 in use", f1.InUse, 3}, {"f1 queued", f1.Queued, 2}, {"f1 reserved", f1.Reserved, 1},
		{"f1 users", len(f1.Licenses[0].Users), 3}, {"f2 users", len(f2.Licenses[0].Users), 0}, {"f2 in use", f2.InUse, 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	l1 := f1.Licenses[0]
	if !l1.Permanent || l1.ExpiresAt != nil || l1.Type != status.TypeFloating || l1.VendorString != "e2e" {
		t.Errorf("f1 line: got %+v", l1)
	}
	if u := l1.Users[1]; u.Linger == nil || u.Linger.Remaining != 20 || u.Linger.Total != 30 || !u.Start.Equal(time.Unix(start+60, 0)) {
		t.Errorf("bob: got %+v", u)
	}
	if u := l1.Users[0]; u.Linger != nil || u.Queued {
		t.Errorf("alice: got %+v", u)
	}
	l2 := f2.Licenses[0]
	wantEnd := time.Date(2030, 1, 16, 0, 0, 0, 0, loc)
	if l2.Permanent || l2.ExpiryDate != "2030-01-15" || l2.ExpiresAt == nil || !l2.ExpiresAt.Equal(wantEnd) || l2.Type != status.TypeNodelocked || l2.HostID != "ID=7" {
		t.Errorf("f2 line: got %+v (expires %v, want %v)", l2, l2.ExpiresAt, wantEnd)
	}
	if f3.Error == nil || f3.Error.Code != -18 {
		t.Errorf("f3: got %+v", f3)
	}
}

func TestReadErrors(t *testing.T) {
	t.Run("lmgrd does not answer", func(t *testing.T) {
		s := status.Read(context.Background(), "27000@lic1", &fakeSource{err: lmerr.New(-15, 570)}, nil)
		if s.Up || s.Error == nil || s.Error.Code != -15 || s.Name != "27000@lic1" || s.Vendors == nil || s.LicenseFiles == nil {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("vendor daemon does not answer", func(t *testing.T) {
		src := workload()
		src.featErr = map[string]error{"demo": lmerr.New(-97, 121)}
		s := status.Read(context.Background(), "", src, nil)
		if d := s.Vendors[0]; d.Error == nil || d.Error.Code != -97 || len(d.Features) != 0 {
			t.Errorf("got %+v", d)
		}
	})
}

func document(t *testing.T) []byte {
	t.Helper()
	doc := status.New(time.Unix(start, 0).UTC())
	doc.Servers = append(doc.Servers, status.Read(context.Background(), "", workload(), time.UTC))
	var b bytes.Buffer
	if err := status.WriteJSON(&b, doc, false); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestValidate(t *testing.T) {
	good := document(t)
	if err := status.Validate(good); err != nil {
		t.Fatalf("a real document does not validate: %v\n%s", err, good)
	}
	// Each edit breaks one rule of the schema.
	for _, c := range []struct {
		name    string
		edit    func(m map[string]any)
		wantErr string
	}{
		{"missing top-level field", func(m map[string]any) { delete(m, "servers") }, `missing "servers"`},
		{"wrong version", func(m map[string]any) { m["schema_version"] = 2 }, "is not one of"},
		{"time not RFC 3339", func(m map[string]any) { m["time"] = "Mon 5/6/2019 18:20" }, "is not a date-time"},
		{"count not an integer", func(m map[string]any) { feature(m)["issued"] = 1.5 }, "want integer"},
		{"negative count", func(m map[string]any) { feature(m)["in_use"] = -1 }, "below the minimum"},
		{"unknown license type", func(m map[string]any) { license(m)["type"] = "borrowed" }, "is not one of"},
		{"user without handle", func(m map[string]any) { delete(user(m), "handle") }, `missing "handle"`},
		{"user start not a time", func(m map[string]any) { user(m)["start"] = 1700000000 }, "want string"},
		{"bad expiry date", func(m map[string]any) { licenseN(m, 1)["expiry_date"] = "15-jan-2030" }, "is not a date"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			c.edit(m)
			b, _ := json.Marshal(m)
			err := status.Validate(b)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("got %v, want an error with %q", err, c.wantErr)
			}
		})
	}
	t.Run("unknown fields are allowed", func(t *testing.T) {
		var m map[string]any
		json.Unmarshal(good, &m)
		m["added_later"] = true
		b, _ := json.Marshal(m)
		if err := status.Validate(b); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

func featureN(m map[string]any, i int) map[string]any {
	s := m["servers"].([]any)[0].(map[string]any)
	v := s["vendors"].([]any)[0].(map[string]any)
	return v["features"].([]any)[i].(map[string]any)
}
func feature(m map[string]any) map[string]any { return featureN(m, 0) }
func licenseN(m map[string]any, i int) map[string]any {
	return featureN(m, i)["licenses"].([]any)[0].(map[string]any)
}
func license(m map[string]any) map[string]any { return licenseN(m, 0) }
func user(m map[string]any) map[string]any {
	return license(m)["users"].([]any)[0].(map[string]any)
}

// TestSchemaFile checks that the schema names every field the Go types
// write, so that the file cannot fall behind the code.
func TestSchemaFile(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(status.SchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	defs := schema["$defs"].(map[string]any)
	props := func(s map[string]any) map[string]any { return s["properties"].(map[string]any) }
	var doc map[string]any
	json.Unmarshal(document(t), &doc)
	check := func(what string, obj map[string]any, s map[string]any) {
		for k := range obj {
			if _, ok := props(s)[k]; !ok {
				t.Errorf("%s: field %q is not in the schema", what, k)
			}
		}
	}
	check("document", doc, schema)
	srv := doc["servers"].([]any)[0].(map[string]any)
	check("server", srv, defs["server"].(map[string]any))
	v := srv["vendors"].([]any)[0].(map[string]any)
	check("vendor", v, defs["vendor"].(map[string]any))
	for i := range 3 {
		check("feature", featureN(doc, i), defs["feature"].(map[string]any))
	}
	check("license", license(doc), defs["license"].(map[string]any))
	check("license", licenseN(doc, 1), defs["license"].(map[string]any))
	for _, u := range license(doc)["users"].([]any) {
		check("user", u.(map[string]any), defs["user"].(map[string]any))
	}
	check("reservation", license(doc)["reservations"].([]any)[0].(map[string]any), defs["reservation"].(map[string]any))
	check("error", srv["vendors"].([]any)[1].(map[string]any)["error"].(map[string]any), defs["error"].(map[string]any))
}
