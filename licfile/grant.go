package licfile

// Checking a line a vendor daemon granted.
//
// A vendor daemon sends an application, with a grant, the signed form
// (SignedText) and SIGN= of the license line the grant comes from. The
// application checks them with the publisher's public key it was built
// with (VerifySignedText) and reads from the signed form what the line
// grants (SignedHead), so that a server cannot hand out a line the
// publisher never signed, or one whose count, version or dates were
// edited.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golm/lmutil/protocol/lmerr"
)

// Fingerprint names a public key briefly, for logs and for a person
// comparing keys: the first 16 hex digits of the SHA-256 of the key.
func (k PublicKey) Fingerprint() string { return KeyFingerprint(k.Key) }

// KeyFingerprint is PublicKey.Fingerprint of a bare key.
func KeyFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// SignedHead is what a signed form says about its line: the first item
// (keyword, name, vendor, versions, expiry, count) and the START= and
// COMPONENTS= items.
type SignedHead struct {
	Kind        Kind // KindFeature, KindIncrement, KindUpgrade or KindPackage
	Name        string
	Vendor      string
	FromVersion Version // UPGRADE's from-version
	Version     Version // empty for a PACKAGE line of any version
	Expiry      Date    // absent for a PACKAGE line
	Count       int     // 0: uncounted
	Start       Date    // absent without START=
	Components  []Component
}

// VerifySignedText checks sign, a SIGN= value, against text, a signed
// form, with pub, and returns what the line says. Every failure wraps
// ErrBadSignature and carries -8.
func VerifySignedText(pub ed25519.PublicKey, text, sign string) (SignedHead, error) {
	if len(pub) != ed25519.PublicKeySize {
		return SignedHead{}, sigError(nil, lmerr.MinorSigNoKey, "no public key")
	}
	sig, err := DecodeSignature(sign)
	if err != nil {
		return SignedHead{}, sigError(nil, lmerr.MinorSigEncoding, err.Error())
	}
	if !ed25519.Verify(pub, []byte(text), sig) {
		return SignedHead{}, sigError(nil, lmerr.MinorSigMismatch, "signature does not match the line")
	}
	h, err := ParseSignedText(text)
	if err != nil {
		return SignedHead{}, sigError(nil, lmerr.MinorSigMismatch, err.Error())
	}
	return h, nil
}

// ParseSignedText reads a signed form (SignedText) back. It does not
// check a signature: VerifySignedText does.
func ParseSignedText(text string) (SignedHead, error) {
	var h SignedHead
	items := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(items) < 2 || items[0] != SignedTextVersion {
		return h, fmt.Errorf("not a %s signed form", SignedTextVersion)
	}
	f, err := signedFields(items[1])
	if err != nil || len(f) < 4 {
		return h, fmt.Errorf("malformed signed form")
	}
	switch f[0] {
	case "FEATURE":
		h.Kind = KindFeature
	case "INCREMENT":
		h.Kind = KindIncrement
	case "UPGRADE":
		h.Kind = KindUpgrade
	case "PACKAGE":
		h.Kind = KindPackage
	default:
		return h, fmt.Errorf("signed form of a %s line", f[0])
	}
	h.Name, h.Vendor = f[1], f[2]
	rest := f[3:]
	bad := func() (SignedHead, error) { return SignedHead{}, fmt.Errorf("malformed %s item in signed form", f[0]) }
	if h.Kind == KindPackage {
		if len(rest) != 1 {
			return bad()
		}
		if rest[0] != "*" {
			if h.Version, err = ParseVersion(rest[0]); err != nil {
				return bad()
			}
		}
	} else {
		if h.Kind == KindUpgrade {
			if len(rest) == 0 {
				return bad()
			}
			if h.FromVersion, err = ParseVersion(rest[0]); err != nil {
				return bad()
			}
			rest = rest[1:]
		}
		if len(rest) != 3 {
			return bad()
		}
		if h.Version, err = ParseVersion(rest[0]); err != nil {
			return bad()
		}
		if h.Expiry, err = ParseDate(rest[1]); err != nil {
			return bad()
		}
		if rest[2] != "uncounted" {
			if h.Count, err = strconv.Atoi(rest[2]); err != nil || h.Count < 0 {
				return bad()
			}
		}
	}
	for _, it := range items[2:] {
		key, val, _ := strings.Cut(it, " ")
		switch key {
		case "START":
			if h.Start, err = ParseDate(val); err != nil {
				return h, fmt.Errorf("malformed START item in signed form")
			}
		case "COMPONENTS":
			s, err := strconv.Unquote(val)
			if err != nil {
				return h, fmt.Errorf("malformed COMPONENTS item in signed form")
			}
			for _, c := range strings.Fields(s) {
				parts := strings.Split(c, ":")
				if len(parts) != 3 {
					return h, fmt.Errorf("malformed COMPONENTS item in signed form")
				}
				comp := Component{Name: parts[0]}
				if parts[1] != "0" {
					if comp.Version, err = ParseVersion(parts[1]); err != nil {
						return h, fmt.Errorf("malformed COMPONENTS item in signed form")
					}
				}
				if comp.Count, err = strconv.Atoi(parts[2]); err != nil || comp.Count < 0 {
					return h, fmt.Errorf("malformed COMPONENTS item in signed form")
				}
				h.Components = append(h.Components, comp)
			}
		}
	}
	return h, nil
}

// signedFields splits an item of a signed form into its fields: bare
// words and Go-quoted strings, separated by single spaces.
func signedFields(s string) ([]string, error) {
	var out []string
	for s != "" {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, err
			}
			v, err := strconv.Unquote(q)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			s = s[len(q):]
		} else {
			w, rest, _ := strings.Cut(s, " ")
			out = append(out, w)
			s = " " + rest
			if rest == "" {
				s = ""
			}
		}
		if s == "" {
			break
		}
		if s[0] != ' ' || len(s) == 1 {
			return nil, fmt.Errorf("malformed signed form")
		}
		s = s[1:]
	}
	return out, nil
}
