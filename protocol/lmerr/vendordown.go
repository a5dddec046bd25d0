package lmerr

// VendorDownError is -97, the vendor daemon vendor is down or unknown to
// lmgrd, with minor saying where that was found (lmgrd asked for its
// port, lmdown or lmreread of it, a client dialling it), and the detail
// line "Vendor: NAME". lmgrd, the vendor daemon's supervisor and the
// client all report it through this one function.
func VendorDownError(vendor string, minor Minor) *Error {
	return New(VendorDown, minor, "Vendor: "+vendor)
}
