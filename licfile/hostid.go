package licfile

import (
	"strconv"
	"strings"
)

// ParseHostID parses one hostid of manual appendix A:
//
//   - 12 hex digits: an Ethernet address (08002b32b161), any case;
//   - other hex numbers of up to 16 digits: a 32-bit style hostid (17007ea8);
//   - #decimal: a 32-bit hostid written in decimal (#2005771344);
//   - ANY and DEMO (any case);
//   - TYPE=value: HOSTNAME=, USER=, DISPLAY=, INTERNET= (dotted quad with
//   - wildcards), ID= (digits, dashes ignored); any other upper-case
//     TYPE= (DISK_SERIAL_NUM=, FLEXID=, ID_STRING=, ...) is kept as
//     HostIDOther, which matches no machine.
//
// Value is normalised: hex in lower case without leading zeros for
// 32-bit hostids (decimal ones converted to hex), ID= without dashes.
func ParseHostID(s string) (HostID, error) {
	bad := func() (HostID, error) { return HostID{}, errorf(ErrHostID, "invalid hostid %q", s) }
	h := HostID{Text: s}
	if typ, val, ok := strings.Cut(s, "="); ok {
		if val == "" || !isKeyword(typ) {
			return bad()
		}
		h.Value = val
		switch strings.ToUpper(typ) {
		case "HOSTNAME":
			h.Type = HostIDHostname
		case "USER":
			h.Type = HostIDUser
		case "DISPLAY":
			h.Type = HostIDDisplay
		case "INTERNET":
			if !validInternet(val) {
				return bad()
			}
			h.Type = HostIDInternet
		case "ID":
			id := strings.ReplaceAll(val, "-", "")
			if id == "" || !isDigits(id) {
				return bad()
			}
			h.Type, h.Value = HostIDID, id
		default:
			h.Type = HostIDOther
		}
		return h, nil
	}
	switch {
	case strings.EqualFold(s, "ANY"):
		h.Type, h.Value = HostIDAny, "ANY"
		return h, nil
	case strings.EqualFold(s, "DEMO"):
		h.Type, h.Value = HostIDDemo, "DEMO"
		return h, nil
	case strings.HasPrefix(s, "#"):
		d := s[1:]
		if d == "" || len(d) > 20 || !isDigits(d) {
			return bad()
		}
		n, err := strconv.ParseUint(d, 10, 64)
		if err != nil {
			return bad()
		}
		h.Type, h.Value = HostIDDecimal, strconv.FormatUint(n, 16)
		return h, nil
	}
	if s == "" || len(s) > 16 || !isHex(s) {
		return bad()
	}
	if len(s) == 12 {
		h.Type, h.Value = HostIDEther, strings.ToLower(s)
		return h, nil
	}
	h.Type, h.Value = HostIDLong, normLong(s)
	return h, nil
}

// normLong is a 32-bit style hostid in lower case without leading zeros
// ("0" for zero), so 0122345 and 00122345 are the same hostid.
func normLong(s string) string {
	s = strings.TrimLeft(strings.ToLower(s), "0")
	if s == "" {
		return "0"
	}
	return s
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isKeyword reports whether s is a keyword: a letter or underscore, then
// letters, digits and underscores.
func isKeyword(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// validInternet checks an INTERNET= pattern: four dot-separated parts,
// each a number 0-255 or *.
func validInternet(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "*" {
			continue
		}
		if p == "" || len(p) > 3 || !isDigits(p) {
			return false
		}
		if n, _ := strconv.Atoi(p); n > 255 {
			return false
		}
	}
	return true
}

// matchInternet reports whether the dotted IPv4 address ip matches an
// INTERNET= pattern part by part, * matching any part.
func matchInternet(pattern, ip string) bool {
	pp := strings.Split(pattern, ".")
	ap := strings.Split(ip, ".")
	if len(pp) != 4 || len(ap) != 4 {
		return false
	}
	for i := range pp {
		if pp[i] == "*" {
			continue
		}
		a, err1 := strconv.Atoi(ap[i])
		p, err2 := strconv.Atoi(pp[i])
		if err1 != nil || err2 != nil || a != p {
			return false
		}
	}
	return true
}

// Matches reports whether this hostid admits machine m. ANY, DEMO and ID=
// match every machine (ID= identifies the customer, not the host);
// Ethernet addresses match any of m's; 32-bit hostids match m.Long;
// HOSTNAME= matches the host name or its first label, ignoring case;
// USER= and DISPLAY= match exactly; INTERNET= matches any of m's
// addresses with * wildcards. Other kinds match nothing. A nil m matches
// only the hostids that match every machine.
func (h HostID) Matches(m *Machine) bool {
	switch h.Type {
	case HostIDAny, HostIDDemo, HostIDID:
		return true
	}
	if m == nil {
		return false
	}
	switch h.Type {
	case HostIDEther:
		for _, e := range m.Ethers {
			if strings.EqualFold(e, h.Value) {
				return true
			}
		}
	case HostIDLong, HostIDDecimal:
		return m.Long != "" && isHex(m.Long) && normLong(m.Long) == h.Value
	case HostIDHostname:
		short, _, _ := strings.Cut(m.Hostname, ".")
		return m.Hostname != "" && (strings.EqualFold(h.Value, m.Hostname) || strings.EqualFold(h.Value, short))
	case HostIDUser:
		return m.User != "" && h.Value == m.User
	case HostIDDisplay:
		return m.Display != "" && h.Value == m.Display
	case HostIDInternet:
		for _, ip := range m.IPs {
			if matchInternet(h.Value, ip) {
				return true
			}
		}
	}
	return false
}

// String returns the hostid as written.
func (h HostID) String() string { return h.Text }

// ParseHostIDList parses a space-separated hostid list, the value of
// HOSTID="id1 id2". An empty list is an error.
func ParseHostIDList(s string) (HostIDList, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, errorf(ErrHostID, "invalid hostid %q", s)
	}
	list := make(HostIDList, 0, len(fields))
	for _, f := range fields {
		h, err := ParseHostID(f)
		if err != nil {
			return nil, err
		}
		list = append(list, h)
	}
	return list, nil
}

// Matches reports whether any hostid of the list admits m. An empty list
// (a floating license) matches every machine.
func (l HostIDList) Matches(m *Machine) bool {
	if len(l) == 0 {
		return true
	}
	for _, h := range l {
		if h.Matches(m) {
			return true
		}
	}
	return false
}

// String returns the hostids as written, separated by single spaces,
// without quotes ("12001234 1700ab12").
func (l HostIDList) String() string {
	s := make([]string, len(l))
	for i, h := range l {
		s[i] = h.Text
	}
	return strings.Join(s, " ")
}

// Has reports whether the list contains a hostid of type t.
func (l HostIDList) Has(t HostIDType) bool {
	for _, h := range l {
		if h.Type == t {
			return true
		}
	}
	return false
}
