package httpstatus_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/httpstatus"
	"golm/lmutil/server/status"
)

// triadMember is workload() as the member on host, the master or not.
func triadMember(host string, master bool) *fakeConn {
	f := workload()
	f.server = &protocol.ServerStatus{Host: host, Port: 27000, Version: "0.1.0", Master: master, LicenseFiles: []string{"/srv/license.lic"}}
	return f
}

// TestTriadPage serves the page of lic1, a standby member of a triad
// whose master is lic2 and whose lic3 is down: the page, its fragment
// and the JSON show the three members in SERVER-line order, the master
// marked, lic3 down with its error, and the features as the master
// sees them.
func TestTriadPage(t *testing.T) {
	members := []string{"27000@lic1", "27000@lic2", "27000@lic3"}
	var asked [3]int
	cfg := httpstatus.Config{
		Name:    "27000@lic1",
		Members: members,
		Self:    0,
		DialMember: func(_ context.Context, i int) (httpstatus.Conn, error) {
			asked[i]++
			if i == 1 {
				return triadMember("lic2", true), nil
			}
			return nil, lmerr.New(-15, 570)
		},
	}
	ts := start(t, cfg, func() (httpstatus.Conn, error) { return triadMember("lic1", false), nil })
	_, page := get(t, ts.url+"/")
	for _, want := range []string{
		`<h2>27000@lic1,27000@lic2,27000@lic3</h2>`,
		`<h3>Triad members</h3>`,
		`<li class="vendor member up" data-member="27000@lic1"><span class="dot"></span><b>27000@lic1</b> UP v0.1.0</li>`,
		`<li class="vendor member up master" data-member="27000@lic2"><span class="dot"></span><b>27000@lic2</b> UP <span class="role">MASTER</span> v0.1.0</li>`,
		`<li class="vendor member down" data-member="27000@lic3"><span class="dot"></span><b>27000@lic3</b> DOWN <span class="error">Cannot connect to license server system.`,
		`License server UP (MASTER) v0.1.0 on lic2`,
		`data-user="alice"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if i, j, k := strings.Index(page, `data-member="27000@lic1"`), strings.Index(page, `data-member="27000@lic2"`), strings.Index(page, `data-member="27000@lic3"`); !(i >= 0 && i < j && j < k) {
		t.Errorf("the members are not in SERVER-line order")
	}
	if n := strings.Count(page, `class="role">MASTER<`); n != 1 {
		t.Errorf("%d members are marked master, want 1", n)
	}
	if asked[0] != 0 || ts.dials.Load() == 0 {
		t.Errorf("this member was asked through DialMember (%d) or not through Dial (%d)", asked[0], ts.dials.Load())
	}
	t.Run("fragment", func(t *testing.T) {
		_, frag := get(t, ts.url+"/fragment")
		if !strings.Contains(frag, `data-member="27000@lic3"`) || !strings.Contains(frag, `class="role">MASTER<`) {
			t.Errorf("the fragment that refreshes the page lacks the members: %.300s", frag)
		}
	})
	t.Run("json", func(t *testing.T) {
		_, body := get(t, ts.url+"/api/v1/status")
		if err := status.Validate([]byte(body)); err != nil {
			t.Fatalf("the JSON does not validate: %v", err)
		}
		var doc status.Status
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		ms := doc.Servers[0].Members
		if len(ms) != 3 || !ms[0].Up || ms[0].Master || !ms[1].Up || !ms[1].Master || ms[2].Up || ms[2].Error == nil || ms[2].Error.Code != -15 {
			t.Errorf("members: %s", body)
		}
	})
}

// TestTriadAllDown: with no member answering the page says the triad is
// down and shows each member down.
func TestTriadAllDown(t *testing.T) {
	cfg := httpstatus.Config{
		Members: []string{"27000@lic1", "27000@lic2", "27000@lic3"},
		DialMember: func(context.Context, int) (httpstatus.Conn, error) {
			return nil, lmerr.New(-15, 570)
		},
	}
	ts := start(t, cfg, func() (httpstatus.Conn, error) { return nil, lmerr.New(-15, 570) })
	_, page := get(t, ts.url+"/")
	if !strings.Contains(page, "License server DOWN") || strings.Count(page, `class="vendor member down"`) != 3 {
		t.Errorf("the page does not show the triad down:\n%s", page)
	}
}
