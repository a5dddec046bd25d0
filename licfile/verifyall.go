package licfile

import (
	"crypto/ed25519"
	"runtime"
	"sync"
)

// VerifyAll verifies lines of file f with pub, as Verify does for one,
// spreading the work over the machine's cores: an Ed25519 verification
// costs tens of microseconds, which for a license file of thousands of
// lines is most of the time a vendor daemon takes to start. errs[i] is
// Verify's answer for lines[i].
func VerifyAll(pub ed25519.PublicKey, f *File, lines []Line) (errs []error) {
	errs = make([]error, len(lines))
	workers := min(runtime.GOMAXPROCS(0), len(lines)/64+1)
	if workers <= 1 {
		for i, l := range lines {
			errs[i] = Verify(pub, f, l)
		}
		return errs
	}
	var wg sync.WaitGroup
	chunk := (len(lines) + workers - 1) / workers
	for lo := 0; lo < len(lines); lo += chunk {
		hi := min(lo+chunk, len(lines))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				errs[i] = Verify(pub, f, lines[i])
			}
		}()
	}
	wg.Wait()
	return errs
}
