package licfile

import (
	"crypto/ed25519"
	"runtime"
	"sync"
)

// VerifyAll verifies lines of file f with pub, as Verify does for one:
// errs[i] is Verify's answer for lines[i].
//
// It first checks the manifests of f (see manifest.go) whose blocks hold
// any of lines: a line covered by a manifest that holds needs no Ed25519
// verification of its own. The other lines are verified one by one,
// spread over the machine's cores, since one verification costs tens of
// microseconds. Either way each line gets the answer Verify gives it.
func VerifyAll(pub ed25519.PublicKey, f *File, lines []Line) (errs []error) {
	errs = make([]error, len(lines))
	covered := manifestCovered(pub, f, lines)
	todo := make([]int, 0, len(lines))
	for i := range lines {
		if covered == nil || !covered[i] {
			todo = append(todo, i)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo)/64+1)
	if workers <= 1 {
		for _, i := range todo {
			errs[i] = Verify(pub, f, lines[i])
		}
		return errs
	}
	var wg sync.WaitGroup
	chunk := (len(todo) + workers - 1) / workers
	for lo := 0; lo < len(todo); lo += chunk {
		part := todo[lo:min(lo+chunk, len(todo))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range part {
				errs[i] = Verify(pub, f, lines[i])
			}
		}()
	}
	wg.Wait()
	return errs
}
