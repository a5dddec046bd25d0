package server

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestRereadKeepsNoOldReadings rereads a 2,000-line signed license ten
// times and checks that the vendor daemon's live heap after the tenth
// is within 10% of after the first: a reread must not keep the readings
// before the last (pools, parsed lines, signed forms, index entries).
func TestRereadKeepsNoOldReadings(t *testing.T) {
	v, err := NewVendor(scaleVendorConfig(t, 20000))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Shutdown(context.Background())
	var first uint64
	for i := range 10 {
		if err := v.Reread(); err != nil {
			t.Fatal(err)
		}
		h := liveHeap()
		debug.FreeOSMemory()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		t.Logf("after reread %d: live heap %d KB inuse %d KB retained %d KB stacks %d KB", i+1, h>>10, m.HeapInuse>>10, (m.HeapSys-m.HeapReleased)>>10, m.StackInuse>>10)
		if i == 0 {
			first = h
		}
		if i == 9 && h > first+first/10 {
			t.Errorf("live heap after 10 rereads %d KB, after 1 %d KB: more than 10%% grown", h>>10, first>>10)
		}
	}
}
