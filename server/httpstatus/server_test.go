package httpstatus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/httpstatus"
	"golm/lmutil/server/status"
)

// fakeConn replays a recorded status.
type fakeConn struct {
	server   *protocol.ServerStatus
	vendors  []*protocol.VendorStatus
	features map[string][]protocol.Message
}

func (f *fakeConn) ServerStatus(context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	return f.server, func(yield func(*protocol.VendorStatus, error) bool) {
		for _, v := range f.vendors {
			if !yield(v, nil) {
				return
			}
		}
	}, nil
}

func (f *fakeConn) FeatureStatus(_ context.Context, vendor, _ string) (iter.Seq2[protocol.Message, error], error) {
	return func(yield func(protocol.Message, error) bool) {
		for _, m := range f.features[vendor] {
			if !yield(m, nil) {
				return
			}
		}
	}, nil
}

func (f *fakeConn) Close() error { return nil }

// now is the tests' clock: 10 days before f2 expires.
var now = time.Date(2030, 1, 5, 12, 0, 0, 0, time.UTC)

func user(name string, handle uint64, count int) *protocol.UserEntry {
	return &protocol.UserEntry{User: name, Host: name + "-pc", Display: "/dev/pts/1", Version: "1.0", ServerHost: "lic1", Port: 27000, Handle: handle, Start: now.Add(-time.Hour).Unix(), Count: count}
}

// workload: f1 has 10 seats, alice 2, bob 1, a hostile user 1, 1
// reserved, 3 queued; f2 (5 seats, expiring in 10 days) has carol; f3 expired.
func workload() *fakeConn {
	queued := user("dave", 200, 3)
	queued.Queued = true
	return &fakeConn{
		server:  &protocol.ServerStatus{Host: "lic1", Port: 27000, Version: "0.1.0", Master: true, LicenseFiles: []string{"/srv/license.lic"}},
		vendors: []*protocol.VendorStatus{{Name: "demo", Up: true, Version: "0.1.0", Port: 40000}, {Name: "down", Code: -97, Minor: 121}},
		features: map[string][]protocol.Message{"demo": {
			&protocol.FeatureHeader{Name: "f1", Issued: 10, InUse: 5},
			&protocol.PoolStatus{Feature: "f1", Version: "1.0", Vendor: "demo", Expiry: "permanent", LicenseType: protocol.Floating, Issued: 10, InUse: 5},
			user("alice", 101, 2), user("bob", 102, 1), user(`<script>alert(1)</script>`, 103, 1), queued,
			&protocol.ReservationEntry{Count: 1, Kind: "USER", Name: "erin", ServerHost: "lic1", Port: 27000},
			&protocol.FeatureHeader{Name: "f2", Issued: 5, InUse: 1},
			&protocol.PoolStatus{Feature: "f2", Version: "2.0", Vendor: "demo", Expiry: "15-jan-2030", LicenseType: protocol.Floating, Issued: 5, InUse: 1},
			user("carol", 104, 1),
			&protocol.FeatureHeader{Name: "f3", Issued: 1},
			&protocol.PoolStatus{Feature: "f3", Version: "1.0", Vendor: "demo", Expiry: "1-jan-2020", LicenseType: protocol.Floating, Issued: 1},
		}},
	}
}

type testServer struct {
	*httpstatus.Server
	url   string
	dials atomic.Int64
}

