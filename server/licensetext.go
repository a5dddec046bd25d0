package server

import (
	"os"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// maxLicenseText bounds the license text lmgrd sends for one request:
// far above any real license file, well below what would tie lmgrd up.
const maxLicenseText = 64 << 20

// licenseText answers LicenseFileRequest (lmstat -i and lmcksum given
// port@host): the text of each license file lmgrd serves, in order, in
// LicenseText pieces, then End. Nothing is sent that lmcksum could not
// print anyway; a file that cannot be read now is -1 for the whole
// request, as a missing local file is for lmstat -i.
func (l *Lmgrd) licenseText(c *protocol.Conn) error {
	total := 0
	for _, path := range l.cfg.LicenseFiles {
		data, err := os.ReadFile(path)
		if err == nil && total+len(data) > maxLicenseText {
			err = lmerr.New(lmerr.NoConfFile, lmerr.MinorLicenseText, "License path: "+path)
		}
		if err != nil {
			return c.Send(protocol.ErrorOf(lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorLicenseText, err, "License path: "+path)))
		}
		total += len(data)
		text := string(data)
		for first := true; first || text != ""; first = false {
			n := min(len(text), protocol.LicenseTextChunk)
			if err := c.Send(&protocol.LicenseText{Path: path, Text: text[:n]}); err != nil {
				return err
			}
			text = text[n:]
		}
	}
	return c.Send(&protocol.End{})
}
