package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func lmrereadApplet() *Applet {
	return &Applet{
		Name:    "lmreread",
		Aliases: []string{"reread"},
		Usage:   "lmreread [-c license_file_list] [-vendor vendor] [-all]",
		Summary: "make lmgrd and its vendor daemons reread their license files",
		Description: `lmreread asks lmgrd to reread the license files it was started with, start the vendor daemons of new DAEMON and VENDOR lines, ` +
			`and tell every running vendor daemon to reread them: new features are served, changed counts apply, removed features are no longer granted, ` +
			`and the licenses already checked out stay with their clients. With -vendor only that vendor daemon rereads (lmgrd does not), and lmgrd starts it again if it was shut down with lmdown -vendor.

The server is the first of the license path (-c, else $LM_LICENSE_FILE, else license.dat) that answers; -all asks every server of the path. ` +
			`lmgrd always rereads its own files: -c only says where to find the server.

On success lmreread prints "lmreread successful". A refusal prints the FlexLM error, for example You are not a license administrator. (-63,...) ` +
			`for a request from another host or from a user who is not root, lmgrd's user or a license administrator (see lmgrd(1)), or The desired vendor daemon is down. (-97,...) for an unknown -vendor, and lmreread exits with 256 plus the error number; ` +
			`no server answering is Cannot connect to license server system. (-15,...) and exit status 241.`,
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "c", Usage: "use the license servers of `license_file_list`"},
				&cli.StringFlag{Name: "vendor", Usage: "only vendor daemon `vendor` rereads"},
				&cli.BoolFlag{Name: "all", Usage: "ask every server of the license path"},
			}
		},
		Action: runLmreread,
	}
}

func runLmreread(c *cli.Context, env *Env) error {
	if c.NArg() > 0 {
		return usagef(Lookup("lmreread"), "lmreread: unexpected argument %q", c.Args().First())
	}
	fmt.Fprintln(env.Stdout, Banner(env.Prog))
	targets, err := adminTargets(env, c.String("c"))
	if err != nil {
		return err
	}
	conns, dialErr := dialAdmins(c.Context, env, "lmreread", targets, c.Bool("all"))
	defer closeAdmins(conns)
	if len(conns) == 0 {
		return dialErr
	}
	var first error
	for _, ac := range conns {
		if _, err := ac.adm.Reread(c.Context, c.String("vendor")); err != nil {
			if len(conns) > 1 {
				fmt.Fprintf(env.Stderr, "lmreread: %s: %v\n", ac.addr, err)
			}
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		if len(conns) > 1 {
			return alreadyPrinted(first)
		}
		return first
	}
	fmt.Fprintln(env.Stdout, "lmreread successful")
	return nil
}
