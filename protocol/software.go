package protocol

// Software is golm's version ("0.1.0"), the one every part of golm
// reports: lmver and every -v, the banners, the HELLO of lmgrd, of the
// vendor daemons and of clients (unless client.WithSoftware says
// otherwise), lmstat's "license server UP v0.1.0" and the HTTP status
// page. Build is the build number printed after it. Both may be set at
// link time:
//
//	go build -ldflags "-X golm/lmutil/protocol.Software=0.2.0 -X golm/lmutil/protocol.Build=7" golm/lmutil
var (
	Software = "0.1.0"
	Build    = "1"
)
