package licfile

import "sort"

// lineKeywords are the line keywords the parser knows (parseLine).
var lineKeywords = []string{"SERVER", "DAEMON", "VENDOR", "USE_SERVER", "FEATURE", "INCREMENT", "UPGRADE", "PACKAGE"}

// otherKeywords are the keywords of SERVER, DAEMON/VENDOR and PACKAGE
// lines, and the keyword values, that featureKeys does not hold.
var otherKeywords = []string{
	"HEARTBEAT_INTERVAL", "PRIMARY_IS_MASTER", // SERVER
	"options", "port", // DAEMON, VENDOR
	"COMPONENTS", "OPTIONS", "SUITE", // PACKAGE
	"uncounted", "permanent", "ANY", "DEMO", "ck", // values and ck=
	"HOSTNAME", "USER", "DISPLAY", "INTERNET", "ID", // hostid types
}

// Keywords returns every keyword the license file parser knows: the line
// keywords, the attributes of FEATURE, INCREMENT, UPGRADE, SERVER,
// DAEMON, VENDOR and PACKAGE lines, the hostid types and the keyword
// values (uncounted, permanent, ANY, DEMO). The documentation is tested
// against it.
func Keywords() []string {
	out := append([]string(nil), lineKeywords...)
	var attrs []string
	for k := range featureKeys {
		attrs = append(attrs, k)
	}
	sort.Strings(attrs)
	out = append(out, attrs...)
	return append(out, otherKeywords...)
}
