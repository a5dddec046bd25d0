package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golm/lmutil/licfile"
)

// publisherKeys is the publisher's public key built into the vendor
// daemon binary. It is build configuration, set only at link time and
// never assigned by the program:
//
//	go build -ldflags "-X golm/lmutil/server.publisherKeys=demo:<64 hex digits>" golm/lmutil
//
// Several vendors' keys are separated by commas. lmcrypt -genkey prints
// the value for a new key.
var publisherKeys string

// BuiltinKeys returns the public keys built into this binary at link time
// ("" when none was), for VendorConfig.BuiltinKeys.
func BuiltinKeys() string { return publisherKeys }

// KeyBuiltIn is the Source of a TrustedKey built into the vendor daemon.
const KeyBuiltIn = "built in"

// TrustedKey is the public key a vendor daemon checks license lines
// with, and where it came from: KeyBuiltIn or the key file's path.
type TrustedKey struct {
	Key    licfile.PublicKey
	Source string
}

// describe names the key for the debug log.
func (k *TrustedKey) describe() string {
	return fmt.Sprintf("%s (fingerprint %s)", k.Source, k.Key.Fingerprint())
}

// PublisherKey finds the key a vendor daemon trusts above every license
// file: first vendor's entry of builtin (BuiltinKeys' form,
// "vendor:hex,vendor:hex"), then VENDOR.pub beside executable, the vendor
// daemon binary. It returns nil and no error when there is neither; only
// then is a VENDOR.pub beside a license file used. A malformed built-in
// key, or a key file beside the binary that cannot be read or names
// another vendor, is an error: the vendor daemon then trusts no key at
// all rather than fall back to one beside the license file.
func PublisherKey(vendor, builtin, executable string) (*TrustedKey, error) {
	for _, entry := range strings.Split(builtin, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, hexKey, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("built-in public key %q is not vendor:hex", entry)
		}
		if name != vendor {
			continue
		}
		key, err := hex.DecodeString(strings.TrimSpace(hexKey))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("built-in public key of %s is not 64 hex digits", vendor)
		}
		return &TrustedKey{Key: licfile.PublicKey{Vendor: vendor, Key: key}, Source: KeyBuiltIn}, nil
	}
	if executable == "" {
		return nil, nil
	}
	p := filepath.Join(filepath.Dir(executable), vendor+".pub")
	k, err := licfile.LoadPublicKey(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if k.Vendor != vendor {
		return nil, fmt.Errorf("%s: key of vendor %q, not %q", p, k.Vendor, vendor)
	}
	return &TrustedKey{Key: k, Source: p}, nil
}

// keyRing answers, per license file, which key checks its lines, and
// writes to the debug log, once per key, which key the vendor daemon
// trusts.
type keyRing struct {
	vendor    string
	publisher *TrustedKey // built in or beside the binary; nil when neither
	err       error       // why the publisher's key could not be had
	log       *DebugLog
	logged    map[string]bool
}

func newKeyRing(vendor, builtin, executable string, log *DebugLog) *keyRing {
	r := &keyRing{vendor: vendor, log: log, logged: map[string]bool{}}
	r.publisher, r.err = PublisherKey(vendor, builtin, executable)
	switch {
	case r.err != nil:
		log.Printf("No public key trusted: %v", r.err)
	case r.publisher != nil:
		log.Printf("Trusting public key %s", r.publisher.describe())
	}
	return r
}

// forFile returns the key that checks the lines of the license file at
// path: the publisher's, or else VENDOR.pub beside the file. A key
// beside the file never overrides the publisher's; it is named in the
// log as ignored.
func (r *keyRing) forFile(path string) (licfile.PublicKey, error) {
	if r.err != nil {
		return licfile.PublicKey{}, r.err
	}
	local, p, err := licfile.FindPublicKey(r.vendor, path)
	if r.publisher != nil {
		if p != "" && !r.logged[p] {
			r.logged[p] = true
			if err == nil && !local.Key.Equal(r.publisher.Key.Key) {
				r.log.Printf("Ignoring public key %s beside the license file (fingerprint %s): the key %s is trusted", p, local.Fingerprint(), r.publisher.Source)
			}
		}
		return r.publisher.Key, nil
	}
	if err != nil {
		return licfile.PublicKey{}, err
	}
	if !r.logged[p] {
		r.logged[p] = true
		r.log.Printf("Trusting public key %s beside the license file (fingerprint %s): none built in or beside the vendor daemon", p, local.Fingerprint())
	}
	return local, nil
}
