package triad

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"golm/lmutil/server/state"
)

// everyCommand is one of each replicated command, every field set.
func everyCommand() []Command {
	now := time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.UTC)
	return []Command{
		state.Checkout{
			Session: 1<<40 + 7,
			Client: state.Client{User: "alice", Host: "ws1", Display: "/dev/pts/1", Project: "p", Program: "cad",
				PID: 4242, IP: "10.0.0.1", Ethers: []string{"0011aabbccdd", "001122334455"}, JobID: 99},
			Feature: "f1", Version: "2.5", VendorData: "vd", Count: 3, Queue: true,
			Linger: 90 * time.Second, PrevHandle: 150, Adopt: true, Now: now,
		},
		state.Checkout{Session: 2, Feature: "f2", Version: "1.0", Count: -1, Now: now}, // zero-value fields
		state.Checkin{Session: 1, Handle: 1<<32 - 1, Now: now},
		state.Heartbeat{Session: 3, Now: now},
		state.SetIdle{Session: 3, Idle: true, Now: now},
		state.Disconnect{Session: 4, Now: now},
		state.Tick{Now: now},
		state.Tick{}, // the zero time
		TimedOut{Session: 5, Now: now},
		state.Remove{Feature: "f1", User: "bob", Host: "ws2", Display: "d", Now: now},
		state.RemoveHandle{Feature: "", Handle: 101, Now: now},
		Reread{Hash: hashOf("license")},
		SetPolicy{Hash: hashOf("options")},
		state.Revoke{Handles: []uint32{101, 102}},
		state.Revoke{},
	}
}

