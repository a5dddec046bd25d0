package commands

import (
	"errors"
	"fmt"

	"golm/lmutil/protocol/lmerr"

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

The server is the first of the license path (-c, else $LM_LICENSE_FILE and the VENDOR_LICENSE_FILE variables, else the default files; see lmutil(1)) that answers; -all asks every server of the path. ` +
			`lmgrd always rereads its own files: -c only says where to find the server. ` +
			`For a three-server triad (three SERVER lines, or three comma-separated port@host) lmreread asks each of the three: each checks its own copy, and the master commits the reread, which every member applies from its own copy; a member whose copy differs from the master's says so in its debug log and stops granting until it is restarted with the master's files.

Unlike FLEXlm 7.1, the vendor daemons reread their options files too. A license file or options file that a vendor daemon would refuse is refused before any daemon rereads: ` +
			`a license file that cannot be read or has a bad line, or an options file with a bad line that restricts access (INCLUDE, EXCLUDE, RESERVE, MAX, MAX_OVERDRAFT, or a GROUP or HOST_GROUP they use) or that cannot be read. ` +
			`The daemons keep serving the files they have, and lmreread prints each problem as file:line:column: message (code), then the FlexLM error, ` +
			`Invalid license file syntax. (-2,...) or Cannot read license file. (-30,...), and exits with 254 or 226. A bad line that restricts nothing (a misspelt NOLOG or TIMEOUT) is only logged.

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
	all := c.Bool("all")
	if len(targets[0]) == 3 {
		// Each member of a triad rereads its own copy; the master
		// commits the reread for the three.
		targets, all = triadMembers(targets[0]), true
	}
	conns, dialErr := dialAdmins(c.Context, env, "lmreread", targets, all)
	defer closeAdmins(conns)
	if len(conns) == 0 {
		return dialErr
	}
	var first error
	for _, ac := range conns {
		if _, err := ac.adm.Reread(c.Context, c.String("vendor")); err != nil {
			printRereadDetail(env, err)
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

// printRereadDetail writes the file:line: message (code) lines of a
// refused reread, which say what to fix, before the FlexLM error itself;
// -verbose prints them in the error's long form instead.
func printRereadDetail(env *Env, err error) {
	var le *lmerr.Error
	if env.Verbose || !errors.As(err, &le) {
		return
	}
	for _, d := range le.Detail {
		fmt.Fprintln(env.Stderr, d)
	}
}
