package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Spec tells Normalize how an applet's flags take values.
type Spec struct {
	Value    map[string]bool // flag always takes the next argument (-c file)
	Optional map[string]bool // flag takes the next argument unless it is a flag (-f [feature])
	// Bool lists flags that take no value. Only a name listed here makes a
	// negative number a flag (lmgrd -2); otherwise -15 is an argument.
	Bool map[string]bool
}

// specOf derives the normalisation spec from an applet's flags.
func specOf(flags []cli.Flag, optional []string) Spec {
	s := Spec{Value: map[string]bool{}, Optional: map[string]bool{}, Bool: map[string]bool{}}
	for _, o := range optional {
		s.Optional[o] = true
	}
	for _, f := range flags {
		df, ok := f.(cli.DocGenerationFlag)
		for _, n := range f.Names() {
			switch {
			case s.Optional[n]:
			case ok && df.TakesValue():
				s.Value[n] = true
			default:
				s.Bool[n] = true
			}
		}
	}
	return s
}

// Normalize rewrites a legacy lmutil command line into one urfave/cli
// parses: every flag first, written -name or -name=value, then "--" and the
// positional arguments in their order. It handles what lmutil accepts and
// Go's flag package does not:
//
//   - flags after positional arguments (lmstat -f feat -c lic,
//     lmremove -h f1 host 27000 102 with -c at the end);
//   - flags with an optional value (lmstat -f [feature], -i, -S, -s): the
//     next argument is the value unless it starts with "-";
//   - "--" ends flag parsing; everything after it is positional as given
//     (lmwrap feature -- command args);
//   - a negative number is an argument (an error code), unless the spec
//     declares it as a flag (lmgrd -2 -p).
//
// Double-dash spellings (--vendor) are accepted as single-dash ones.
// Unknown flags are passed through for the parser to reject.
func Normalize(args []string, spec Spec) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' || isNumber(arg) && !spec.declares(arg[1:]) {
			pos = append(pos, arg)
			continue
		}
		name := strings.TrimLeft(arg, "-")
		if name == "" {
			pos = append(pos, arg)
			continue
		}
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			flags = append(flags, "-"+name)
			continue
		}
		switch {
		case spec.Value[name]:
			if i+1 < len(args) {
				flags = append(flags, "-"+name+"="+args[i+1])
				i++
			} else {
				flags = append(flags, "-"+name) // the parser reports the missing value
			}
		case spec.Optional[name]:
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && args[i+1] != "" {
				flags = append(flags, "-"+name+"="+args[i+1])
				i++
			} else {
				flags = append(flags, "-"+name+"=")
			}
		default:
			flags = append(flags, "-"+name)
		}
	}
	if len(pos) > 0 {
		flags = append(flags, "--")
		flags = append(flags, pos...)
	}
	return flags
}

// declares reports whether name is one of the spec's flags.
func (s Spec) declares(name string) bool {
	return s.Value[name] || s.Optional[name] || s.Bool[name]
}

// isNumber reports whether s is a negative number, which is an argument
// (a FlexLM error code), not a flag.
func isNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