// sameCommand compares commands with times by Equal (decoded times have
// no monotonic reading and the local zone).
func sameCommand(a, b Command) bool {
	norm := func(c Command) Command {
		u := func(t time.Time) time.Time {
			if t.IsZero() {
				return t
			}
			return t.UTC()
		}
		switch c := c.(type) {
		case state.Checkout:
			c.Now = u(c.Now)
			return c
		case state.Checkin:
			c.Now = u(c.Now)
			return c
		case state.Heartbeat:
			c.Now = u(c.Now)
			return c
		case state.SetIdle:
			c.Now = u(c.Now)
			return c
		case state.Disconnect:
			c.Now = u(c.Now)
			return c
		case state.Tick:
			c.Now = u(c.Now)
			return c
		case state.Remove:
			c.Now = u(c.Now)
			return c
		case state.RemoveHandle:
			c.Now = u(c.Now)
			return c
		case TimedOut:
			c.Now = u(c.Now)
			return c
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestCodecRoundTrip(t *testing.T) {
	for _, c := range everyCommand() {
		t.Run(strings.TrimPrefix(reflect.TypeOf(c).String(), "server."), func(t *testing.T) {
			data, err := Encode(nil, []Command{c})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(got) != 1 || !sameCommand(got[0], c) {
				t.Errorf("got %#v, want %#v", got, c)
			}
		})
	}
	t.Run("batch", func(t *testing.T) {
		cmds := everyCommand()
		data, err := Encode(nil, cmds)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(cmds) {
			t.Fatalf("got %d commands, want %d", len(got), len(cmds))
		}
		for i := range cmds {
			if !sameCommand(got[i], cmds[i]) {
				t.Errorf("command %d: got %#v, want %#v", i, got[i], cmds[i])
			}
		}
	})
	t.Run("compact", func(t *testing.T) {
		// A typical checkout fits in far less than a JSON form would.
		data, _ := Encode(nil, []Command{checkout(7, "alice", "f1")})
		if len(data) > 64 {
			t.Errorf("a checkout takes %d bytes, want at most 64", len(data))
		}
	})
}

func TestCodecRefuses(t *testing.T) {
	good, _ := Encode(nil, []Command{checkout(1, "u", "f1"), state.Checkin{Session: 1, Handle: 101}})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"unknown version", append([]byte{2}, good[1:]...), ErrVersion},
		{"version 0", append([]byte{0}, good[1:]...), ErrVersion},
		{"truncated", good[:len(good)-1], ErrCorrupt},
		{"trailing byte", append(bytes.Clone(good), 0), ErrCorrupt},
		{"unknown tag", []byte{codecVersion, 1, 200}, ErrCorrupt},
		{"count beyond input", []byte{codecVersion, 100, tagTick, 0}, ErrCorrupt},
		{"string beyond input", []byte{codecVersion, 1, tagRemove, 50, 'a'}, ErrCorrupt},
		{"bool not 0 or 1", []byte{codecVersion, 1, tagSetIdle, 1, 2, 0}, ErrCorrupt},
		{"handle beyond 32 bits", []byte{codecVersion, 1, tagCheckin, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0}, ErrCorrupt},
		{"short hash", []byte{codecVersion, 1, tagReread, 1, 2, 3}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.data)
			if !errors.Is(err, tt.want) {
				t.Errorf("Decode = %v, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	long := strings.Repeat("x", maxString+1)
	tests := []struct {
		name string
		cmd  Command
		want error
	}{
		{"pools do not travel", state.Reread{}, ErrNotReplicated},
		{"policies do not travel", state.SetPolicy{Policy: state.NoPolicy{}}, ErrNotReplicated},
		{"nil", nil, ErrNotReplicated},
		{"long user", state.Checkout{Client: state.Client{User: long}}, ErrTooLarge},
		{"long feature", state.Remove{Feature: long}, ErrTooLarge},
		{"huge count", state.Checkout{Count: 1 << 40}, ErrTooLarge},
		{"too many handles", state.Revoke{Handles: make([]uint32, maxList+1)}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encode(nil, []Command{tt.cmd}); !errors.Is(err, tt.want) {
				t.Errorf("Encode(%T) = %v, want %v", tt.cmd, err, tt.want)
			}
		})
	}
	t.Run("at the bounds", func(t *testing.T) {
		c := state.Checkout{Client: state.Client{User: long[:maxString]}, Count: 1<<31 - 1}
		data, err := Encode(nil, []Command{c})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Decode(data); err != nil || !sameCommand(got[0], c) {
			t.Errorf("round trip at the bounds: %v", err)
		}
	})
}

// FuzzDecode: Decode never panics, and what it accepts encodes back to
// the same bytes.
func FuzzDecode(f *testing.F) {
	all, _ := Encode(nil, everyCommand())
	f.Add(all)
	for _, c := range everyCommand() {
		data, _ := Encode(nil, []Command{c})
		f.Add(data)
	}
	f.Add([]byte{codecVersion, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Encode(nil, cmds)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", cmds, err)
		}
		back, err := Decode(again)
		if err != nil || len(back) != len(cmds) {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		for i := range cmds {
			if !sameCommand(back[i], cmds[i]) {
				t.Fatalf("command %d: %#v became %#v", i, cmds[i], back[i])
			}
		}
	})
}

// TestApplyDeterministic: two states fed the same encoded log end with
// the same seats, and so does a state fed the commands before encoding,
// so that the codec loses nothing State.Apply looks at.
func TestApplyDeterministic(t *testing.T) {
	lic := newLicenses(baseLicense, rereadLicense)
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			cmds := randomCommands(seed, 600)
			// Batches of varying size, as the master makes them.
			var log [][]byte
			for i := 0; i < len(cmds); {
				n := min(1+i%7, len(cmds)-i)
				data, err := Encode(nil, cmds[i:i+n])
				if err != nil {
					t.Fatal(err)
				}
				log = append(log, data)
				i += n
			}
			var digests []string
			for range 2 {
				f := NewFSM(fsmConfig(t, lic))
				for i, data := range log {
					if r := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data}).(applyResponse); r.err != nil {
						t.Fatalf("entry %d: %v", i+1, r.err)
					}
				}
				digests = append(digests, digest(f.State()))
			}
			direct := fsmConfig(t, lic)
			st := direct.NewState()
			for _, c := range cmds {
				sc, err := (&FSM{cfg: direct}).resolve(c)
				if err != nil {
					t.Fatal(err)
				}
				st.Apply(sc)
			}
			digests = append(digests, digest(st))
			if digests[0] != digests[1] {
				t.Errorf("two members differ:\n%s\nvs\n%s", digests[0], digests[1])
			}
			if digests[0] != digests[2] {
				t.Errorf("the log and the commands differ:\n%s\nvs\n%s", digests[0], digests[2])
			}
			if !strings.Contains(digests[0], "seat ") {
				t.Errorf("no seat out at the end; the sequence tests little:\n%s", digests[0])
			}
		})
	}
}
