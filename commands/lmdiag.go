package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/fatih/color"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

// lmdiagSeparator frames each license file and ends each license line's
// report.
const lmdiagSeparator = "-----------------------------------------------------"

// lmdiagPrompt asks for the extended connection diagnostics, in the
// style of lmdown's "Are you sure (y/n)?  ".
const lmdiagPrompt = "Do you want to run extended connection diagnostics (y/n)?  "

// Extended connection diagnostics: the ports around the SERVER line's
// port and the default range, probed by this many connections at a time,
// each step bounded by probeTimeout.
const (
	scanAround       = 10
	scanParallel     = 8
	scanProbeTimeout = time.Second
)

// lmdiagDeps are lmdiag's ties to the host, replaced in tests.
type lmdiagDeps struct {
	machine  machineFunc
	terminal func(any) bool
	// ports lists the ports to scan for a SERVER line's port (0: none
	// given) and the VENDOR line's port (0: none).
	ports func(serverPort, vendorPort int) []int
}

func lmdiagApplet() *Applet {
	return newLmdiagApplet(lmdiagDeps{machine: localMachine, terminal: fileIsTerminal, ports: scanPorts})
}

// fileIsTerminal reports whether a standard stream is a terminal.
func fileIsTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && isTerminal(f)
}

func newLmdiagApplet(deps lmdiagDeps) *Applet {
	return &Applet{
		Name:        "lmdiag",
		Aliases:     []string{"diag"},
		Usage:       "lmdiag [-c license_file_list] [-n] [feature[:keyword=value]]",
		Summary:     "diagnose why a license cannot be checked out",
		Description: manText("lmdiag", "scanAround", strconv.Itoa(scanAround), "scanParallel", strconv.Itoa(scanParallel)),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "c", Usage: "diagnose the license files of `license_file_list`"},
				&cli.BoolFlag{Name: "n", Usage: "do not prompt: no extended connection diagnostics"},
			}
		},
		Action: func(c *cli.Context, env *Env) error { return runLmdiag(c, env, deps) },
	}
}

// featureSelector is lmdiag's feature[:keyword=value] argument.
type featureSelector struct {
	name, key, value string // all "" for every line
}

// parseSelector splits feature[:keyword=value].
func parseSelector(arg string) (featureSelector, error) {
	name, rest, hasKey := strings.Cut(arg, ":")
	s := featureSelector{name: name}
	if name == "" {
		return s, fmt.Errorf("lmdiag: %q: empty feature name", arg)
	}
	if hasKey {
		k, v, ok := strings.Cut(rest, "=")
		if !ok || k == "" {
			return s, fmt.Errorf("lmdiag: %q: want feature:keyword=value", arg)
		}
		s.key, s.value = strings.ToUpper(k), v
	}
	return s, nil
}

// matches reports whether license line ft is selected.
func (s featureSelector) matches(ft *licfile.Feature) bool {
	if s.name == "" {
		return true
	}
	if ft.Name != s.name {
		return false
	}
	switch s.key {
	case "":
		return true
	case "VERSION":
		v, err := licfile.ParseVersion(s.value)
		return err == nil && v.Compare(ft.Version) == 0
	case "HOSTID":
		want, err := licfile.ParseHostID(s.value)
		for _, h := range ft.HostID {
			if strings.EqualFold(h.Text, s.value) || (err == nil && h.Type == want.Type && h.Value == want.Value) {
				return true
			}
		}
		return false
	case "EXPDATE":
		return strings.EqualFold(ft.Expiry.Text, s.value)
	case "KEY":
		return s.value != "" && (strings.EqualFold(ft.Key, s.value) || strings.EqualFold(ft.Sign, s.value))
	case "SN":
		return ft.SN == s.value
	case "VENDOR_STRING":
		return ft.VendorString == s.value
	case "ISSUER":
		return ft.Issuer == s.value
	case "ISSUED":
		return strings.EqualFold(ft.Issued.Text, s.value)
	case "NOTICE":
		return ft.Notice == s.value
	}
	for _, a := range ft.Attrs {
		if strings.EqualFold(a.Key, s.key) && a.Value == s.value {
			return true
		}
	}
	return false
}

