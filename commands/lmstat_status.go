package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

// statMode says which parts of the server status lmstat prints.
type statMode struct {
	server   bool           // the "License server status" block
	vendors  bool           // the "Vendor daemon status" block
	features bool           // feature usage
	usage    bool           // "Feature usage info:" before the features
	active   bool           // -A: only features in use
	feature  string         // -f feature: only this one, without server status
	byVendor bool           // -S: "Users of features served by V:" per vendor
	vendor   string         // -S vendor: only this vendor daemon
	host     string         // -s server: only sources of this server
	match    *regexp.Regexp // -l regex: only features whose names match
	seconds  bool           // -asec
}

// statModeOf reads lmstat's flags.
func statModeOf(c *cli.Context) statMode {
	m := statMode{seconds: c.Bool("asec")}
	switch {
	case c.Bool("a"):
		m.server, m.vendors, m.features, m.usage = true, true, true, true
	case c.Bool("A"):
		m.server, m.vendors, m.features, m.usage, m.active = true, true, true, true, true
	case c.IsSet("f"):
		m.features, m.feature = true, c.String("f")
	case c.IsSet("l"):
		m.features = true
	case c.IsSet("S"):
		m.server, m.vendors, m.features, m.byVendor, m.vendor = true, true, true, true, c.String("S")
	case c.Bool("lm"):
		m.server = true
	case c.Bool("vd"):
		m.vendors = true
	case c.IsSet("s"):
		m.server, m.vendors, m.host = true, true, c.String("s")
	default:
		m.server, m.vendors = true, true
	}
	if c.Bool("asec") && !m.features {
		m.server, m.vendors, m.features, m.usage = true, true, true, true
	}
	return m
}

// lmstatServer runs every lmstat mode that asks lmgrd.
func lmstatServer(c *cli.Context, env *Env) error {
	opts := []client.Option{
		client.WithGetenv(env.Env),
		client.WithDir(env.Dir),
		client.WithProgram("lmstat"),
	}
	if env.Hostname != nil {
		opts = append(opts, client.WithHostname(env.Hostname))
	}
	if t := c.Int("t"); t > 0 {
		opts = append(opts, client.WithDialTimeout(time.Duration(t)*time.Second), client.WithCallTimeout(time.Duration(t)*time.Second))
	}
	dial := func(ctx context.Context, spec []licfile.ServerAddr) (statServer, error) {
		adm, err := client.DialAdmin(ctx, spec, opts...)
		if err != nil {
			return nil, err
		}
		return adminServer{adm}, nil
	}
	sources := env.LicenseSources(c.String("c"), "")
	mode := statModeOf(c)
	if expr := c.String("l"); c.IsSet("l") && expr != "" {
		re, err := regexp.Compile(expr)
		if err != nil {
			return &UsageError{Applet: "lmstat", Msg: fmt.Sprintf("lmstat: -l: bad regular expression %q", expr)}
		}
		mode.match = re
	}
	if c.Bool("json") {
		return writeStatusJSON(c.Context, env, statSources(sources), dial)
	}
	return writeStatus(c.Context, env, mode, sources, dial)
}

// statServer is what lmstat needs of one lmgrd: its status stream, and
// the feature status stream of one of its vendor daemons (vendor "" for
// the one serving feature). Tests replay recorded streams through it.
type statServer interface {
	ServerStatus(ctx context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error)
	FeatureStatus(ctx context.Context, vendor, feature string) (iter.Seq2[protocol.Message, error], error)
	Close() error
}

// adminServer is a statServer on a live lmgrd.
type adminServer struct{ adm *client.Admin }

func (a adminServer) ServerStatus(ctx context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	return a.adm.ServerStatus(ctx)
}

func (a adminServer) FeatureStatus(ctx context.Context, vendor, feature string) (iter.Seq2[protocol.Message, error], error) {
	v, err := a.adm.Vendor(ctx, vendor, feature)
	if err != nil {
		return nil, err
	}
	seq := v.FeatureStatus(ctx, feature)
	return func(yield func(protocol.Message, error) bool) {
		defer v.Close()
		seq(yield)
	}, nil
}

func (a adminServer) Close() error { return a.adm.Close() }

// statDialer connects to the lmgrd of a server spec.
type statDialer func(ctx context.Context, spec []licfile.ServerAddr) (statServer, error)

