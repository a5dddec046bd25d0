package server

import (
	"strings"

	"golm/lmutil/protocol"
)

// platformAllowed reports whether a client on platform may use pool p:
// yes when one of the pool's lines has no PLATFORMS= or lists the
// platform (lines merged into one pool may differ).
func platformAllowed(p *Pool, platform string) bool {
	if len(p.Lines) == 0 {
		return true
	}
	for _, l := range p.Lines {
		if l.AllowsPlatform(platform) {
			return true
		}
	}
	return false
}

// hostInfo takes the client's platform name and 32-bit hostid for its
// session. A 32-bit hostid that is not hex is dropped, as it matches no
// line.
func (v *Vendor) hostInfo(s *session, m *protocol.HostInfo) *protocol.OK {
	s.client.Platform = m.Platform
	s.client.Long = ""
	if long := strings.ToLower(m.Long); long != "" && len(long) <= 16 && strings.Trim(long, "0123456789abcdef") == "" {
		s.client.Long = long
	}
	return &protocol.OK{}
}
