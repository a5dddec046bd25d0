package client

import (
	"context"
	"os"

	"golm/lmutil/licfile"

	"golm/lmutil/protocol/lmerr"
)

// fileCheckout handles a license file source: uncounted lines before any
// USE_SERVER are granted locally; counted lines and USE_SERVER go to the
// file's SERVER.
func (j *Job) fileCheckout(ctx context.Context, src licfile.Source, feature, version string, want licfile.Version, count int, flags uint64) (*License, error) {
	f, err := readLicenseFile(src.File)
	if err != nil {
		return nil, err
	}
	var errs errorSet
	limit := -1 // byte offset of USE_SERVER: lines after it are the server's business
	if f.UseServer != nil {
		limit = f.UseServer.Offset
	}
	// A PACKAGE component is served by the lines of its package name.
	pkgs := map[string]bool{}
	for _, pk := range f.Packages {
		for _, c := range pk.Components {
			if c.Name == feature {
				pkgs[pk.Name] = true
			}
		}
	}
	var local, counted []*licfile.Feature
	hostids := map[*licfile.Feature]licfile.HostIDList{} // of uncounted UPGRADE lines
	for _, ft := range f.Features {
		if j.cfg.vendor != "" && ft.Vendor != j.cfg.vendor {
			continue
		}
		if ft.Name != feature {
			if pkgs[ft.Name] && ft.Count > 0 {
				counted = append(counted, ft)
			}
			continue
		}
		if limit >= 0 && ft.Offset > limit {
			continue
		}
		if ft.Count == 0 {
			if ft.Kind == licfile.KindUpgrade {
				// An uncounted UPGRADE upgrades the closest preceding
				// uncounted line it applies to (manual 3.2.6), as the
				// vendor daemon has it; alone it grants nothing.
				base := upgradedLocal(local, ft)
				if base == nil {
					continue
				}
				hostids[ft] = ft.HostID
				if len(ft.HostID) == 0 {
					hostids[ft] = base.HostID
				}
			}
			local = append(local, ft)
		} else {
			counted = append(counted, ft)
		}
	}
	for _, ft := range local {
		ids, ok := hostids[ft]
		if !ok {
			ids = ft.HostID
		}
		if err := j.localGrantable(f, src.File, ft, ids, want); err != nil {
			errs.add(err)
			continue
		}
		lic := &License{
			Feature: feature, Version: ft.Version.Text, Requested: version, Count: count,
			Expiry: ft.Expiry.Text, VendorString: ft.VendorString, Source: src.String(), job: j,
		}
		j.mu.Lock()
		j.local[lic] = true
		j.mu.Unlock()
		return lic, nil
	}
	if len(counted) > 0 || f.UseServer != nil {
		if len(f.Servers) == 0 {
			errs.add(newError(lmerr.NoServerLines, lmerr.MinorClientNoServer, "Feature: "+feature, "License path: "+src.Path))
			return nil, errs.best(feature, nil)
		}
		vendor := j.cfg.vendor
		if vendor == "" && len(counted) > 0 {
			vendor = counted[0].Vendor
		}
		if vendor == "" && len(f.Vendors) == 1 {
			vendor = f.Vendors[0].Name
		}
		lic, err := j.serverCheckout(ctx, src, serverSpec(f.Servers), vendor, feature, version, count, flags)
		if err == nil || (lic != nil && codeOf(err) == lmerr.InQueue) {
			return lic, err
		}
		errs.add(err)
	}
	if len(local) == 0 && len(counted) == 0 && f.UseServer == nil {
		errs.add(newError(lmerr.NoFeature, lmerr.MinorClientNoFeature, "Feature: "+feature, "License path: "+src.Path))
	}
	return nil, errs.best(feature, nil)
}

// readLicenseFile reads and parses a license file. A file with some bad
// lines still serves its good ones.
func readLicenseFile(name string) (*licfile.File, error) {
	r, err := os.Open(name)
	if err != nil {
		return nil, lmerrFromOS(lmerr.NoConfFile, lmerr.MinorClientReadFile, err, "License path: "+name)
	}
	defer r.Close()
	f, perr := licfile.Parse(r, name)
	if f == nil {
		if perr == nil {
			return nil, newError(lmerr.BadFile, lmerr.MinorClientEmptyFile, "License path: "+name)
		}
		code := licfile.CodeOf(perr)
		if code == 0 {
			code = lmerr.BadFile
		}
		return nil, newError(code, lmerr.MinorClientParse, "License path: "+name, perr.Error())
	}
	return f, nil
}

// upgradedLocal is the closest of the uncounted lines before the
// uncounted UPGRADE line up that it upgrades (from <= version < to), or
// nil.
func upgradedLocal(before []*licfile.Feature, up *licfile.Feature) *licfile.Feature {
	for i := len(before) - 1; i >= 0; i-- {
		b := before[i]
		if b.Name == up.Name && b.Version.Compare(up.FromVersion) >= 0 && b.Version.Compare(up.Version) < 0 {
			return b
		}
	}
	return nil
}

// localGrantable checks an uncounted line: version, signature, hostid
// (hostids: the line's, or for an UPGRADE without one the upgraded
// line's), platform, dates. The first failing rule's error is returned.
func (j *Job) localGrantable(f *licfile.File, path string, ft *licfile.Feature, hostids licfile.HostIDList, want licfile.Version) error {
	detail := []string{"Feature: " + ft.Name, "License path: " + path}
	if ft.Version.Compare(want) < 0 {
		// A local file's line: -21, the license file's version; -25 is
		// the server's.
		return newError(lmerr.OldVersion, lmerr.MinorClientOldVersion, detail...)
	}
	if ft.Sign == "" {
		return newError(lmerr.NoSign, lmerr.MinorClientNoSign, detail...)
	}
	key, ok := j.cfg.keys[ft.Vendor]
	switch {
	case ok:
	case len(j.cfg.keys) > 0:
		// The application names its publishers' keys: a key on disk does
		// not add another.
		return newError(lmerr.BadCode, lmerr.MinorClientNoKey, append(detail, "no public key of vendor "+ft.Vendor+" in the application")...)
	default:
		k, _, err := licfile.FindPublicKey(ft.Vendor, path)
		if err != nil {
			return newError(lmerr.BadCode, lmerr.MinorClientKeyFile, append(detail, err.Error())...)
		}
		key = k
	}
	if err := licfile.Verify(key.Key, f, ft); err != nil {
		return newError(lmerr.BadCode, lmerr.MinorClientSignature, append(detail, err.Error())...)
	}
	if len(hostids) == 0 || !hostids.Matches(j.machine) {
		return newError(lmerr.NotThisHost, lmerr.MinorClientHost, append(detail, "Hostid: "+hostids.String())...)
	}
	if !ft.AllowsPlatform(j.cfg.platform) {
		return newError(lmerr.PlatformNotAuthorized, lmerr.MinorClientPlatform, append(detail, "Platform: "+j.cfg.platform)...)
	}
	now := j.cfg.now()
	if !ft.Start.IsZero() && now.Before(ft.Start.Time()) {
		return newError(lmerr.NotStarted, lmerr.MinorClientNotStarted, detail...)
	}
	if ft.Expiry.Expired(now) {
		return newError(lmerr.Expired, lmerr.MinorClientExpired, detail...)
	}
	return nil
}
