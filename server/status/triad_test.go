package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/status"
)

type closer struct{ *fakeSource }

func (closer) Close() error { return nil }

// member is a member of a triad on lic1..lic3, the master or not.
func member(host string, master bool) *fakeSource {
	f := workload()
	f.server = &protocol.ServerStatus{Host: host, Port: 27000, Version: "0.1.0", Master: master, LicenseFiles: []string{"/etc/golm/license.lic"}}
	return f
}

var triadNames = []string{"27000@lic1", "27000@lic2", "27000@lic3"}

// triadDial dials the members of srcs, nil being a member that is down.
func triadDial(srcs ...*fakeSource) func(context.Context, int) (status.Conn, error) {
	return func(_ context.Context, i int) (status.Conn, error) {
		if srcs[i] == nil {
			return nil, lmerr.New(-15, 570)
		}
		return closer{srcs[i]}, nil
	}
}

func TestReadTriad(t *testing.T) {
	for _, c := range []struct {
		name    string
		srcs    []*fakeSource
		up      []bool
		master  int    // the member marked master, -1 for none
		lead    string // the host the triad's fields are of, "" when down
		errCode int
	}{
		{"master second, third down", []*fakeSource{member("lic1", false), member("lic2", true), nil}, []bool{true, true, false}, 1, "lic2", 0},
		{"first down", []*fakeSource{nil, member("lic2", false), member("lic3", true)}, []bool{false, true, true}, 2, "lic3", 0},
		{"no master: the first up answers", []*fakeSource{nil, member("lic2", false), member("lic3", false)}, []bool{false, true, true}, -1, "lic2", 0},
		{"all down", []*fakeSource{nil, nil, nil}, []bool{false, false, false}, -1, "", -15},
		{"lmgrd answers, its vendor list fails", []*fakeSource{{err: lmerr.New(-16, 571)}, member("lic2", true), member("lic3", false)}, []bool{false, true, true}, 1, "lic2", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := status.ReadTriad(context.Background(), triadNames, triadDial(c.srcs...), time.UTC, -1)
			if s.Name != "27000@lic1,27000@lic2,27000@lic3" {
				t.Errorf("name %q", s.Name)
			}
			if len(s.Members) != 3 {
				t.Fatalf("%d members", len(s.Members))
			}
			for i, m := range s.Members {
				if m.Name != triadNames[i] || m.Up != c.up[i] || m.Master != (i == c.master) {
					t.Errorf("member %d: %+v, want %s up %v master %v", i, m, triadNames[i], c.up[i], i == c.master)
				}
				if m.Up && (m.Version != "0.1.0" || m.Error != nil) || !m.Up && (m.Error == nil || m.Version != "") {
					t.Errorf("member %d: version %q error %+v", i, m.Version, m.Error)
				}
			}
			if s.Host != c.lead || s.Up != (c.lead != "") {
				t.Errorf("the triad's fields are of %q (up %v), want %q", s.Host, s.Up, c.lead)
			}
			if c.lead != "" && (len(s.Vendors) != 2 || len(s.Vendors[0].Features) != 3) {
				t.Errorf("the leading member's vendors and features are missing: %+v", s.Vendors)
			}
			if c.errCode != 0 && (s.Error == nil || s.Error.Code != c.errCode) || c.errCode == 0 && s.Error != nil {
				t.Errorf("error %+v, want code %d", s.Error, c.errCode)
			}
			doc := status.New(time.Unix(start, 0).UTC())
			doc.Servers = append(doc.Servers, s)
			var b bytes.Buffer
			if err := status.WriteJSON(&b, doc, false); err != nil {
				t.Fatal(err)
			}
			if err := status.Validate(b.Bytes()); err != nil {
				t.Errorf("the document does not validate: %v", err)
			}
		})
	}
}

// TestTriadSchema checks the schema's member definition names every
// field a member writes, and holds a triad to three members.
func TestTriadSchema(t *testing.T) {
	s := status.ReadTriad(context.Background(), triadNames, triadDial(member("lic1", true), member("lic2", false), nil), time.UTC, -1)
	doc := status.New(time.Unix(start, 0).UTC())
	doc.Servers = append(doc.Servers, s)
	var b bytes.Buffer
	if err := status.WriteJSON(&b, doc, false); err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(status.SchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	def := schema["$defs"].(map[string]any)["member"].(map[string]any)["properties"].(map[string]any)
	var m map[string]any
	json.Unmarshal(b.Bytes(), &m)
	members := m["servers"].([]any)[0].(map[string]any)["members"].([]any)
	for _, mb := range members {
		for k := range mb.(map[string]any) {
			if _, ok := def[k]; !ok {
				t.Errorf("member field %q is not in the schema", k)
			}
		}
	}
	for _, c := range []struct {
		name, want string
		edit       func(srv map[string]any)
	}{
		{"two members", "fewer than 3", func(srv map[string]any) { srv["members"] = srv["members"].([]any)[:2] }},
		{"member without master", `missing "master"`, func(srv map[string]any) { delete(srv["members"].([]any)[0].(map[string]any), "master") }},
		{"member up not a boolean", "want boolean", func(srv map[string]any) { srv["members"].([]any)[1].(map[string]any)["up"] = "yes" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			json.Unmarshal(b.Bytes(), &m)
			c.edit(m["servers"].([]any)[0].(map[string]any))
			bad, _ := json.Marshal(m)
			err := status.Validate(bad)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestReadOneServerHasNoMembers: one server's JSON stays as it was.
func TestReadOneServerHasNoMembers(t *testing.T) {
	if s := status.Read(context.Background(), "", workload(), time.UTC); s.Members != nil {
		t.Errorf("one server has members: %+v", s.Members)
	}
	if bytes.Contains(document(t), []byte(`"members"`)) {
		t.Error(`one server's document has "members"`)
	}
}

// TestReadTriadMemberHangs: a member that never answers (its host gone)
// is down once its half of the read's time has passed, and the member
// that answers still has time for its features.
func TestReadTriadMemberHangs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	dial := func(ctx context.Context, i int) (status.Conn, error) {
		if i == 2 {
			<-ctx.Done()
			return nil, lmerr.New(-15, 570)
		}
		return closer{member([]string{"lic1", "lic2"}[i], i == 0)}, nil
	}
	// Without a bound of its own the hung member would take the whole
	// time, and the features would be read with none left.
	s := status.ReadTriad(ctx, triadNames, dial, time.UTC, -1)
	if ctx.Err() != nil {
		t.Fatalf("the read took the whole time")
	}
	if s.Members[2].Up || !s.Members[0].Master || len(s.Vendors) == 0 || len(s.Vendors[0].Features) != 3 {
		t.Errorf("members %+v %+v %+v, vendors %+v", s.Members[0], s.Members[1], s.Members[2], s.Vendors)
	}
}
