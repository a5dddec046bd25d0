package commands

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// fakeServer replays a recorded lmgrd: its status and each vendor
// daemon's feature status stream.
type fakeServer struct {
	status  *protocol.ServerStatus
	vendors []*protocol.VendorStatus
	streams map[string][]protocol.Message // by vendor name
	// statusErr fails the server status request; streamErr ends a
	// vendor's stream with an error after its records.
	statusErr error
	streamErr map[string]error
}

func (f *fakeServer) ServerStatus(context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	if f.statusErr != nil {
		return nil, nil, f.statusErr
	}
	return f.status, func(yield func(*protocol.VendorStatus, error) bool) {
		for _, v := range f.vendors {
			if !yield(v, nil) {
				return
			}
		}
	}, nil
}

func (f *fakeServer) FeatureStatus(_ context.Context, vendor, feature string) (iter.Seq2[protocol.Message, error], error) {
	if vendor == "" {
		for _, v := range f.vendors {
			for _, m := range f.streams[v.Name] {
				if h, ok := m.(*protocol.FeatureHeader); ok && h.Name == feature {
					vendor = v.Name
				}
			}
		}
		if vendor == "" {
			return nil, lmerr.New(-5, 346, "Feature:       "+feature)
		}
	}
	for _, v := range f.vendors {
		if v.Name == vendor && !v.Up {
			return nil, lmerr.New(-97, 121)
		}
	}
	var msgs []protocol.Message
	keep := feature == ""
	for _, m := range f.streams[vendor] {
		if h, ok := m.(*protocol.FeatureHeader); ok && feature != "" {
			keep = h.Name == feature
		}
		if keep {
			msgs = append(msgs, m)
		}
	}
	return func(yield func(protocol.Message, error) bool) {
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
		if err := f.streamErr[vendor]; err != nil {
			yield(nil, err)
		}
	}, nil
}

func (f *fakeServer) Close() error { return nil }

// statTime is the clock of the recorded status: Mon 2/10/2025 11:26.
var statTime = time.Date(2025, 2, 10, 11, 26, 30, 0, time.UTC)

func at(h, m, s int) int64 { return time.Date(2025, 2, 10, h, m, s, 0, time.UTC).Unix() }

func upServer(host string, port int, files ...string) *protocol.ServerStatus {
	return &protocol.ServerStatus{Host: host, Port: port, Version: "0.1.0", Master: true, LicenseFiles: files}
}

