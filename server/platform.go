package server

import (
	"strings"

	"golm/lmutil/protocol"
)

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
