package commands

import (
	"context"
	"errors"
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

func lmswitchrApplet() *Applet {
	return &Applet{
		Name:        "lmswitchr",
		Aliases:     []string{"switchr"},
		Usage:       "lmswitchr [-c license_file_list] feature|vendor new_report_log",
		Summary:     "continue a vendor daemon's report log in a new file",
		Description: manText("lmswitchr"),
		Flags:       logSwitchFlags,
		Action:      func(c *cli.Context, env *Env) error { return runLogSwitch(c, env, "lmswitchr") },
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
	if e := (*lmerr.Error)(nil); name != "lmswitch" && errors.As(err, &e) && e.Code == lmerr.ServerDown && e.Minor == lmerr.MinorTriadNotMaster {
		// A member of a triad that is not the master: the master
		// commits the switch, and the three members make it.
		if name == "lmswitchr" {
			r, err = ac.adm.SwitchReportLog(c.Context, vendor, feature, path)
		} else {
			r, err = ac.adm.NewReportLog(c.Context, vendor, feature, path)
		}
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
