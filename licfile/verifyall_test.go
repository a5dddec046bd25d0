package licfile

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestVerifyAll: the parallel verification gives each line the answer
// Verify gives it, good and bad lines mixed, also past the size where it
// spreads over several goroutines.
func TestVerifyAll(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 5, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var b strings.Builder
			b.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
			for i := range n {
				fmt.Fprintf(&b, "INCREMENT f%d demo 1.0 permanent %d\n", i, i+1)
			}
			f, err := Parse(strings.NewReader(b.String()), "v.lic")
			if err != nil {
				t.Fatal(err)
			}
			lines := make([]Line, len(f.Features))
			for i, ft := range f.Features {
				if i%7 != 3 { // every seventh line stays unsigned
					s, err := Sign(priv, ft, f.Servers)
					if err != nil {
						t.Fatal(err)
					}
					ft.Sign = s
				}
				lines[i] = ft
			}
			errs := VerifyAll(pub, f, lines)
			if len(errs) != n {
				t.Fatalf("%d answers for %d lines", len(errs), n)
			}
			for i, l := range lines {
				want := Verify(pub, f, l)
				if (errs[i] == nil) != (want == nil) || (want != nil && !errors.Is(errs[i], ErrBadSignature)) {
					t.Errorf("line %d: VerifyAll %v, Verify %v", i, errs[i], want)
				}
				if (i%7 == 3) != (errs[i] != nil) {
					t.Errorf("line %d: VerifyAll %v, want an error only for unsigned lines", i, errs[i])
				}
			}
		})
	}
}
