package commands

import (
	"embed"
	"strings"
)

// manProse holds the prose of the section 1 pages: each applet's
// description (NAME.1.txt, the Description of its registry entry),
// passages that several descriptions share (NAME.part.txt), and the roff
// sections of lmutil(1) (lmutil-SECTION.1.roff).
//
//go:embed mantext/*.1.txt mantext/*.part.txt mantext/*.1.roff
var manProse embed.FS

// manText returns the description of applet name: mantext/NAME.1.txt
// with each {{key}} replaced by the value that follows key in vars, or,
// for a key not in vars, by the shared passage mantext/KEY.part.txt.
// Values come from the code (environment variable names, limits), so
// that the page names what the program reads.
func manText(name string, vars ...string) string {
	return expandManText(readManProse(name+".1.txt"), vars)
}

// manRoff returns the roff section mantext/NAME.1.roff of lmutil(1).
func manRoff(name string) string { return readManProse(name + ".1.roff") }

func readManProse(file string) string {
	b, err := manProse.ReadFile("mantext/" + file)
	if err != nil {
		return "" // TestManTextFiles names every file a page needs
	}
	return string(b)
}

func expandManText(text string, vars []string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(text[:i])
		key := text[i+2 : i+j]
		b.WriteString(manVar(key, vars))
		text = text[i+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

func manVar(key string, vars []string) string {
	for i := 0; i+1 < len(vars); i += 2 {
		if vars[i] == key {
			return vars[i+1]
		}
	}
	return readManProse(key + ".part.txt")
}
