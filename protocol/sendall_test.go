package protocol

import (
	"reflect"
	"testing"
)

// TestSendAll checks that frames sent in one batch arrive as the same
// frames, in order, and that an empty batch sends nothing.
func TestSendAll(t *testing.T) {
	tests := []struct {
		name string
		ms   []Message
	}{
		{"empty", nil},
		{"one", []Message{&OK{Count: 1}}},
		{"several", []Message{&FeatureHeader{Name: "f1", InUse: 2}, &OK{Count: 7}, &HeartbeatAck{Seq: 9}, &End{}}},
	}
	// sentinel follows each batch, so that the reader knows it has all.
	sentinel := &HeartbeatAck{Seq: 424242}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pipe(t)
			errc := make(chan error, 1)
			go func() {
				err := a.SendAll(tt.ms)
				if err == nil {
					err = a.Send(sentinel)
				}
				errc <- err
			}()
			var got []Message
			for {
				m, err := b.Recv()
				if err != nil {
					t.Fatalf("Recv: %v", err)
				}
				if reflect.DeepEqual(m, sentinel) {
					break
				}
				got = append(got, m)
			}
			if err := <-errc; err != nil {
				t.Fatalf("SendAll: %v", err)
			}
			if len(got) != len(tt.ms) || (len(got) > 0 && !reflect.DeepEqual(got, tt.ms)) {
				t.Errorf("got %#v, want %#v", got, tt.ms)
			}
		})
	}
}