// lmdiagRun is one run of lmdiag.
type lmdiagRun struct {
	ctx     context.Context
	env     *Env
	deps    lmdiagDeps
	w       io.Writer
	in      *bufio.Reader
	noAsk   bool
	machine *licfile.Machine
	// scanned holds the servers whose extended diagnostics ran, or were
	// declined, keyed by host and port.
	scanned map[string]bool
	first   error // the first line that cannot be checked out
}

func runLmdiag(c *cli.Context, env *Env, deps lmdiagDeps) error {
	a := Lookup("lmdiag")
	if c.NArg() > 1 {
		return usagef(a, "lmdiag: unexpected argument %q", c.Args().Get(1))
	}
	var sel featureSelector
	if c.NArg() == 1 {
		var err error
		if sel, err = parseSelector(c.Args().First()); err != nil {
			return usagef(a, "%v", err)
		}
	}
	r := &lmdiagRun{ctx: c.Context, env: env, deps: deps, w: env.Stdout, in: bufio.NewReader(stdinOf(env)), noAsk: c.Bool("n"), scanned: map[string]bool{}}
	r.machine, _ = deps.machine(env)
	fmt.Fprintln(r.w, Banner(env.Prog))
	fmt.Fprintln(r.w, "Flexible License Manager diagnostics on "+statusDate(env.Time()))
	fmt.Fprintln(r.w)
	sources := env.LicenseSources(c.String("c"), "")
	found, readable := 0, 0
	var readErr error
	for _, src := range sources {
		if src.IsServer() {
			readable++
			names := []string{sel.name}
			if sel.name == "" {
				// Every feature the server has, from the license files
				// it serves, as lmutil's lmdiag does for port@host.
				files, err := serverLicenseFiles(c.Context, env, "lmdiag", src.Servers)
				if err != nil {
					r.header(src.String())
					r.verdict(err)
					fmt.Fprintln(r.w, lmdiagSeparator)
					continue
				}
				names = servedFeatures(files)
			}
			if len(names) > 0 {
				r.header(src.String())
			}
			for _, name := range names {
				r.diagnoseServer(src, name)
				found++
			}
			continue
		}
		f, err := licfile.ParseFile(src.File)
		var list licfile.ErrorList
		if f == nil || (err != nil && !errors.As(err, &list)) {
			if readErr == nil {
				readErr = lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorDiagNoFile, err, "License path: "+src.Path)
			}
			continue
		}
		readable++
		var lines []*licfile.Feature
		for _, ft := range f.Features {
			if sel.matches(ft) {
				lines = append(lines, ft)
			}
		}
		if len(lines) == 0 {
			continue
		}
		r.header(src.Path)
		for _, ft := range lines {
			r.diagnoseLine(src, f, ft)
			found++
		}
	}
	switch {
	case readable == 0 && readErr != nil:
		return readErr
	case found == 0 && sel.name != "":
		return lmerr.New(lmerr.NoFeature, lmerr.MinorDiagNoFeature, "Feature:       "+sel.name, "License path:  "+licfile.PathString(sources))
	}
	return alreadyPrinted(r.first)
}

// servedFeatures are the feature names of the license files a server
// sent, in file order, each once: FEATURE and INCREMENT lines and the
// components of PACKAGE lines.
func servedFeatures(files []serverFile) []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, sf := range files {
		if sf.File == nil {
			continue
		}
		for _, ft := range sf.File.Features {
			if ft.Kind != licfile.KindUpgrade {
				add(ft.Name)
			}
		}
		for _, pk := range sf.File.Packages {
			for _, c := range pk.Components {
				add(c.Name)
			}
		}
	}
	return names
}

// header frames a license file's name.
func (r *lmdiagRun) header(path string) {
	fmt.Fprintln(r.w, lmdiagSeparator)
	fmt.Fprintln(r.w, "License file: "+path)
	fmt.Fprintln(r.w, lmdiagSeparator)
}

