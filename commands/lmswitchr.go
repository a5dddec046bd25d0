package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

// logSwitchFlags are the flags of lmswitchr, lmnewlog and lmswitch.
func logSwitchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "c", Usage: "use the license servers of `license_file_list`"},
	}
}

// logSwitchPaths is the part of the log switch commands' descriptions
// that they share.
const logSwitchPaths = `The path is a file on the license server, not on the machine the command runs on: a relative path is taken relative to the directory of the vendor daemon's options file (where a relative REPORTLOG is taken from too). ` +
	`The path must name a new file, or an existing golm log of the same kind and vendor: a report log whose header names the vendor, or a debug log whose first line is the vendor's (hh:mm:ss (vendor) ...). ` +
	`The vendor daemon refuses anything else without touching it (an ordinary file such as a shell's start-up file or the license file, an empty file, another vendor's log), a path with a symbolic link in any of its directories or as its last part, a directory, a device or anything else that is not a regular file, and one it cannot create; ` +
	`files it creates have mode 0640. The server is the first of the license path (-c, else $LM_LICENSE_FILE and the VENDOR_LICENSE_FILE variables, else the default files; see lmutil(1)) that answers. ` +
	`Only administrators may switch logs, as for lmdown and lmremove: the request must come from the license server machine unless lmgrd runs with -allow-remote-admin, from root, lmgrd's user or a member of the lmadmin group, and with lmgrd -2 -p from a member of the lmadmin group (root and group 0 when there is none); see lmgrd(1).`

// logSwitchErrors is the shared end of the descriptions.
const logSwitchErrors = `A name that is neither a vendor daemon nor a feature the server serves is refused before any log is touched, also when the server has a single vendor daemon: ` +
	`it prints lmswitchr: name: no such vendor daemon or feature (port@host serves vendors) and No such feature exists. (-5,...), and exits with status 251. ` +
	`A refused path prints Cannot switch the report log to path: why. (-42,...) with the operating system's error number when there is one; ` +
	`a request from another host is You are not a license administrator. (-63,...). Errors exit with 256 plus the error number (-42: 214); ` +
	`no server answering is Cannot connect to license server system. (-15,...) and exit status 241.`

func lmswitchrApplet() *Applet {
	return &Applet{
		Name:    "lmswitchr",
		Aliases: []string{"switchr"},
		Usage:   "lmswitchr [-c license_file_list] feature|vendor new_report_log",
		Summary: "continue a vendor daemon's report log in a new file",
		Description: `lmswitchr ends the report log file of vendor daemon vendor (or of the vendor daemon that serves feature) and continues the log in new_report_log, while checkouts go on: ` +
			`the old file ends with a SWITCH record naming the new file, the new file's header continues the sequence numbers and the hash chain, and no record is lost or written twice, so lmreport -verify accepts the old and new files as one log. ` +
			`An existing new_report_log must be a report log of the same vendor (its header line says so); it is kept beside the new file as new_report_log.N first. A vendor daemon without a report log starts one in new_report_log. ` +
			`The REPORTLOG line of the options file is not changed, but a vendor daemon that restarts (lmdown, a crash) continues the chain in the file it last wrote: a hidden state file beside the REPORTLOG file, .NAME.state, names it. With REPORTLOG +path it goes on in that file; without the '+' it starts a new file at path that continues the chain.

` + logSwitchPaths + `

On success lmswitchr prints one line after the banner,

    demo: report log switched to /var/log/golm/demo-2.rl

naming the vendor daemon and the file the log now goes to, as the server resolved it. ` + logSwitchErrors,
		Flags:  logSwitchFlags,
		Action: func(c *cli.Context, env *Env) error { return runLogSwitch(c, env, "lmswitchr") },
	}
}

// runLogSwitch is lmswitchr, lmnewlog and lmswitch.
func runLogSwitch(c *cli.Context, env *Env, name string) error {
	a := Lookup(name)
	args := c.Args().Slice()
	if len(args) != 2 {
		return usagef(a, "%s: need 2 arguments (feature or vendor, and a file), not %d", name, len(args))
	}
	target, path := args[0], args[1]
	if target == "" || path == "" {
		return usagef(a, "%s: empty argument", name)
	}
	fmt.Fprintln(env.Stdout, Banner(env.Prog))
	targets, err := adminTargets(env, c.String("c"))
	if err != nil {
		return err
	}
	conns, dialErr := dialAdmins(c.Context, env, name, targets, false)
	defer closeAdmins(conns)
	if len(conns) == 0 {
		return dialErr
	}
	ac := conns[0]
	// A vendor daemon's name wins over a feature of the same name.
	vendor, feature := "", target
	if slices.Contains(ac.vendors, target) {
		vendor, feature = target, ""
	}
	v, err := ac.adm.Vendor(c.Context, vendor, feature)
	if err != nil {
		return unknownTarget(name, target, ac, err)
	}
	defer v.Close()
	if feature != "" {
		// lmgrd sends a feature it does not know to its only vendor
		// daemon (for checkouts, which that one then refuses): ask the
		// vendor daemon whether it serves the feature before switching
		// its log.
		if err := servesFeature(c.Context, v, feature); err != nil {
			return unknownTarget(name, target, ac, err)
		}
	}
	var r *protocol.LogSwitched
	switch name {
	case "lmswitchr":
		r, err = v.SwitchReportLog(c.Context, path)
	case "lmnewlog":
		r, err = v.NewReportLog(c.Context, path)
	default:
		r, err = v.SwitchDebugLog(c.Context, path)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, logSwitchLine(name, r))
	return nil
}

// logSwitchLine is the line a successful log switch prints.
func logSwitchLine(name string, r *protocol.LogSwitched) string {
	vendor := r.Vendor
	switch name {
	case "lmswitchr":
		return fmt.Sprintf("%s: report log switched to %s", vendor, r.Path)
	case "lmnewlog":
		return fmt.Sprintf("%s: report log moved to %s, continuing in %s", vendor, r.Kept, r.Path)
	}
	return fmt.Sprintf("%s: debug log switched to %s", vendor, r.Path)
}

// servesFeature is nil when vendor daemon v serves feature, the -5 of
// lmstat -f otherwise.
func servesFeature(ctx context.Context, v *client.Vendor, feature string) error {
	known := false
	// Read to the end: a stream left half read closes the connection.
	for m, err := range v.FeatureStatus(ctx, feature) {
		if err != nil {
			return err
		}
		if h, ok := m.(*protocol.FeatureHeader); ok && h.Name == feature && h.Code == 0 {
			known = true
		}
	}
	if !known {
		return lmerr.New(lmerr.NoFeature, lmerr.MinorSwitchNoFeature, "Feature:       "+feature)
	}
	return nil
}

// unknownTarget says that the server has no vendor daemon or feature
// called target, when err is -5 (as lmdown -vendor does for a vendor
// daemon), and is err otherwise.
func unknownTarget(name, target string, ac *adminConn, err error) error {
	if lmerr.CodeOf(err) != lmerr.NoFeature {
		return err
	}
	return &ExitError{
		Status: ExitStatus(err),
		Err:    fmt.Errorf("%s: %s: no such vendor daemon or feature (%s serves %s)\n%w", name, target, ac.addr, strings.Join(ac.vendors, " "), err),
	}
}
