package protocol

// LicenseFileRequest asks lmgrd for the text of the license files it
// serves (lmstat -i and lmcksum with a port@host license path). lmgrd
// answers with LicenseText records, each file's in order, then End.
type LicenseFileRequest struct{}

// Type implements Message.
func (*LicenseFileRequest) Type() Type { return TypeLicenseFileRequest }

// AppendPayload implements Message.
func (*LicenseFileRequest) AppendPayload(b []byte) []byte { return b }
func (*LicenseFileRequest) decode(*decoder)               {}

// LicenseText is the next piece of one license file lmgrd serves: the
// file's path as lmgrd was given it and up to LicenseTextChunk bytes of
// its text. A file's pieces come in order and together hold the file
// exactly; a file of no bytes is one piece with empty Text.
type LicenseText struct {
	Path string
	Text string
}

// LicenseTextChunk is the most text one LicenseText carries, well inside
// a string field's bound.
const LicenseTextChunk = 15 << 10

// Type implements Message.
func (*LicenseText) Type() Type { return TypeLicenseText }

// AppendPayload implements Message.
func (m *LicenseText) AppendPayload(b []byte) []byte {
	b = appendString(b, m.Path)
	return appendString(b, m.Text)
}

func (m *LicenseText) decode(d *decoder) {
	m.Path = d.string()
	m.Text = d.string()
}
