package protocol

// Message types of three-server redundancy (a triad), numbered from 60.
const (
	// TypeMasterChange is a vendor daemon of a triad telling lmgrd, on the
	// control channel, which member is the master.
	TypeMasterChange Type = 60
)

// MasterChange is a vendor daemon of a triad telling lmgrd, on the
// control channel, which member ("port@host") its Raft group has as
// master now; "" while there is none. lmgrd shows (MASTER) in lmstat on
// the member that is.
type MasterChange struct{ Master string }

// Type implements Message.
func (*MasterChange) Type() Type { return TypeMasterChange }

// AppendPayload implements Message.
func (m *MasterChange) AppendPayload(b []byte) []byte { return appendString(b, m.Master) }
func (m *MasterChange) decode(d *decoder)             { m.Master = d.string() }

// newTriad returns an empty message of a triad type, nil for another.
func newTriad(t Type) Message {
	switch t {
	case TypeMasterChange:
		return new(MasterChange)
	}
	return nil
}

func (t Type) triadName() string {
	switch t {
	case TypeMasterChange:
		return "MASTER_CHANGE"
	}
	return ""
}
