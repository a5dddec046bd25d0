// Package client is the Go package applications link to check licenses out
// of a golm (FLEXlm-compatible) license server, and the library the lmutil
// admin commands use to talk to lmgrd and vendor daemons.
//
// An application opens a Job on a license path and checks features out:
//
//	job, err := client.Open(ctx, "27000@licsrv:/opt/app/license.lic")
//	if err != nil { ... }
//	defer job.Close()
//	lic, err := job.Checkout(ctx, "f1", "1.0", 1)
//	if errors.Is(err, lmerr.MaxUsers) { ... all seats taken, try later ... }
//	if err != nil { ... }
//	defer lic.Checkin(ctx)
//
// # Errors
//
// Every error this package returns carries a FlexLM error number: it is,
// or wraps, a *lmerr.Error (this package's Error). The numbers are the constants of package
// lmerr, each itself an error, so that a publisher tells denials apart
// with errors.Is whatever minor number the error carries:
//
//	switch {
//	case errors.Is(err, lmerr.MaxUsers): // -4: every seat is in use
//	case errors.Is(err, lmerr.NoFeature): // -5: not licensed here
//	case errors.Is(err, lmerr.NoServer): // -15: no license server answers
//	}
//
// or, with errors.As, compares the *Error's Code with them
// (e.Code == lmerr.Expired). The Minor says where the error was raised:
// one of the lmerr.Minor constants, a number that means one thing only.
//
// # The license path
//
// The path is a -c style list (license files, directories of *.lic,
// port@host, @host, port@h1,port@h2,port@h3), or "" for VENDOR_LICENSE_FILE
// and LM_LICENSE_FILE (licfile.ResolvePath). Checkout walks it in order
// and takes the first source that grants (manual 4.2, 5.3.1):
//
//   - In a license file, uncounted lines before any USE_SERVER line are
//     granted locally, without a server, when their version, dates, hostid
//     and signature (the vendor's public key given with WithPublicKey, or
//     without one VENDOR.pub beside the file) are good.
//   - Counted lines, and everything after USE_SERVER, are checked out of
//     the file's SERVER (lmgrd): the client asks lmgrd where the vendor
//     daemon listens and talks to the vendor daemon directly.
//   - A port@host source is a server without a file.
//
// A source that is unreachable or denies is skipped; when every source
// fails, the most telling error is returned: a denial (-4, -10, -25 ...)
// rather than "no such feature" or "cannot connect".
//
// # Connections, heartbeats and reconnects
//
// A Job keeps one connection per vendor daemon for all its checkouts and
// sends the identity of the job on it: user, host, display, pid, LM_PROJECT
// and a random job id, and, right behind it, the machine's Ethernet
// addresses, its 32-bit hostid and its platform name (x64_lsb), for
// lines node-locked to them and lines with PLATFORMS=. A goroutine per connection sends heartbeats every
// heartbeat interval (WithHeartbeat, else $GOLM_HEARTBEAT_INTERVAL, else
// 30s), and the connection is watched while it is idle, so that a break
// is noticed at once (on Unix systems; elsewhere at the next request or
// heartbeat). The job then reconnects
// through lmgrd (a restarted vendor daemon may listen elsewhere), after a
// random pause of up to a second, so that the thousands of clients of a
// restarted vendor daemon come back spread out rather than all at once,
// retrying with a jittered backoff of up to two seconds, and re-checks-out every license the job held, presenting
// each one's previous handle and the vendor daemon run it came from, so
// that the server re-adopts the seat or grants a fresh one but never
// both (see package protocol). A license that the server refuses to give
// back reports the refusal from License.Err. A vendor daemon that stays
// out of reach longer than the loss timeout (WithLossTimeout, else
// $GOLM_LICENSE_LOSS_TIMEOUT, else 5 minutes) takes its licenses with
// it: they are lost, with the last connect error. License.Lost is closed
// the moment a license is lost, whatever the cause.
//
// After each heartbeat the job also asks whether each seat it holds is
// still its own, and checks out again, under a new handle, a license
// that an administrator freed with lmremove or that the TIMEOUT option
// took back: "If the application is active, it will re-checkout the
// license after it is freed by lmremove" (manual 7.10). While the
// application says it is idle (Job.SetIdle) nothing is checked out
// again; SetIdle(false) checks at once. A license whose seats were taken
// meanwhile is lost, with the checkout's error in License.Err.
//
// A request queued at a vendor daemon whose connection broke, or that was
// restarted, is queued again by License.Wait on a new connection, at the
// end of the queue (a restarted daemon has lost its queue).
//
// A new client costs one TCP connection: lmgrd hands the connection it
// was asked on over to the vendor daemon (LocateHandoff, see package
// protocol; with an lmgrd that cannot, the client connects to the port
// lmgrd names). It costs one round trip to lmgrd and none of its own to
// the vendor daemon: the Hello goes out with the first request, and a
// connection whose requests were all answered is closed with a reset
// rather than left in TIME_WAIT, so that a command wrapped in a loop does
// not use up the ephemeral ports.
//
// # Checking what the server grants
//
// An application built with its publisher's public key passes it to Open
// (WithPublicKey, WithPublicKeyFile), as FLEXlm applications check
// license keys themselves. The job then asks every vendor daemon for the
// signed license lines behind each grant (protocol.CheckoutSigned and
// protocol.SignedGranted) and takes a grant only when a line signed with
// the key licenses the feature at the version asked for, started and
// unexpired. Any other grant (a line the publisher did not sign, an
// edited count, version or date, a server that sends no lines) is refused
// with -8 (-10, -31 for the dates) and its seat is checked back in at
// once; a re-checkout after a reconnect or lmremove, and a queued grant,
// are checked the same way.
//
// This is the check that holds against a customer who controls the
// license server machine, who can replace the vendor daemon, its keys and
// its license files. A job without a key trusts the servers it talks to.
// What the key check cannot see is how many seats a server hands out of a
// genuine line: a vendor daemon that has been replaced can still count
// wrong.
//
// # Diagnostics
//
// FLEXLM_DIAGNOSTICS (manual B.2) set to 1, 2 or 3 writes why a checkout
// failed (level 1: the error and the license path; 2: also the checkout
// arguments; 3: also how a successful checkout was granted) to the
// diagnostics writer, standard error unless WithDiagnostics says otherwise.
package client
