package lmerr

// explanations are the long texts of manual appendix E printed by -verbose,
// one entry for every error the appendix explains, broken into lines where
// the manual breaks them. Long indents each line by one space.
var explanations = map[Code]string{
	BadCode: "The license key/signature and data for the feature do not\n" +
		"match. This usually happens when a license file has\n" +
		"been altered.",
	NotThisHost: "The hostid of this system does not match the hostid\n" +
		"specified in the license file.",
	BadHost: "The lookup for the host name on the SERVER line in the\n" +
		"license file failed. This often happens when NIS or DNS\n" +
		"or the hosts file is incorrect. Workaround: Use IP\n" +
		"address (e.g., 123.456.789.123) instead of host name.",
	NoServer: "The server (lmgrd) has not been started yet, or the\n" +
		"wrong port@host or license file is being used, or the\n" +
		"port or host name in the license file has been changed.",
	FutureFile: "The file was issued for a later version of FLEXlm than\n" +
		"this program understands.",
	OtherPool: "This is a warning condition. The server has pooled one\n" +
		"or more INCREMENT lines into a single pool, and the\n" +
		"request was made on an INCREMENT line that has\n" +
		"been pooled.",
	ThisHostFailed: "The license file indicates this_host, and the server is\n" +
		"not running on this host. If it's running on a different\n" +
		"host, this_host should be changed to the correct host.",
	ServerDown: "See the system administrator about starting the server, or\n" +
		"make sure that you're referring to the right host (see\n" +
		"LM_LICENSE_FILE environment variable).",
	VendorDown: "1) Check the lmgrd log file, or 2) Try lmreread.",
	Reserved: "The system administrator has reserved all the licenses\n" +
		"for others. Reservations are made in the options file. The\n" +
		"server must be restarted for options file changes to take\n" +
		"effect.",
	NoConnections: "The vendor daemon can't handle any more users. See the\n" +
		"debug log for further information.",
	NoSign: "This is probably because the license is older than the\n" +
		"application. You need to obtain a SIGN= version of this\n" +
		"license from your vendor.",
}

// Explanation returns the long explanation of a FlexLM error number, or "".
func Explanation(code Code) string { return explanations[code] }
