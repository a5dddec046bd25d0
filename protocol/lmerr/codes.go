package lmerr

import "strconv"

// Code is a FlexLM error number, always negative. A Code is itself an
// error, so that errors.Is(err, lmerr.MaxUsers) holds for any *Error
// with that number, whatever its minor (see Error.Is).
type Code int

// The FlexLM error numbers golm knows, named after their meaning; the
// comment of each is its text.
const (
	// NoConfFile is -1: Cannot find license file.
	NoConfFile Code = -1
	// BadFile is -2: Invalid license file syntax.
	BadFile Code = -2
	// NoServerForFeature is -3: No server for this feature.
	NoServerForFeature Code = -3
	// MaxUsers is -4: Licensed number of users already reached.
	MaxUsers Code = -4
	// NoFeature is -5: No such feature exists.
	NoFeature Code = -5
	// NoService is -6: No TCP/IP port number in license file and FLEXlm service does not exist. (pre-v6 only)
	NoService Code = -6
	// NoSocket is -7: No socket connection to license manager service.
	NoSocket Code = -7
	// BadCode is -8: Invalid (inconsistent) license key or signature.
	BadCode Code = -8
	// NotThisHost is -9: Invalid host.
	NotThisHost Code = -9
	// Expired is -10: Feature has expired.
	Expired Code = -10
	// BadDate is -11: Invalid date format in license file.
	BadDate Code = -11
	// BadComm is -12: Invalid returned data from license server.
	BadComm Code = -12
	// NoServerLines is -13: No SERVER lines in license file.
	NoServerLines Code = -13
	// BadHost is -14: Cannot find SERVER host name in network database.
	BadHost Code = -14
	// NoServer is -15: Cannot connect to license server system.
	NoServer Code = -15
	// CantRead is -16: Cannot read data from license server system.
	CantRead Code = -16
	// CantWrite is -17: Cannot write data to license server system.
	CantWrite Code = -17
	// NoServerSupport is -18: License server system does not support this feature.
	NoServerSupport Code = -18
	// SelectErr is -19: Error in select system call.
	SelectErr Code = -19
	// OldVersion is -21: License file does not support this version.
	OldVersion Code = -21
	// CheckinFailed is -22: Feature checkin failure detected at license server.
	CheckinFailed Code = -22
	// ServerBusy is -23: License server temporarily busy (new server connecting).
	ServerBusy Code = -23
	// UsersQueued is -24: Users are queued for this feature.
	UsersQueued Code = -24
	// ServerLowVersion is -25: License server system does not support this version of this feature.
	ServerLowVersion Code = -25
	// TooManyRequested is -26: Request for more licenses than this feature supports.
	TooManyRequested Code = -26
	// NoEthernet is -29: Cannot find ethernet device.
	NoEthernet Code = -29
	// CantReadFile is -30: Cannot read license file.
	CantReadFile Code = -30
	// NotStarted is -31: Feature start date is in the future.
	NotStarted Code = -31
	// NoSuchAttribute is -32: No such attribute.
	NoSuchAttribute Code = -32
	// BadHandshake is -33: Bad encryption handshake with daemon.
	BadHandshake Code = -33
	// ClockSkew is -34: Clock difference too large between client and server.
	ClockSkew Code = -34
	// InQueue is -35: In the queue for this feature.
	InQueue Code = -35
	// FeatureCorrupt is -36: Feature database corrupted in daemon.
	FeatureCorrupt Code = -36
	// DuplicateMismatch is -37: Duplicate selection mismatch for this feature.
	DuplicateMismatch Code = -37
	// Excluded is -38: User/host on EXCLUDE list for feature.
	Excluded Code = -38
	// NotIncluded is -39: User/host not on INCLUDE list for feature.
	NotIncluded Code = -39
	// NoMemory is -40: Cannot locate dynamic memory.
	NoMemory Code = -40
	// NeverCheckedOut is -41: Feature was never checked out.
	NeverCheckedOut Code = -41
	// BadParam is -42: Invalid parameter.
	BadParam Code = -42
	// NoClockCheck is -47: Clock setting check not available in daemon.
	NoClockCheck Code = -47
	// VendorTimeout is -52: Vendor daemon did not respond within timeout interval.
	VendorTimeout Code = -52
	// CheckoutFilter is -53: Checkout request rejected by vendor-defined checkout filter.
	CheckoutFilter Code = -53
	// SocketFailed is -57: socket() call failed.
	SocketFailed Code = -57
	// ChecksumFailed is -59: Message checksum failure.
	ChecksumFailed Code = -59
	// ServerChecksumFailed is -60: Server message checksum failure.
	ServerChecksumFailed Code = -60
	// CantReadServerFile is -61: Cannot read license file data from server.
	CantReadServerFile Code = -61
	// NoNetwork is -62: Network software (TCP/IP) not available.
	NoNetwork Code = -62
	// NotAdmin is -63: You are not a license administrator.
	NotAdmin Code = -63
	// RemoveTooSoon is -64: lmremove request before the minimum lmremove interval.
	RemoveTooSoon Code = -64
	// BadTZ is -71: Invalid TZ environment variable.
	BadTZ Code = -71
	// LocalFilter is -73: Local checkout filter rejected request.
	LocalFilter Code = -73
	// PathEnd is -74: Attempt to read beyond end of license file path.
	PathEnd Code = -74
	// BadVersion is -77: Bad version number - must be floating-point number with no letters.
	BadVersion Code = -77
	// BadPackage is -82: Invalid PACKAGE line in license file.
	BadPackage Code = -82
	// ClientNewer is -83: Version of client newer than server.
	ClientNewer Code = -83
	// NoUsers is -84: USER_BASED license has no specified users - see server log.
	NoUsers Code = -84
	// NotSupported is -85: License server doesn't support this request.
	NotSupported Code = -85
	// MaxExceeded is -87: Checkout exceeds MAX specified in options file.
	MaxExceeded Code = -87
	// ClockSetBack is -88: System clock has been set back.
	ClockSetBack Code = -88
	// PlatformNotAuthorized is -89: This platform not authorized by license.
	PlatformNotAuthorized Code = -89
	// FutureFile is -90: Future license file format or misspelling in license file.
	FutureFile Code = -90
	// RemovedOrWrongHostid is -92: Feature removed during lmreread, or wrong SERVER line hostid.
	RemovedOrWrongHostid Code = -92
	// OtherPool is -93: This feature is available in a different license pool.
	OtherPool Code = -93
	// BadAttributes is -94: Attempt to generate license with incompatible attributes.
	BadAttributes Code = -94
	// ThisHostFailed is -95: Network connect to this_host failed.
	ThisHostFailed Code = -95
	// ServerDown is -96: License server machine is down or not responding.
	ServerDown Code = -96
	// VendorDown is -97: The desired vendor daemon is down.
	VendorDown Code = -97
	// NoDecimal is -98: This FEATURE line can't be converted to decimal format.
	NoDecimal Code = -98
	// BadDecimal is -99: The decimal format license is typed incorrectly.
	BadDecimal Code = -99
	// LingerRemove is -100: Cannot remove a linger license.
	LingerRemove Code = -100
	// Reserved is -101: All licenses are reserved for others.
	Reserved Code = -101
	// NoConnections is -106: License server out of network connections.
	NoConnections Code = -106
	// NoSign is -114: SIGN= keyword required, but missing from license.
	NoSign Code = -114
	// NotOnServer is -119: lmdown and lmreread must be run on license server machine.
	NotOnServer Code = -119
	// PackageOnly is -125: Attempt to checkout just a PACKAGE. Need to also checkout a feature.
	PackageOnly Code = -125
)