// busyServer is one lmgrd with vendor daemon xyzd serving every kind of
// license line and entry lmstat -a shows.
func busyServer() *fakeServer {
	user := func(u, h, d, v string, handle uint64, start int64, n int) *protocol.UserEntry {
		return &protocol.UserEntry{User: u, Host: h, Display: d, Version: v, ServerHost: "host.example.com", Port: 27004, Handle: handle, Start: start, Count: n}
	}
	linger := user("lin", "pc9", "pc9", "1.0", 405, at(0, 10, 0), 1)
	linger.LingerRemaining, linger.LingerTotal = 20, 300
	queued := user("que", "pc3", "/dev/pts/3", "2017.06", 15480, 0, 2)
	queued.Queued = true
	withData := user("vd", "pc4", ":0", "1.0", 406, at(9, 5, 7), 1)
	withData.VendorData = "[APS Base]"
	return &fakeServer{
		status: upServer("host.example.com", 27004, "/usr/local/lic/license.lic"),
		vendors: []*protocol.VendorStatus{
			{Name: "xyzd", Up: true, Version: "0.1.0", Port: 41000},
		},
		streams: map[string][]protocol.Message{"xyzd": {
			&protocol.FeatureHeader{Name: "f1", Issued: 10000, InUse: 61},
			&protocol.PoolStatus{Feature: "f1", Version: "52", Vendor: "xyzd", Expiry: "30-dec-2025", VendorString: "vendor string", LicenseType: protocol.Floating, Issued: 10000, InUse: 61},
			user("user1", "host1", "display1", "50", 401, at(0, 10, 0), 1),
			user("user2", "host2", "/dev/pts/0", "50", 501, at(9, 5, 7), 3),
			withData,
			linger,
			queued,
			&protocol.ReservationEntry{Count: 1, Kind: "HOST", Name: "HOSTPC11", ServerHost: "host.example.com", Port: 27004},
			&protocol.ReservationEntry{Count: 48, Kind: "GROUP", Name: "GROUP1", ServerHost: "host.example.com", Port: 27004},
			&protocol.PoolStatus{Feature: "f1", Version: "53", Vendor: "xyzd", Expiry: "permanent", LicenseType: protocol.Floating, Issued: 5},
			&protocol.FeatureHeader{Name: "f2", Issued: 5},
			&protocol.PoolStatus{Feature: "f2", Version: "1.0", Vendor: "xyzd", Expiry: "1-jan-2030", LicenseType: protocol.Floating, Issued: 5},
			&protocol.FeatureHeader{Name: "one", Issued: 1, InUse: 1},
			&protocol.PoolStatus{Feature: "one", Version: "1.0", Vendor: "xyzd", Expiry: "permanent", LicenseType: protocol.Nodelocked, HostID: "ID=1234", Issued: 1, InUse: 1},
			user("solo", "pc1", "pc1", "1.0", 402, at(10, 0, 0), 1),
			&protocol.FeatureHeader{Name: "node", Uncounted: true, InUse: 1},
			&protocol.PoolStatus{Feature: "node", Version: "2.0", Vendor: "xyzd", Expiry: "permanent", LicenseType: protocol.UncountedNodelocked, HostID: "ANY"},
			user("nl", "pc2", "pc2", "2.0", 403, at(11, 0, 0), 1),
			&protocol.FeatureHeader{Name: "node2", Uncounted: true},
			&protocol.FeatureHeader{Name: "unsup", Issued: 4, Code: -18, Minor: 147},
			&protocol.FeatureHeader{Name: "broken", Code: -10, Minor: 32},
		}},
	}
}

// triadFake is a member of a triad on port 27000 of host, with
// busyServer's vendor daemon; master says whether it is the master.
func triadFake(host string, master bool) *fakeServer {
	f := busyServer()
	f.status = upServer(host, 27000, "/usr/local/lic/license.lic")
	f.status.Master = master
	if !master {
		// A member that is not the master has the same seats; lmstat
		// shows the master's.
		f.streams = map[string][]protocol.Message{"xyzd": f.streams["xyzd"][:2]}
	}
	return f
}

// twoVendors has a second vendor daemon, abcd, that is down.
func twoVendors() *fakeServer {
	f := busyServer()
	f.vendors = append(f.vendors, &protocol.VendorStatus{Name: "abcd", Code: -97, Minor: 121})
	return f
}

