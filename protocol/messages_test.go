package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// samples holds one fully populated message of every type; the round-trip
// test, the fuzz seed corpus and the benchmarks share it.
func samples() []Message {
	id := Identity{User: "joe", Host: "pc1", Display: "/dev/pts/0", PID: 4242, Project: "apollo", Program: "simulate"}
	return []Message{
		&Hello{Version: Version, Role: RoleClient, Identity: id, Software: "0.1.0", JobID: 0xdeadbeefcafe},
		&Hello{Version: Version, Role: RoleServer, Identity: Identity{Host: "srv"}, Daemon: "demo", Software: "0.1.0", RunID: 77},
		&Error{Code: -4, Minor: 342, Text: "", Detail: []string{"Feature: f1"}},
		&Error{Code: -15, Minor: 570, Errno: 111},
		&OK{Count: 3},
		&End{},
		&Locate{Vendor: "demo", Feature: "f1"},
		&LocateReply{Vendor: "demo", Host: "srv", Port: 41000},
		&Checkout{Feature: "f1", Version: "1.0", Count: 2, VendorData: "[APS Base]", Flags: CheckoutQueue, PrevRun: 9, PrevHandle: 401},
		&Granted{Handle: 401, Feature: "f1", Version: "2.0", Expiry: "permanent", VendorString: "vs", Adopted: true},
		&SignedGranted{Granted: Granted{Handle: 402, Feature: "f1", Version: "1.0", Expiry: "permanent"}, Form: SignedFormGolm1,
			Lines: []GrantLine{{Text: "golm-sig-1\nPACKAGE \"suite\" \"demo\" 1\nCOMPONENTS \"f1:1:1\"\n", Sign: "ABCD"}, {Text: "golm-sig-1\nFEATURE \"suite\" \"demo\" 1 permanent 4\n", Sign: "EFGH"}}},
		&SignedGranted{Granted: Granted{Handle: 403, Feature: "f2"}, Form: 7},
		&Checkin{Handle: 401},
		&Heartbeat{Seq: 12},
		&HeartbeatAck{Seq: 12},
		&ServerStatusRequest{},
		&ServerStatus{Host: "srv", Port: 27000, Version: "0.1.0", Master: true, LicenseFiles: []string{"/a.lic", "/b.lic"}},
		&VendorStatus{Name: "demo", Up: true, Version: "0.1.0", Port: 41000},
		&VendorStatus{Name: "other", Code: -97, Minor: 121},
		&FeatureStatusRequest{Feature: "f1"},
		&FeatureHeader{Name: "f1", Issued: 10, InUse: 3},
		&FeatureHeader{Name: "f2", Issued: 5, Code: -18, Minor: 147},
		&PoolStatus{Feature: "f1", Version: "1.0", Vendor: "demo", Expiry: "1-jan-2030", VendorString: "vs", LicenseType: Nodelocked, HostID: "ID=1234", Issued: 10, InUse: 3},
		&UserEntry{User: "joe", Host: "pc1", Display: "/dev/pts/0", Version: "1.0", ServerHost: "srv", Port: 27000, Handle: 401, Start: 1700000000, Count: 2, LingerRemaining: 10, LingerTotal: 60},
		&UserEntry{User: "ann", Host: "pc2", Display: "pc2", Version: "1.0", ServerHost: "srv", Port: 27000, Handle: 402, Start: -1, Count: 1, Queued: true},
		&ReservationEntry{Count: 48, Kind: "GROUP", Name: "GROUP1", ServerHost: "srv", Port: 27000},
		&Shutdown{Vendor: "demo", Force: true},
		&Reread{Vendor: ""},
		&Remove{Feature: "f1", User: "joe", Host: "pc1", Display: "/dev/pts/0"},
		&RemoveHandle{Feature: "f1", Handle: 401},
		&Ready{Port: 41000, PID: 99, Version: "0.1.0"},
		&Queued{Handle: 403, Position: 2},
		&QueuePoll{Handle: 403},
		&Idle{Idle: true},
		&HostIDs{Ethers: []string{"08002b32b161", "a41fd5028d74"}},
		&HostInfo{Platform: "x64_lsb", Long: "7f0101"},
		&HostInfo{},
		&Linger{Seconds: 30},
		&SwitchReportLog{Path: "report-2.rl"},
		&NewReportLog{Path: "/var/log/golm/demo-monday.rl"},
		&SwitchDebugLog{Path: "demo.dl"},
		&LogSwitched{Vendor: "demo", Path: "/var/log/golm/demo.rl", Kept: "/var/log/golm/demo-monday.rl", Seq: 10234},
		&LocateHandoff{Vendor: "demo", Feature: "f1"},
		&HandedOff{Vendor: "demo"},
		&VendorStatsRequest{},
		&VendorStats{Checkouts: 1200, Queued: 3, Denials: []DenialCount{{Code: -4, Count: 17}, {Code: -5, Count: 2}}, Connections: 40,
			LatencyBounds: []uint64{100, 1000}, LatencyCounts: []uint64{1000, 190, 10}, LatencySum: 98765},
		&VendorStatsExtRequest{},
		&MasterChange{Master: "27000@h2"},
		&VendorStatsExt{QueueWaitBounds: []uint64{1000, 60000}, QueueWaitCounts: []uint64{3, 2, 1}, QueueWaitSum: 190000,
			ReportLog: true, ReportRecords: 5021, ReportWriteErrors: 2, TriadRole: TriadMaster, TriadTerm: 7, TriadQuorum: true, Started: 1764500000},
		&UsageHistoryRequest{Feature: "f1"},
		&UsageHistory{Feature: "f1", Total: 10, InUse: 3, Series: []UsageSeries{
			{Start: 1764500000, Step: 60, InUse: []uint64{0, 0, 3, 10, 4}}, {Start: 1764400000, Step: 900, InUse: []uint64{2}}}},
		&LicenseFileRequest{},
		&LicenseText{Path: "/opt/lic/license.lic", Text: "SERVER h ANY 27000\nVENDOR demo\n"},
	}
}

func TestRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	for _, m := range samples() {
		seen[m.Type()] = true
		t.Run(m.Type().String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewWriter(&buf).WriteMessage(m); err != nil {
				t.Fatalf("WriteMessage: %v", err)
			}
			got, err := NewReader(&buf).ReadMessage()
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, m)
			}
		})
	}
	for ty := Type(1); int(ty) < len(typeNames); ty++ {
		if !seen[ty] && typeNames[ty] != "" { // a number without a name is reserved (LOG_LINE)
			t.Errorf("no sample of %s", ty)
		}
	}
}

func frame(t Type, payload ...byte) []byte {
	n := len(payload) + 1
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), byte(t)}, payload...)
}

func TestReadViolations(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		violation bool
		wantErr   error
	}{
		{"zero length", []byte{0, 0, 0, 0}, true, nil},
		{"too long", []byte{0, 1, 0, 1, 1}, true, nil},
		{"unknown type", frame(200), true, nil},
		{"reserved type (the withdrawn LOG_LINE)", frame(25, 1, 'a'), true, nil},
		{"type zero", frame(0), true, nil},
		{"trailing bytes", frame(TypeEnd, 1), true, nil},
		{"short payload", frame(TypeLocate, 5, 'a'), true, nil},
		{"bad bool", frame(TypeShutdown, 0, 2), true, nil},
		{"bad magic", frame(TypeHello, 'G', 'O', 'L', 'X', 1, 1), true, nil},
		{"bad role", append(frame(TypeHello, 'G', 'O', 'L', 'M', 1, 9), make([]byte, 9)...), true, nil},
		{"port out of range", frame(TypeLocateReply, 0, 0, 0xff, 0xff, 0x7f), true, nil},
		{"huge string", frame(TypeLocate, 0xff, 0xff, 0x03), true, nil},
		{"huge list", frame(TypeError, 0, 0, 0, 0, 0xff, 0xff, 0x03), true, nil},
		{"triad role out of range", frame(TypeVendorStatsExt, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0), true, nil},
		{"usage series step 0", frame(TypeUsageHistory, 0, 0, 0, 1, 0, 0, 0), true, nil},
		{"too many usage series", frame(TypeUsageHistory, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), true, nil},
		{"bad license type", frame(TypePoolStatus, 0, 0, 0, 0, 0, 9, 0, 0, 0), true, nil},
		{"empty", nil, false, io.EOF},
		{"short header", []byte{0, 0}, false, io.ErrUnexpectedEOF},
		{"short body", []byte{0, 0, 0, 5, 4}, false, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in)).ReadMessage()
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if got := IsViolation(err); got != tt.violation {
				t.Errorf("IsViolation(%v) = %v, want %v", err, got, tt.violation)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestWriteTooLarge(t *testing.T) {
	x := strings.Repeat("x", MaxString) // strings are cut to MaxString: take several
	m := &Error{Detail: []string{x, x, x, x, x}}
	var buf bytes.Buffer
	err := NewWriter(&buf).WriteMessage(m)
	if !IsViolation(err) {
		t.Fatalf("WriteMessage of %d bytes: got %v, want a violation", MaxFrame, err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes of an oversized frame, want 0", buf.Len())
	}
}

func TestTypeString(t *testing.T) {
	tests := []struct {
		t    Type
		want string
	}{
		{TypeHello, "HELLO"},
		{25, "TYPE_25"}, // reserved: the withdrawn LOG_LINE
		{0, "TYPE_0"},
		{250, "TYPE_250"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.t.String(); got != tt.want {
				t.Errorf("Type(%d).String() = %q, want %q", byte(tt.t), got, tt.want)
			}
		})
	}
}

func TestErrorLMError(t *testing.T) {
	m := &Error{Code: -15, Minor: 570, Errno: 111}
	if got, want := m.LMError().Error(), `Cannot connect to license server system. (-15,570:111 "Connection refused")`; got != want {
		t.Errorf("LMError().Error() = %q, want %q", got, want)
	}
	back := ErrorOf(m.LMError())
	if !reflect.DeepEqual(back, m) {
		t.Errorf("ErrorOf(LMError()) = %#v, want %#v", back, m)
	}
}

// FuzzDecode feeds arbitrary bytes to the frame reader and every message
// decoder: nothing may panic, and whatever decodes must re-encode to a
// frame that decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, m := range samples() {
		b, err := AppendFrame(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for {
			m, err := r.ReadMessage()
			if err != nil {
				return
			}
			b, err := AppendFrame(nil, m)
			if err != nil {
				t.Fatalf("re-encoding %s: %v", m.Type(), err)
			}
			m2, err := NewReader(bytes.NewReader(b)).ReadMessage()
			if err != nil {
				t.Fatalf("decoding re-encoded %s: %v", m.Type(), err)
			}
			if !reflect.DeepEqual(m, m2) {
				t.Fatalf("re-encode changed the message:\n got %#v\nwant %#v", m2, m)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	for _, m := range []Message{
		&Checkout{Feature: "f1", Version: "1.0", Count: 1},
		&Granted{Handle: 401, Feature: "f1", Version: "1.0", Expiry: "permanent"},
		&Heartbeat{Seq: 12},
		&UserEntry{User: "joe", Host: "pc1", Display: "/dev/pts/0", Version: "1.0", ServerHost: "srv", Port: 27000, Handle: 401, Start: 1700000000, Count: 1},
	} {
		b.Run(m.Type().String(), func(b *testing.B) {
			w := NewWriter(io.Discard)
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteMessage(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, m := range []Message{
		&Checkout{Feature: "f1", Version: "1.0", Count: 1},
		&Granted{Handle: 401, Feature: "f1", Version: "1.0", Expiry: "permanent"},
		&Heartbeat{Seq: 12},
		&UserEntry{User: "joe", Host: "pc1", Display: "/dev/pts/0", Version: "1.0", ServerHost: "srv", Port: 27000, Handle: 401, Start: 1700000000, Count: 1},
	} {
		b.Run(m.Type().String(), func(b *testing.B) {
			fr, err := AppendFrame(nil, m)
			if err != nil {
				b.Fatal(err)
			}
			payload := fr[5:]
			var d decoder // as a Reader decodes: one decoder for every frame
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeWith(&d, m.Type(), payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSignedGrantedBounds: a SIGNED_GRANTED frame with more than
// MaxGrantLines lines is a violation when read, and a writer never sends
// more than MaxGrantLines.
func TestSignedGrantedBounds(t *testing.T) {
	many := make([]GrantLine, MaxGrantLines+1)
	for i := range many {
		many[i] = GrantLine{Text: "t", Sign: "s"}
	}
	t.Run("write", func(t *testing.T) {
		var buf bytes.Buffer
		if err := NewWriter(&buf).WriteMessage(&SignedGranted{Lines: many}); err != nil {
			t.Fatal(err)
		}
		got, err := NewReader(&buf).ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if n := len(got.(*SignedGranted).Lines); n != MaxGrantLines {
			t.Errorf("lines read back = %d, want %d", n, MaxGrantLines)
		}
	})
	t.Run("read", func(t *testing.T) {
		// Granted's fields, form 1, then a count one over the bound.
		payload := (&Granted{Handle: 1}).AppendPayload(nil)
		payload = appendUint(payload, 1)
		payload = appendUint(payload, MaxGrantLines+1)
		for range MaxGrantLines + 1 {
			payload = appendString(payload, "t")
			payload = appendString(payload, "s")
		}
		frame := append([]byte{0, 0, 0, byte(len(payload) + 1), byte(TypeSignedGranted)}, payload...)
		_, err := NewReader(bytes.NewReader(frame)).ReadMessage()
		if !IsViolation(err) {
			t.Errorf("ReadMessage(%d lines) = %v, want a violation", MaxGrantLines+1, err)
		}
	})
}
