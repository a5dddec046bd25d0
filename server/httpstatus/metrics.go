package httpstatus

import (
	"cmp"
	"context"
	"net/http"
	"runtime"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"golm/lmutil/protocol"
)

// OtherUser is the user label under which the seats of the users past
// Config.MaxUserSeries are summed.
const OtherUser = "_other"

// collector turns the live status into metrics on each scrape.
type collector struct {
	s *Server

	up, vendorUp, issued, inUse, queued, reserved, userInUse, expiry, buildInfo *prometheus.Desc
	// From the vendor daemons' counters (protocol.VendorStats).
	checkouts, queuedTotal, denials, latency, connected *prometheus.Desc
	// From their later counters (protocol.VendorStatsExt).
	queueWait, reportRecords, reportErrors, triadRole, triadTerm, triadQuorum *prometheus.Desc
}

func newCollector(s *Server) *collector {
	vf := []string{"vendor", "feature"}
	return &collector{
		s:         s,
		up:        prometheus.NewDesc("golm_server_up", "Whether lmgrd answered the status request (1) or not (0).", []string{"server"}, nil),
		vendorUp:  prometheus.NewDesc("golm_vendor_daemon_up", "Whether the vendor daemon is up (1) or down (0).", []string{"vendor"}, nil),
		issued:    prometheus.NewDesc("golm_feature_licenses_issued", "Licenses issued of the feature: the seats of all its license lines (0 when uncounted).", vf, nil),
		inUse:     prometheus.NewDesc("golm_feature_licenses_in_use", "Licenses of the feature in use, reservations included, queued requests not.", vf, nil),
		queued:    prometheus.NewDesc("golm_feature_licenses_queued", "Licenses of the feature asked for by queued requests.", vf, nil),
		reserved:  prometheus.NewDesc("golm_feature_licenses_reserved", "Licenses of the feature held by RESERVE lines of the options file.", vf, nil),
		userInUse: prometheus.NewDesc("golm_feature_user_licenses_in_use", "Licenses of the feature the user has checked out; past the series cap, users are summed under user=\"_other\".", []string{"vendor", "feature", "user"}, nil),
		expiry:    prometheus.NewDesc("golm_license_expiry_timestamp_seconds", "When the license line stops being good (Unix time); permanent lines have no series.", []string{"vendor", "feature", "version", "expiry", "line"}, nil),
		buildInfo: prometheus.NewDesc("golm_build_info", "golm's version; always 1.", []string{"version", "goversion"}, nil),

		checkouts:   prometheus.NewDesc("golm_checkouts_total", "Checkouts the vendor daemon granted at once since it started.", []string{"vendor"}, nil),
		queuedTotal: prometheus.NewDesc("golm_checkouts_queued_total", "Checkouts the vendor daemon queued since it started.", []string{"vendor"}, nil),
		denials:     prometheus.NewDesc("golm_checkout_denials_total", "Checkouts the vendor daemon denied since it started, by FlexLM error code.", []string{"vendor", "code"}, nil),
		latency:     prometheus.NewDesc("golm_checkout_duration_seconds", "How long the vendor daemon took to decide a checkout.", []string{"vendor"}, nil),
		connected:   prometheus.NewDesc("golm_connected_clients", "Client connections open at the vendor daemon.", []string{"vendor"}, nil),

		queueWait:     prometheus.NewDesc("golm_checkout_queue_wait_seconds", "How long queued checkouts waited from QUEUED until they were granted.", []string{"vendor"}, nil),
		reportRecords: prometheus.NewDesc("golm_report_log_records_total", "Records the vendor daemon wrote to its report log since it started.", []string{"vendor"}, nil),
		reportErrors:  prometheus.NewDesc("golm_report_log_write_errors_total", "Writes of a report log record that failed (each retry counts) since the vendor daemon started.", []string{"vendor"}, nil),
		triadRole:     prometheus.NewDesc("golm_triad_role", "The vendor daemon's role in its three-server triad: 1 master, 2 standby; no series outside a triad.", []string{"vendor"}, nil),
		triadTerm:     prometheus.NewDesc("golm_triad_term", "The triad's election term as the vendor daemon knows it.", []string{"vendor"}, nil),
		triadQuorum:   prometheus.NewDesc("golm_triad_quorum", "Whether the vendor daemon sees a majority of its triad (1) or not (0).", []string{"vendor"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.vendorUp, c.issued, c.inUse, c.queued, c.reserved, c.userInUse, c.expiry, c.buildInfo,
		c.checkouts, c.queuedTotal, c.denials, c.latency, c.connected,
		c.queueWait, c.reportRecords, c.reportErrors, c.triadRole, c.triadTerm, c.triadQuorum} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one (shared) status read.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.buildInfo, 1, c.s.cfg.Software, runtime.Version())
	st := c.s.Status(context.Background())
	if st == nil {
		return
	}
	type userKey struct{ vendor, feature, user string }
	users := map[userKey]int{}
	for _, srv := range st.Servers {
		gauge(c.up, boolValue(srv.Up), srv.Name)
		for _, v := range srv.Vendors {
			gauge(c.vendorUp, boolValue(v.Up), v.Name)
			c.collectStats(ch, v.Name, v.Stats)
			c.collectExt(ch, v.Name, v.StatsExt)
			for _, f := range v.Features {
				if f.Error != nil {
					continue
				}
				gauge(c.issued, float64(f.Issued), v.Name, f.Name)
				gauge(c.inUse, float64(f.InUse), v.Name, f.Name)
				gauge(c.queued, float64(f.Queued), v.Name, f.Name)
				gauge(c.reserved, float64(f.Reserved), v.Name, f.Name)
				for i, l := range f.Licenses {
					if l.ExpiresAt != nil {
						gauge(c.expiry, float64(l.ExpiresAt.Unix()), v.Name, f.Name, l.Version, l.Expiry, strconv.Itoa(i))
					}
					for _, u := range l.Users {
						if !u.Queued {
							users[userKey{v.Name, f.Name, u.User}] += u.Count
						}
					}
				}
			}
		}
	}
	// Label cardinality is bounded: the first MaxUserSeries series in
	// (vendor, feature, user) order get their own, the others are summed
	// per feature under user="_other".
	keys := make([]userKey, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b userKey) int {
		return cmp.Or(cmp.Compare(a.vendor, b.vendor), cmp.Compare(a.feature, b.feature), cmp.Compare(a.user, b.user))
	})
	other := map[userKey]int{}
	var otherKeys []userKey
	for i, k := range keys {
		if i < c.s.cfg.MaxUserSeries && k.user != OtherUser {
			gauge(c.userInUse, float64(users[k]), k.vendor, k.feature, k.user)
			continue
		}
		ok := userKey{k.vendor, k.feature, OtherUser}
		if _, seen := other[ok]; !seen {
			otherKeys = append(otherKeys, ok)
		}
		other[ok] += users[k]
	}
	for _, k := range otherKeys {
		gauge(c.userInUse, float64(other[k]), k.vendor, k.feature, k.user)
	}
}

