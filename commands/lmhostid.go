package commands

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// hostidTypes are the hostid type flags lmhostid supports, in the order
// the usage line lists them, with the man page text for each.
var hostidTypes = []struct{ flag, usage string }{
	{"ether", "print the Ethernet addresses (the default)"},
	{"internet", "print the IPv4 address as INTERNET=a.b.c.d"},
	{"hostname", "print the host name as HOSTNAME=host"},
	{"user", "print the user name as USER=user"},
	{"display", "print the display as DISPLAY=display"},
	{"long", "print the 32-bit hostid (8 hex digits)"},
}

// unsupportedHostidTypes are hostid types of the manual golm does not
// read on this platform, and what they name.
var unsupportedHostidTypes = []struct{ flag, what string }{
	{"vsn", "Windows volume serial number"},
	{"flexid", "hardware key (dongle)"},
	{"cpu", "Pentium III CPU id"},
	{"cpu32", "32-bit Pentium III CPU id"},
	{"cpu64", "64-bit Pentium III CPU id"},
	{"cpu96", "96-bit Pentium III CPU id"},
}

// machineFunc describes the host lmhostid reports on.
type machineFunc func(env *Env) (*licfile.Machine, error)

// localMachine is the real host, with the Env's host name and
// environment (USER, LOGNAME, DISPLAY).
func localMachine(env *Env) (*licfile.Machine, error) {
	return licfile.MachineProbe{Hostname: env.Host, Getenv: env.Env}.Machine()
}

func lmhostidApplet() *Applet { return newLmhostidApplet(localMachine) }

// newLmhostidApplet returns lmhostid reporting on the host machine
// describes; tests pass a fixed machine.
func newLmhostidApplet(machine machineFunc) *Applet {
	a := &Applet{
		Name:        "lmhostid",
		Usage:       "lmhostid [-n] [-ether|-internet|-hostname|-user|-display|-long] [-help]",
		Summary:     "print the hostid of this machine",
		Description: manText("lmhostid"),
		Flags: func() []cli.Flag {
			fl := []cli.Flag{&cli.BoolFlag{Name: "n", Usage: "print only the hostid, without banner and quotes"}}
			for _, t := range hostidTypes {
				fl = append(fl, &cli.BoolFlag{Name: t.flag, Usage: t.usage})
			}
			for _, t := range unsupportedHostidTypes {
				fl = append(fl, &cli.BoolFlag{Name: t.flag, Usage: "not supported: " + t.what + " (refused with -42)"})
			}
			return fl
		},
	}
	a.Action = func(c *cli.Context, env *Env) error {
		return runLmhostid(c, env, a, machine)
	}
	return a
}

func runLmhostid(c *cli.Context, env *Env, a *Applet, machine machineFunc) error {
	if c.NArg() > 0 {
		return usagef(a, "lmhostid: unexpected argument %q", c.Args().First())
	}
	var types []string
	for _, t := range hostidTypes {
		if c.Bool(t.flag) {
			types = append(types, t.flag)
		}
	}
	for _, t := range unsupportedHostidTypes {
		if c.Bool(t.flag) {
			types = append(types, t.flag)
		}
	}
	if len(types) > 1 {
		return usagef(a, "lmhostid: give only one hostid type, not -%s", strings.Join(types, " -"))
	}
	kind := "ether"
	if len(types) == 1 {
		kind = types[0]
	}
	short := c.Bool("n")
	if !short {
		fmt.Fprintln(env.Stdout, Banner(env.Prog))
	}
	for _, t := range unsupportedHostidTypes {
		if kind == t.flag {
			e := lmerr.New(lmerr.BadParam, lmerr.MinorHostidUnsupported, "Hostid type: -"+t.flag+" ("+t.what+")")
			return fmt.Errorf("lmhostid: -%s: this hostid type is not supported on this platform: %w", t.flag, e)
		}
	}
	m, err := machine(env)
	if m == nil {
		// Without a machine nothing can be printed; say why as the
		// default hostid type would.
		return lmerr.FromOS(lmerr.NoEthernet, lmerr.MinorHostidNoEther, err)
	}
	ids, err := hostidsOf(m, kind, err)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, formatHostids(ids, short))
	if len(ids) > 1 && !short {
		fmt.Fprintln(env.Stdout, "Only use ONE from the list of hostids.")
	}
	return nil
}

// hostidsOf returns the hostids of kind for m, as a license file writes
// them. probeErr is the error the machine was described with, if any.
func hostidsOf(m *licfile.Machine, kind string, probeErr error) ([]string, error) {
	switch kind {
	case "ether":
		if len(m.Ethers) == 0 {
			return nil, lmerr.FromOS(lmerr.NoEthernet, lmerr.MinorHostidNoEther, probeErr)
		}
		return m.Ethers, nil
	case "internet":
		if len(m.IPs) == 0 {
			return nil, lmerr.FromOS(lmerr.NoNetwork, lmerr.MinorHostidNoInternet, probeErr)
		}
		return []string{"INTERNET=" + m.IPs[0]}, nil
	case "hostname":
		if m.Hostname == "" {
			return nil, &lmerr.Error{Code: lmerr.BadParam, Minor: lmerr.MinorHostidNoHostname, Text: "Cannot determine the host name."}
		}
		return []string{"HOSTNAME=" + m.Hostname}, nil
	case "user":
		if m.User == "" {
			return nil, &lmerr.Error{Code: lmerr.BadParam, Minor: lmerr.MinorHostidNoUser, Text: "Cannot determine the user name."}
		}
		return []string{"USER=" + m.User}, nil
	case "display":
		if m.Display == "" {
			return nil, &lmerr.Error{Code: lmerr.BadParam, Minor: lmerr.MinorHostidNoDisplayable, Text: "Cannot determine the display."}
		}
		return []string{"DISPLAY=" + m.Display}, nil
	case "long":
		if m.Long == "" {
			return nil, lmerr.FromOS(lmerr.NoNetwork, lmerr.MinorHostidNoLong, probeErr)
		}
		return []string{m.Long}, nil
	}
	return nil, fmt.Errorf("lmhostid: unknown hostid type %q", kind)
}

// formatHostids renders the hostid line: the sentence with the ids in
// quotes (doubled for a list), or with -n the ids alone.
func formatHostids(ids []string, short bool) string {
	list := strings.Join(ids, " ")
	switch {
	case short && len(ids) == 1:
		return list
	case short:
		return `"` + list + `"`
	case len(ids) == 1:
		return `The golm host ID of this machine is "` + list + `"`
	}
	return `The golm host ID of this machine is ""` + list + `""`
}
