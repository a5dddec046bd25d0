package commands

import (
	"slices"
	"strings"
	"testing"
)

// Specs as the applets declare them, written out so that the normaliser is
// tested on its own, independently of how far each applet has come.
var (
	specLmstat = Spec{
		Value:    map[string]bool{"c": true, "t": true, "e": true},
		Optional: map[string]bool{"f": true, "i": true, "S": true, "s": true},
	}
	specLmdown = Spec{
		Value: map[string]bool{"c": true, "vendor": true, "e": true},
	}
	specLmremove = Spec{
		Value: map[string]bool{"c": true, "e": true},
	}
	specLmreread = Spec{
		Value: map[string]bool{"c": true, "vendor": true, "e": true},
	}
	specLmhostid = Spec{
		Value: map[string]bool{"e": true},
	}
	specLminstall = Spec{
		Value: map[string]bool{"i": true, "o": true, "overfmt": true, "maxlen": true, "e": true},
	}
	specLmwrap = Spec{
		Value: map[string]bool{"c": true, "n": true, "v": true, "e": true},
	}
	specLmcksum = Spec{
		Value: map[string]bool{"c": true, "e": true},
	}
	specLmdiag = Spec{
		Value: map[string]bool{"c": true, "e": true},
	}
	specLmswitchr = Spec{
		Value: map[string]bool{"c": true, "e": true},
	}
	specLmgrd = Spec{
		Value: map[string]bool{"c": true, "l": true, "x": true, "e": true},
		Bool:  map[string]bool{"2": true, "p": true, "z": true, "v": true},
	}
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		line string // the command line after the applet name, split on spaces
		want []string
	}{
		{"lmstat all at port@host", specLmstat, "-a -c 27000@h", []string{"-a", "-c=27000@h"}},
		{"lmstat -f without feature at the end", specLmstat, "-c lic -f", []string{"-c=lic", "-f="}},
		{"lmstat -f feature then -c", specLmstat, "-f feat -c lic", []string{"-f=feat", "-c=lic"}},
		{"lmstat -i alone", specLmstat, "-i", []string{"-i="}},
		{"lmstat -i feature", specLmstat, "-i f1 -c lic", []string{"-i=f1", "-c=lic"}},
		{"lmstat -i before another flag", specLmstat, "-i -c lic", []string{"-i=", "-c=lic"}},
		{"lmstat -S vendor", specLmstat, "-S vendor -c lic", []string{"-S=vendor", "-c=lic"}},
		{"lmstat -S alone", specLmstat, "-S", []string{"-S="}},
		{"lmstat timeout", specLmstat, "-a -t 5", []string{"-a", "-t=5"}},
		{"lmstat license list", specLmstat, "-a -c 27000@h1,27000@h2,27000@h3:/opt/lic", []string{"-a", "-c=27000@h1,27000@h2,27000@h3:/opt/lic"}},
		{"lmstat @host", specLmstat, "-c @lichost -a", []string{"-c=@lichost", "-a"}},
		{"lmstat double-dash flag", specLmstat, "--c lic --a", []string{"-c=lic", "-a"}},
		{"lmstat -c=value form", specLmstat, "-c=lic -f=f1", []string{"-c=lic", "-f=f1"}},
		{"lmstat error file", specLmstat, "-a -e err.txt", []string{"-a", "-e=err.txt"}},
		{"lmstat -verbose", specLmstat, "-verbose -a", []string{"-verbose", "-a"}},
		{"lmdown quiet vendor", specLmdown, "-q -vendor x", []string{"-q", "-vendor=x"}},
		{"lmdown all servers", specLmdown, "-c lic -all", []string{"-c=lic", "-all"}},
		{"lmdown double-dash vendor", specLmdown, "--vendor xyzd -q", []string{"-vendor=xyzd", "-q"}},
		{"lmremove by handle", specLmremove, "-h f1 host 27000 102", []string{"-h", "--", "f1", "host", "27000", "102"}},
		{"lmremove by handle, -c last", specLmremove, "-h f1 cloud9 7654 102 -c lic", []string{"-h", "-c=lic", "--", "f1", "cloud9", "7654", "102"}},
		{"lmremove by user", specLmremove, "-c lic f1 joe nirvana /dev/ttyp5", []string{"-c=lic", "--", "f1", "joe", "nirvana", "/dev/ttyp5"}},
		{"lmreread all", specLmreread, "-all", []string{"-all"}},
		{"lmreread one vendor", specLmreread, "-vendor xyzd -c lic", []string{"-vendor=xyzd", "-c=lic"}},
		{"lmhostid -n and a type", specLmhostid, "-n -ether", []string{"-n", "-ether"}},
		{"lmhostid hostname", specLmhostid, "-hostname", []string{"-hostname"}},
		{"lminstall conversion", specLminstall, "-i in -o out -overfmt 5.1", []string{"-i=in", "-o=out", "-overfmt=5.1"}},
		{"lminstall decimal", specLminstall, "-i in -o out -odecimal -maxlen 50", []string{"-i=in", "-o=out", "-odecimal", "-maxlen=50"}},
		{"lmwrap command after --", specLmwrap, "-c lic -n 2 f1 -- sleep 1", []string{"-c=lic", "-n=2", "--", "f1", "sleep", "1"}},
		{"lmwrap command flags stay the command's", specLmwrap, "-v 2.0 f1 -- ls -l -c x", []string{"-v=2.0", "--", "f1", "ls", "-l", "-c", "x"}},
		{"lmwrap nested --", specLmwrap, "f1 -- git log -- file", []string{"--", "f1", "git", "log", "--", "file"}},
		{"lmcksum case-sensitive vendor", specLmcksum, "-k -c lic xyzd", []string{"-k", "-c=lic", "--", "xyzd"}},
		{"lmcksum vendor first", specLmcksum, "xyzd -k", []string{"-k", "--", "xyzd"}},
		{"lmdiag feature selector", specLmdiag, "-n f1:HOSTID=12345678 -c lic", []string{"-n", "-c=lic", "--", "f1:HOSTID=12345678"}},
		{"lmswitchr vendor and log", specLmswitchr, "-c lic xyzd /var/log/new.rl", []string{"-c=lic", "--", "xyzd", "/var/log/new.rl"}},
		{"lmgrd -2 -p and -x", specLmgrd, "-c lic -l log -2 -p -x lmdown -x lmremove -z", []string{"-c=lic", "-l=log", "-2", "-p", "-x=lmdown", "-x=lmremove", "-z"}},
		{"negative number is positional", specLmstat, "-c lic -15", []string{"-c=lic", "--", "-15"}},
		{"negative number after --", specLmgrd, "-z -- -2", []string{"-z", "--", "-2"}},
		{"undeclared negative number", specLmgrd, "-3 -p", []string{"-p", "--", "-3"}},
		{"value flag takes a lone dash", specLmcksum, "-c -", []string{"-c=-"}},
		{"lone dash positional", specLmcksum, "-k -", []string{"-k", "--", "-"}},
		{"value flag takes a dash value", specLmdown, "-vendor -q", []string{"-vendor=-q"}},
		{"missing value left for the parser", specLmstat, "-a -c", []string{"-a", "-c"}},
		{"unknown flag passed through", specLmstat, "-x foo", []string{"-x", "--", "foo"}},
		{"nothing", specLmstat, "", nil},
		{"only --", specLmstat, "--", nil},
		{"-- before everything", specLmcksum, "-- -k", []string{"--", "-k"}},
		{"help", specLmstat, "-help", []string{"-help"}},
		{"double-dash help", specLmstat, "--help", []string{"-help"}},
		{"triple dash", specLmstat, "---a", []string{"-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := strings.Fields(tt.line)
			orig := slices.Clone(args)
			got := Normalize(args, tt.spec)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Normalize(%q) = %q, want %q", tt.line, got, tt.want)
			}
			if !slices.Equal(args, orig) {
				t.Errorf("Normalize(%q) modified its argument: %q", tt.line, args)
			}
		})
	}
}

