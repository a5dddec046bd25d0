package commands

import (
	"errors"
	"fmt"

	"golm/lmutil/protocol/lmerr"

	"github.com/urfave/cli/v2"
)

func lmrereadApplet() *Applet {
	return &Applet{
		Name:        "lmreread",
		Aliases:     []string{"reread"},
		Usage:       "lmreread [-c license_file_list] [-vendor vendor] [-all]",
		Summary:     "make lmgrd and its vendor daemons reread their license files",
		Description: manText("lmreread"),
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
