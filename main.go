// Command lmutil is golm's multicall binary: lmstat, lmdown, lmhostid and
// every other lmutil command, lmgrd, and the vendor daemons lmgrd starts.
// It dispatches on the name it was invoked as, then on its first argument.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golm/lmutil/commands"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := commands.Main(ctx, os.Args, commands.OSEnv("lmutil"))
	stop()
	os.Exit(status)
}