// TestNormalizeEmptyValues covers arguments strings.Fields cannot produce.
func TestNormalizeEmptyValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"empty optional value", []string{"-f", ""}, []string{"-f=", "--", ""}},
		{"empty -c value", []string{"-c", "", "-a"}, []string{"-c=", "-a"}},
		{"value with spaces", []string{"-c", "/my licenses/a.lic"}, []string{"-c=/my licenses/a.lic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.args, specLmstat); !slices.Equal(got, tt.want) {
				t.Errorf("Normalize(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// TestSpecOf checks that an applet's flags turn into the spec above:
// value-taking flags under every name, optional ones apart, booleans in
// neither.
func TestSpecOf(t *testing.T) {
	a := &Applet{Name: "lmtest"}
	s := specOf(append(a.allFlags(), testFlags()...), []string{"f"})
	for _, n := range []string{"e", "c", "license"} {
		if !s.Value[n] {
			t.Errorf("Value[%q] = false, want true", n)
		}
	}
	if !s.Optional["f"] || s.Value["f"] {
		t.Errorf("f: Optional %v Value %v, want true false", s.Optional["f"], s.Value["f"])
	}
	for _, n := range []string{"help", "v", "verbose", "a"} {
		if s.Value[n] || s.Optional[n] || !s.Bool[n] {
			t.Errorf("boolean flag %q: Value %v Optional %v Bool %v, want false false true", n, s.Value[n], s.Optional[n], s.Bool[n])
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"-a -c 27000@h", "-f", "-c lic -f -- x -y", "--", "-=", "-15 -", "---", "-f=\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		got := Normalize(args, specLmstat)
		// Every output before "--" is a flag; nothing is invented.
		for _, g := range got {
			if g == "--" {
				break
			}
			if !strings.HasPrefix(g, "-") {
				t.Fatalf("Normalize(%q): %q before -- is not a flag", args, g)
			}
		}
		if len(got) > len(args)+1 {
			t.Fatalf("Normalize(%q) = %q: longer than the input", args, got)
		}
	})
}
