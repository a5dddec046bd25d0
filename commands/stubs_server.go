package commands

// serverApplets are the applets that talk to lmgrd; they arrive with the server.
func serverApplets() []*Applet { return nil }
