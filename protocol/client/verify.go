package client

import (
	"context"
	"fmt"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// grantOf reads a grant: Granted, or SignedGranted with its lines.
func grantOf(m protocol.Message) (*protocol.Granted, bool) {
	switch m := m.(type) {
	case *protocol.Granted:
		return m, true
	case *protocol.SignedGranted:
		return &m.Granted, true
	}
	return nil, false
}

// checksGrants reports whether the job checks what it is granted: it
// was given a publisher's key.
func (j *Job) checksGrants() bool { return len(j.cfg.keys) > 0 }

// checkoutFlags adds CheckoutSigned, asking for the license lines with
// the grant, when the job checks grants.
func (j *Job) checkoutFlags(flags uint64) uint64 {
	if j.checksGrants() {
		flags |= protocol.CheckoutSigned
	}
	return flags
}

// checkGrant checks a grant m of feature from vendor for a request of
// version requested, when the job checks grants: the grant must carry
// license lines, each must verify under the vendor's key and name the
// vendor, and one must license the feature at that version or later,
// started and unexpired (for a PACKAGE component, a PACKAGE line listing
// it and a line of the package). The error is -8 (-10 expired, -31 not
// started).
func (j *Job) checkGrant(vendor, feature, requested string, m protocol.Message) error {
	if !j.checksGrants() {
		return nil
	}
	detail := []string{"Feature: " + feature, "Vendor daemon: " + vendor}
	key, ok := j.cfg.keys[vendor]
	if !ok {
		return newError(lmerr.BadCode, lmerr.MinorGrantNoKey, append(detail, "no public key of vendor "+vendor+" in the application")...)
	}
	sg, ok := m.(*protocol.SignedGranted)
	if !ok || len(sg.Lines) == 0 {
		return newError(lmerr.BadCode, lmerr.MinorGrantUnsigned, append(detail, "the vendor daemon sent no signed license line with the grant")...)
	}
	if sg.Form != protocol.SignedFormGolm1 {
		return newError(lmerr.BadCode, lmerr.MinorGrantForm, append(detail, fmt.Sprintf("license lines in unknown signed form %d", sg.Form))...)
	}
	if sg.Feature != feature {
		return newError(lmerr.BadCode, lmerr.MinorGrantLine, append(detail, "granted feature "+sg.Feature)...)
	}
	want, err := licfile.ParseVersion(requested)
	if err != nil {
		want = licfile.Version{}
	}
	heads := make([]licfile.SignedHead, 0, len(sg.Lines))
	for _, l := range sg.Lines {
		h, err := licfile.VerifySignedText(key.Key, l.Text, l.Sign)
		if err != nil {
			return newError(lmerr.BadCode, lmerr.MinorGrantSign, append(detail, err.Error())...)
		}
		if h.Vendor != vendor {
			return newError(lmerr.BadCode, lmerr.MinorGrantVendor, append(detail, "granted line of vendor "+h.Vendor)...)
		}
		heads = append(heads, h)
	}
	now := j.cfg.now()
	var dateErr error
	// usable reports whether a counted-line head (FEATURE, INCREMENT,
	// UPGRADE) named name is in force now; a line that is not is
	// remembered as the reason.
	usable := func(h licfile.SignedHead, name string) bool {
		if h.Kind == licfile.KindPackage || h.Name != name {
			return false
		}
		switch {
		case h.Expiry.Expired(now):
			dateErr = newError(lmerr.Expired, lmerr.MinorGrantExpired, detail...)
			return false
		case !h.Start.IsZero() && now.Before(h.Start.Time()):
			dateErr = newError(lmerr.NotStarted, lmerr.MinorGrantStart, detail...)
			return false
		}
		return true
	}
	for _, h := range heads {
		if usable(h, feature) && h.Version.Compare(want) >= 0 {
			return nil
		}
	}
	for _, p := range heads {
		if p.Kind != licfile.KindPackage {
			continue
		}
		for _, c := range p.Components {
			if c.Name != feature {
				continue
			}
			for _, h := range heads {
				if !usable(h, p.Name) {
					continue
				}
				v := c.Version
				if v.IsZero() {
					v = h.Version
				}
				if v.Compare(want) >= 0 {
					return nil
				}
			}
		}
	}
	if dateErr != nil {
		return dateErr
	}
	return newError(lmerr.BadCode, lmerr.MinorGrantVersion, append(detail, "no granted license line licenses "+feature+" version "+requested)...)
}

// refuseLocked gives back the seats of a grant the job refused, and logs
// why. v.mu is held.
func (v *vendorConn) refuseLocked(ctx context.Context, g *protocol.Granted, why error) {
	v.job.cfg.log("refused %s handle %d from %s: %v", g.Feature, g.Handle, v.vendor, why)
	if v.alive() {
		// A broken connection gives the seats back by itself.
		_, _ = v.link.call(ctx, &protocol.Checkin{Handle: g.Handle}, v.job.cfg.callTimeout)
	}
}
