package protocol

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
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

// TestWait checks that Wait returns once a frame has begun to arrive,
// at once when one is already buffered, and with the read timeout's
// error when nothing comes.
func TestWait(t *testing.T) {
	t.Run("frame arrives", func(t *testing.T) {
		a, b := pipe(t)
		go a.SendAll([]Message{&OK{Count: 1}, &OK{Count: 2}})
		for want := 1; want <= 2; want++ {
			if err := b.Wait(); err != nil {
				t.Fatalf("Wait before frame %d: %v", want, err)
			}
			m, err := b.Recv()
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if got := m.(*OK).Count; got != want {
				t.Errorf("frame %d: got count %d", want, got)
			}
		}
	})
	t.Run("nothing comes", func(t *testing.T) {
		_, b := pipe(t)
		b.ReadTimeout = 20 * time.Millisecond
		if err := b.Wait(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Wait: got %v, want a deadline error", err)
		}
	})
}
