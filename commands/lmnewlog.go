package commands

import "github.com/urfave/cli/v2"

func lmnewlogApplet() *Applet {
	return &Applet{
		Name:    "lmnewlog",
		Aliases: []string{"newlog"},
		Usage:   "lmnewlog [-c license_file_list] feature|vendor renamed_report_log",
		Summary: "move a vendor daemon's report log aside and start a new one",
		Description: `lmnewlog renames the report log file of vendor daemon vendor (or of the vendor daemon that serves feature) to renamed_report_log and continues the log in a new file under the old file's name (the REPORTLOG line's, unless lmswitchr changed it), while checkouts go on, ` +
			`so a nightly rotation does not change the options file. renamed_report_log must not exist. ` +
			`The renamed file ends with a SWITCH record, the new file's header continues the sequence numbers and the hash chain, and no record is lost or written twice: lmreport -verify accepts the renamed and the new file as one log. ` +
			`A vendor daemon without a report log refuses with Cannot rename the report log: vendor daemon demo has none (REPORTLOG in its options file). (-42,...).

` + logSwitchPaths + `

On success lmnewlog prints one line after the banner,

    demo: report log moved to /var/log/golm/demo-monday.rl, continuing in /var/log/golm/demo.rl

naming the vendor daemon, the renamed file and the file the log goes on in. ` + logSwitchErrors,
		Flags:  logSwitchFlags,
		Action: func(c *cli.Context, env *Env) error { return runLogSwitch(c, env, "lmnewlog") },
	}
}
