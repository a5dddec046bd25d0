package commands

import (
	"context"
	"fmt"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/server/status"
)

// statTriad prints a three-server triad as lmutil does: the three
// members' port@host in the "License server status:" line, the license
// files of the member that answers for the triad (the master, else the
// first that is up), one server line per member in SERVER-line order,
// "(MASTER)" on the master and the connect error on a member that is
// down, then the vendor daemons and features as the master sees them.
// The members are asked as lmstat -json and the status page ask them
// (status.AskTriad).
func statTriad(ctx context.Context, w *statWriter, spec []licfile.ServerAddr, file *licfile.File, dial statDialer) error {
	ms, pick := status.AskTriad(ctx, len(spec), memberDialer(spec, dial))
	defer status.CloseAll(ms)
	if pick < 0 {
		return ms[0].Err
	}
	lead := ms[pick]
	var leadSrv statServer = lead.Conn
	if w.mode.feature != "" {
		statFeatures(ctx, w, leadSrv, "", w.mode.feature, nil)
		return nil
	}
	if w.mode.server {
		w.line("License server status: " + triadName(spec, file))
		w.line("    License file(s) on " + lead.Status.Host + ": " + strings.Join(lead.Status.LicenseFiles, ":") + ":")
		w.blank()
		for i, m := range ms {
			if m.Err != nil {
				w.line(fmt.Sprintf("%10s: %s", spec[i].Host, m.Err.Error()))
				continue
			}
			up := fmt.Sprintf("%10s: license server UP", m.Status.Host)
			if m.Status.Master {
				up += " (MASTER)"
			}
			w.line(up + " v" + m.Status.Version)
		}
		w.blank()
	}
	statVendors(ctx, w, file, leadSrv, lead.Status, lead.Vendors)
	return nil
}

// memberDialer dials the i-th member of a triad's spec.
func memberDialer(spec []licfile.ServerAddr, dial statDialer) func(ctx context.Context, i int) (status.Conn, error) {
	return func(ctx context.Context, i int) (status.Conn, error) {
		srv, err := dial(ctx, spec[i:i+1])
		if err != nil {
			return nil, err
		}
		return srv, nil
	}
}

// triadName is the "License server status:" list of a triad: its SERVER
// lines' port@host, or the port@host list lmstat was given.
func triadName(spec []licfile.ServerAddr, file *licfile.File) string {
	return strings.Join(memberNames(spec, file), ",")
}

// memberNames are the port@host of a triad's members in SERVER-line
// order: as its SERVER lines name them, or as lmstat was given them.
func memberNames(spec []licfile.ServerAddr, file *licfile.File) []string {
	parts := make([]string, len(spec))
	if file != nil && len(file.Servers) == len(spec) {
		for i, s := range file.Servers {
			parts[i] = fmt.Sprintf("%d@%s", s.Port, s.Host)
		}
		return parts
	}
	for i, a := range spec {
		parts[i] = a.String()
	}
	return parts
}
