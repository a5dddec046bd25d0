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
	os.Exit(run())
}

func run() int {
	if len(os.Args) == 2 && os.Args[1] == "-list-applets" {
		// For make install: one applet name per line.
		for _, a := range commands.Applets() {
			if !a.Hidden {
				os.Stdout.WriteString(a.Name + "\n")
			}
		}
		return 0
	}
	applet, prog, args, err := commands.Dispatch(os.Args)
	env := commands.OSEnv(prog)
	if err != nil {
		commands.Report(env.Stderr, err, false)
		commands.UsageList(env.Stderr, prog)
		return commands.ExitStatus(err)
	}
	if applet == nil {
		if len(args) > 0 && args[0] == "-v" {
			env.Stdout.Write([]byte(commands.Banner(prog) + "\n" + commands.VersionLine(prog) + "\n"))
			return 0
		}
		commands.UsageList(env.Stdout, prog)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = commands.Run(ctx, env, applet, args)
	commands.Report(env.Stderr, err, env.Verbose)
	return commands.ExitStatus(err)
}