func start(t *testing.T, cfg httpstatus.Config, conn func() (httpstatus.Conn, error)) *testServer {
	t.Helper()
	ln, err := httpstatus.Listen("0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{}
	cfg.Listener = ln
	cfg.Dial = func(context.Context) (httpstatus.Conn, error) {
		ts.dials.Add(1)
		return conn()
	}
	if cfg.Name == "" {
		cfg.Name = "27000@lic1"
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	cfg.Location = time.UTC
	cfg.Software = "0.1.0"
	cfg.Logf = t.Logf
	ts.Server, err = httpstatus.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ts.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ts.url = "http://" + ts.Addr().String()
	return ts
}

func startWorkload(t *testing.T, cfg httpstatus.Config) *testServer {
	return start(t, cfg, func() (httpstatus.Conn, error) { return workload(), nil })
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, string(b)
}

func TestParseAddr(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"8080", "127.0.0.1:8080", ""},
		{":8080", ":8080", ""},
		{"0.0.0.0:8080", "0.0.0.0:8080", ""},
		{"[::1]:8080", "[::1]:8080", ""},
		{"localhost:9", "localhost:9", ""},
		{"", "", "empty"},
		{"70000", "", "bad port"},
		{"-1", "", "bad port"},
		{"host", "", "want port"},
		{"host:http", "", "bad port"},
		{"1.2.3.4:99999", "", "bad port"},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := httpstatus.ParseAddr(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("got %q, %v; want an error with %q", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{})
	r, body := get(t, ts.url+"/api/v1/status")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("got %s %q", r.Status, r.Header.Get("Content-Type"))
	}
	if err := status.Validate([]byte(body)); err != nil {
		t.Fatalf("the JSON does not validate: %v\n%s", err, body)
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("the JSON carries an unescaped <script>: %s", body)
	}
	for _, want := range []string{`"name":"27000@lic1"`, `"user":"alice"`, `"queued":3`, `"reserved":1`, `"expiry_date":"2030-01-15"`, `"start":"2030-01-05T11:00:00Z"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the JSON lacks %s:\n%s", want, body)
		}
	}
	_, pretty := get(t, ts.url+"/api/v1/status?pretty")
	if !strings.Contains(pretty, "\n  \"schema\": \"golm-status-v1\"") {
		t.Errorf("?pretty is not indented:\n%s", pretty)
	}
	_, schema := get(t, ts.url+"/api/v1/schema")
	if schema != string(status.SchemaJSON()) {
		t.Errorf("/api/v1/schema is not the schema file")
	}
}

func TestLmgrdDown(t *testing.T) {
	ts := start(t, httpstatus.Config{}, func() (httpstatus.Conn, error) { return nil, lmerr.New(-15, 570) })
	_, body := get(t, ts.url+"/api/v1/status")
	if err := status.Validate([]byte(body)); err != nil {
		t.Fatalf("the JSON does not validate: %v\n%s", err, body)
	}
	if !strings.Contains(body, `"up":false`) || !strings.Contains(body, `"code":-15`) {
		t.Errorf("got %s, want server down with -15", body)
	}
	_, page := get(t, ts.url+"/")
	if !strings.Contains(page, "License server DOWN") {
		t.Errorf("the page does not say the server is down:\n%s", page)
	}
	fams := scrape(t, ts.url)
	if got := value(t, fams, "golm_server_up", nil); got != 0 {
		t.Errorf("golm_server_up: got %v, want 0", got)
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	r, body := get(t, url+"/metrics")
	if r.StatusCode != 200 {
		t.Fatalf("/metrics: %s\n%s", r.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// value is the one sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
	var found []float64
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if ok {
			found = append(found, m.GetGauge().GetValue())
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: got %d samples, want 1", name, want, len(found))
	}
	return found[0]
}

func TestMetrics(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{})
	fams := scrape(t, ts.url)
	f1 := map[string]string{"vendor": "demo", "feature": "f1"}
	f2 := map[string]string{"vendor": "demo", "feature": "f2"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"golm_server_up", map[string]string{"server": "27000@lic1"}, 1},
		{"golm_vendor_daemon_up", map[string]string{"vendor": "demo"}, 1},
		{"golm_vendor_daemon_up", map[string]string{"vendor": "down"}, 0},
		{"golm_feature_licenses_issued", f1, 10},
		{"golm_feature_licenses_in_use", f1, 5},
		{"golm_feature_licenses_queued", f1, 3},
		{"golm_feature_licenses_reserved", f1, 1},
		{"golm_feature_licenses_issued", f2, 5},
		{"golm_feature_licenses_in_use", f2, 1},
		{"golm_feature_licenses_queued", f2, 0},
		{"golm_feature_user_licenses_in_use", map[string]string{"feature": "f1", "user": "alice"}, 2},
		{"golm_feature_user_licenses_in_use", map[string]string{"feature": "f1", "user": "bob"}, 1},
		{"golm_feature_user_licenses_in_use", map[string]string{"feature": "f2", "user": "carol"}, 1},
		{"golm_license_expiry_timestamp_seconds", f2, float64(time.Date(2030, 1, 16, 0, 0, 0, 0, time.UTC).Unix())},
		{"golm_build_info", map[string]string{"version": "0.1.0"}, 1},
	} {
		t.Run(fmt.Sprint(c.name, c.labels), func(t *testing.T) {
			if got := value(t, fams, c.name, c.labels); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("queued users have no series", func(t *testing.T) {
		for _, m := range fams["golm_feature_user_licenses_in_use"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "dave" {
					t.Errorf("queued user dave has a series")
				}
			}
		}
	})
	t.Run("permanent lines have no expiry", func(t *testing.T) {
		for _, m := range fams["golm_license_expiry_timestamp_seconds"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "feature" && l.GetValue() == "f1" {
					t.Errorf("permanent f1 has an expiry series")
				}
			}
		}
	})
	if fams["go_goroutines"] == nil || fams["process_open_fds"] == nil {
		t.Errorf("the Go and process metrics are missing")
	}
}

func TestUserSeriesCap(t *testing.T) {
	// Users in label order: <script>, alice, bob (f1), carol (f2).
	for _, c := range []struct {
		cap       int
		own       []string
		otherF1   float64 // -1: no _other series
		otherF2   float64
		wantTotal int
	}{
		{cap: 1, own: []string{"<script>alert(1)</script>"}, otherF1: 3, otherF2: 1, wantTotal: 3},
		{cap: 3, own: []string{"<script>alert(1)</script>", "alice", "bob"}, otherF1: -1, otherF2: 1, wantTotal: 4},
		{cap: 4, own: []string{"<script>alert(1)</script>", "alice", "bob", "carol"}, otherF1: -1, otherF2: -1, wantTotal: 4},
		{cap: 1000, own: []string{"<script>alert(1)</script>", "alice", "bob", "carol"}, otherF1: -1, otherF2: -1, wantTotal: 4},
	} {
		t.Run(fmt.Sprint("cap ", c.cap), func(t *testing.T) {
			ts := startWorkload(t, httpstatus.Config{MaxUserSeries: c.cap})
			fams := scrape(t, ts.url)
			series := fams["golm_feature_user_licenses_in_use"].GetMetric()
			if len(series) != c.wantTotal {
				t.Errorf("got %d series, want %d", len(series), c.wantTotal)
			}
			for _, u := range c.own {
				value(t, fams, "golm_feature_user_licenses_in_use", map[string]string{"user": u})
			}
			for feature, want := range map[string]float64{"f1": c.otherF1, "f2": c.otherF2} {
				if want < 0 {
					continue
				}
				if got := value(t, fams, "golm_feature_user_licenses_in_use", map[string]string{"feature": feature, "user": httpstatus.OtherUser}); got != want {
					t.Errorf("%s _other: got %v, want %v", feature, got, want)
				}
			}
		})
	}
}

func TestPage(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{})
	r, page := get(t, ts.url+"/")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("got %s %q", r.Status, r.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`data-feature="f1" data-issued="10" data-in-use="5" data-queued="3" data-reserved="1"`,
		`data-user="alice"`, `data-user="bob"`, `data-user="carol"`,
		`<rect class="bar-used" width="40.00"`, // 4 checked out of 10
		`<rect class="bar-reserved" x="40.00" width="10.00"`,
		`<span class="expiry soon">expires 2030-01-15 (10 days left)</span>`,
		`<span class="expiry expired">expired 2020-01-01</span>`,
		`<span class="expiry permanent">permanent</span>`,
		`10 seats`, `1 seat ·`,
		`License server UP (MASTER) v0.1.0`,
		`DOWN <span class="error">The desired vendor daemon is down.`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<script src="assets/app.js" defer></script>`,
		`<noscript><meta http-equiv="refresh" content="10"></noscript>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Errorf("a user name reached the page unescaped")
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("the page has %d script elements, want 1 (no inline script)", n)
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Errorf("the page has inline style, which the CSP forbids")
	}
	t.Run("fragment", func(t *testing.T) {
		_, frag := get(t, ts.url+"/fragment?refresh=2")
		if !strings.HasPrefix(frag, `<main id="status"`) || !strings.Contains(frag, `data-user="alice"`) || !strings.Contains(frag, "refreshed every 2 s") {
			t.Errorf("got %.200s", frag)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		for q, want := range map[string]string{"?refresh=3": `data-refresh="3"`, "?refresh=0": `data-refresh="0"`, "?refresh=99999": `data-refresh="3600"`, "?refresh=x": `data-refresh="10"`, "?refresh=-5": `data-refresh="10"`} {
			if _, p := get(t, ts.url+"/"+q); !strings.Contains(p, want) {
				t.Errorf("%s: the page lacks %s", q, want)
			}
		}
	})
}

func TestHeadersAndMethods(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{})
	for _, c := range []struct {
		method, path string
		want         int
		ctype        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"HEAD", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/fragment", 200, "text/html; charset=utf-8"},
		{"GET", "/api/v1/status", 200, "application/json; charset=utf-8"},
		{"GET", "/api/v1/schema", 200, "application/schema+json"},
		{"GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"},
		{"GET", "/assets/style.css", 200, "text/css; charset=utf-8"},
		{"GET", "/assets/app.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/icon.svg", 200, "image/svg+xml"},
		{"GET", "/assets/page.html", 404, ""},
		{"GET", "/assets/", 404, ""},
		{"GET", "/assets/../server.go", 404, ""},
		{"GET", "/nothing", 404, ""},
		{"POST", "/", 405, ""},
		{"POST", "/api/v1/status", 405, ""},
		{"DELETE", "/metrics", 405, ""},
		{"PUT", "/assets/app.js", 405, ""},
		{"OPTIONS", "/", 405, ""},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, ts.url+c.path, nil)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode != c.want {
				t.Errorf("got %s, want %d", r.Status, c.want)
			}
			if c.ctype != "" && !strings.HasPrefix(r.Header.Get("Content-Type"), strings.Split(c.ctype, ";")[0]) {
				t.Errorf("Content-Type: got %q, want %q", r.Header.Get("Content-Type"), c.ctype)
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Cache-Control":          "no-store",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s: got %q, want %q", h, got, want)
				}
			}
			csp := r.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy %q allows inline or eval", csp)
			}
		})
	}
}

func TestStatusShared(t *testing.T) {
	var mu sync.Mutex
	clock := now
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	release := make(chan struct{})
	var first atomic.Bool
	ts := start(t, httpstatus.Config{CacheFor: time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }}, func() (httpstatus.Conn, error) {
		if first.CompareAndSwap(false, true) {
			<-release // hold the first read until every request waits for it
		}
		return workload(), nil
	})
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := http.Get(ts.url + "/api/v1/status")
			if err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for ts.dials.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := ts.dials.Load(); got != 1 {
		t.Errorf("%d concurrent requests: got %d reads of lmgrd, want 1", n, got)
	}
	get(t, ts.url+"/metrics")
	if got := ts.dials.Load(); got != 1 {
		t.Errorf("a scrape within CacheFor: got %d reads, want 1", got)
	}
	tick(time.Second)
	get(t, ts.url+"/metrics")
	if got := ts.dials.Load(); got != 2 {
		t.Errorf("a scrape after CacheFor: got %d reads, want 2", got)
	}
}

// idleClients opens n connections that send half a request header and
// nothing more.
func idleClients(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
		conns = append(conns, c)
		t.Cleanup(func() { c.Close() })
	}
	return conns
}

// TestConnectionCap holds every allowed connection with a client that
// never finishes its request: the next client is not served until one
// of them goes.
func TestConnectionCap(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{MaxConnections: 3, ReadHeaderTimeout: time.Minute})
	idle := idleClients(t, ts.Addr().String(), 3)
	done := make(chan int, 1)
	go func() {
		r, err := http.Get(ts.url + "/api/v1/status")
		if err != nil {
			done <- 0
			return
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		done <- r.StatusCode
	}()
	select {
	case code := <-done:
		t.Fatalf("a fourth client was served (%d) while three connections were open", code)
	case <-time.After(300 * time.Millisecond):
	}
	idle[0].Close()
	select {
	case code := <-done:
		if code != 200 {
			t.Errorf("got %d, want 200", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the waiting client was not served after a connection closed")
	}
}

// TestSlowClientsDropped: clients that never finish their header are
// dropped after ReadHeaderTimeout, freeing their connections.
func TestSlowClientsDropped(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{MaxConnections: 2, ReadHeaderTimeout: 200 * time.Millisecond})
	for i, c := range idleClients(t, ts.Addr().String(), 2) {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("slow client %d was never dropped", i)
		}
	}
	if r, body := get(t, ts.url+"/api/v1/status"); r.StatusCode != 200 || !strings.Contains(body, "alice") {
		t.Errorf("after the slow clients: got %s", r.Status)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	ts := startWorkload(t, httpstatus.Config{MaxHeaderBytes: 1024})
	req, _ := http.NewRequest("GET", ts.url+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("got %s, want 431", r.Status)
	}
}