// texts are the short FlexLM error texts in their modern wording: "license
// server system" where FlexNet 11.x says so (-15, -16, -17, -18, -25).
var texts = map[Code]string{
	NoConfFile:            "Cannot find license file.",
	BadFile:               "Invalid license file syntax.",
	NoServerForFeature:    "No server for this feature.",
	MaxUsers:              "Licensed number of users already reached.",
	NoFeature:             "No such feature exists.",
	NoService:             "No TCP/IP port number in license file and FLEXlm service does not exist. (pre-v6 only)",
	NoSocket:              "No socket connection to license manager service.",
	BadCode:               "Invalid (inconsistent) license key or signature.",
	NotThisHost:           "Invalid host.",
	Expired:               "Feature has expired.",
	BadDate:               "Invalid date format in license file.",
	BadComm:               "Invalid returned data from license server.",
	NoServerLines:         "No SERVER lines in license file.",
	BadHost:               "Cannot find SERVER host name in network database.",
	NoServer:              "Cannot connect to license server system.",
	CantRead:              "Cannot read data from license server system.",
	CantWrite:             "Cannot write data to license server system.",
	NoServerSupport:       "License server system does not support this feature.",
	SelectErr:             "Error in select system call.",
	OldVersion:            "License file does not support this version.",
	CheckinFailed:         "Feature checkin failure detected at license server.",
	ServerBusy:            "License server temporarily busy (new server connecting).",
	UsersQueued:           "Users are queued for this feature.",
	ServerLowVersion:      "License server system does not support this version of this feature.",
	TooManyRequested:      "Request for more licenses than this feature supports.",
	NoEthernet:            "Cannot find ethernet device.",
	CantReadFile:          "Cannot read license file.",
	NotStarted:            "Feature start date is in the future.",
	NoSuchAttribute:       "No such attribute.",
	BadHandshake:          "Bad encryption handshake with daemon.",
	ClockSkew:             "Clock difference too large between client and server.",
	InQueue:               "In the queue for this feature.",
	FeatureCorrupt:        "Feature database corrupted in daemon.",
	DuplicateMismatch:     "Duplicate selection mismatch for this feature.",
	Excluded:              "User/host on EXCLUDE list for feature.",
	NotIncluded:           "User/host not on INCLUDE list for feature.",
	NoMemory:              "Cannot locate dynamic memory.",
	NeverCheckedOut:       "Feature was never checked out.",
	BadParam:              "Invalid parameter.",
	NoClockCheck:          "Clock setting check not available in daemon.",
	VendorTimeout:         "Vendor daemon did not respond within timeout interval.",
	CheckoutFilter:        "Checkout request rejected by vendor-defined checkout filter.",
	SocketFailed:          "socket() call failed.",
	ChecksumFailed:        "Message checksum failure.",
	ServerChecksumFailed:  "Server message checksum failure.",
	CantReadServerFile:    "Cannot read license file data from server.",
	NoNetwork:             "Network software (TCP/IP) not available.",
	NotAdmin:              "You are not a license administrator.",
	RemoveTooSoon:         "lmremove request before the minimum lmremove interval.",
	BadTZ:                 "Invalid TZ environment variable.",
	LocalFilter:           "Local checkout filter rejected request.",
	PathEnd:               "Attempt to read beyond end of license file path.",
	BadVersion:            "Bad version number - must be floating-point number with no letters.",
	BadPackage:            "Invalid PACKAGE line in license file.",
	ClientNewer:           "Version of client newer than server.",
	NoUsers:               "USER_BASED license has no specified users - see server log.",
	NotSupported:          "License server doesn't support this request.",
	MaxExceeded:           "Checkout exceeds MAX specified in options file.",
	ClockSetBack:          "System clock has been set back.",
	PlatformNotAuthorized: "This platform not authorized by license.",
	FutureFile:            "Future license file format or misspelling in license file.",
	RemovedOrWrongHostid:  "Feature removed during lmreread, or wrong SERVER line hostid.",
	OtherPool:             "This feature is available in a different license pool.",
	BadAttributes:         "Attempt to generate license with incompatible attributes.",
	ThisHostFailed:        "Network connect to this_host failed.",
	ServerDown:            "License server machine is down or not responding.",
	VendorDown:            "The desired vendor daemon is down.",
	NoDecimal:             "This FEATURE line can't be converted to decimal format.",
	BadDecimal:            "The decimal format license is typed incorrectly.",
	LingerRemove:          "Cannot remove a linger license.",
	Reserved:              "All licenses are reserved for others.",
	NoConnections:         "License server out of network connections.",
	NoSign:                "SIGN= keyword required, but missing from license.",
	NotOnServer:           "lmdown and lmreread must be run on license server machine.",
	PackageOnly:           "Attempt to checkout just a PACKAGE. Need to also checkout a feature.",
}

// Error is the text of c, so that a Code can stand as a sentinel error.
func (c Code) Error() string { return Text(c) + " (" + strconv.Itoa(int(c)) + ")" }

// Text returns the short text for a FlexLM error number.
func Text(code Code) string {
	if t, ok := texts[code]; ok {
		return t
	}
	return "Unknown FlexLM error."
}

// Known reports whether code is a FlexLM error number golm knows.
func Known(code Code) bool { _, ok := texts[code]; return ok }
