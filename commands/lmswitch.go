package commands

import "github.com/urfave/cli/v2"

func lmswitchApplet() *Applet {
	return &Applet{
		Name:    "lmswitch",
		Aliases: []string{"switch"},
		Usage:   "lmswitch [-c license_file_list] vendor|feature new_debug_log",
		Summary: "move a vendor daemon's debug log to a new file",
		Description: `lmswitch makes vendor daemon vendor (or the one that serves feature) write its debug log lines to new_debug_log from now on, appending when the file is already that vendor daemon's debug log; ` +
			`the last line in the old log is "Switching debug log to new_debug_log (lmswitch)" and the new log goes on with a TIMESTAMP line. ` +
			`lmgrd's own lines and the other vendor daemons' stay where they are. The DEBUGLOG line of the options file does the same when the vendor daemon starts.

` + logSwitchPaths + `

On success lmswitch prints one line after the banner,

    demo: debug log switched to /var/log/golm/demo.dl

` + logSwitchErrors,
		Flags:  logSwitchFlags,
		Action: func(c *cli.Context, env *Env) error { return runLogSwitch(c, env, "lmswitch") },
	}
}
