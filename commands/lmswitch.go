package commands

import "github.com/urfave/cli/v2"

func lmswitchApplet() *Applet {
	return &Applet{
		Name:        "lmswitch",
		Aliases:     []string{"switch"},
		Usage:       "lmswitch [-c license_file_list] vendor|feature new_debug_log",
		Summary:     "move a vendor daemon's debug log to a new file",
		Description: manText("lmswitch"),
		Flags:       logSwitchFlags,
		Action:      func(c *cli.Context, env *Env) error { return runLogSwitch(c, env, "lmswitch") },
	}
}
