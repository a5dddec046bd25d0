package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
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
		// The Reader and its own buffer (512 bytes); past that buffer's
		// worth, a frame buffer of eagerFrame or twice what arrived.
		{"64 KiB announced, nothing sent", MaxFrame, 0, 1 << 10},
		{"64 KiB announced, a few bytes sent", MaxFrame, 10, 1 << 10},
		{"64 KiB announced, a byte short of the read buffer sent", MaxFrame, readBuffer - 5, 1 << 10},
		{"64 KiB announced, the read buffer's worth sent", MaxFrame, readBuffer - 4, 1<<10 + eagerFrame},
		{"64 KiB announced, 10 KiB sent", MaxFrame, 10 << 10, 1<<10 + 2*(16<<10)},
		{"4 KiB announced, nothing sent", eagerFrame, 0, 1 << 10},
		{"a frame that fits the read buffer announced, nothing sent", 300, 0, 1<<10 + 300},
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
			t.Logf("%d bytes allocated per reader", per)
			if per > tt.perMax {
				t.Errorf("%d bytes allocated per reader, want at most %d", per, tt.perMax)
			}
		})
	}
}

// TestReadFrameGrowing: a large frame arriving in pieces of any size
// comes out whole, and the frame after it too.
func TestReadFrameGrowing(t *testing.T) {
	for _, size := range []int{readBuffer - 5, readBuffer - 4, readBuffer - 3, readBuffer, readBuffer + 1, eagerFrame, eagerFrame + 1, 3*eagerFrame + 7, MaxFrame} {
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

// TestWaitFrame: WaitFrame returns once a whole frame, or a read buffer
// full of one, has arrived (or at once for a length Recv will refuse),
// and waits out its deadline for less.
func TestWaitFrame(t *testing.T) {
	hello := append(header(5), byte(TypeOK), 1, 2, 3, 4)
	tests := []struct {
		name     string
		send     []byte
		wantWait bool // WaitFrame ends with the deadline
	}{
		{"a whole small frame", hello, false},
		{"part of a small frame", hello[:6], true},
		{"a header announcing 64 KiB", header(MaxFrame), true},
		{"a header announcing 64 KiB and a few bytes", append(header(MaxFrame), 1, 2, 3), true},
		{"a header announcing 64 KiB and a read buffer's worth", append(header(MaxFrame), make([]byte, readBuffer)...), false},
		{"a length out of range", header(MaxFrame + 1), false},
		{"nothing", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			go a.Write(tt.send)
			c := NewConn(b)
			c.ReadTimeout = 50 * time.Millisecond
			err := c.WaitFrame()
			if waited := errors.Is(err, os.ErrDeadlineExceeded); waited != tt.wantWait || (err != nil && !waited) {
				t.Errorf("WaitFrame: %v, want the deadline: %v", err, tt.wantWait)
			}
			if cap(c.r.buf) != 0 {
				t.Errorf("WaitFrame allocated a frame buffer of %d bytes", cap(c.r.buf))
			}
		})
	}
}

// FuzzReadFrame: whatever the bytes and however they arrive, ReadFrame
// returns the frames a plain reading of the stream finds, then the same
// error, and never panics.
func FuzzReadFrame(f *testing.F) {
	f.Add(append(header(3), byte(TypeOK), 1, 2), uint16(1))
	f.Add(append(header(600), make([]byte, 600)...), uint16(7))
	f.Add(append(header(MaxFrame), 1, 2, 3), uint16(4096))
	f.Add(header(MaxFrame+1), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		// The frames a plain reading finds, and whether the stream ends
		// between frames.
		var want [][]byte
		rest, clean := data, true
		for len(rest) > 0 {
			if len(rest) < 4 {
				clean = false
				break
			}
			n := int(binary.BigEndian.Uint32(rest))
			if n == 0 || n > MaxFrame || len(rest)-4 < n {
				clean = false
				break
			}
			want = append(want, rest[4:4+n])
			rest = rest[4+n:]
		}
		r := NewReader(&chunked{b: data, n: int(chunk)%8192 + 1})
		for i, w := range want {
			typ, p, err := r.ReadFrame()
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if got := append([]byte{byte(typ)}, p...); !bytes.Equal(got, w) {
				t.Fatalf("frame %d differs", i)
			}
		}
		_, _, err := r.ReadFrame()
		if clean && err != io.EOF {
			t.Fatalf("after the last frame: %v, want EOF", err)
		}
		if !clean && err == nil {
			t.Fatalf("a broken frame read without an error")
		}
	})
}
