package options

// selectorKeys are the upper-case keywords of a feature:keyword=value
// selector (parseSelector).
var selectorKeys = []string{"VERSION", "HOSTID", "EXPDATE", "KEY", "SIGN", "VENDOR_STRING", "ISSUER", "NOTICE", "SN"}

// Keywords returns every keyword the options file parser knows: the
// option keywords, the member types, the selector keywords, the NOLOG
// items and ON/OFF. The documentation is tested against it.
func Keywords() []string {
	out := append([]string(nil), restrictingByLength...)
	out = append(out, otherKeywords...)
	for _, n := range typeNames {
		if n != "" {
			out = append(out, n)
		}
	}
	out = append(out, selectorKeys...)
	return append(out, "IN", "OUT", "DENIED", "QUEUED", "ON", "OFF")
}
