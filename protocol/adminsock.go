package protocol

import "strconv"

// AdminSocket is the local Unix socket address (in Linux's abstract
// namespace) where lmgrd and its vendor daemons take admin requests with
// the caller's kernel credentials: "@golm-lmgrd-27000" for lmgrd on port
// 27000, "@golm-demo-27000" for its vendor daemon demo. Servers listen on
// it and admin tools dial it, so both sides take the name from here.
func AdminSocket(daemon string, lmgrdPort int) string {
	return "@golm-" + daemon + "-" + strconv.Itoa(lmgrdPort)
}
