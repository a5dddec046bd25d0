package commands

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
)

func lmdownApplet() *Applet {
	return &Applet{
		Name:        "lmdown",
		Aliases:     []string{"down"},
		Usage:       "lmdown [-c license_file_list] [-vendor vendor] [-q] [-all] [-force]",
		Summary:     "shut license servers or vendor daemons down",
		Description: manText("lmdown"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "c", Usage: "use the license servers of `license_file_list`"},
				&cli.StringFlag{Name: "vendor", Usage: "shut down only vendor daemon `vendor`"},
				&cli.BoolFlag{Name: "q", Usage: "do not print the table or ask"},
				&cli.BoolFlag{Name: "all", Usage: "shut down every server of the license path (implies -q)"},
				&cli.BoolFlag{Name: "force", Usage: "shut down even with licenses checked out"},
			}
		},
		Action: runLmdown,
	}
}

func runLmdown(c *cli.Context, env *Env) error {
	if c.NArg() > 0 {
		return usagef(Lookup("lmdown"), "lmdown: unexpected argument %q", c.Args().First())
	}
	all := c.Bool("all")
	quiet := c.Bool("q") || all
	// -q: "Don't prompt or print a header" (manual 7.5), and nothing on
	// success; errors still go to standard error.
	if !quiet {
		fmt.Fprintln(env.Stdout, Banner(env.Prog))
	}
	targets, err := adminTargets(env, c.String("c"))
	if err != nil {
		return err
	}
	// A three-server triad is shut down whole: its three members are
	// the servers (each one that answers).
	triad := len(targets[0]) == 3
	if triad {
		targets = triadMembers(targets[0])
	}
	conns, dialErr := dialAdmins(c.Context, env, "lmdown", targets, !quiet || all || triad)
	defer closeAdmins(conns)
	if len(conns) == 0 {
		return dialErr
	}
	chosen := conns
	if !quiet {
		in := bufio.NewReader(stdinOf(env))
		fmt.Fprintln(env.Stdout)
		writeServerTable(env.Stdout, conns)
		fmt.Fprintln(env.Stdout)
		if len(conns) > 1 {
			fmt.Fprintf(env.Stdout, "Enter the number of the license server to shut down (1-%d) or a for all:  ", len(conns))
			chosen = pickServers(readAnswer(in), conns)
			if chosen == nil {
				return nil
			}
		}
		fmt.Fprint(env.Stdout, "Are you sure (y/n)?  ")
		if a := readAnswer(in); !strings.HasPrefix(a, "y") && !strings.HasPrefix(a, "Y") {
			return nil
		}
	} else if !all && !triad {
		chosen = conns[:1]
	}
	if v := c.String("vendor"); v != "" {
		for _, ac := range chosen {
			if !slices.Contains(ac.vendors, v) {
				return &UsageError{Applet: "lmdown", Msg: fmt.Sprintf("lmdown: %s: no such vendor daemon (%s serves %s)", v, ac.addr, strings.Join(ac.vendors, " "))}
			}
		}
	}
	n := 0
	var first error
	for _, ac := range chosen {
		if _, err := ac.adm.Shutdown(c.Context, c.String("vendor"), c.Bool("force")); err != nil {
			if first == nil {
				first = err
			}
			if len(chosen) > 1 {
				fmt.Fprintf(env.Stderr, "lmdown: %s: %v\n", ac.addr, err)
			}
			continue
		}
		n++
	}
	switch {
	case n == 0 || quiet:
	case c.String("vendor") != "":
		fmt.Fprintf(env.Stdout, "    Vendor daemon %s shut down\n", c.String("vendor"))
	default:
		s := ""
		if n > 1 {
			s = "s"
		}
		fmt.Fprintf(env.Stdout, "    %d License Server%s shut down\n", n, s)
	}
	if len(chosen) > 1 {
		return alreadyPrinted(first)
	}
	return first
}

// triadMembers are the members of a triad, one target each, in
// SERVER-line order.
func triadMembers(spec []licfile.ServerAddr) [][]licfile.ServerAddr {
	out := make([][]licfile.ServerAddr, len(spec))
	for i := range spec {
		out[i] = spec[i : i+1]
	}
	return out
}

// writeServerTable is lmdown's list of servers.
func writeServerTable(w io.Writer, conns []*adminConn) {
	fmt.Fprintln(w, "   Port@Host            Vendors")
	for i, ac := range conns {
		fmt.Fprintf(w, "%d) %-21s%s\n", i+1, ac.addr, strings.Join(ac.vendors, " "))
	}
}

// pickServers reads the answer to "which server": a number, or a for all;
// nil for anything else.
func pickServers(answer string, conns []*adminConn) []*adminConn {
	if answer == "a" || answer == "A" {
		return conns
	}
	n, err := strconv.Atoi(answer)
	if err != nil || n < 1 || n > len(conns) {
		return nil
	}
	return conns[n-1 : n]
}

// readAnswer reads one line of the user's answer, trimmed; "" at EOF.
func readAnswer(r *bufio.Reader) string {
	line, _ := r.ReadString('\n')
	return strings.TrimSpace(line)
}

func stdinOf(env *Env) io.Reader {
	if env.Stdin == nil {
		return strings.NewReader("")
	}
	return env.Stdin
}
