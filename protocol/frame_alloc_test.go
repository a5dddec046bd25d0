package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"testing"
)

// header is a frame header announcing n bytes.
func header(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// BenchmarkReadFrame measures ReadFrame alone on frames of a few sizes,
// from a reader that holds many of them back to back.
func BenchmarkReadFrame(b *testing.B) {
	for _, size := range []int{32, 400, 8 << 10, MaxFrame} {
		b.Run(byteSize(size), func(b *testing.B) {
			frame := append(header(uint32(size)), bytes.Repeat([]byte{byte(TypeOK)}, size)...)
			stream := bytes.Repeat(frame, 64)
			src := bytes.NewReader(stream)
			r := NewReader(src)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.ReadFrame(); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					src.Reset(stream)
					r.br.Reset(src)
				}
			}
		})
	}
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// stalled is a reader that yields its bytes and then fails as a read
// deadline would: a peer that sent part of a frame and nothing more.
type stalled struct{ b []byte }

var errStalled = errors.New("stalled")

func (s *stalled) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, errStalled
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// TestHalfFrameMemory: a header announcing a large frame costs what
// arrives, not what it announces.
func TestHalfFrameMemory(t *testing.T) {
	const readers = 200
	tests := []struct {
		name     string
		announce int
		send     int // bytes of the frame after the header
		perMax   uint64
	}{
		// The Reader's own buffer (512 bytes), the frame buffer
		// (eagerFrame), and the Reader itself.
		{"64 KiB announced, nothing sent", MaxFrame, 0, 6 << 10},
		{"64 KiB announced, a few bytes sent", MaxFrame, 10, 6 << 10},
		{"64 KiB announced, 10 KiB sent", MaxFrame, 10 << 10, 6<<10 + 24<<10},
		{"a small frame announced, nothing sent", 300, 0, 2 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := append(header(uint32(tt.announce)), make([]byte, tt.send)...)
			rs := make([]*Reader, readers)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range rs {
				rs[i] = NewReader(&stalled{b: input})
				if _, _, err := rs[i].ReadFrame(); !errors.Is(err, errStalled) {
					t.Fatalf("ReadFrame: got %v, want the reader's error", err)
				}
			}
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(rs)
			// Everything allocated counts, garbage too: no collection
			// can make the figure look better than it is.
			per := (after.TotalAlloc - before.TotalAlloc) / readers
			if per > tt.perMax {
				t.Errorf("%d bytes allocated per reader, want at most %d", per, tt.perMax)
			}
		})
	}
}

// TestReadFrameGrowing: a large frame arriving in pieces of any size
// comes out whole, and the frame after it too.
func TestReadFrameGrowing(t *testing.T) {
	for _, size := range []int{eagerFrame + 1, 3*eagerFrame + 7, MaxFrame} {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		frame := append(header(uint32(size)), payload...)
		small := append(header(3), byte(TypeOK), 1, 2)
		for _, chunk := range []int{1, 100, 4096, 1 << 20} {
			t.Run(strconv.Itoa(size)+"/"+strconv.Itoa(chunk), func(t *testing.T) {
				r := NewReader(&chunked{b: append(append(append([]byte(nil), frame...), small...), frame...), n: chunk})
				for i, want := range [][]byte{payload, small[4:], payload} {
					typ, p, err := r.ReadFrame()
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if got := append([]byte{byte(typ)}, p...); !bytes.Equal(got, want) {
						t.Fatalf("frame %d: got %d bytes, want %d (equal: %v)", i, len(got), len(want), bytes.Equal(got, want))
					}
				}
				if _, _, err := r.ReadFrame(); err != io.EOF {
					t.Errorf("after the last frame: got %v, want EOF", err)
				}
			})
		}
	}
}

// TestReadFrameShort: a frame cut short is io.ErrUnexpectedEOF, at every
// point, on the eager and the growing path alike.
func TestReadFrameShort(t *testing.T) {
	for _, size := range []int{300, MaxFrame} {
		for _, cut := range []int{0, 1, eagerFrame - 1, eagerFrame, eagerFrame + 1, size - 1} {
			if cut >= size {
				continue
			}
			t.Run(strconv.Itoa(size)+"/"+strconv.Itoa(cut), func(t *testing.T) {
				r := NewReader(bytes.NewReader(append(header(uint32(size)), make([]byte, cut)...)))
				if _, _, err := r.ReadFrame(); err != io.ErrUnexpectedEOF {
					t.Errorf("got %v, want %v", err, io.ErrUnexpectedEOF)
				}
			})
		}
	}
}

// chunked is a reader that yields at most n bytes a call.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// TestWaitDropsLargeBuffer: an idle connection keeps no large frame
// buffer while it waits for its next frame, and a small one is kept.
func TestWaitDropsLargeBuffer(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		wantKept bool
	}{
		{"a large frame", MaxFrame, false},
		{"a frame of keepFrame bytes", keepFrame, true},
		{"a small frame", 40, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			c := NewConn(b)
			go func() {
				a.Write(append(header(uint32(tt.size)), make([]byte, tt.size)...))
				a.Write(append(header(1), byte(TypeOK)))
			}()
			if _, _, err := c.r.ReadFrame(); err != nil {
				t.Fatal(err)
			}
			if err := c.Wait(); err != nil {
				t.Fatal(err)
			}
			if kept := cap(c.r.buf) >= tt.size; kept != tt.wantKept {
				t.Errorf("after Wait the frame buffer holds %d bytes; kept: %v, want %v", cap(c.r.buf), kept, tt.wantKept)
			}
			if typ, _, err := c.r.ReadFrame(); err != nil || typ != TypeOK {
				t.Errorf("the next frame: %v %v, want OK", typ, err)
			}
		})
	}
}
