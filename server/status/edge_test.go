package status_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/status"
)

func TestErrorOf(t *testing.T) {
	if e := status.ErrorOf(nil); e != nil {
		t.Errorf("ErrorOf(nil) = %+v", e)
	}
	le := lmerr.New(-15, 570)
	for _, c := range []struct {
		name string
		err  error
		want status.Error
	}{
		{"FlexLM error", le, status.Error{Code: -15, Minor: 570, Message: le.Error()}},
		{"wrapped FlexLM error", fmt.Errorf("dialling: %w", le), status.Error{Code: -15, Minor: 570, Message: le.Error()}},
		{"plain error", errors.New("no such file"), status.Error{Code: int(lmerr.NoConfFile), Message: "no such file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := status.ErrorOf(c.err); got == nil || *got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// brokenVendors is a source whose vendor list breaks after the first
// vendor daemon.
type brokenVendors struct{ *fakeSource }

func (b brokenVendors) ServerStatus(context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	return b.server, func(yield func(*protocol.VendorStatus, error) bool) {
		if yield(b.vendors[0], nil) {
			yield(nil, lmerr.New(-16, 571))
		}
	}, nil
}

// TestReadVendorListBreaks: lmgrd is up, the vendor daemons read before
// the break are kept with their features, and the break is the server's
// error.
func TestReadVendorListBreaks(t *testing.T) {
	s := status.Read(context.Background(), "", brokenVendors{workload()}, nil)
	if !s.Up || s.Name != "27000@lic1" || s.Error == nil || s.Error.Code != -16 || s.Error.Minor != 571 {
		t.Fatalf("server %+v error %+v", s, s.Error)
	}
	if len(s.Vendors) != 1 || s.Vendors[0].Name != "demo" || len(s.Vendors[0].Features) != 3 {
		t.Errorf("vendors %+v", s.Vendors)
	}
}

// featureStream is a source whose demo vendor daemon sends msgs, then
// err when it is set.
type featureStream struct {
	*fakeSource
	msgs []protocol.Message
	err  error
}

func (f featureStream) FeatureStatus(context.Context, string, string) (iter.Seq2[protocol.Message, error], error) {
	return func(yield func(protocol.Message, error) bool) {
		for _, m := range f.msgs {
			if !yield(m, nil) {
				return
			}
		}
		if f.err != nil {
			yield(nil, f.err)
		}
	}, nil
}

func TestReadFeaturesStream(t *testing.T) {
	user := &protocol.UserEntry{User: "ann", Host: "h", Count: 1}
	res := &protocol.ReservationEntry{Count: 2, Kind: "HOST", Name: "h9"}
	pool := &protocol.PoolStatus{Feature: "f", Version: "1.0", Vendor: "demo", Expiry: "permanent", Issued: 5}
	for _, c := range []struct {
		name string
		msgs []protocol.Message
		err  error
		want string // features as name:licenses/users/reserved, then the vendor's error code
	}{
		{"records before any header are dropped", []protocol.Message{pool, user, res, &protocol.FeatureHeader{Name: "f"}, pool, user, res}, nil, "[f:1/1/2] 0"},
		{"users before the header's first line are dropped", []protocol.Message{&protocol.FeatureHeader{Name: "f"}, user, res, pool, user}, nil, "[f:1/1/0] 0"},
		{"a new header starts without a line", []protocol.Message{&protocol.FeatureHeader{Name: "f"}, pool, &protocol.FeatureHeader{Name: "g"}, user, res}, nil, "[f:1/0/0 g:0/0/0] 0"},
		{"the stream breaks: the features read are kept", []protocol.Message{&protocol.FeatureHeader{Name: "f"}, pool, user}, lmerr.New(-16, 572), "[f:1/1/0] -16"},
		{"nothing", nil, nil, "[] 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := featureStream{fakeSource: workload(), msgs: c.msgs, err: c.err}
			s := status.Read(context.Background(), "", src, nil)
			v := s.Vendors[0]
			var fs []string
			for _, f := range v.Features {
				users := 0
				for _, l := range f.Licenses {
					users += len(l.Users)
				}
				fs = append(fs, fmt.Sprintf("%s:%d/%d/%d", f.Name, len(f.Licenses), users, f.Reserved))
			}
			code := 0
			if v.Error != nil {
				code = v.Error.Code
			}
			if got := fmt.Sprintf("%v %d", fs, code); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestLicenseExpiry: the type and expiry fields of a license line for
// each expiry a vendor daemon may send.
func TestLicenseExpiry(t *testing.T) {
	for _, c := range []struct {
		expiry    string
		typ       protocol.LicenseType
		permanent bool
		date      string
		wantType  string
	}{
		{"permanent", protocol.Floating, true, "", status.TypeFloating},
		{"PERMANENT", protocol.Floating, true, "", status.TypeFloating},
		{"", protocol.UncountedNodelocked, true, "", status.TypeUncounted},
		{"1-jan-0", protocol.Nodelocked, true, "", status.TypeNodelocked},
		{"29-feb-2028", protocol.Floating, false, "2028-02-29", status.TypeFloating},
		{"31-dec-99", protocol.Floating, false, "1999-12-31", status.TypeFloating},
		{"soon", protocol.Floating, false, "", status.TypeFloating},
	} {
		t.Run(c.expiry, func(t *testing.T) {
			src := featureStream{fakeSource: workload(), msgs: []protocol.Message{
				&protocol.FeatureHeader{Name: "f"},
				&protocol.PoolStatus{Feature: "f", Vendor: "demo", Expiry: c.expiry, LicenseType: c.typ},
			}}
			s := status.Read(context.Background(), "", src, time.UTC)
			l := s.Vendors[0].Features[0].Licenses[0]
			if l.Expiry != c.expiry || l.Permanent != c.permanent || l.ExpiryDate != c.date || l.Type != c.wantType {
				t.Errorf("got %+v", l)
			}
			if (l.ExpiresAt != nil) != (c.date != "") {
				t.Errorf("expires at %v with expiry date %q", l.ExpiresAt, c.date)
			}
		})
	}
}

// TestWriteJSONIndent pins the indented form, and the escaping of what
// means something to HTML.
func TestWriteJSONIndent(t *testing.T) {
	doc := status.New(time.Unix(start, 0).UTC())
	doc.Servers = append(doc.Servers, &status.Server{Name: "<b>&", LicenseFiles: []string{}, Vendors: []*status.Vendor{}})
	var b bytes.Buffer
	if err := status.WriteJSON(&b, doc, true); err != nil {
		t.Fatal(err)
	}
	want := `{
  "schema_version": 1,
  "schema": "golm-status-v1",
  "time": "2023-11-14T22:13:20Z",
  "servers": [
    {
      "name": "\u003cb\u003e\u0026",
      "up": false,
      "master": false,
      "license_files": [],
      "vendors": []
    }
  ]
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if err := status.Validate(b.Bytes()); err != nil {
		t.Errorf("the indented document does not validate: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSONError(t *testing.T) {
	if err := status.WriteJSON(failWriter{}, status.New(time.Unix(start, 0)), false); err == nil || err.Error() != "disk full" {
		t.Errorf("got %v, want the writer's error", err)
	}
}

// TestValidateBadInput: what is not a document at all.
func TestValidateBadInput(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
	}{
		{"not JSON", `{"schema_version":`, "unexpected end of JSON input"},
		{"null", `null`, "$: got null, want object"},
		{"an array", `[]`, "$: got array, want object"},
		{"servers null", `{"schema_version":1,"schema":"golm-status-v1","time":"2023-11-14T22:13:20Z","servers":null}`, "$.servers: got null, want array"},
		{"version not an integer", `{"schema_version":"1","schema":"golm-status-v1","time":"2023-11-14T22:13:20Z","servers":[]}`, "$.schema_version: got string, want integer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := status.Validate([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	if err := status.Validate([]byte(`{"schema_version":1,"schema":"golm-status-v1","time":"2023-11-14T22:13:20Z","servers":[]}`)); err != nil {
		t.Errorf("an empty document: %v", err)
	}
}
