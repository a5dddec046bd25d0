package status_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/status"
)

// statsSource is a member whose vendor daemons also answer for their
// counters and usage history: Checkouts is its id, so that a test can
// tell whose counters were read.
type statsSource struct {
	*fakeSource
	id       uint64
	statsErr error
	asked    []string // features whose usage history VendorExtras was asked for
}

func (s *statsSource) VendorStats(_ context.Context, vendor string) (*protocol.VendorStats, error) {
	if s.statsErr != nil {
		return nil, s.statsErr
	}
	return &protocol.VendorStats{Checkouts: s.id}, nil
}

func (s *statsSource) VendorExtras(_ context.Context, vendor string, features []string) (*protocol.VendorStatsExt, map[string]*protocol.UsageHistory, error) {
	s.asked = append(s.asked, features...)
	usage := map[string]*protocol.UsageHistory{}
	for _, f := range features {
		usage[f] = &protocol.UsageHistory{Feature: f, Series: []protocol.UsageSeries{{Start: start, Step: 60, InUse: []uint64{s.id}}}}
	}
	return &protocol.VendorStatsExt{ReportRecords: s.id}, usage, nil
}

func (*statsSource) Close() error { return nil }

func TestReadTriadStats(t *testing.T) {
	srcs := func() []*statsSource {
		return []*statsSource{
			{fakeSource: member("lic1", false), id: 1},
			{fakeSource: member("lic2", true), id: 2},
			{fakeSource: member("lic3", false), id: 3},
		}
	}
	for _, c := range []struct {
		name  string
		stats int
		down  int    // the member that is down, -1 for none
		want  uint64 // the id whose counters the up vendor has, 0 for none
	}{
		{"none asked", -1, -1, 0},
		{"the master's own", 1, -1, 2},
		{"a standby's, not the master's", 2, -1, 3},
		{"the first member", 0, -1, 1},
		{"past the last member", 3, -1, 0},
		{"a member that is down", 2, 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss := srcs()
			dial := func(_ context.Context, i int) (status.Conn, error) {
				if i == c.down {
					return nil, lmerr.New(-15, 570)
				}
				return ss[i], nil
			}
			s := status.ReadTriad(context.Background(), triadNames, dial, time.UTC, c.stats)
			if s.Host != "lic2" {
				t.Fatalf("the triad's fields are of %q, want the master lic2", s.Host)
			}
			demo, other := s.Vendors[0], s.Vendors[1]
			if other.Stats != nil || other.StatsExt != nil || other.Usage != nil {
				t.Errorf("the vendor daemon that is down has counters: %+v", other)
			}
			if c.want == 0 {
				if demo.Stats != nil || demo.StatsExt != nil || demo.Usage != nil {
					t.Errorf("counters %+v %+v %v, want none", demo.Stats, demo.StatsExt, demo.Usage)
				}
				return
			}
			if demo.Stats == nil || demo.Stats.Checkouts != c.want || demo.StatsExt == nil || demo.StatsExt.ReportRecords != c.want {
				t.Fatalf("counters %+v %+v, want member %d's", demo.Stats, demo.StatsExt, c.want)
			}
			// f3 could not be read: its usage history is not asked for.
			if got := fmt.Sprint(ss[c.stats].asked); got != "[f1 f2]" {
				t.Errorf("usage history asked for %s, want [f1 f2]", got)
			}
			if len(demo.Usage) != 2 || demo.Usage["f1"].Series[0].InUse[0] != c.want {
				t.Errorf("usage %v", demo.Usage)
			}
		})
	}
}

// TestReadStatsVendorFails: a vendor daemon that does not give its
// counters keeps none, and is not asked for the later ones either.
func TestReadStatsVendorFails(t *testing.T) {
	src := &statsSource{fakeSource: workload(), id: 9, statsErr: lmerr.New(-97, 121)}
	s := status.Read(context.Background(), "", src, time.UTC)
	status.ReadStats(context.Background(), s, src)
	if d := s.Vendors[0]; d.Stats != nil || d.StatsExt != nil || d.Usage != nil || src.asked != nil {
		t.Errorf("counters %+v %+v %v, asked %v; want none", d.Stats, d.StatsExt, d.Usage, src.asked)
	}
	// A Source that cannot ask for counters leaves the vendors as they are.
	s = status.Read(context.Background(), "", workload(), time.UTC)
	status.ReadStats(context.Background(), s, workload())
	if d := s.Vendors[0]; d.Stats != nil || d.StatsExt != nil {
		t.Errorf("counters from a plain Source: %+v", d)
	}
}

// TestReadStatsUsageBound: no more than MaxUsageFeatures features'
// usage history is asked for.
func TestReadStatsUsageBound(t *testing.T) {
	f := workload()
	var msgs []protocol.Message
	for i := range status.MaxUsageFeatures + 2 {
		msgs = append(msgs, &protocol.FeatureHeader{Name: fmt.Sprintf("g%d", i), Issued: 1})
	}
	f.features["demo"] = msgs
	src := &statsSource{fakeSource: f, id: 1}
	s := status.Read(context.Background(), "", src, time.UTC)
	status.ReadStats(context.Background(), s, src)
	if len(src.asked) != status.MaxUsageFeatures || src.asked[0] != "g0" || src.asked[len(src.asked)-1] != fmt.Sprintf("g%d", status.MaxUsageFeatures-1) {
		t.Errorf("asked for %d features (%v ... %v), want the first %d", len(src.asked), src.asked[0], src.asked[len(src.asked)-1], status.MaxUsageFeatures)
	}
}

