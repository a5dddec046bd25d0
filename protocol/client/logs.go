package client

import (
	"context"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// SwitchReportLog is lmswitchr: vendor daemon vendor, or the one serving
// feature when vendor is "", ends its report log file and continues the
// log in path, a path on the server (relative to the directory of the
// vendor daemon's options file). The answer names the file the log now
// goes to.
func (a *Admin) SwitchReportLog(ctx context.Context, vendor, feature, path string) (*protocol.LogSwitched, error) {
	return a.logSwitch(ctx, vendor, feature, &protocol.SwitchReportLog{Path: path})
}

// NewReportLog is lmnewlog: the vendor daemon renames its report log
// file to path (on the server, as for SwitchReportLog) and continues
// the log in a new file under its REPORTLOG name. The answer's Kept is
// the renamed file, Path the new one.
func (a *Admin) NewReportLog(ctx context.Context, vendor, feature, path string) (*protocol.LogSwitched, error) {
	return a.logSwitch(ctx, vendor, feature, &protocol.NewReportLog{Path: path})
}

// SwitchDebugLog is lmswitch: the vendor daemon writes its debug log to
// path (on the server, as for SwitchReportLog) from now on.
func (a *Admin) SwitchDebugLog(ctx context.Context, vendor, feature, path string) (*protocol.LogSwitched, error) {
	return a.logSwitch(ctx, vendor, feature, &protocol.SwitchDebugLog{Path: path})
}

// logSwitch sends req to the vendor daemon; a member of a triad that is
// not the master names it, and req goes to the master, which commits
// the switch for the three (lmswitchr, lmnewlog).
func (a *Admin) logSwitch(ctx context.Context, vendor, feature string, req protocol.Message) (*protocol.LogSwitched, error) {
	var out *protocol.LogSwitched
	_, err := a.atMaster(ctx, func(a *Admin) (int, error) {
		v, err := a.Vendor(ctx, vendor, feature)
		if err != nil {
			return 0, err
		}
		defer v.Close()
		out, err = v.logSwitch(req)
		return 0, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SwitchReportLog is lmswitchr on this vendor daemon.
func (v *Vendor) SwitchReportLog(ctx context.Context, path string) (*protocol.LogSwitched, error) {
	return v.logSwitch(&protocol.SwitchReportLog{Path: path})
}

// NewReportLog is lmnewlog on this vendor daemon.
func (v *Vendor) NewReportLog(ctx context.Context, path string) (*protocol.LogSwitched, error) {
	return v.logSwitch(&protocol.NewReportLog{Path: path})
}

// SwitchDebugLog is lmswitch on this vendor daemon.
func (v *Vendor) SwitchDebugLog(ctx context.Context, path string) (*protocol.LogSwitched, error) {
	return v.logSwitch(&protocol.SwitchDebugLog{Path: path})
}

func (v *Vendor) logSwitch(req protocol.Message) (*protocol.LogSwitched, error) {
	m, err := v.conn.Call(req)
	if err != nil {
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	// An Error frame came back as err (Call): anything but LogSwitched
	// is a violation.
	if ls, ok := m.(*protocol.LogSwitched); ok {
		return ls, nil
	}
	v.conn.Close()
	return nil, newError(lmerr.BadComm, lmerr.MinorClientLogReply, req.Type().String()+" answered with "+m.Type().String())
}
