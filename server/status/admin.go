package status

import (
	"context"
	"iter"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
)

// AdminSource is a Source on a live lmgrd, asked as lmstat asks it: an
// admin connection to lmgrd, and one to each vendor daemon it names.
type AdminSource struct{ adm *client.Admin }

// DialAdmin connects to the lmgrd of spec as lmstat does.
func DialAdmin(ctx context.Context, spec []licfile.ServerAddr, opts ...client.Option) (*AdminSource, error) {
	adm, err := client.DialAdmin(ctx, spec, opts...)
	if err != nil {
		return nil, err
	}
	return &AdminSource{adm: adm}, nil
}

// ServerStatus implements Source.
func (a *AdminSource) ServerStatus(ctx context.Context) (*protocol.ServerStatus, iter.Seq2[*protocol.VendorStatus, error], error) {
	return a.adm.ServerStatus(ctx)
}

// FeatureStatus implements Source: it connects to the vendor daemon and
// closes that connection when the stream ends.
func (a *AdminSource) FeatureStatus(ctx context.Context, vendor, feature string) (iter.Seq2[protocol.Message, error], error) {
	v, err := a.adm.Vendor(ctx, vendor, feature)
	if err != nil {
		return nil, err
	}
	seq := v.FeatureStatus(ctx, feature)
	return func(yield func(protocol.Message, error) bool) {
		defer v.Close()
		seq(yield)
	}, nil
}

// VendorStats implements StatsSource over a connection of its own to the
// vendor daemon.
func (a *AdminSource) VendorStats(ctx context.Context, vendor string) (*protocol.VendorStats, error) {
	v, err := a.adm.Vendor(ctx, vendor, "")
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return v.Stats(ctx)
}

// VendorExtras implements ExtSource over a connection of its own to the
// vendor daemon: a vendor daemon older than the requests closes it at
// the first, which ends the answer without error.
func (a *AdminSource) VendorExtras(ctx context.Context, vendor string, features []string) (*protocol.VendorStatsExt, map[string]*protocol.UsageHistory, error) {
	v, err := a.adm.Vendor(ctx, vendor, "")
	if err != nil {
		return nil, nil, err
	}
	defer v.Close()
	ext, err := v.StatsExt(ctx)
	if err != nil {
		return nil, nil, err
	}
	usage := map[string]*protocol.UsageHistory{}
	for _, f := range features {
		h, err := v.UsageHistory(ctx, f)
		if err != nil {
			break
		}
		if len(h.Series) > 0 {
			usage[f] = h
		}
	}
	return ext, usage, nil
}

// Close closes the connection to lmgrd.
func (a *AdminSource) Close() error { return a.adm.Close() }
