package protocol

// Message types of three-server redundancy (a triad), numbered from 60.
const (
	// TypeTriadMaster is a vendor daemon of a triad telling lmgrd, on the
	// control channel, which member is the master.
	TypeTriadMaster Type = 60
)

// TriadMaster is a vendor daemon of a triad telling lmgrd, on the
// control channel, which member ("port@host") its Raft group has as
// master now; "" while there is none. lmgrd shows (MASTER) in lmstat on
// the member that is.
type TriadMaster struct{ Master string }

// Type implements Message.
func (*TriadMaster) Type() Type { return TypeTriadMaster }

// AppendPayload implements Message.
func (m *TriadMaster) AppendPayload(b []byte) []byte { return appendString(b, m.Master) }
func (m *TriadMaster) decode(d *decoder)             { m.Master = d.string() }

// newTriad returns an empty message of a triad type, nil for another.
func newTriad(t Type) Message {
	switch t {
	case TypeTriadMaster:
		return new(TriadMaster)
	}
	return nil
}

func (t Type) triadName() string {
	switch t {
	case TypeTriadMaster:
		return "TRIAD_MASTER"
	}
	return ""
}