// writeStatus prints lmstat's server modes for the sources, one block
// each, and returns the first source's error that kept it from being
// shown, already printed.
func writeStatus(ctx context.Context, env *Env, mode statMode, sources []licfile.Source, dial statDialer) error {
	// One write per line was a system call per seat: buffer, and flush
	// after each source so that a slow server holds back only its own
	// block.
	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()
	w := newStatWriter(out, mode, env.Time().Location())
	w.line(Banner(env.Prog))
	w.line("Flexible License Manager status on " + statusDate(env.Time()))
	w.blank()
	var first error
	shown := 0
	seen := map[string]bool{} // servers already shown (a directory's files)
	for _, src := range sources {
		spec, file, err := sourceSpec(src)
		if err == nil && mode.host != "" && !specNames(ctx, spec, mode.host, thisHostname(env)) {
			continue
		}
		if err == nil {
			key := strings.ToLower(specString(spec))
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		if shown > 0 {
			w.line(strings.Repeat("-", 76))
		}
		shown++
		w.vendorHeader = false
		if err == nil && len(spec) == 3 {
			err = statTriad(ctx, w, spec, file, dial) // lmstat_triad.go
		} else if err == nil {
			var srv statServer
			srv, err = dial(ctx, spec)
			if err == nil {
				err = statSource(ctx, w, spec, file, srv)
				srv.Close()
			}
		}
		if err != nil {
			for _, l := range strings.Split("Error getting status: "+statusError(err, src, env.Verbose), "\n") {
				w.line(l)
			}
			if first == nil {
				first = err
			}
		}
		out.Flush()
	}
	if first == nil {
		first = w.failed
	}
	return alreadyPrinted(first)
}

// statusError is the text of an error that kept a source's status from
// being shown: the short form, or with -verbose the long form with the
// license path added (manual E.1.2).
func statusError(err error, src licfile.Source, verbose bool) string {
	var le *lmerr.Error
	if !verbose || !errors.As(err, &le) {
		return err.Error()
	}
	long := *le
	long.Detail = append(slices.Clone(le.Detail), "License path: "+src.String())
	return long.Long()
}

// sourceSpec is the server spec lmstat asks for a source, and the parsed
// license file behind it (nil for port@host).
func sourceSpec(src licfile.Source) ([]licfile.ServerAddr, *licfile.File, error) {
	if src.IsServer() {
		return src.Servers, nil, nil
	}
	f, err := licfile.ParseFile(src.File)
	var list licfile.ErrorList
	if err != nil && !errors.As(err, &list) {
		return nil, nil, lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorStatNoFile, err, "License path: "+src.Path)
	}
	if f == nil {
		return nil, nil, lmerr.New(list[0].Code, lmerr.MinorStatSyntax)
	}
	spec := licfile.ServerSpecOf(f.Servers)
	if len(spec) == 0 {
		return nil, nil, lmerr.New(lmerr.NoServerLines, lmerr.MinorStatNoServer, "License path: "+src.Path)
	}
	return spec, f, nil
}

// specNames reports whether one of spec's servers is host (lmstat -s):
// by name, by a name's first label (lic1 is lic1.example.com), this_host
// for this machine's names, or an address both names resolve to.
func specNames(ctx context.Context, spec []licfile.ServerAddr, host, hostname string) bool {
	want := []string{host}
	if strings.EqualFold(host, "this_host") {
		want = append(want, hostname, "localhost")
	}
	for _, a := range spec {
		names := []string{a.Host}
		if strings.EqualFold(a.Host, "this_host") {
			names = append(names, hostname, "localhost")
		}
		for _, n := range names {
			for _, w := range want {
				if n != "" && w != "" && (strings.EqualFold(n, w) || strings.EqualFold(firstLabel(n), firstLabel(w))) {
					return true
				}
			}
		}
	}
	// Aliases: any address in common. Look-ups are bounded so that an
	// unreachable name service cannot hold lmstat up.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			if n == "" {
				continue
			}
			if strings.EqualFold(n, "this_host") {
				n = "localhost"
			}
			found, err := net.DefaultResolver.LookupHost(ctx, n)
			if err != nil {
				continue
			}
			for _, f := range found {
				m[f] = true
			}
		}
		return m
	}
	theirs := addrs(want...)
	for _, a := range spec {
		for ip := range addrs(a.Host) {
			if theirs[ip] {
				return true
			}
		}
	}
	return false
}

