package licfile

// ck= checksums, as lmcksum prints them.
//
// The checksum of a string is the sum of its byte values. It is shown
// reduced to one byte: the four bytes of the 32-bit sum added together,
// modulo 256 (Reduce). What is summed depends on the line:
//
//   - SERVER: the hostid (normalised: hex in lower case), so that
//     "SERVER speedy 08002b32b161 2837" sums to 189;
//   - DAEMON/VENDOR: the keyword and the vendor name, "DAEMON xyzd"
//     (166): the path, options file and port may be changed;
//   - USE_SERVER: the keyword;
//   - FEATURE/INCREMENT/UPGRADE/PACKAGE: the signed form (SignedText),
//     case-folded to lower case unless a case-sensitive sum is asked for.
//
// The overall file checksum is the sum of the unreduced line sums,
// reduced the same way. A ck= value on a line is its case-folded checksum,
// which lmcrypt writes beside SIGN=.

import "strings"

// Sum returns the sum of the byte values of s, wrapping at 2^32.
func Sum(s string) uint32 {
	var n uint32
	for i := 0; i < len(s); i++ {
		n += uint32(s[i])
	}
	return n
}

// Reduce folds a sum into the one byte lmcksum prints: the sum of its four
// bytes, modulo 256.
func Reduce(n uint32) int {
	return int((n + n>>8 + n>>16 + n>>24) & 0xff)
}

// Checksum returns the one-byte checksum of a string.
func Checksum(s string) int { return Reduce(Sum(s)) }

// ChecksumText returns the text that line l's checksum sums, with servers
// the file's SERVER lines. caseSensitive keeps the case of a feature
// line's signed form (lmcksum -k); otherwise it is folded to lower case.
func ChecksumText(l Line, servers []*Server, caseSensitive bool) string {
	switch v := any(l).(type) {
	case *Server:
		if caseSensitive && v.HostID.Text != "" {
			return v.HostID.Text
		}
		return NormalHostID(v.HostID)
	case *Vendor:
		kw := strings.ToUpper(v.Keyword)
		if kw == "" {
			kw = "VENDOR"
		}
		return kw + " " + v.Name
	case *UseServer:
		return "USE_SERVER"
	case *Feature, *Package:
		s := SignedText(l, servers)
		if !caseSensitive {
			s = strings.ToLower(s)
		}
		return s
	}
	return ""
}

// LineSum returns the unreduced checksum of line l (see ChecksumText).
func LineSum(l Line, servers []*Server, caseSensitive bool) uint32 {
	return Sum(ChecksumText(l, servers, caseSensitive))
}

// LineChecksum returns the one-byte checksum of line l, the value a ck=
// attribute carries when caseSensitive is false.
func LineChecksum(l Line, servers []*Server, caseSensitive bool) int {
	return Reduce(LineSum(l, servers, caseSensitive))
}

// LineCk returns the ck= value a line carries and whether it has one.
func LineCk(l Line) (int, bool) {
	switch l := any(l).(type) {
	case *Feature:
		return l.Ck, l.HasCk
	case *Package:
		return l.Ck, l.HasCk
	}
	return 0, false
}

// CheckCk reports whether line l's ck= matches its case-folded checksum.
// A line without ck= reports ok with has false.
func CheckCk(l Line, servers []*Server) (ok, has bool) {
	ck, has := LineCk(l)
	if !has {
		return true, false
	}
	return ck == LineChecksum(l, servers, false), true
}

// FileChecksum returns the overall checksum of lines: the reduced sum of
// their unreduced line sums.
func FileChecksum(lines []Line, servers []*Server, caseSensitive bool) int {
	var n uint32
	for _, l := range lines {
		n += LineSum(l, servers, caseSensitive)
	}
	return Reduce(n)
}