// diagnoseLine prints one license line's information, tries a checkout
// through its file and prints the verdict.
func (r *lmdiagRun) diagnoseLine(src licfile.Source, f *licfile.File, ft *licfile.Feature) {
	w := r.w
	fmt.Fprintf(w, "%q v%s, vendor: %s, expiry: %s\n", ft.Name, ft.Version.Text, ft.Vendor, ft.Expiry.Text)
	if ft.Count > 0 && len(f.Servers) > 0 {
		fmt.Fprintf(w, "  License server: %s\n", serverNames(f.Servers))
	}
	switch {
	case len(ft.HostID) == 0:
		fmt.Fprintf(w, "  floating license, count: %d\n", ft.Count)
	case ft.Count > 0:
		fmt.Fprintf(w, "  node-locked license, count: %d, locked to %q\n", ft.Count, ft.HostID.String())
	default:
		fmt.Fprintf(w, "  uncounted node-locked license, locked to %q\n", ft.HostID.String())
	}
	dates := "  no start date"
	if !ft.Start.IsZero() {
		dates = "  starts: " + ft.Start.Text
	}
	if ft.Expiry.Permanent() {
		dates += ", no expiration date"
	} else {
		dates += ", expires: " + ft.Expiry.Text
	}
	fmt.Fprintln(w, dates)
	if ft.SN != "" {
		fmt.Fprintf(w, "  serial number: %s\n", ft.SN)
	}
	var err error
	if len(ft.HostID) > 0 && !r.nodeLine(ft.HostID) {
		// A checkout could be granted by another line of the feature:
		// this line's verdict is that it is locked to another host.
		err = lmerr.New(lmerr.NotThisHost, lmerr.MinorDiagWrongNode, "Feature:       "+ft.Name, "Hostid:        "+ft.HostID.String())
	} else {
		err = r.tryCheckout(src.File, ft.Vendor, ft.Name, ft.Version.Text)
	}
	r.verdict(err)
	if lmerr.CodeOf(err) == lmerr.NoServer {
		for _, s := range f.Servers {
			r.extended(s, vendorPort(f, ft.Vendor), ft.Vendor)
		}
	}
	fmt.Fprintln(w, lmdiagSeparator)
}

// diagnoseServer tries a checkout of feature at a port@host entry.
func (r *lmdiagRun) diagnoseServer(src licfile.Source, feature string) {
	fmt.Fprintf(r.w, "%q at license server %s\n", feature, src.String())
	err := r.tryCheckout(src.String(), "", feature, "0")
	r.verdict(err)
	if lmerr.CodeOf(err) == lmerr.NoServer {
		for _, a := range src.Servers {
			r.extended(&licfile.Server{Host: a.Host, Port: a.Port}, 0, "")
		}
	}
	fmt.Fprintln(r.w, lmdiagSeparator)
}

// nodeLine says whether this host is the one a node-locked line names,
// and returns it.
func (r *lmdiagRun) nodeLine(ids licfile.HostIDList) bool {
	if r.machine != nil && ids.Matches(r.machine) {
		fmt.Fprintln(r.w, "  This is the correct node for this node-locked license")
		return true
	}
	line := "  This is NOT the correct node for this node-locked license"
	if mine := thisHostID(ids[0].Type, r.machine); mine != "" {
		line += fmt.Sprintf(" (this host: %q)", mine)
	}
	fmt.Fprintln(r.w, line)
	return false
}

// thisHostID is this host's hostid of kind t, "" when it has none or the
// kind is not one lmhostid prints.
func thisHostID(t licfile.HostIDType, m *licfile.Machine) string {
	if m == nil {
		return ""
	}
	first := func(list []string) string {
		if len(list) == 0 {
			return ""
		}
		return list[0]
	}
	prefixed := func(prefix, v string) string {
		if v == "" {
			return ""
		}
		return prefix + v
	}
	switch t {
	case licfile.HostIDEther:
		return first(m.Ethers)
	case licfile.HostIDLong:
		return m.Long
	case licfile.HostIDHostname:
		return prefixed("HOSTNAME=", m.Hostname)
	case licfile.HostIDUser:
		return prefixed("USER=", m.User)
	case licfile.HostIDDisplay:
		return prefixed("DISPLAY=", m.Display)
	case licfile.HostIDInternet:
		return prefixed("INTERNET=", first(m.IPs))
	}
	return ""
}

