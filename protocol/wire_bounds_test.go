package protocol

import (
	"bytes"
	"strings"
	"testing"
)

// TestLongStringsEncodeDecodable: a message whose strings are longer than
// MaxString (a server's error detail quoting a client's longest feature
// name) still encodes to a frame the peer accepts, its strings cut.
func TestLongStringsEncodeDecodable(t *testing.T) {
	long := strings.Repeat("F", MaxString)
	tests := []struct {
		name string
		m    Message
	}{
		{"error detail", &Error{Code: -5, Minor: 346, Text: "No such feature exists.", Detail: []string{"Feature:       " + long}}},
		{"error text", &Error{Code: -5, Text: long + long}},
		{"user entry", &UserEntry{User: long + "x", Host: "h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendFrame(nil, tt.m)
			if err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
			m, err := NewReader(bytes.NewReader(b)).ReadMessage()
			if err != nil {
				t.Fatalf("decoding the frame: %v", err)
			}
			if m.Type() != tt.m.Type() {
				t.Errorf("decoded %s, want %s", m.Type(), tt.m.Type())
			}
		})
	}
}
