package commands

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server"
)

func TestParseTriad(t *testing.T) {
	const three = "27000@h1=10.0.0.1:27100,27000@h2=10.0.0.2:27100,27000@h3=10.0.0.3:27100"
	for _, c := range []struct {
		name, spec, self string
		want             string // ID BindAddr | peers | members, or the error
	}{
		{"first member", three, "27000@h1", "27000@h1 10.0.0.1:27100 | [{27000@h1 10.0.0.1:27100} {27000@h2 10.0.0.2:27100} {27000@h3 10.0.0.3:27100}] | [27000@h1 27000@h2 27000@h3]"},
		{"last member", three, "27000@h3", "27000@h3 10.0.0.3:27100 | [{27000@h1 10.0.0.1:27100} {27000@h2 10.0.0.2:27100} {27000@h3 10.0.0.3:27100}] | [27000@h1 27000@h2 27000@h3]"},
		{"IPv6 addresses", "a=[::1]:1,b=[::1]:2,c=[::1]:3", "b", "b [::1]:2 | [{a [::1]:1} {b [::1]:2} {c [::1]:3}] | [a b c]"},
		{"not a member", three, "27000@h4", `error: "27000@h4" is not a member of the triad`},
		{"no self", three, "", `error: "" is not a member of the triad`},
		{"two members", "a=x:1,b=x:2", "a", "error: a triad has three members"},
		{"four members", "a=x:1,b=x:2,c=x:3,d=x:4", "a", "error: a triad has three members"},
		{"empty", "", "a", "error: a triad has three members"},
		{"a trailing comma", "a=x:1,b=x:2,", "a", `error: bad triad member ""`},
		{"no address", "a=x:1,b,c=x:3", "a", `error: bad triad member "b"`},
		{"empty address", "a=x:1,b=,c=x:3", "a", `error: bad triad member "b="`},
		{"empty member", "a=x:1,=x:2,c=x:3", "a", `error: bad triad member "=x:2"`},
		{"one name twice", "a=x:1,a=x:2,b=x:3", "a", `error: triad member "a=x:2" twice`},
		{"one name twice, not self", "a=x:1,b=x:2,b=x:3", "a", `error: triad member "b=x:3" twice`},
		{"one address twice", "a=x:1,b=x:2,c=x:1", "c", `error: triad member "c=x:1" twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, members, err := parseTriad(c.spec, c.self)
			got := fmt.Sprintf("%s %s | %v | %v", cfg.ID, cfg.BindAddr, cfg.Peers, members)
			if err != nil {
				got = "error: " + err.Error()
				if members != nil {
					t.Errorf("members %v with the error", members)
				}
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// vendordContext is the vendor daemon's command line with flags set.
func vendordContext(t *testing.T, flags map[string]string) *cli.Context {
	t.Helper()
	set := flag.NewFlagSet("vendord", flag.ContinueOnError)
	for _, name := range []string{"triad-peers", "triad-self", "data"} {
		set.String(name, "", "")
	}
	for k, v := range flags {
		if err := set.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return cli.NewContext(cli.NewApp(), set, nil)
}

func TestTriadConfig(t *testing.T) {
	const distinct = "27000@h1=h1:27100,27001@h2=h2:27101,27002@h3=h3:27102"
	const oneHost = "27000@127.0.0.1=127.0.0.1:27100,27000@127.0.0.2=127.0.0.2:27100,27000@127.0.0.3=127.0.0.3:27100"
	const twoShare = "27000@h1=h1:27100,27000@h2=h2:27100,27001@h3=h3:27101"
	for _, c := range []struct {
		name   string
		peers  string
		self   string
		env    map[string]string
		grace  time.Duration
		shared bool
	}{
		{"distinct ports", distinct, "27001@h2", nil, server.DefaultTriadGrace, false},
		{"one host, one port", oneHost, "27000@127.0.0.2", nil, server.DefaultTriadGrace, true},
		{"two members share the port", twoShare, "27000@h1", nil, server.DefaultTriadGrace, true},
		{"the member whose port is its own", twoShare, "27001@h3", nil, server.DefaultTriadGrace, false},
		{"grace from the environment", distinct, "27000@h1", map[string]string{triadGraceEnv: "90s"}, 90 * time.Second, false},
		{"bad grace", distinct, "27000@h1", map[string]string{triadGraceEnv: "soon"}, server.DefaultTriadGrace, false},
		{"negative grace", distinct, "27000@h1", map[string]string{triadGraceEnv: "-5s"}, server.DefaultTriadGrace, false},
		{"zero grace", distinct, "27000@h1", map[string]string{triadGraceEnv: "0s"}, server.DefaultTriadGrace, false},
		{"snapshot settings", distinct, "27000@h1", map[string]string{triadSnapshotThresholdEnv: "64", triadSnapshotIntervalEnv: "5s", triadTrailingLogsEnv: "16"}, server.DefaultTriadGrace, false},
		{"bad snapshot settings", distinct, "27000@h1", map[string]string{triadSnapshotThresholdEnv: "-1", triadSnapshotIntervalEnv: "x", triadTrailingLogsEnv: "many"}, server.DefaultTriadGrace, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := vendordContext(t, map[string]string{"triad-peers": c.peers, "triad-self": c.self, "data": t.TempDir()})
			env := &Env{Getenv: func(k string) string { return c.env[k] }}
			tc := triadConfig(ctx, env, "xyzd", nil)
			if tc == nil || tc.Start == nil {
				t.Fatalf("got %+v, want a triad", tc)
			}
			_, members, _ := parseTriad(c.peers, c.self)
			if want := server.TriadRunID("xyzd", members); tc.RunID != want || tc.RunID == server.TriadRunID("abcd", members) {
				t.Errorf("run %x, want %x", tc.RunID, want)
			}
			if tc.Grace != c.grace || tc.SharedPort != c.shared {
				t.Errorf("grace %v shared port %v, want %v %v", tc.Grace, tc.SharedPort, c.grace, c.shared)
			}
		})
	}
	t.Run("one server", func(t *testing.T) {
		if tc := triadConfig(vendordContext(t, map[string]string{"triad-self": "27000@h1", "data": "/d"}), &Env{}, "xyzd", nil); tc != nil {
			t.Errorf("got %+v, want none", tc)
		}
	})
	t.Run("a bad triad fails at the start", func(t *testing.T) {
		tc := triadConfig(vendordContext(t, map[string]string{"triad-peers": "a=x:1,b=x:2", "triad-self": "a"}), &Env{}, "xyzd", nil)
		if tc == nil || tc.Start == nil || tc.RunID != 0 {
			t.Fatalf("got %+v, want a triad that fails to start", tc)
		}
		r, err := tc.Start(server.ReplicaHooks{})
		if r != nil || err == nil || err.Error() != "a triad has three members" {
			t.Errorf("Start = %v, %v", r, err)
		}
	})
}

func TestDataDir(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "state")
	for _, c := range []struct{ data, dir, want string }{
		{"", "/srv", ""},
		{abs, "/srv", abs},
		{"state", "/srv", "/srv/state"},
		{"a/../b", "/srv", "/srv/b"},
	} {
		ctx := vendordContext(t, map[string]string{"data": c.data})
		if got := dataDir(ctx, &Env{Dir: c.dir}); got != c.want {
			t.Errorf("-data %q in %s: got %q, want %q", c.data, c.dir, got, c.want)
		}
	}
}

func TestTriadMembers(t *testing.T) {
	spec := []licfile.ServerAddr{{Host: "h1", Port: 27000}, {Host: "h2", Port: 27001}, {Host: "h3", Port: 27002}}
	got := triadMembers(spec)
	if fmt.Sprint(got) != "[[27000@h1] [27001@h2] [27002@h3]]" {
		t.Errorf("got %v", got)
	}
	if got := triadMembers(nil); len(got) != 0 {
		t.Errorf("no servers: %v", got)
	}
}

// TestStatTriadCases: a triad none of whose members answers is the
// first member's error; one without a master shows no (MASTER) and is
// read through its first member that is up.
func TestStatTriadCases(t *testing.T) {
	refused := lmerr.New(-15, 570)
	refused.Errno = 111
	for _, c := range []struct {
		name    string
		servers map[string]*fakeServer
		want    string
		exit    int
	}{
		{"all down", nil, "\nError getting status: Cannot connect to license server system. (-15,570:111 \"Connection refused\")\n", 256 - 15},
		{"no master", map[string]*fakeServer{"27000@h2": triadFake("h2", false), "27000@h3": triadFake("h3", false)},
			"\nLicense server status: 27000@h1,27000@h2,27000@h3\n" +
				"    License file(s) on h2: /usr/local/lic/license.lic:\n\n" +
				"        h1: Cannot connect to license server system. (-15,570:111 \"Connection refused\")\n" +
				"        h2: license server UP v0.1.0\n" +
				"        h3: license server UP v0.1.0\n\n" +
				"Vendor daemon status (on h2):\n\n" +
				"      xyzd: UP v0.1.0\n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dial := func(_ context.Context, spec []licfile.ServerAddr) (statServer, error) {
				if f := c.servers[specString(spec)]; f != nil {
					return f, nil
				}
				return nil, refused
			}
			var stdout bytes.Buffer
			env := &Env{Stdout: &stdout, Prog: "lmutil", Now: func() time.Time { return statTime }}
			sources := licfile.ResolvePath("27000@h1,27000@h2,27000@h3", "", licfile.PathEnv{})
			err := writeStatus(context.Background(), env, statMode{server: true, vendors: true}, sources, dial)
			want := "lmutil - Copyright (c) 2026 golm authors. All Rights Reserved.\nFlexible License Manager status on Mon 2/10/2025 11:26\n" + c.want
			if got := stdout.String(); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if st := ExitStatus(err); st != c.exit {
				t.Errorf("exit %d, want %d", st, c.exit)
			}
		})
	}
}

// TestLmdownTriadDown: lmdown of a triad none of whose members answers
// reports the first member's error once, with or without -q.
func TestLmdownTriadDown(t *testing.T) {
	const refused = "-- stderr --\nCannot connect to license server system. (-15,570:111 \"Connection refused\")\n-- exit 241 --\n"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-q", "-c", "1@localhost,2@localhost,3@localhost"}, refused},
		{[]string{"-c", "1@localhost,2@localhost,3@localhost"}, "lmdown - Copyright (c) 2026 golm authors. All Rights Reserved.\n" + refused},
	} {
		a := lmdownApplet()
		if got := runAppletGolden(t, a, a.Name, c.args, adminEnv(t, "")); got != c.want {
			t.Errorf("lmdown %q:\n%s\nwant\n%s", c.args, got, c.want)
		}
	}
}
