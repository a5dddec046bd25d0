package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

// An application checks a seat of f1 out for as long as it runs.
func Example() {
	ctx := context.Background()
	// "" means $VENDOR_LICENSE_FILE and $LM_LICENSE_FILE, as FLEXlm
	// applications do; a -c style list or port@host works too.
	job, err := client.Open(ctx, "27000@licsrv", client.WithVendor("demo"))
	if err != nil {
		log.Fatal(err)
	}
	defer job.Close()
	lic, err := job.Checkout(ctx, "f1", "1.0", 1)
	switch {
	case errors.Is(err, lmerr.MaxUsers):
		fmt.Println("all seats are taken, try later")
		return
	case err != nil:
		log.Fatal(err) // prints e.g. "No such feature exists. (-5,346)"
	}
	defer lic.Checkin(ctx)
	// ... work while holding the license; heartbeats and reconnects
	// happen in the background. lic.Err() says whether it was lost.
}

// publisherKey is the publisher's demo.pub, built into the application
// (with go:embed, or as a constant) so that whoever runs the license
// server cannot replace it.
const publisherKey = `# golm license verification key of vendor demo.
golm-ed25519-public demo c9817e49d44206d201930de0f027ea2daa1186fa5f6da25d6d7b65c9d4a8e6ae
`

// An application that carries its publisher's public key checks every
// grant itself: a license line the publisher did not sign, or one whose
// count or dates were edited, is refused with -8 however the server was
// set up.
func ExampleWithPublicKey() {
	key, err := licfile.ParsePublicKey([]byte(publisherKey))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	job, err := client.Open(ctx, "", client.WithVendor("demo"), client.WithPublicKey(key))
	if err != nil {
		log.Fatal(err)
	}
	defer job.Close()
	lic, err := job.Checkout(ctx, "f1", "1.0", 1)
	var e *client.Error
	if errors.As(err, &e) && e.Code == -8 {
		log.Fatal("the license server grants lines the publisher did not sign")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer lic.Checkin(ctx)
}

// A publisher tells denials apart with errors.Is and the lmerr constants,
// whatever minor number says where the error was raised.
func ExampleError_code() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "license.lic")
	if err := os.WriteFile(path, []byte("FEATURE f1 demo 1.0 permanent uncounted HOSTID=ANY SIGN=0\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	job, err := client.Open(ctx, path, client.WithVendor("demo"))
	if err != nil {
		log.Fatal(err)
	}
	defer job.Close()
	_, err = job.Checkout(ctx, "f2", "1.0", 1)
	switch {
	case errors.Is(err, lmerr.MaxUsers):
		fmt.Println("all seats are taken, try later")
	case errors.Is(err, lmerr.NoFeature):
		fmt.Println("not licensed:", lmerr.CodeOf(err) == lmerr.NoFeature)
	}
	var e *client.Error
	if errors.As(err, &e) && e.Code == lmerr.NoFeature {
		fmt.Println(e.Minor == lmerr.MinorClientNoFeature)
	}
	// Output:
	// not licensed: true
	// true
}