// tryCheckout checks one license of feature out of path and in again.
func (r *lmdiagRun) tryCheckout(path, vendor, feature, version string) error {
	opts := []client.Option{
		client.WithGetenv(r.env.Env),
		client.WithDir(r.env.Dir),
		client.WithProgram("lmdiag"),
		client.WithSoftware(protocol.Software),
		client.WithDiagnostics(io.Discard),
		client.WithDiagnosticsLevel(0),
	}
	if vendor != "" {
		opts = append(opts, client.WithVendor(vendor))
	}
	if r.env.Hostname != nil {
		opts = append(opts, client.WithHostname(r.env.Hostname))
	}
	if r.env.Now != nil {
		opts = append(opts, client.WithClock(r.env.Now))
	}
	if r.machine != nil {
		opts = append(opts, client.WithMachine(r.machine))
	}
	job, err := client.Open(r.ctx, path, opts...)
	if err != nil {
		return err
	}
	defer job.Close()
	if version == "" {
		version = "0"
	}
	lic, err := job.Checkout(r.ctx, feature, version, 1)
	if err != nil {
		return err
	}
	_ = lic.Checkin(r.ctx)
	return nil
}

// verdict prints whether the checkout worked, and remembers the first
// failure for the exit status.
func (r *lmdiagRun) verdict(err error) {
	fmt.Fprintln(r.w)
	if err == nil {
		fmt.Fprintln(r.w, paint(r.env, color.FgGreen)("This license can be checked out"))
		return
	}
	if r.first == nil {
		r.first = err
	}
	fmt.Fprintln(r.w, paint(r.env, color.FgRed, color.Bold)("This license cannot be checked out because:"))
	var long interface{ Long() string }
	if errors.As(err, &long) {
		fmt.Fprintln(r.w, long.Long())
	} else {
		fmt.Fprintln(r.w, err.Error())
	}
}

// serverNames lists a file's servers as port@host.
func serverNames(servers []*licfile.Server) string {
	names := make([]string, len(servers))
	for i, s := range servers {
		if s.Port > 0 {
			names[i] = strconv.Itoa(s.Port) + "@" + s.Host
		} else {
			names[i] = s.Host
		}
	}
	return strings.Join(names, ",")
}

// vendorPort is the port= of vendor's DAEMON/VENDOR line in f, 0 if none.
func vendorPort(f *licfile.File, vendor string) int {
	for _, v := range f.Vendors {
		if v.Name == vendor {
			return v.Port
		}
	}
	return 0
}

