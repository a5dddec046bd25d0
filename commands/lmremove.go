package commands

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"fmt"
	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"
)

func lmremoveApplet() *Applet {
	return &Applet{
		Name:        "lmremove",
		Aliases:     []string{"remove"},
		Usage:       "lmremove [-c license_file_list] feature user user_host display\nlmremove [-c license_file_list] -h feature server_host port handle",
		Summary:     "free a user's license of a feature",
		Description: manText("lmremove"),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "c", Usage: "use the license servers of `license_file_list`"},
				&cli.BoolFlag{Name: "h", Usage: "remove by feature, server_host, port and handle"},
			}
		},
		Action: runLmremove,
	}
}

func runLmremove(c *cli.Context, env *Env) error {
	a := Lookup("lmremove")
	args := c.Args().Slice()
	if len(args) != 4 {
		return usagef(a, "lmremove: need 4 arguments, not %d", len(args))
	}
	if !c.Bool("h") {
		fmt.Fprintln(env.Stdout, Banner(env.Prog))
		targets, err := adminTargets(env, c.String("c"))
		if err != nil {
			return err
		}
		conns, dialErr := dialAdmins(c.Context, env, "lmremove", targets, false)
		defer closeAdmins(conns)
		if len(conns) == 0 {
			return dialErr
		}
		_, err = conns[0].adm.Remove(c.Context, args[0], args[1], args[2], args[3])
		return err
	}
	feature, host := args[0], args[1]
	port, err := strconv.Atoi(args[2])
	if err != nil || port < 1 || port > 65535 {
		return usagef(a, "lmremove: bad port %q", args[2])
	}
	handle, err := strconv.ParseUint(args[3], 10, 64)
	if err != nil || handle == 0 {
		return usagef(a, "lmremove: bad handle %q", args[3])
	}
	fmt.Fprintln(env.Stdout, Banner(env.Prog))
	adm, err := client.DialAdmin(c.Context, []licfile.ServerAddr{{Port: port, Host: host}}, adminOptions(env, "lmremove")...)
	if err != nil {
		// The server's own name may not resolve here: try the license
		// path's servers on that port.
		adm = nil
		if targets, terr := adminTargets(env, c.String("c")); terr == nil {
			for _, spec := range targets {
				if !specHasPort(spec, port) {
					continue
				}
				if a2, derr := client.DialAdmin(c.Context, spec, adminOptions(env, "lmremove")...); derr == nil {
					adm = a2
					break
				}
			}
		}
		if adm == nil {
			return err
		}
	}
	defer adm.Close()
	_, err = adm.RemoveHandle(c.Context, feature, handle)
	return err
}

func specHasPort(spec []licfile.ServerAddr, port int) bool {
	for _, a := range spec {
		if a.Port == port {
			return true
		}
	}
	return false
}
