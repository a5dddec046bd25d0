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
		Name:    "lmhostid",
		Usage:   "lmhostid [-n] [-ether|-internet|-hostname|-user|-display|-long] [-help]",
		Summary: "print the hostid of this machine",
		Description: `lmhostid prints the hostid golm expects on a SERVER line or in a HOSTID= attribute for this machine. After the banner it prints one line, ` +
			`The golm host ID of this machine is "ID", with the hostid between double quotes.

By default, and with -ether, the hostid is the Ethernet address of the machine: 12 lower-case hex digits, without colons. ` +
			`Every interface with a 6-byte hardware address counts, in interface order; loopback interfaces, all-zero addresses and repeated addresses ` +
			`(bonded or VLAN interfaces) are left out. With several addresses all of them are printed, separated by spaces, inside doubled double quotes ` +
			`(""ID1 ID2""), followed by the line Only use ONE from the list of hostids. Any one of them identifies the machine. ` +
			`A machine without an Ethernet address gets the error Cannot find ethernet device. (-29).

-internet prints INTERNET=a.b.c.d, the first IPv4 address of the machine (non-loopback addresses first). ` +
			`-hostname prints HOSTNAME=host, the host name as the operating system reports it. ` +
			`-user prints USER=name, from $USER, else $LOGNAME, else the login name of the process. ` +
			`-display prints DISPLAY=display, from $DISPLAY, else the terminal of standard input (such as /dev/pts/0), else /dev/tty. ` +
			`These forms are the special hostids of the license file and are printed as written there.

-long prints the 32-bit hostid as 8 hex digits, with the semantics of gethostid(3) on Linux: the contents of /etc/hostid when it exists, ` +
			`else the IPv4 address of the host name as listed in /etc/hosts (else the first address of the machine) with its 16-bit halves swapped, ` +
			`so that it agrees with hostid(1). No DNS lookup is made.

-n prints only the hostid, without the banner and the sentence around it: a single hostid without quotes, a list of Ethernet addresses ` +
			`as "ID1 ID2".

The Windows hostid types of FLEXlm (-vsn, -flexid, -cpu, -cpu32, -cpu64, -cpu96) are recognised and refused with Invalid parameter. (-42) ` +
			`and a non-zero exit status. Only one hostid type may be given.

Errors exit with 256 plus the FlexLM error number (-29 exits 227) and a usage error with 1.`,
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