// thisHostname is this host's name, "" when it cannot be had.
func thisHostname(env *Env) string {
	h, err := env.Host()
	if err != nil {
		return ""
	}
	return h
}

// firstLabel is a host name up to its first dot; an IP address whole.
func firstLabel(host string) string {
	if net.ParseIP(host) != nil {
		return host
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		return host[:i]
	}
	return host
}

// statSource prints the block of one source: lmgrd's status, then the
// feature usage of its vendor daemons. Only a failure to get lmgrd's
// status is returned; later errors are printed in place.
func statSource(ctx context.Context, w *statWriter, spec []licfile.ServerAddr, file *licfile.File, srv statServer) error {
	if w.mode.feature != "" {
		statFeatures(ctx, w, srv, "", w.mode.feature, nil)
		return nil
	}
	st, seq, err := srv.ServerStatus(ctx)
	if err != nil {
		return err
	}
	w.server(serverName(spec, file, st), st)
	var vendors []*protocol.VendorStatus
	for vs, err := range seq {
		if err != nil {
			return err
		}
		vendors = append(vendors, vs)
	}
	statVendors(ctx, w, file, srv, st, vendors)
	return nil
}

// statVendors prints the vendor daemon lines and, for the modes that
// show them, the features of each vendor daemon.
func statVendors(ctx context.Context, w *statWriter, file *licfile.File, srv statServer, st *protocol.ServerStatus, vendors []*protocol.VendorStatus) {
	for _, vs := range vendors {
		if w.mode.vendor == "" || w.mode.vendor == vs.Name {
			w.vendor(st.Host, vs)
		}
	}
	if !w.mode.features {
		return
	}
	if w.mode.usage {
		w.line("Feature usage info:")
		w.blank()
	}
	for _, vs := range vendors {
		if w.mode.vendor != "" && w.mode.vendor != vs.Name {
			continue
		}
		if w.mode.byVendor {
			w.line("Users of features served by " + vs.Name + ":")
		}
		if !vs.Up {
			statDown(w, vs.Name, vendorDown(vs), file)
			continue
		}
		statFeatures(ctx, w, srv, vs.Name, "", file)
	}
}

// statFeatures prints the feature usage one vendor daemon streams (of
// every feature, or of feature only).
func statFeatures(ctx context.Context, w *statWriter, srv statServer, vendor, feature string, file *licfile.File) {
	seq, err := srv.FeatureStatus(ctx, vendor, feature)
	if err != nil {
		if feature != "" {
			w.cannot(feature, err)
		} else {
			statDown(w, vendor, err, file)
		}
		return
	}
	for m, err := range seq {
		if err != nil {
			w.endFeature()
			w.line("Error getting status: " + err.Error())
			return
		}
		w.message(m)
	}
	w.endFeature()
}

// statDown prints, for a vendor daemon that cannot be asked, each of its
// features in the license file with the reason (nothing for port@host).
func statDown(w *statWriter, vendor string, err error, file *licfile.File) {
	w.fail(err)
	if file == nil {
		if !w.mode.active && !w.mode.byVendor {
			w.line("Error getting status: " + err.Error())
		}
		return
	}
	if w.mode.active {
		return
	}
	seen := map[string]bool{}
	for _, f := range file.Features {
		if f.Vendor != vendor || seen[f.Name] || f.Kind == licfile.KindUpgrade {
			continue
		}
		seen[f.Name] = true
		w.cannot(f.Name, err)
	}
}

func vendorDown(vs *protocol.VendorStatus) *lmerr.Error {
	if vs.Code == 0 {
		return lmerr.New(lmerr.VendorDown, lmerr.MinorVendorDown)
	}
	return lmerr.New(vs.Code, vs.Minor)
}

// serverName is the port@host list of the "License server status:" line:
// the server as its SERVER lines name it, whatever alias, address or file
// led lmstat to it (monitoring tools look the server up by this name). A
// license file's SERVER lines name every member of a triad; for a
// port@host source, lmgrd's own SERVER host and port do.
func serverName(spec []licfile.ServerAddr, file *licfile.File, st *protocol.ServerStatus) string {
	if file != nil && len(file.Servers) > 1 {
		parts := make([]string, len(file.Servers))
		for i, s := range file.Servers {
			port := s.Port
			if port == 0 {
				port = st.Port
			}
			parts[i] = fmt.Sprintf("%d@%s", port, s.Host)
		}
		return strings.Join(parts, ",")
	}
	if st.Host != "" && st.Port > 0 {
		return fmt.Sprintf("%d@%s", st.Port, st.Host)
	}
	return specString(spec)
}

