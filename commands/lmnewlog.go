package commands

import "github.com/urfave/cli/v2"

func lmnewlogApplet() *Applet {
	return &Applet{
		Name:        "lmnewlog",
		Aliases:     []string{"newlog"},
		Usage:       "lmnewlog [-c license_file_list] feature|vendor renamed_report_log",
		Summary:     "move a vendor daemon's report log aside and start a new one",
		Description: manText("lmnewlog"),
		Flags:       logSwitchFlags,
		Action:      func(c *cli.Context, env *Env) error { return runLogSwitch(c, env, "lmnewlog") },
	}
}