// TestLmstatStatusGolden renders recorded server status in every mode
// and compares the output byte for byte with the goldens in
// testdata/lmstat-a.
func TestLmstatStatusGolden(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("license.lic", "SERVER host.example.com ANY 27004\nVENDOR xyzd\nVENDOR abcd\n"+
		"FEATURE f1 xyzd 52 30-dec-2025 10000 SIGN=00\nFEATURE a1 abcd 1.0 permanent 2 SIGN=00\n"+
		"INCREMENT a2 abcd 1.0 permanent 2 SIGN=00\nINCREMENT a1 abcd 2.0 permanent 2 SIGN=00\n")
	write("other.lic", "SERVER other ANY 27009\nVENDOR xyzd\n")
	write("nodes.lic", "FEATURE f1 xyzd 1.0 permanent uncounted HOSTID=ANY SIGN=00\n")
	write("bad.lic", "SERVER this_host ANY 27000\nFEATURE f1 xyzd 1.0 31-foo-2005 2 SIGN=00\n")

	refused := lmerr.New(-15, 570)
	refused.Errno = 111
	servers := map[string]*fakeServer{
		"27004@host.example.com": busyServer(),
		"27004@twovendors":       twoVendors(),
		"27009@other":            {statusErr: lmerr.New(-16, 571)},
		"27000@cut":              {status: upServer("cut", 27000, "/l.lic"), vendors: []*protocol.VendorStatus{{Name: "xyzd", Up: true, Version: "0.1.0"}}, streams: map[string][]protocol.Message{"xyzd": busyServer().streams["xyzd"][:4]}, streamErr: map[string]error{"xyzd": lmerr.New(-16, 571)}},
		// A triad: h2 is the master, h3 is down.
		"27000@h1": triadFake("h1", false),
		"27000@h2": triadFake("h2", true),
		"27000@verylonghostname.example.com": {
			status:  upServer("verylonghostname.example.com", 27000, "/a.lic", "/b.lic"),
			vendors: []*protocol.VendorStatus{{Name: "xyzd", Up: true, Version: "0.1.0"}},
		},
	}
	dial := func(_ context.Context, spec []licfile.ServerAddr) (statServer, error) {
		if f := servers[specString(spec)]; f != nil {
			return f, nil
		}
		return nil, refused
	}

	tests := []struct {
		name  string
		mode  statMode
		cflag string
	}{
		// A name ending in -verbose runs with -verbose.
		{"server-down-verbose", statMode{server: true, vendors: true}, "27000@localhost"},
		{"a", statMode{server: true, vendors: true, features: true, usage: true}, "license.lic"},
		{"none", statMode{server: true, vendors: true}, "license.lic"},
		{"A", statMode{server: true, vendors: true, features: true, usage: true, active: true}, "license.lic"},
		{"asec", statMode{server: true, vendors: true, features: true, usage: true, seconds: true}, "27004@host.example.com"},
		{"f-feature", statMode{features: true, feature: "f1"}, "license.lic"},
		{"f-one", statMode{features: true, feature: "one"}, "license.lic"},
		{"f-no-such", statMode{features: true, feature: "nosuch"}, "license.lic"},
		{"f-all", statMode{features: true}, "license.lic"},
		{"S-vendor", statMode{server: true, vendors: true, features: true, byVendor: true, vendor: "xyzd"}, "27004@twovendors"},
		{"S-all", statMode{server: true, vendors: true, features: true, byVendor: true}, "27004@twovendors"},
		{"s-server", statMode{server: true, vendors: true, host: "host.example.com"}, "27000@verylonghostname.example.com:27004@host.example.com"},
		{"lm", statMode{server: true}, "27000@verylonghostname.example.com"},
		{"vd", statMode{vendors: true}, "27004@twovendors"},
		{"vendor-down", statMode{server: true, vendors: true, features: true, usage: true}, "27004@twovendors"},
		{"vendor-down-file", statMode{server: true, vendors: true, features: true, usage: true}, "twovendors.lic"},
		{"server-down", statMode{server: true, vendors: true, features: true, usage: true}, "27000@localhost"},
		{"several-sources", statMode{server: true, vendors: true, features: true, usage: true}, "27000@verylonghostname.example.com:27000@localhost:other.lic:nodes.lic:missing.lic:bad.lic"},
		{"stream-error", statMode{server: true, vendors: true, features: true, usage: true}, "27000@cut"},
		// A directory's files of one server show it once; an empty
		// directory shows nothing and is no error.
		{"l-regex", statMode{features: true, match: regexp.MustCompile("^(f|o)")}, "license.lic"},
		{"l-regex-none", statMode{features: true, match: regexp.MustCompile("^nosuch$")}, "license.lic"},
		{"dir-one-server", statMode{server: true, vendors: true}, "licdir"},
		{"dir-empty", statMode{server: true, vendors: true}, "emptydir"},
		// -s matches a server's first label as well as its full name.
		{"s-first-label", statMode{server: true, vendors: true, host: "host"}, "27000@verylonghostname.example.com:27004@host.example.com"},
		// A triad: one server line per member, (MASTER) on the master,
		// the connect error of the member that is down.
		{"triad", statMode{server: true, vendors: true, features: true, usage: true}, "27000@h1,27000@h2,27000@h3"},
		{"triad-file", statMode{server: true, vendors: true}, "triad.lic"},
		{"triad-f", statMode{features: true, feature: "f1"}, "27000@h1,27000@h2,27000@h3"},
	}
	for _, d := range []string{"licdir", "emptydir"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("licdir/a.lic", "SERVER host.example.com ANY 27004\nVENDOR xyzd\nFEATURE f1 xyzd 52 30-dec-2025 10000 SIGN=00\n")
	write("licdir/b.lic", "SERVER host.example.com ANY 27004\nVENDOR xyzd\nINCREMENT f1 xyzd 52 30-dec-2025 5 SIGN=00\n")
	write("triad.lic", "SERVER h1 ANY 27000\nSERVER h2 ANY 27000\nSERVER h3 ANY 27000\nVENDOR xyzd\nFEATURE f1 xyzd 52 30-dec-2025 10000 SIGN=00\n")
	write("twovendors.lic", "SERVER twovendors ANY 27004\nVENDOR xyzd\nVENDOR abcd\n"+
		"FEATURE a1 abcd 1.0 permanent 2 SIGN=00\nINCREMENT a2 abcd 1.0 permanent 2 SIGN=00\nINCREMENT a1 abcd 2.0 permanent 2 SIGN=00\n")
	// license.lic's server is host.example.com, whose recorded lmgrd
	// knows only xyzd.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			env := &Env{Stdout: &stdout, Prog: "lmutil", Dir: dir, Now: func() time.Time { return statTime }, Verbose: strings.HasSuffix(tt.name, "-verbose")}
			sources := licfile.ResolvePath(tt.cflag, "", licfile.PathEnv{Dir: dir})
			err := writeStatus(context.Background(), env, tt.mode, sources, dial)
			got := stdout.String()
			if st := ExitStatus(err); st != 0 {
				got += fmt.Sprintf("-- exit %d --\n", st)
			}
			checkGolden(t, filepath.Join("lmstat-a", tt.name+".golden"), got)
		})
	}
}