// collectStats sends the counters of one vendor daemon, when it gave
// them.
func (c *collector) collectStats(ch chan<- prometheus.Metric, vendor string, st *protocol.VendorStats) {
	if st == nil {
		return
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.checkouts, st.Checkouts, vendor)
	counter(c.queuedTotal, st.Queued, vendor)
	for _, d := range st.Denials {
		counter(c.denials, d.Count, vendor, strconv.Itoa(d.Code))
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, float64(st.Connections), vendor)
	histogram(ch, c.latency, st.LatencyBounds, st.LatencyCounts, st.LatencySum, 1e6, vendor)
}

// histogram sends a histogram of per-bucket counts (one more than
// bounds, for the values above the last) whose bounds and sum are in
// units of 1/perSecond seconds.
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, bounds, counts []uint64, sum uint64, perSecond float64, vendor string) {
	if len(counts) != len(bounds)+1 {
		return
	}
	buckets := make(map[float64]uint64, len(bounds))
	var n uint64
	for i, b := range bounds {
		n += counts[i]
		buckets[float64(b)/perSecond] = n
	}
	n += counts[len(bounds)]
	if h, err := prometheus.NewConstHistogram(d, n, float64(sum)/perSecond, buckets, vendor); err == nil {
		ch <- h
	}
}

// collectExt sends the later counters of one vendor daemon, when it gave
// them: the report log's only when it has one, the triad's only when it
// is in a triad.
func (c *collector) collectExt(ch chan<- prometheus.Metric, vendor string, st *protocol.VendorStatsExt) {
	if st == nil {
		return
	}
	histogram(ch, c.queueWait, st.QueueWaitBounds, st.QueueWaitCounts, st.QueueWaitSum, 1e3, vendor)
	if st.ReportLog {
		ch <- prometheus.MustNewConstMetric(c.reportRecords, prometheus.CounterValue, float64(st.ReportRecords), vendor)
		ch <- prometheus.MustNewConstMetric(c.reportErrors, prometheus.CounterValue, float64(st.ReportWriteErrors), vendor)
	}
	if st.TriadRole != protocol.TriadNone {
		ch <- prometheus.MustNewConstMetric(c.triadRole, prometheus.GaugeValue, float64(st.TriadRole), vendor)
		ch <- prometheus.MustNewConstMetric(c.triadTerm, prometheus.GaugeValue, float64(st.TriadTerm), vendor)
		ch <- prometheus.MustNewConstMetric(c.triadQuorum, prometheus.GaugeValue, boolValue(st.TriadQuorum), vendor)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// newMetricsHandler is /metrics: golm's metrics and the process's.
func newMetricsHandler(s *Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(s), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             s.cfg.StatusTimeout,
	})
}
