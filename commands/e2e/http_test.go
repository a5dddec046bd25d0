package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"golm/lmutil/protocol/client"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/status"
)

// screenshotEnv names a directory the browser test saves its
// screenshots in; without it they go to the test's temporary directory.
const screenshotEnv = "GOLM_SCREENSHOT_DIR"

// httpFeatures: f1 with 4 seats, f2 with 2 expiring soon after the
// test's date is irrelevant (the page shows days left either way).
const httpFeatures = "FEATURE f1 demo 1.0 permanent 4 VENDOR_STRING=web\nINCREMENT f2 demo 2.0 1-jan-2099 2\nFEATURE steady demo 1.0 permanent 1\n"

// startHTTPServer starts lmgrd -http on a free loopback port and returns
// the base URL once the page answers. Its vendor daemon has a report log
// that already holds a week (withLastWeek).
func startHTTPServer(t *testing.T, features string) (*server, string) {
	t.Helper()
	port := freePort(t)
	s := startServerWith(t, features, withLastWeek(t), "-http", strconv.Itoa(port))
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	poll(t, "the HTTP status to answer", func() bool {
		r, err := http.Get(url + "/api/v1/status")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
	return s, url
}

// withLastWeek writes the options file (REPORTLOG +report.rl) and a
// report log in which all 4 seats of f1 were out for an hour five days
// ago, so that the usage chart shows a week read from the log at start.
func withLastWeek(t *testing.T) func(dir string) {
	return func(dir string) {
		withReportLog("REPORTLOG +report.rl\n")(dir)
		w, err := reportlog.OpenWriter(reportlog.Config{Path: filepath.Join(dir, "report.rl"), Vendor: "demo"})
		if err != nil {
			t.Fatal(err)
		}
		ago := func(d time.Duration) time.Time { return time.Now().Add(-d) }
		for _, r := range []reportlog.Record{
			{Event: reportlog.EventStart, Time: ago(6 * 24 * time.Hour)},
			{Event: reportlog.EventOut, Feature: "f1", Version: "1.0", User: "zoe", Count: 4, Handle: 1, Detail: "total=4", Time: ago(5 * 24 * time.Hour)},
			{Event: reportlog.EventIn, Feature: "f1", Version: "1.0", User: "zoe", Count: 4, Handle: 1, Reason: reportlog.ReasonNormal, Time: ago(5*24*time.Hour - time.Hour)},
			{Event: reportlog.EventStop, Time: ago(4 * 24 * time.Hour)},
		} {
			if _, err := w.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// seat is a license checked out by the test itself.
type seat struct {
	job *client.Job
	lic *client.License
}

// checkout checks feature out as user, and checks it in at cleanup.
func checkout(t *testing.T, s *server, user, feature string, n int) *seat {
	t.Helper()
	ctx := context.Background()
	job, err := client.Open(ctx, s.lic, client.WithUser(user), client.WithHost(user+"-pc"), client.WithDisplay(":"+user), client.WithCallTimeout(deadline))
	if err != nil {
		t.Fatal(err)
	}
	lic, err := job.Checkout(ctx, feature, "1.0", n)
	if err != nil {
		job.Close()
		t.Fatalf("checkout %s by %s: %v", feature, user, err)
	}
	t.Cleanup(func() { job.Close() })
	return &seat{job: job, lic: lic}
}

func (st *seat) checkin(t *testing.T) {
	t.Helper()
	if err := st.lic.Checkin(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("GET %s: %v %s\n%s", url, err, r.Status, b)
	}
	return b
}

// featureOf finds a feature of the document.
func featureOf(t *testing.T, doc *status.Status, name string) *status.Feature {
	t.Helper()
	for _, s := range doc.Servers {
		for _, v := range s.Vendors {
			for _, f := range v.Features {
				if f.Name == name {
					return f
				}
			}
		}
	}
	t.Fatalf("no feature %s in the status", name)
	return nil
}

// TestHTTPStatus: with seats held, /api/v1/status validates against the
// schema and says what lmstat -a -json says, and /metrics counts the
// same workload.
func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	s, url := startHTTPServer(t, httpFeatures)
	checkout(t, s, "alice", "f1", 2)
	checkout(t, s, "bob", "f1", 1)
	checkout(t, s, "carol", "f2", 1)
	s.waitInUse("f1", 3)
	var doc status.Status
	poll(t, "the HTTP status to show 3 seats of f1", func() bool {
		body := httpGet(t, url+"/api/v1/status")
		if err := status.Validate(body); err != nil {
			t.Fatalf("/api/v1/status does not validate: %v\n%s", err, body)
		}
		doc = status.Status{}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		return featureOf(t, &doc, "f1").InUse == 3
	})
	f1 := featureOf(t, &doc, "f1")
	if f1.Issued != 4 || len(f1.Licenses) != 1 || len(f1.Licenses[0].Users) != 2 || f1.Licenses[0].VendorString != "web" {
		t.Errorf("f1: got %+v", f1)
	}
	for _, u := range f1.Licenses[0].Users {
		if (u.User == "alice") != (u.Count == 2) || u.Host != u.User+"-pc" || u.Handle == 0 || u.Start.IsZero() {
			t.Errorf("f1 user: got %+v", u)
		}
	}
	if f2 := featureOf(t, &doc, "f2"); f2.InUse != 1 || f2.Licenses[0].ExpiryDate != "2099-01-01" {
		t.Errorf("f2: got %+v", f2)
	}

	t.Run("lmstat -a -json says the same", func(t *testing.T) {
		r := s.run(nil, "lmstat", "-a", "-json", "-c", s.lic)
		if r.status != 0 {
			t.Fatalf("lmstat -a -json: exit %d\n%s%s", r.status, r.stdout, r.stderr)
		}
		if err := status.Validate([]byte(r.stdout)); err != nil {
			t.Fatalf("lmstat -a -json does not validate: %v", err)
		}
		var cli status.Status
		if err := json.Unmarshal([]byte(r.stdout), &cli); err != nil {
			t.Fatal(err)
		}
		// The documents differ in when they were read only.
		cli.Time, doc.Time = time.Time{}, time.Time{}
		a, _ := json.Marshal(cli)
		b, _ := json.Marshal(doc)
		if !bytes.Equal(a, b) {
			t.Errorf("lmstat -a -json and /api/v1/status differ:\n%s\n%s", a, b)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(httpGet(t, url+"/metrics")))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"golm_feature_licenses_issued", map[string]string{"feature": "f1"}, 4},
			{"golm_feature_licenses_in_use", map[string]string{"feature": "f1"}, 3},
			{"golm_feature_licenses_issued", map[string]string{"feature": "f2"}, 2},
			{"golm_feature_licenses_in_use", map[string]string{"feature": "f2"}, 1},
			{"golm_feature_licenses_queued", map[string]string{"feature": "f1"}, 0},
			{"golm_feature_licenses_reserved", map[string]string{"feature": "f1"}, 0},
			{"golm_feature_user_licenses_in_use", map[string]string{"feature": "f1", "user": "alice"}, 2},
			{"golm_feature_user_licenses_in_use", map[string]string{"feature": "f1", "user": "bob"}, 1},
			{"golm_feature_user_licenses_in_use", map[string]string{"feature": "f2", "user": "carol"}, 1},
			{"golm_vendor_daemon_up", map[string]string{"vendor": "demo"}, 1},
			{"golm_server_up", nil, 1},
			{"golm_license_expiry_timestamp_seconds", map[string]string{"feature": "f2"}, float64(time.Date(2099, 1, 2, 0, 0, 0, 0, time.Local).Unix())},
		} {
			if got := sample(t, fams, c.name, c.labels); got != c.want {
				t.Errorf("%s%v: got %v, want %v", c.name, c.labels, got, c.want)
			}
		}
	})

	t.Run("counters", func(t *testing.T) {
		// One more checkout of f1 than it has free: denied with -4.
		if r := s.run(nil, "lmwrap", "-c", s.lic, "-n", "2", "f1", "--", "true"); r.status != 256-4 {
			t.Fatalf("lmwrap -n 2 f1: exit %d, want 252 (%s)", r.status, r.stderr)
		}
		var fams map[string]*dto.MetricFamily
		poll(t, "/metrics to count the denial", func() bool {
			p := expfmt.NewTextParser(model.UTF8Validation)
			var err error
			fams, err = p.TextToMetricFamilies(bytes.NewReader(httpGet(t, url+"/metrics")))
			if err != nil {
				t.Fatal(err)
			}
			return counterOf(fams, "golm_checkout_denials_total", "code", "-4") == 1
		})
		if got := counterOf(fams, "golm_checkouts_total", "vendor", "demo"); got != 3 {
			t.Errorf("golm_checkouts_total = %v, want 3", got)
		}
		if got := counterOf(fams, "golm_checkouts_queued_total", "vendor", "demo"); got != 0 {
			t.Errorf("golm_checkouts_queued_total = %v, want 0", got)
		}
		h := fams["golm_checkout_duration_seconds"].GetMetric()
		if len(h) != 1 || h[0].GetHistogram().GetSampleCount() != 4 {
			t.Errorf("golm_checkout_duration_seconds: %v, want one histogram of 4 checkouts", h)
		}
		if c := fams["golm_connected_clients"].GetMetric(); len(c) != 1 || c[0].GetGauge().GetValue() < 3 {
			t.Errorf("golm_connected_clients: %v, want at least the 3 holders", c)
		}
		// START, 3 OUT and the DENY.
		if got := counterOf(fams, "golm_report_log_records_total", "vendor", "demo"); got != 5 {
			t.Errorf("golm_report_log_records_total = %v, want 5", got)
		}
		if e := fams["golm_report_log_write_errors_total"].GetMetric(); len(e) != 1 || e[0].GetCounter().GetValue() != 0 {
			t.Errorf("golm_report_log_write_errors_total: %v, want one series of 0", e)
		}
		if q := fams["golm_checkout_queue_wait_seconds"].GetMetric(); len(q) != 1 || q[0].GetHistogram().GetSampleCount() != 0 {
			t.Errorf("golm_checkout_queue_wait_seconds: %v, want one histogram of no wait", q)
		}
		if fams["golm_triad_role"] != nil {
			t.Errorf("golm_triad_role outside a triad: %v", fams["golm_triad_role"])
		}
	})
}

// counterOf is the value of the counter name with label=value, 0 when
// there is none.
func counterOf(fams map[string]*dto.MetricFamily, name, label, value string) float64 {
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// sample is the value of the one sample of name whose labels include want.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	var found []float64
	for _, m := range fams[name].GetMetric() {
		ok := true
		for k, v := range want {
			has := false
			for _, l := range m.GetLabel() {
				has = has || (l.GetName() == k && l.GetValue() == v)
			}
			ok = ok && has
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

// TestHTTPFlood: a flood of HTTP clients, slow ones that never finish
// their request and fast ones that ask for everything at once, does not
// stop checkouts, and the status answers again once it is over.
func TestHTTPFlood(t *testing.T) {
	t.Parallel()
	s, url := startHTTPServer(t, httpFeatures)
	st := startSteady(t, s, "steady")
	addr := strings.TrimPrefix(url, "http://")
	const slow, fast = 150, 200
	var conns []net.Conn
	for range slow {
		c, err := net.DialTimeout("tcp", addr, deadline)
		if err != nil {
			break // the backlog is full: that is the flood's point
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: deadline}
	for i := range fast {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/", "/metrics", "/api/v1/status"}[i%3]
			if r, err := hc.Get(url + path); err == nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		}()
	}
	st.progress(t, "an HTTP flood")
	// The flood ends: the slow clients go (the httpstatus package tests
	// that ReadHeaderTimeout drops them; here it would only be waited
	// out), and the fast ones get their answers or give up.
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	st.progress(t, "the end of the HTTP flood")
	poll(t, "the HTTP status to answer after the flood", func() bool {
		r, err := hc.Get(url + "/api/v1/status")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode == 200 && status.Validate(b) == nil
	})
}

// browser is the Chromium the browser test drives, or "" when there is
// none.
func browser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestHTTPBrowser loads the status page in headless Chromium with seats
// held, finds the users and bars, checks a seat in and sees it leave
// the page without a reload, with no console error (a CSP violation is
// one), and saves screenshots (desktop and phone).
func TestHTTPBrowser(t *testing.T) {
	t.Parallel() // a server and a browser of its own
	exe := browser()
	if exe == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH: install chromium to run the browser test")
	}
	s, url := startHTTPServer(t, httpFeatures)
	checkout(t, s, "alice", "f1", 2)
	bob := checkout(t, s, "bob", "f1", 1)
	s.waitInUse("f1", 3)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1100, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	// Every console error or warning, uncaught exception and browser log
	// error (a CSP violation is one) fails the test.
	messages := chromedp.Console(ctx)
	var mu sync.Mutex
	var problems []string
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				mu.Lock()
				problems = append(problems, m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	}()

	shots := os.Getenv(screenshotEnv)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	attr := func(sel, name string) string {
		t.Helper()
		r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		if err != nil || !r.Exists {
			t.Fatalf("%s %s: %v (exists %v)", sel, name, err, r.Exists)
		}
		return r.Value
	}
	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}

	run("loading the page", chromedp.Navigate(url+"/?refresh=1"), chromedp.WaitVisible(chromedp.CSS(`tr.user[data-user="bob"]`)))
	eval(`window.golmNotReloaded = true`)
	if got := fmt.Sprint(eval(`Array.from(document.querySelectorAll('article[data-feature="f1"] tr.user')).map(r => r.dataset.user).sort().join(",")`)); got != "alice,bob" {
		t.Errorf("users of f1 on the page: got %s, want alice,bob", got)
	}
	if got := attr(`article[data-feature="f1"] rect.bar-used`, "width"); got != "75.00" {
		t.Errorf("f1's bar: got width %q, want 75.00 (3 of 4)", got)
	}
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`article[data-feature="f1"] .in-use`))); err != nil || got != "3" {
		t.Errorf("f1 in use on the page: got %q, %v; want 3", got, err)
	}
	// The usage charts: the week holds the 4 seats of five days ago,
	// read from the report log at start, and the day the 3 out now.
	// (The log is read in the background at start; the page refreshes
	// itself until the week has it.)
	run("waiting for the week's chart to show the 4 seats of the report log", chromedp.WaitVisible(chromedp.CSS(`article[data-feature="f1"] figure.chart[data-window="7d"][data-peak="4"] path.chart-used`)))
	if got := attr(`article[data-feature="f1"] figure.chart[data-window="24h"]`, "data-peak"); got != "3" {
		t.Errorf("f1's day chart: peak %s, want 3", got)
	}
	screenshot(t, ctx, filepath.Join(shots, "status-page.png"))

	bob.checkin(t)
	run("waiting for bob's seat to leave the page", chromedp.WaitNotPresent(chromedp.CSS(`tr.user[data-user="bob"]`)), chromedp.WaitVisible(chromedp.CSS(`tr.user[data-user="alice"]`)))
	if eval(`window.golmNotReloaded === true`) != true {
		t.Errorf("the page was reloaded to show the checkin; it should refresh in place")
	}
	if got := attr(`article[data-feature="f1"] rect.bar-used`, "width"); got != "50.00" {
		t.Errorf("f1's bar after the checkin: got width %q, want 50.00", got)
	}

	// On a phone the page fits the screen's width.
	run("the phone view", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(`tr.user[data-user="alice"]`)))
	if eval(`document.documentElement.scrollWidth <= window.innerWidth`) != true {
		t.Errorf("the page is wider than a phone's screen")
	}
	screenshot(t, ctx, filepath.Join(shots, "status-page-phone.png"))

	cancel()
	<-listening
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestSystemdNotify: lmgrd run by systemd as Type=notify says READY=1
// once its vendor daemon serves, and STOPPING=1 when it stops.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := startServerEnv(t, httpFeatures, nil, []string{"NOTIFY_SOCKET=" + path})
	read := func() string {
		t.Helper()
		ln.SetReadDeadline(time.Now().Add(deadline))
		buf := make([]byte, 4096)
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("reading the notify socket: %v", err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1\nSTATUS=Serving vendor daemons: demo" {
		t.Errorf("got %q, want READY=1 and the vendor daemon", got)
	}
	// The vendor daemon serves once lmgrd says it is ready.
	if r := s.run(nil, "lmstat", "-a", "-c", s.lic); r.status != 0 || !strings.Contains(r.stdout, "demo: UP") {
		t.Errorf("lmstat -a after READY=1: exit %d\n%s", r.status, r.stdout)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if got := read(); got != "STOPPING=1" {
		t.Errorf("got %q, want STOPPING=1", got)
	}
}

// TestHTTPWithBind: with lmgrd -bind, the status server asks lmgrd on
// the address it listens on, not on 127.0.0.1.
func TestHTTPWithBind(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	startServer(t, httpFeatures, "-bind", "127.0.0.2", "-http", strconv.Itoa(port))
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v1/status", port)
	var doc status.Status
	poll(t, "the HTTP status to show the vendor daemon up", func() bool {
		r, err := http.Get(url)
		if err != nil {
			return false
		}
		defer r.Body.Close()
		doc = status.Status{}
		if json.NewDecoder(r.Body).Decode(&doc) != nil || len(doc.Servers) != 1 {
			return false
		}
		srv := doc.Servers[0]
		return srv.Up && len(srv.Vendors) == 1 && srv.Vendors[0].Up
	})
}

// TestHTTPTriad: lmgrd -http of a member of a real triad (three lmgrds
// on three ports of 127.0.0.1) shows the three members in SERVER-line
// order with the master marked, as lmstat -a -json does; /metrics has
// the member's triad role, term and quorum; a member killed shows as
// down, with lmstat's -15, on the page and in the JSON.
func TestHTTPTriad(t *testing.T) {
	t.Parallel() // three lmgrds of its own, on ports of its own
	ips := []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}
	ports := triadPorts(t, 3)
	ms := triadSetup(t, ips, ports, "FEATURE f1 demo 1.0 permanent 4\n")
	web := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	ms[0].extra = []string{"-http", web}
	url := "http://" + web
	master := startTriad(t, ms)
	read := func() *status.Server {
		r, err := http.Get(url + "/api/v1/status")
		if err != nil {
			return nil
		}
		defer r.Body.Close()
		var doc status.Status
		if json.NewDecoder(r.Body).Decode(&doc) != nil || len(doc.Servers) != 1 {
			return nil
		}
		return doc.Servers[0]
	}
	var s *status.Server
	poll(t, "the page to show the three members and the master", func() bool {
		s = read()
		if s == nil || len(s.Members) != 3 {
			return false
		}
		for _, m := range s.Members {
			if !m.Up || m.Master != (m.Name == master.name()) {
				return false
			}
		}
		return true
	})
	for i, m := range s.Members {
		if m.Name != ms[i].name() || m.Version == "" {
			t.Errorf("member %d: %+v, want %s with its version", i, m, ms[i].name())
		}
	}
	if s.Name != spec(ms) || !s.Master || s.Host != "127.0.0.1" || s.Port != master.port {
		t.Errorf("the triad's fields: name %q master %v port %d, want %q and the master's port %d", s.Name, s.Master, s.Port, spec(ms), master.port)
	}
	if err := status.Validate(httpGet(t, url+"/api/v1/status")); err != nil {
		t.Errorf("the JSON does not validate: %v", err)
	}

	t.Run("lmstat -a -json agrees", func(t *testing.T) {
		r := ms[0].run("lmstat", "-a", "-json", "-c", spec(ms))
		var doc status.Status
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Servers) != 1 {
			t.Fatalf("lmstat -a -json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		a, _ := json.Marshal(doc.Servers[0].Members)
		b, _ := json.Marshal(s.Members)
		if !bytes.Equal(a, b) {
			t.Errorf("members: lmstat -a -json %s, the page %s", a, b)
		}
	})

	t.Run("page", func(t *testing.T) {
		page := string(httpGet(t, url+"/"))
		for _, m := range ms {
			if !strings.Contains(page, `data-member="`+m.name()+`"`) {
				t.Errorf("the page lacks member %s", m.name())
			}
		}
		want := `<li class="vendor member up master" data-member="` + master.name() + `">`
		if !strings.Contains(page, want) || strings.Count(page, `class="role">MASTER<`) != 1 {
			t.Errorf("the page does not mark %s, and it alone, master:\n%s", master.name(), page)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		role := 2.0
		if master == ms[0] {
			role = 1
		}
		v := map[string]string{"vendor": "demo"}
		// The vendor daemon sets them on its tick: wait for the first
		// after the election.
		var got [3]float64
		poll(t, "golm_triad_role, _term and _quorum", func() bool {
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(bytes.NewReader(httpGet(t, url+"/metrics")))
			if err != nil {
				t.Fatal(err)
			}
			if fams["golm_triad_role"] == nil {
				return false
			}
			got = [3]float64{sample(t, fams, "golm_triad_role", v), sample(t, fams, "golm_triad_term", v), sample(t, fams, "golm_triad_quorum", v)}
			return got[0] == role && got[1] >= 1 && got[2] == 1
		})
		t.Logf("role %v term %v quorum %v", got[0], got[1], got[2])
	})

	// In a browser, when there is one: the members in the DOM, the
	// master marked, and below a member going down without a reload.
	var bctx context.Context
	if exe := browser(); exe != "" {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1100, 900))
		actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
		defer cancel()
		cctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
		defer cancel()
		var cancelT context.CancelFunc
		bctx, cancelT = context.WithTimeout(cctx, time.Minute)
		defer cancelT()
		if err := chromedp.Do(bctx, chromedp.Navigate(url+"/?refresh=1"), chromedp.WaitVisible(chromedp.CSS(`li.member.master[data-member="`+master.name()+`"]`))); err != nil {
			t.Fatalf("loading the page in the browser: %v", err)
		}
		v, err := chromedp.Run(bctx, chromedp.Evaluate[any](`window.golmNotReloaded = true; Array.from(document.querySelectorAll('li.member')).map(m => m.dataset.member + (m.classList.contains('master') ? '*' : '')).join(",")`))
		want := strings.ReplaceAll(spec(ms), master.name(), master.name()+"*")
		if err != nil || fmt.Sprint(v) != want {
			t.Errorf("members in the browser: got %v (%v), want %s (* the master)", v, err, want)
		}
	} else {
		t.Log("no chromium on PATH: the triad's page is checked without a browser")
	}

	t.Run("a member down", func(t *testing.T) {
		// A member other than the one serving the page; the master if
		// that is another, so that the page follows the new master too.
		gone := ms[2]
		if master != ms[0] {
			gone = master
		}
		gone.kill9()
		var i int
		for i = range ms {
			if ms[i] == gone {
				break
			}
		}
		poll(t, "the page to show "+gone.name()+" down and a new master", func() bool {
			s = read()
			if s == nil || len(s.Members) != 3 || !s.Up {
				return false
			}
			m := s.Members[i]
			masters := 0
			for _, m := range s.Members {
				if m.Master {
					masters++
				}
			}
			return !m.Up && m.Error != nil && m.Error.Code == -15 && masters == 1
		})
		page := string(httpGet(t, url+"/"))
		if !strings.Contains(page, `<li class="vendor member down" data-member="`+gone.name()+`">`) {
			t.Errorf("the page does not show %s down:\n%s", gone.name(), page)
		}
		if bctx != nil {
			if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`li.member.down[data-member="`+gone.name()+`"]`))); err != nil {
				t.Fatalf("waiting for %s to show down in the browser: %v", gone.name(), err)
			}
			if v, err := chromedp.Run(bctx, chromedp.Evaluate[any](`window.golmNotReloaded === true`)); err != nil || v != true {
				t.Errorf("the page was reloaded to show the member down; it should refresh in place")
			}
			shots := os.Getenv(screenshotEnv)
			if shots == "" {
				shots = t.TempDir()
			} else if err := os.MkdirAll(shots, 0o755); err != nil {
				t.Fatal(err)
			}
			screenshot(t, bctx, filepath.Join(shots, "status-page-triad.png"))
		}
	})
}
