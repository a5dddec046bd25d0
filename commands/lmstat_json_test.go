package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/status"
)

// TestLmstatJSON renders recorded servers as lmstat -json, checks the
// document against the schema and compares it with the goldens in
// testdata/lmstat-json.
func TestLmstatJSON(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "license.lic"), []byte("SERVER host.example.com ANY 27004\nVENDOR xyzd\nFEATURE f1 xyzd 52 30-dec-2025 10000 SIGN=00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "triad.lic"), []byte("SERVER h1 ANY 27000\nSERVER h2 ANY 27000\nSERVER h3 ANY 27000\nVENDOR xyzd\nFEATURE f1 xyzd 52 30-dec-2025 10000 SIGN=00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := lmerr.New(-15, 570)
	refused.Errno = 111
	servers := map[string]*fakeServer{
		"27004@host.example.com": busyServer(),
		"27004@twovendors":       twoVendors(),
		// A triad: h2 is the master, h3 is down.
		"27000@h1": triadFake("h1", false),
		"27000@h2": triadFake("h2", true),
	}
	dial := func(_ context.Context, spec []licfile.ServerAddr) (statServer, error) {
		if f := servers[specString(spec)]; f != nil {
			return f, nil
		}
		return nil, refused
	}
	for _, tt := range []struct {
		name, cflag string
		status      int
	}{
		{"busy", "license.lic", 0},
		{"vendor-down", "27004@twovendors", 256 - 97},
		{"server-down", "27000@localhost", 256 - 15},
		{"several", "27000@localhost:license.lic:27004@twovendors:missing.lic", 256 - 15},
		{"dir-duplicate", "license.lic:27004@host.example.com", 0},
		// A triad's members in SERVER-line order, the master marked and
		// h3 down; the rest as the master sees it.
		{"triad", "triad.lic", 0},
		{"triad-spec", "27000@h1,27000@h2,27000@h3", 0},
		{"triad-down", "27000@x1,27000@x2,27000@x3", 256 - 15},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			env := &Env{Stdout: &stdout, Prog: "lmutil", Dir: dir, Now: func() time.Time { return statTime }}
			sources := licfile.ResolvePath(tt.cflag, "", licfile.PathEnv{Dir: dir})
			err := writeStatusJSON(context.Background(), env, statSources(sources), dial)
			if st := ExitStatus(err); st != tt.status {
				t.Errorf("exit status: got %d, want %d", st, tt.status)
			}
			if err := status.Validate(stdout.Bytes()); err != nil {
				t.Errorf("the document does not validate: %v", err)
			}
			got := bytes.ReplaceAll(stdout.Bytes(), []byte(dir), []byte("DIR"))
			checkGolden(t, filepath.Join("lmstat-json", tt.name+".golden"), string(got))
		})
	}
}

// TestLmstatJSONMatchesText checks that -json counts what the text of
// lmstat -a says, feature by feature.
func TestLmstatJSONMatchesText(t *testing.T) {
	var doc status.Status
	var stdout bytes.Buffer
	env := &Env{Stdout: &stdout, Prog: "lmutil", Now: func() time.Time { return statTime }}
	dial := func(context.Context, []licfile.ServerAddr) (statServer, error) { return busyServer(), nil }
	src := licfile.ResolvePath("27004@host.example.com", "", licfile.PathEnv{})
	if err := writeStatusJSON(context.Background(), env, statSources(src), dial); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := writeStatus(context.Background(), env, statMode{server: true, vendors: true, features: true, usage: true}, src, dial); err != nil {
		t.Fatal(err)
	}
	text := stdout.String()
	for _, f := range doc.Servers[0].Vendors[0].Features {
		if f.Error != nil || f.Uncounted {
			continue
		}
		want := fmt.Sprintf("Users of %s:  (Total of %d %s issued;  Total of %d %s in use)", f.Name, f.Issued, licenses(f.Issued), f.InUse, licenses(f.InUse))
		if !bytes.Contains([]byte(text), []byte(want)) {
			t.Errorf("lmstat -a lacks %q", want)
		}
	}
	f1 := doc.Servers[0].Vendors[0].Features[0]
	if f1.Queued != 2 || f1.Reserved != 49 {
		t.Errorf("f1: got queued %d reserved %d, want 2 and 49", f1.Queued, f1.Reserved)
	}
}

// TestLmstatJSONTriadMatchesText checks that -json shows a triad's
// members as the server lines of lmstat -a do: the same order, the same
// master, the same members down.
func TestLmstatJSONTriadMatchesText(t *testing.T) {
	for _, master := range []string{"h1", "h2"} {
		t.Run(master, func(t *testing.T) {
			servers := map[string]*fakeServer{
				"27000@h1": triadFake("h1", master == "h1"),
				"27000@h2": triadFake("h2", master == "h2"),
			}
			dial := func(_ context.Context, spec []licfile.ServerAddr) (statServer, error) {
				if f := servers[specString(spec)]; f != nil {
					return f, nil
				}
				return nil, lmerr.New(-15, 570)
			}
			var stdout bytes.Buffer
			env := &Env{Stdout: &stdout, Prog: "lmutil", Now: func() time.Time { return statTime }}
			src := licfile.ResolvePath("27000@h1,27000@h2,27000@h3", "", licfile.PathEnv{})
			if err := writeStatusJSON(context.Background(), env, statSources(src), dial); err != nil {
				t.Fatal(err)
			}
			var doc status.Status
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			stdout.Reset()
			if err := writeStatus(context.Background(), env, statMode{server: true, vendors: true}, src, dial); err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(stdout.String(), "\n") {
				if strings.Contains(l, "license server UP") || strings.Contains(l, "Cannot connect") {
					lines = append(lines, strings.TrimSpace(l))
				}
			}
			s := doc.Servers[0]
			if s.Name != "27000@h1,27000@h2,27000@h3" || len(s.Members) != 3 || len(lines) != 3 {
				t.Fatalf("got name %q, %d members, %d server lines:\n%s", s.Name, len(s.Members), len(lines), stdout.String())
			}
			for i, m := range s.Members {
				host := strings.TrimPrefix(m.Name, "27000@")
				want := host + ": license server UP"
				if m.Master {
					want += " (MASTER)"
				}
				want += " v" + m.Version
				if !m.Up {
					want = host + ": " + m.Error.Message
				}
				if lines[i] != want {
					t.Errorf("member %d: the text says %q, the JSON %q", i, lines[i], want)
				}
				if m.Master != (host == master) {
					t.Errorf("member %s: master %v", m.Name, m.Master)
				}
			}
			if !s.Master || s.Host != master {
				t.Errorf("the triad's fields are %s's (master %v), want the master's", s.Host, s.Master)
			}
		})
	}
}
