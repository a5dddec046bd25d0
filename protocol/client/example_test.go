package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"golm/lmutil/protocol/client"
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
	var e *client.Error
	switch {
	case errors.As(err, &e) && e.Code == -4:
		fmt.Println("all seats are taken, try later")
		return
	case err != nil:
		log.Fatal(err) // prints e.g. "No such feature exists. (-5,346)"
	}
	defer lic.Checkin(ctx)
	// ... work while holding the license; heartbeats and reconnects
	// happen in the background. lic.Err() says whether it was lost.
}