// TestLmstatStatusLines pins the single-line rules of the reference
// layout independently of the goldens.
func TestLmstatStatusLines(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"issued plural", featureHeaderLine(&protocol.FeatureHeader{Name: "MATLAB", Issued: 10000, InUse: 61}),
			"Users of MATLAB:  (Total of 10000 licenses issued;  Total of 61 licenses in use)"},
		{"singular each", featureHeaderLine(&protocol.FeatureHeader{Name: "f", Issued: 1, InUse: 1}),
			"Users of f:  (Total of 1 license issued;  Total of 1 license in use)"},
		{"zero is plural", featureHeaderLine(&protocol.FeatureHeader{Name: "f", Issued: 1}),
			"Users of f:  (Total of 1 license issued;  Total of 0 licenses in use)"},
		{"uncounted", featureHeaderLine(&protocol.FeatureHeader{Name: "f", Uncounted: true}),
			"Users of f:  (Uncounted, node-locked)"},
		{"unsupported always plural", featureHeaderLine(&protocol.FeatureHeader{Name: "f", Issued: 1, Code: -18, Minor: 1}),
			"Users of f:  (Error: 1 licenses, unsupported by licensed server)"},
		{"cannot get users", featureHeaderLine(&protocol.FeatureHeader{Name: "f", Code: -5, Minor: 346}),
			"Users of f: Cannot get users of f: No such feature exists. (-5,346)"},
		{"user line", userLine(&protocol.UserEntry{User: "user2", Host: "host2", Display: "/dev/pts/0", Version: "50", ServerHost: "host.example.com", Port: 27004, Handle: 501, Start: at(9, 5, 7), Count: 3}, time.UTC, false),
			"    user2 host2 /dev/pts/0 (v50) (host.example.com/27004 501), start Mon 2/10 9:05, 3 licenses"},
		{"user line seconds", userLine(&protocol.UserEntry{User: "u", Host: "h", Display: "d", Version: "1", ServerHost: "s", Port: 1, Handle: 2, Start: at(0, 10, 5), Count: 1}, time.UTC, true),
			"    u h d (v1) (s/1 2), start Mon 2/10 0:10:05"},
		{"linger", userLine(&protocol.UserEntry{User: "u", Host: "h", Display: "d", Version: "1", ServerHost: "s", Port: 1, Handle: 2, Start: at(0, 10, 5), Count: 1, LingerRemaining: 5, LingerTotal: 60}, time.UTC, false),
			"    u h d (v1) (s/1 2), start Mon 2/10 0:10  (linger: 5 / 60)"},
		{"queued", userLine(&protocol.UserEntry{User: "user", Host: "host", Display: "display", Version: "2017.06", ServerHost: "host3", Port: 27002, Handle: 15480, Count: 1, Queued: true}, time.UTC, false),
			"    user host display 2017.06 (v2017.06) (host3/27002 15480) queued for 1 license"},
		{"one reservation", reservationLine(&protocol.ReservationEntry{Count: 1, Kind: "HOST", Name: "HOSTPC11", ServerHost: "host3.domain.net", Port: 27002}),
			"\t1 RESERVATION for HOST HOSTPC11 (host3.domain.net/27002)"},
		{"reservations", reservationLine(&protocol.ReservationEntry{Count: 48, Kind: "GROUP", Name: "GROUP1", ServerHost: "host3.domain.net", Port: 27002}),
			"\t48 RESERVATIONs for GROUP GROUP1 (host3.domain.net/27002)"},
		{"pool permanent", strings.Join(poolLines(&protocol.PoolStatus{Feature: "F", Version: "1.0", Vendor: "v", Expiry: "permanent", LicenseType: protocol.Floating}), "|"),
			`  "F" v1.0, vendor: v, expiry: permanent(no expiration date)|  floating license`},
		{"pool nodelocked", strings.Join(poolLines(&protocol.PoolStatus{Feature: "F", Version: "1.0", Vendor: "v", Expiry: "1-jan-2030", VendorString: "vs", LicenseType: protocol.Nodelocked, HostID: "ID=1234"}), "|"),
			`  "F" v1.0, vendor: v, expiry: 1-jan-2030|  vendor_string: vs|  nodelocked license, locked to "ID=1234"`},
		{"pool uncounted any", strings.Join(poolLines(&protocol.PoolStatus{Feature: "F", Version: "1.0", Vendor: "v", Expiry: "permanent", LicenseType: protocol.UncountedNodelocked, HostID: "ANY"}), "|"),
			`  "F" v1.0, vendor: v, expiry: permanent(no expiration date)|  uncounted nodelocked license locked to NOTHING (hostid=ANY)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

// TestLmstatStatusServerLine checks the 10-column right alignment of the
// server and vendor lines and that they end at the version.
func TestLmstatStatusServerLine(t *testing.T) {
	tests := []struct {
		host, want string
	}{
		{"vm", "        vm: license server UP (MASTER) v0.1.0"},
		{"host.example.com", "host.example.com: license server UP (MASTER) v0.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			var b bytes.Buffer
			w := newStatWriter(&b, statMode{server: true}, time.UTC)
			w.server("27000@"+tt.host, upServer(tt.host, 27000, "/l.lic"))
			lines := strings.Split(b.String(), "\n")
			if len(lines) < 4 || lines[3] != tt.want {
				t.Errorf("server line of\n%s\nwant %q", b.String(), tt.want)
			}
		})
	}
}

// TestLmstatModeFlags checks which parts of the status each command line
// asks for, legacy spellings included.
func TestLmstatModeFlags(t *testing.T) {
	tests := []struct {
		args []string
		want statMode
	}{
		{nil, statMode{server: true, vendors: true}},
		{[]string{"-a"}, statMode{server: true, vendors: true, features: true, usage: true}},
		{[]string{"-a", "-asec"}, statMode{server: true, vendors: true, features: true, usage: true, seconds: true}},
		{[]string{"-asec"}, statMode{server: true, vendors: true, features: true, usage: true, seconds: true}},
		{[]string{"-A"}, statMode{server: true, vendors: true, features: true, usage: true, active: true}},
		{[]string{"-f"}, statMode{features: true}},
		{[]string{"-f", "f1"}, statMode{features: true, feature: "f1"}},
		{[]string{"-f", "-c", "x.lic"}, statMode{features: true}},
		{[]string{"-S"}, statMode{server: true, vendors: true, features: true, byVendor: true}},
		{[]string{"-S", "xyzd"}, statMode{server: true, vendors: true, features: true, byVendor: true, vendor: "xyzd"}},
		{[]string{"-s"}, statMode{server: true, vendors: true}},
		{[]string{"-s", "host1"}, statMode{server: true, vendors: true, host: "host1"}},
		{[]string{"-lm"}, statMode{server: true}},
		{[]string{"-l"}, statMode{features: true}},
		{[]string{"-l", "^f"}, statMode{features: true}},
		{[]string{"-vd"}, statMode{vendors: true}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"lmstat"}, tt.args...), " "), func(t *testing.T) {
			a := lmstatApplet()
			var got statMode
			a.Action = func(c *cli.Context, _ *Env) error {
				got = statModeOf(c)
				return nil
			}
			var out bytes.Buffer
			if err := Run(context.Background(), &Env{Stdout: &out, Stderr: &out}, a, tt.args); err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			if got != tt.want {
				t.Errorf("mode %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzStatWriter feeds lmstat's renderer any sequence of decodable
// status records, in any order and with any values: it must never panic,
// and every line it writes ends with a newline. The input is a list of
// (type byte, 2-byte length, payload) records.
func FuzzStatWriter(f *testing.F) {
	var seed []byte
	for _, m := range busyServer().streams["xyzd"] {
		p := m.AppendPayload(nil)
		seed = append(seed, byte(m.Type()), byte(len(p)>>8), byte(len(p)))
		seed = append(seed, p...)
	}
	f.Add(seed)
	f.Add([]byte{byte(protocol.TypeUserEntry), 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		for _, mode := range []statMode{{features: true, usage: true, seconds: true}, {features: true, active: true}} {
			w := newStatWriter(&out, mode, time.UTC)
			for b := data; len(b) >= 3; {
				typ, n := protocol.Type(b[0]), int(b[1])<<8|int(b[2])
				b = b[3:]
				if n > len(b) {
					break
				}
				if m, err := protocol.Decode(typ, b[:n]); err == nil {
					w.message(m)
				}
				b = b[n:]
			}
			w.endFeature()
		}
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			t.Errorf("output does not end with a newline: %q", out.String())
		}
	})
}

// The "License server status:" line names the server as its SERVER
// lines do, not as the user reached it.
func TestServerName(t *testing.T) {
	st := &protocol.ServerStatus{Host: "lic1", Port: 27000}
	typed := []licfile.ServerAddr{{Host: "10.1.2.3", Port: 27000}}
	triad := &licfile.File{Servers: []*licfile.Server{
		{Host: "h1", Port: 27002}, {Host: "h2", Port: 27002}, {Host: "h3"},
	}}
	one := &licfile.File{Servers: []*licfile.Server{{Host: "localhost", Port: 27000}}}
	tests := []struct {
		name string
		spec []licfile.ServerAddr
		file *licfile.File
		st   *protocol.ServerStatus
		want string
	}{
		{"address typed", typed, nil, st, "27000@lic1"},
		{"alias in file", []licfile.ServerAddr{{Host: "localhost", Port: 27000}}, one, st, "27000@lic1"},
		{"triad file", typed, triad, st, "27002@h1,27002@h2,27000@h3"},
		{"server names nothing", typed, nil, &protocol.ServerStatus{}, "27000@10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serverName(tt.spec, tt.file, tt.st); got != tt.want {
				t.Errorf("serverName = %q, want %q", got, tt.want)
			}
		})
	}
}

// lmstat -s HOST finds the server by its SERVER line's host and the
// names and addresses that mean the same machine.
func TestSpecNames(t *testing.T) {
	tests := []struct {
		spec, host string
		want       bool
	}{
		{"lic1", "lic1", true},
		{"lic1", "LIC1", true},
		{"lic1.example.com", "lic1", true},
		{"lic1", "lic1.example.com", true},
		{"localhost", "127.0.0.1", true},
		{"127.0.0.1", "localhost", true},
		{"this_host", "myhost", true},
		{"this_host", "localhost", true},
		{"lic1", "lic2", false},
		{"127.0.0.1", "127.0.0.2", false},
		{"lic1.example.com", "lic1x", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec+"/"+tt.host, func(t *testing.T) {
			spec := []licfile.ServerAddr{{Host: tt.spec, Port: 27000}}
			if got := specNames(context.Background(), spec, tt.host, "myhost"); got != tt.want {
				t.Errorf("specNames(%q, %q) = %v, want %v", tt.spec, tt.host, got, tt.want)
			}
		})
	}
}