// scanPorts lists the ports the extended diagnostics probe: the SERVER
// line's port and scanAround ports either side, the default range
// 27000-27009, and the vendor daemon's port, sorted, each once.
func scanPorts(serverPort, vendorPort int) []int {
	var ports []int
	add := func(p int) {
		if p > 0 && p <= 65535 && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	if serverPort > 0 {
		for p := serverPort - scanAround; p <= serverPort+scanAround; p++ {
			add(p)
		}
	}
	for p := licfile.DefaultPortFirst; p <= licfile.DefaultPortLast; p++ {
		add(p)
	}
	add(vendorPort)
	slices.Sort(ports)
	return ports
}

// portRanges renders sorted ports as "26990-27010, 27500".
func portRanges(ports []int) string {
	var parts []string
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ports[i]))
		} else {
			parts = append(parts, strconv.Itoa(ports[i])+"-"+strconv.Itoa(ports[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// askExtended asks whether to run the extended diagnostics; -n says no.
func (r *lmdiagRun) askExtended() bool {
	if r.noAsk {
		return false
	}
	fmt.Fprintln(r.w)
	fmt.Fprint(r.w, lmdiagPrompt)
	answer := readAnswer(r.in)
	if !r.deps.terminal(r.env.Stdin) {
		fmt.Fprintln(r.w) // a terminal would have echoed the newline
	}
	return strings.HasPrefix(answer, "y") || strings.HasPrefix(answer, "Y")
}

// extended runs the extended connection diagnostics for server s, once
// per server, when the user wants them.
func (r *lmdiagRun) extended(s *licfile.Server, vport int, vendor string) {
	key := strings.ToLower(s.Host) + ":" + strconv.Itoa(s.Port)
	if done, seen := r.scanned[key]; seen {
		if done {
			fmt.Fprintf(r.w, "(See the extended connection diagnostics of %s above.)\n", s.Host)
		}
		return
	}
	run := r.askExtended()
	r.scanned[key] = run
	if !run {
		return
	}
	ports := r.deps.ports(s.Port, vport)
	fmt.Fprintf(r.w, "Extended connection diagnostics of %s, ports %s:\n", s.Host, portRanges(ports))
	results := r.scan(s.Host, ports)
	var lmgrds, vendors []client.PortProbe
	for _, p := range results {
		switch p.Kind {
		case client.PortLmgrd:
			fmt.Fprintf(r.w, "Port %d: lmgrd v%s, vendor daemons: %s\n", p.Port, p.Hello.Software, strings.Join(p.Vendors, " "))
			lmgrds = append(lmgrds, p)
		case client.PortVendor:
			fmt.Fprintf(r.w, "Port %d: vendor daemon %s v%s\n", p.Port, p.Hello.Daemon, p.Hello.Software)
			vendors = append(vendors, p)
		case client.PortOther:
			fmt.Fprintf(r.w, "Port %d: listening, not a license server\n", p.Port)
		}
	}
	r.conclude(s, vendor, lmgrds, vendors)
}

// conclude says which port the license file should name.
func (r *lmdiagRun) conclude(s *licfile.Server, vendor string, lmgrds, vendors []client.PortProbe) {
	for _, p := range lmgrds {
		if vendor != "" && !slices.Contains(p.Vendors, vendor) {
			continue
		}
		who := "lmgrd"
		if vendor != "" {
			who = "lmgrd for vendor " + vendor
		}
		if p.Port == s.Port {
			fmt.Fprintf(r.w, "%s listens on port %d, the port the license file names.\n", who, p.Port)
			return
		}
		named := "no port"
		if s.Port > 0 {
			named = "port " + strconv.Itoa(s.Port)
		}
		fmt.Fprintf(r.w, "The license file names %s, but %s listens on port %d.\n", named, who, p.Port)
		fmt.Fprintf(r.w, "Correct the SERVER line to: SERVER %s %s %d\n", s.Host, s.HostID.Text, p.Port)
		return
	}
	for _, p := range vendors {
		if vendor == "" || p.Hello.Daemon == vendor {
			fmt.Fprintf(r.w, "Vendor daemon %s listens on port %d, but no lmgrd serving it was found: is lmgrd running?\n", p.Hello.Daemon, p.Port)
			return
		}
	}
	what := "No lmgrd"
	if vendor != "" {
		what = "No lmgrd or vendor daemon for " + vendor
	}
	fmt.Fprintf(r.w, "%s was found on %s: is the license server running?\n", what, s.Host)
}

// scan probes ports of host, scanParallel at a time, showing progress on
// a terminal. The results are in port order.
func (r *lmdiagRun) scan(host string, ports []int) []client.PortProbe {
	results := make([]client.PortProbe, len(ports))
	progress := r.deps.terminal(r.env.Stdout)
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, scanParallel)
	var wg sync.WaitGroup
	for i, p := range ports {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = client.Probe(r.ctx, host, p, client.WithDialTimeout(scanProbeTimeout), client.WithProgram("lmdiag"), client.WithSoftware(protocol.Software))
			if progress {
				mu.Lock()
				done++
				fmt.Fprintf(r.w, "\rProbing %s port %d (%d of %d)...", host, p, done, len(ports))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if progress {
		fmt.Fprint(r.w, "\r\033[K")
	}
	return results
}
