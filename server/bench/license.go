package bench

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"golm/lmutil/licfile"
)

// Vendor is the vendor name of every license the suite writes.
const Vendor = "demo"

// FeatureName is the name of the i-th feature of a generated license.
func FeatureName(i int) string { return fmt.Sprintf("f%05d", i) }

// LicenseText returns an unsigned license file for a server on this host
// at port (0: no port) with features FEATURE lines of seats seats each,
// named FeatureName(0) ... FeatureName(features-1).
func LicenseText(port, features, seats int) []byte {
	var b bytes.Buffer
	if port > 0 {
		fmt.Fprintf(&b, "SERVER this_host ANY %d\n", port)
	} else {
		b.WriteString("SERVER this_host ANY\n")
	}
	return appendFeatures(b.Bytes(), features, seats)
}

// appendFeatures appends the VENDOR line and the FEATURE lines of
// LicenseText to a license's SERVER lines.
func appendFeatures(text []byte, features, seats int) []byte {
	b := bytes.NewBuffer(text)
	fmt.Fprintf(b, "VENDOR %s\n", Vendor)
	for i := range features {
		fmt.Fprintf(b, "FEATURE %s %s 1.0 permanent %d VENDOR_STRING=\"bench %d\"\n", FeatureName(i), Vendor, seats, i)
	}
	return b.Bytes()
}

// SignLicense signs every line of text with priv and returns the signed
// file. It signs as lmcrypt does, through licfile.SignFile, so the file
// also carries the vendor's manifest and ParseVerify measures the path a
// vendor daemon takes.
func SignLicense(text []byte, priv ed25519.PrivateKey) ([]byte, error) {
	f, err := licfile.Parse(bytes.NewReader(text), "bench.lic")
	if err != nil {
		return nil, err
	}
	out, _, err := licfile.SignFile(text, f, map[string]ed25519.PrivateKey{Vendor: priv})
	return out, err
}

// HotFeature is a feature of HotSeats seats that every license
// WriteLicense writes also serves, for the figures of many jobs checking
// out one feature.
const (
	HotFeature = "hot"
	HotSeats   = 10000
)

// WriteLicense writes a signed license (LicenseText, and HotFeature) as
// dir/license.lic and the vendor's public key beside it as dir/demo.pub,
// and returns the license's path. keyDir holds demo.key and demo.pub.
func WriteLicense(dir, keyDir string, port, features, seats int) (string, error) {
	return writeSigned(dir, keyDir, LicenseText(port, features, seats))
}

// writeSigned adds HotFeature to text, signs it and writes it as
// dir/license.lic, with demo.pub beside it.
func writeSigned(dir, keyDir string, text []byte) (string, error) {
	key, err := licfile.LoadPrivateKey(filepath.Join(keyDir, Vendor+".key"))
	if err != nil {
		return "", err
	}
	text = fmt.Appendf(text, "FEATURE %s %s 1.0 permanent %d\n", HotFeature, Vendor, HotSeats)
	signed, err := SignLicense(text, key.Key)
	if err != nil {
		return "", err
	}
	pub, err := os.ReadFile(filepath.Join(keyDir, Vendor+".pub"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, Vendor+".pub"), pub, 0o644); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "license.lic")
	return p, os.WriteFile(p, signed, 0o644)
}

// ParseVerify parses a signed license file and verifies every signed line
// with pub (licfile.VerifyAll: the manifest, and line by line whatever it
// does not cover); it returns the number of lines verified.
func ParseVerify(data []byte, pub ed25519.PublicKey) (int, error) {
	f, err := licfile.Parse(bytes.NewReader(data), "bench.lic")
	if err != nil {
		return 0, err
	}
	var lines []licfile.Line
	for _, l := range f.Order {
		if licfile.Signable(l) {
			lines = append(lines, l)
		}
	}
	for i, err := range licfile.VerifyAll(pub, f, lines) {
		if err != nil {
			return i, err
		}
	}
	return len(lines), nil
}