// specString is the port@host list lmstat queried.
func specString(spec []licfile.ServerAddr) string {
	parts := make([]string, len(spec))
	for i, a := range spec {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// statWriter renders lmstat's server modes line by line as the status
// records arrive: nothing is buffered beyond the one license line block
// whose header is printed only when its first user shows up.
type statWriter struct {
	w    io.Writer
	mode statMode
	loc  *time.Location

	vendorHeader bool  // the vendor block's header was printed
	failed       error // the first vendor daemon that could not be asked

	skip    bool                 // the current feature is not shown (-A)
	pool    *protocol.PoolStatus // current license line, header not yet printed
	entries bool                 // entries of the current line were printed
}

func newStatWriter(w io.Writer, mode statMode, loc *time.Location) *statWriter {
	if loc == nil {
		loc = time.Local
	}
	return &statWriter{w: w, mode: mode, loc: loc}
}

// line writes one line of output. What servers and their clients sent
// (user, host and display names, features, vendor strings) may hold
// control characters or bad UTF-8: they are escaped, so that no client
// can forge lines of lmstat's output or reach the reader's terminal.
func (s *statWriter) line(text string) { io.WriteString(s.w, protocol.Printable(text)+"\n") }
func (s *statWriter) blank()           { io.WriteString(s.w, "\n") }

// server prints the License server status block.
func (s *statWriter) server(spec string, st *protocol.ServerStatus) {
	if !s.mode.server {
		return
	}
	s.line("License server status: " + spec)
	s.line("    License file(s) on " + st.Host + ": " + strings.Join(st.LicenseFiles, ":") + ":")
	s.blank()
	up := fmt.Sprintf("%10s: license server UP", st.Host)
	if st.Master {
		up += " (MASTER)"
	}
	s.line(up + " v" + st.Version)
	s.blank()
}

// vendor prints one vendor daemon line, with the block header before
// the first.
func (s *statWriter) vendor(host string, vs *protocol.VendorStatus) {
	if !s.mode.vendors {
		return
	}
	if !s.vendorHeader {
		s.vendorHeader = true
		s.line("Vendor daemon status (on " + host + "):")
		s.blank()
	}
	if vs.Up {
		s.line(fmt.Sprintf("%10s: UP v%s", vs.Name, vs.Version))
		return
	}
	s.fail(vendorDown(vs))
	s.line(fmt.Sprintf("%10s: %s", vs.Name, vendorDown(vs).Error()))
}

// fail records the first error that kept a vendor daemon's status from
// being shown: lmstat reached lmgrd but not the vendor daemon, and exits
// with it so that monitoring notices.
func (s *statWriter) fail(err error) {
	if s.failed == nil {
		s.failed = err
	}
}

// message renders one record of a feature status stream.
func (s *statWriter) message(m protocol.Message) {
	switch m := m.(type) {
	case *protocol.FeatureHeader:
		s.header(m)
	case *protocol.PoolStatus:
		s.endPool()
		s.pool = m
	case *protocol.UserEntry:
		if s.skip || s.pool == nil {
			return
		}
		s.poolHeader()
		s.line(userLine(m, s.loc, s.mode.seconds))
	case *protocol.ReservationEntry:
		if s.skip || s.pool == nil {
			return
		}
		s.poolHeader()
		s.line(reservationLine(m))
	}
}

// header prints the "Users of F:" line of a feature.
func (s *statWriter) header(h *protocol.FeatureHeader) {
	s.endFeature()
	s.skip = s.mode.active && (h.InUse == 0 || h.Code != 0) || !s.mode.shows(h.Name)
	if s.skip {
		return
	}
	s.line(featureHeaderLine(h))
	s.blank()
}

// shows reports whether lmstat -l's expression lets feature through.
func (m statMode) shows(feature string) bool {
	return m.match == nil || m.match.MatchString(feature)
}

// cannot prints a feature whose users cannot be had.
func (s *statWriter) cannot(feature string, err error) {
	s.endFeature()
	if !s.mode.shows(feature) {
		return
	}
	s.line("Users of " + feature + ": Cannot get users of " + feature + ": " + err.Error())
	s.blank()
}

// poolHeader prints the pending license line block header.
func (s *statWriter) poolHeader() {
	if s.entries {
		return
	}
	s.entries = true
	for _, l := range poolLines(s.pool) {
		s.line(l)
	}
	s.blank()
}

// endPool closes the current license line block.
func (s *statWriter) endPool() {
	if s.entries {
		s.blank()
	}
	s.pool, s.entries = nil, false
}

// endFeature closes the current feature.
func (s *statWriter) endFeature() {
	s.endPool()
	s.skip = false
}

// featureHeaderLine is "Users of F:  (Total of N licenses issued;  Total
// of M licenses in use)" or one of its variants.
func featureHeaderLine(h *protocol.FeatureHeader) string {
	prefix := "Users of " + h.Name + ":"
	switch {
	case h.Code == lmerr.NoServerSupport:
		return fmt.Sprintf("%s  (Error: %d licenses, unsupported by licensed server)", prefix, h.Issued)
	case h.Code != 0:
		return prefix + " Cannot get users of " + h.Name + ": " + lmerr.New(h.Code, h.Minor).Error()
	case h.Uncounted:
		return prefix + "  (Uncounted, node-locked)"
	}
	return fmt.Sprintf("%s  (Total of %d %s issued;  Total of %d %s in use)", prefix, h.Issued, licenses(h.Issued), h.InUse, licenses(h.InUse))
}

// licenses is "license" for exactly one, "licenses" otherwise.
func licenses(n int) string {
	if n == 1 {
		return "license"
	}
	return "licenses"
}

// poolLines are the header lines of a license line block.
func poolLines(p *protocol.PoolStatus) []string {
	lines := []string{fmt.Sprintf("  %q v%s, vendor: %s, expiry: %s", p.Feature, p.Version, p.Vendor, infoExpiry(licfile.Date{Text: p.Expiry}))}
	if p.VendorString != "" {
		lines = append(lines, "  vendor_string: "+p.VendorString)
	}
	switch {
	case p.LicenseType == protocol.UncountedNodelocked && (p.HostID == "" || strings.EqualFold(p.HostID, "ANY")):
		lines = append(lines, "  uncounted nodelocked license locked to NOTHING (hostid=ANY)")
	case p.LicenseType == protocol.UncountedNodelocked:
		lines = append(lines, fmt.Sprintf("  uncounted nodelocked license, locked to %q", p.HostID))
	case p.LicenseType == protocol.Nodelocked:
		lines = append(lines, fmt.Sprintf("  nodelocked license, locked to %q", p.HostID))
	default:
		lines = append(lines, "  floating license")
	}
	return lines
}

// userLine is one checkout (or queued request) of lmstat -a.
func userLine(u *protocol.UserEntry, loc *time.Location, seconds bool) string {
	var b strings.Builder
	b.WriteString("    " + u.User + " " + u.Host + " " + u.Display)
	if u.VendorData != "" {
		b.WriteString(" " + u.VendorData)
	}
	// A queued request carries the version it asks for twice, once bare
	// (as lmutil prints it), so that parsers that split on spaces find
	// the same number of fields before the "(v...)" field.
	if u.Queued {
		b.WriteString(" " + u.Version)
	}
	fmt.Fprintf(&b, " (v%s) (%s/%d %d)", u.Version, u.ServerHost, u.Port, u.Handle)
	if u.Queued {
		fmt.Fprintf(&b, " queued for %d %s", u.Count, licenses(u.Count))
		return b.String()
	}
	t := time.Unix(u.Start, 0).In(loc)
	fmt.Fprintf(&b, ", start %s %d/%d %d:%02d", t.Weekday().String()[:3], int(t.Month()), t.Day(), t.Hour(), t.Minute())
	if seconds {
		fmt.Fprintf(&b, ":%02d", t.Second())
	}
	if u.Count > 1 {
		fmt.Fprintf(&b, ", %d licenses", u.Count)
	}
	if u.LingerTotal > 0 {
		fmt.Fprintf(&b, "  (linger: %d / %d)", u.LingerRemaining, u.LingerTotal)
	}
	return b.String()
}

// reservationLine is a TAB-led reservation line of lmstat -a.
func reservationLine(r *protocol.ReservationEntry) string {
	s := ""
	if r.Count != 1 {
		s = "s"
	}
	return fmt.Sprintf("\t%d RESERVATION%s for %s %s (%s/%d)", r.Count, s, r.Kind, r.Name, r.ServerHost, r.Port)
}
