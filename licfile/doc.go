// Package licfile reads FLEXlm license files: every line kind and format
// of the manual's chapter 3, the license path (-c lists, LM_LICENSE_FILE,
// VENDOR_LICENSE_FILE, $HOME/.flexlmrc, directories of *.lic, port@host),
// hostids, ck= checksums and Ed25519 line signatures.
//
// Parse reports every bad line in one pass as file:line:column with the
// FlexLM error code, and never panics:
//
//	license.lic:4:31: invalid date "31-foo-2005" (-11)
//
// The lines that parsed are returned in the *File all the same, so a
// command can show the good part of a damaged file.
//
// # Syntax
//
// A line whose first non-blank character is # is a comment; blank lines
// are skipped; CRLF line ends are accepted. A line whose last non-blank
// character is \ continues on the next line, unless that line is blank
// or the file ends. Words are separated by blanks; a value holding blanks
// is written in double quotes, which cannot themselves be quoted.
//
// Line keywords (SERVER, DAEMON, VENDOR, USE_SERVER, FEATURE, INCREMENT,
// UPGRADE, PACKAGE) and upper-case attribute keywords are recognised in
// any case. An attribute keyword written all in lower case is, by the
// manual's rule, a user-editable one (vendor_info, dist_info, user_info,
// asset_info or any other): it is kept in Attrs but never interpreted,
// so hostid=... does not lock anything; ck is the one lower-case keyword
// golm decodes. An unknown upper-case keyword is ErrFuture (-90), which
// catches misspellings; the attributes of later FlexNet files (BORROW,
// TS_OK, FLOAT_OK, ...) are known and kept. Dates (d-mmm-yyyy, month in
// any case), permanent, uncounted, ANY, DEMO and hex hostids are read in
// any case; everything else is case sensitive.
//
// # FEATURE line formats
//
// After the count, a bare word (no "=", no quotes) is the license key of
// the v2 and v3-v7.0 formats, unless it is a stand-alone attribute
// keyword (SUPERSEDE, USER_BASED, HOST_BASED, BORROW, TS_OK, ...). A
// quoted string right after the key makes the line v2: it is the vendor
// string, and an optional positional hostid may follow. A key without a
// quoted string is v3-v7.0; no key at all (attributes, SIGN=, or nothing
// straight after the count) is v7.1. A bare word anywhere after the
// attributes began is ErrFuture.
//
// PACKAGE takes up to two bare words after the vendor: version and key.
// A single one is the version when it is a number that has a dot or is
// shorter than 12 characters, and the license key otherwise.
//
// # Canonical form
//
// Every Line's String renders one canonical line: the keyword upper
// case, single spaces, no continuations, attributes in the order
// written, a value in quotes when it was written quoted or needs quotes.
// Parsing a canonical line gives the same canonical line again.
//
// # Decimal format
//
// A decimal line is golm's all-digit spelling of one license line, for
// licenses that are read out over the telephone or typed in by hand:
//
//	xyzd-04182-90319-27706-...-51833
//
// It starts with a name and a dash, then groups of five digits separated
// by dashes. The name is the line's vendor daemon (FEATURE, INCREMENT,
// UPGRADE, PACKAGE, DAEMON and VENDOR lines) or the keyword itself
// (SERVER, USE_SERVER lines). The vendor name tells the person typing
// whose license it is, as the decimal lines of FLEXlm do, and it is not
// spelled again in the digits. A decimal line is one word, so it can sit
// in a license file among readable lines: every readable line but
// USE_SERVER has blanks, and no readable line ends in dash-separated
// groups of five digits. A long decimal line may be broken after any
// group with a \ at the end of the physical line; the pieces are joined
// without a blank.
//
// Every group holds four data digits and a fifth check digit (Damm's
// algorithm), so any single mistyped digit and any swap of two
// neighbouring digits is caught in the group where it happened. The last
// group is the line check: four digits of a CRC-32 over the name and
// every data digit, and its own check digit, which catches a group left
// out, typed twice or moved, and a mistyped name. A line that fails is
// ErrDecimal (-99, "The decimal format license is typed incorrectly.")
// at the column of the bad group.
//
// The data digits, read as one decimal number, hold the line's canonical
// text (see Canonical form) as a sequence of symbols in mixed radix: a
// format number (1), then one symbol of 128 for each printable ASCII
// character or common keyword ("FEATURE ", " permanent", " SIGN=", ...),
// the vendor name, an escape followed by a raw byte for any other byte, a
// marker followed by the 64 bytes of a golm signature written in base32,
// and an end marker. Decoding gives back exactly the canonical line, so
// its signature still verifies. A line whose canonical text does not
// read back as itself, that is longer than MaxDecimalText bytes, or whose
// vendor name holds anything but letters, digits, _, . and - (or a dash
// before a digit) cannot be written in decimal: ErrNotDecimal (-98).
//
// # Manifests
//
// SignFile ends a file with one comment line per vendor it signs,
//
//	# golm-manifest VENDOR lines=N SIGN=<base32 signature>
//
// whose signature covers the signed form and the SIGN= signature of each
// of the N signed lines of that vendor in its block, in file order. The
// block of a manifest is the part of the file after the previous manifest
// of the same vendor (or the start of the file) and before the manifest:
// two signed files put one after the other keep two good manifests, and
// signing again replaces a vendor's manifests with one. Parse records
// manifest lines (a comment line starting in column 1 with exactly that
// form; anything else is an ordinary comment) in File.Manifests.
// VerifyAll accepts the lines of a block whose manifest holds with one
// Ed25519 verification and a SHA-256 per line, and verifies every other
// line on its own, so each line gets the answer Verify gives it; see
// manifest.go.
//
// # Format versions
//
// Convert rewrites a line in the syntax of an older FLEXlm release (v2 to
// v7.1, as lminstall -overfmt names them) when that release can express
// it, and says why not otherwise; see convert.go for what each release
// reads. Before v7.1 a SIGN= value is written as the license key, and the
// parser reads a license key that is a golm signature as the line's Sign.
package licfile
