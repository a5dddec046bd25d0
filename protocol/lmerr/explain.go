package lmerr

// explanations are the long texts of manual appendix E printed by -verbose.
var explanations = map[int]string{
	-8:  "The license key/signature and data for the feature do not\nmatch. This usually happens when a license file has\nbeen altered.",
	-9:  "The hostid of this system does not match the hostid\nspecified in the license file.",
	-14: "The lookup for the host name on the SERVER line in the\nlicense file failed. This often happens when NIS or DNS\nor the hosts file is incorrect. Workaround: Use IP\naddress (e.g., 123.456.789.123) instead of host name.",
	-15: "The server (lmgrd) has not been started yet, or the\nwrong port@host or license file is being used, or the\nport or host name in the license file has been changed.",
}

// Explanation returns the long explanation of a FlexLM error number, or "".
func Explanation(code int) string { return explanations[code] }