// vendorsFail is a member whose lmgrd answers but whose vendor list
// breaks after the first vendor daemon.
type vendorsFail struct{ *fakeSource }

func (v vendorsFail) ServerStatus(ctx context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	return v.server, func(yield func(*protocol.VendorStatus, error) bool) {
		if yield(v.vendors[0], nil) {
			yield(nil, lmerr.New(-16, 571))
		}
	}, nil
}

// countedConn counts the closes of a member's connection.
type countedConn struct {
	status.Source
	mu     *sync.Mutex
	closes map[int]int
	i      int
}

func (c countedConn) Close() error {
	c.mu.Lock()
	c.closes[c.i]++
	c.mu.Unlock()
	return nil
}

// TestReadTriadVendorListBreaks: a member whose vendor list breaks half
// way is down with that error, its connection is closed once, and so
// is every other member's when the read is done.
func TestReadTriadVendorListBreaks(t *testing.T) {
	var mu sync.Mutex
	closes := map[int]int{}
	srcs := []status.Source{vendorsFail{member("lic1", true)}, member("lic2", false), member("lic3", false)}
	dial := func(_ context.Context, i int) (status.Conn, error) {
		return countedConn{Source: srcs[i], mu: &mu, closes: closes, i: i}, nil
	}
	s := status.ReadTriad(context.Background(), triadNames, dial, time.UTC, 0)
	m := s.Members[0]
	if m.Up || m.Master || m.Error == nil || m.Error.Code != -16 || m.Error.Minor != 571 {
		t.Errorf("member 0: %+v (error %+v), want down with -16,571", m, m.Error)
	}
	// The master is down: the first member that is up answers, without
	// counters, since the member asked for them is down.
	if s.Host != "lic2" || s.Master || !s.Up || s.Vendors[0].Stats != nil {
		t.Errorf("the triad's fields are of %q (master %v, up %v)", s.Host, s.Master, s.Up)
	}
	if fmt.Sprint(closes) != "map[0:1 1:1 2:1]" {
		t.Errorf("closes %v, want each member's connection closed once", closes)
	}
}

// TestReadTriadNoNames: a triad of no servers is asked nothing and is
// an empty server, not a nil one.
func TestReadTriadNoNames(t *testing.T) {
	dial := func(context.Context, int) (status.Conn, error) {
		t.Error("a member was dialled")
		return nil, errors.New("no member")
	}
	s := status.ReadTriad(context.Background(), nil, dial, time.UTC, 0)
	doc := status.New(time.Unix(start, 0).UTC())
	doc.Servers = append(doc.Servers, s)
	var b bytes.Buffer
	if err := status.WriteJSON(&b, doc, false); err != nil {
		t.Fatal(err)
	}
	want := `{"schema_version":1,"schema":"golm-status-v1","time":"2023-11-14T22:13:20Z","servers":[{"name":"","up":false,"master":false,"license_files":[],"vendors":[]}]}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s want %s", b.String(), want)
	}
	if s.Members == nil || len(s.Members) != 0 {
		t.Errorf("members %#v, want empty", s.Members)
	}
}

// TestAskTriadLead: the member that answers for the triad.
func TestAskTriadLead(t *testing.T) {
	for _, c := range []struct {
		name   string
		master []int // per member: -1 down, 0 up, 1 master
		lead   int
	}{
		{"one member, up", []int{0}, 0},
		{"none", nil, -1},
		{"all down", []int{-1, -1, -1}, -1},
		{"the first master of two", []int{0, 1, 1}, 1},
		{"master last", []int{0, 0, 1}, 2},
		{"master first, the others up", []int{1, 0, 0}, 0},
		{"only the last is up", []int{-1, -1, 0}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			dial := func(_ context.Context, i int) (status.Conn, error) {
				if c.master[i] < 0 {
					return nil, lmerr.New(-15, 570)
				}
				return closer{member(fmt.Sprintf("lic%d", i+1), c.master[i] == 1)}, nil
			}
			ms, lead := status.AskTriad(context.Background(), len(c.master), dial)
			defer status.CloseAll(ms)
			if lead != c.lead || len(ms) != len(c.master) {
				t.Fatalf("lead %d of %d, want %d of %d", lead, len(ms), c.lead, len(c.master))
			}
			for i, m := range ms {
				if (m.Err == nil) != (c.master[i] >= 0) || (m.Conn == nil) != (m.Err != nil) {
					t.Errorf("member %d: conn %v err %v", i, m.Conn, m.Err)
				}
				if m.Err == nil && (len(m.Vendors) != 2 || m.Status.Master != (c.master[i] == 1)) {
					t.Errorf("member %d: status %+v vendors %d", i, m.Status, len(m.Vendors))
				}
			}
		})
	}
}

// TestMembersNamesShort: a member past the names given has no name,
// rather than the list being cut.
func TestMembersNamesShort(t *testing.T) {
	ms := []status.Asked{
		{Status: &protocol.ServerStatus{Master: true, Version: "1.2"}},
		{Err: errors.New("refused")},
	}
	got := status.Members([]string{"1@a"}, ms)
	if len(got) != 2 || *got[0] != (status.Member{Name: "1@a", Up: true, Master: true, Version: "1.2"}) {
		t.Fatalf("members %+v", got)
	}
	if m := got[1]; m.Name != "" || m.Up || m.Error == nil || *m.Error != (status.Error{Code: int(lmerr.NoConfFile), Message: "refused"}) {
		t.Errorf("member 1: %+v error %+v", m, m.Error)
	}
}
