package commands

import (
	"context"
	"fmt"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// triadMember is what lmstat learnt from one member of a triad.
type triadMember struct {
	srv     statServer
	st      *protocol.ServerStatus
	vendors []*protocol.VendorStatus
	err     error
}

// statTriad prints a three-server triad as lmutil does: the three
// members' port@host in the "License server status:" line, the license
// files of the member that answers for the triad (the master, else the
// first that is up), one server line per member in SERVER-line order,
// "(MASTER)" on the master and the connect error on a member that is
// down, then the vendor daemons and features as the master sees them.
func statTriad(ctx context.Context, w *statWriter, spec []licfile.ServerAddr, file *licfile.File, dial statDialer) error {
	ms := make([]triadMember, len(spec))
	for i := range spec {
		ms[i] = askMember(ctx, spec[i:i+1], dial)
	}
	defer func() {
		for _, m := range ms {
			if m.srv != nil {
				m.srv.Close()
			}
		}
	}()
	pick := -1
	for i, m := range ms {
		if m.err == nil && (pick < 0 || m.st.Master && !ms[pick].st.Master) {
			pick = i
		}
	}
	if pick < 0 {
		return ms[0].err
	}
	lead := ms[pick]
	if w.mode.feature != "" {
		statFeatures(ctx, w, lead.srv, "", w.mode.feature, nil)
		return nil
	}
	if w.mode.server {
		w.line("License server status: " + triadName(spec, file))
		w.line("    License file(s) on " + lead.st.Host + ": " + strings.Join(lead.st.LicenseFiles, ":") + ":")
		w.blank()
		for i, m := range ms {
			if m.err != nil {
				w.line(fmt.Sprintf("%10s: %s", spec[i].Host, m.err.Error()))
				continue
			}
			up := fmt.Sprintf("%10s: license server UP", m.st.Host)
			if m.st.Master {
				up += " (MASTER)"
			}
			w.line(up + " v" + m.st.Version)
		}
		w.blank()
	}
	statVendors(ctx, w, file, lead.srv, lead.st, lead.vendors)
	return nil
}

// askMember asks one member of a triad for its status.
func askMember(ctx context.Context, spec []licfile.ServerAddr, dial statDialer) triadMember {
	srv, err := dial(ctx, spec)
	if err != nil {
		return triadMember{err: err}
	}
	st, seq, err := srv.ServerStatus(ctx)
	if err != nil {
		srv.Close()
		return triadMember{err: err}
	}
	m := triadMember{srv: srv, st: st}
	for vs, err := range seq {
		if err != nil {
			srv.Close()
			return triadMember{err: err}
		}
		m.vendors = append(m.vendors, vs)
	}
	return m
}

// triadName is the "License server status:" list of a triad: its SERVER
// lines' port@host, or the port@host list lmstat was given.
func triadName(spec []licfile.ServerAddr, file *licfile.File) string {
	if file != nil && len(file.Servers) == len(spec) {
		parts := make([]string, len(file.Servers))
		for i, s := range file.Servers {
			parts[i] = fmt.Sprintf("%d@%s", s.Port, s.Host)
		}
		return strings.Join(parts, ",")
	}
	return specString(spec)
}
