package licfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ManualLicenseFile is the license file used when neither -c nor any
// license path variable names one, as the manual says (4.1).
const ManualLicenseFile = "/usr/local/flexlm/licenses/license.dat"

// DefaultLicenseFile is golm's addition to the default: license.dat in
// the working directory, tried after ManualLicenseFile, so that a license
// beside the user needs no root-owned directory.
const DefaultLicenseFile = "license.dat"

// LMLicenseFile is the environment variable every FLEXlm program reads.
const LMLicenseFile = "LM_LICENSE_FILE"

// DefaultPortFirst and DefaultPortLast bound the ports lmgrd tries when a
// SERVER line has none, and the ports a client tries for "@host".
const (
	DefaultPortFirst = 27000
	DefaultPortLast  = 27009
)

// VendorLicenseFileVar is the vendor's own license path variable: the vendor
// name upper-cased followed by _LICENSE_FILE (GSI_LICENSE_FILE for gsi).
func VendorLicenseFileVar(vendor string) string {
	return strings.ToUpper(vendor) + "_LICENSE_FILE"
}

// PathEnv is what the license path resolver may see of the outside world.
type PathEnv struct {
	// Getenv looks up an environment variable; nil means none are set.
	Getenv func(string) string
	// Dir is the working directory relative paths are resolved against;
	// "" means the process's own.
	Dir string
	// Home is the home directory holding .flexlmrc; "" means there is none.
	Home string
	// Environ lists the environment as KEY=value; nil means none. With
	// no vendor given, every VENDOR_LICENSE_FILE variable it holds is
	// part of the path, as for lmutil.
	Environ func() []string
}

// vendorVars are the VENDOR_LICENSE_FILE variables of the environment,
// sorted by name (LM_LICENSE_FILE is not one).
func (e PathEnv) vendorVars() []string {
	if e.Environ == nil {
		return nil
	}
	var vars []string
	for _, kv := range e.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if isVendorVar(k) {
			vars = append(vars, k)
		}
	}
	sort.Strings(vars)
	return slices.Compact(vars)
}

// isVendorVar reports whether k names a vendor's license path variable:
// a vendor name (letters, digits, underscores) followed by _LICENSE_FILE.
func isVendorVar(k string) bool {
	name, ok := strings.CutSuffix(k, "_LICENSE_FILE")
	if !ok || name == "" || k == LMLicenseFile {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (e PathEnv) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// abs resolves p against the working directory.
func (e PathEnv) abs(p string) string {
	if p == "" || filepath.IsAbs(p) || e.Dir == "" {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// ServerAddr is one license server of a port@host spec.
type ServerAddr struct {
	Port int // 0 for "@host": try DefaultPortFirst..DefaultPortLast
	Host string
}

// Ports is the list of ports to try: Port, or the default range for @host.
func (a ServerAddr) Ports() []int {
	if a.Port != 0 {
		return []int{a.Port}
	}
	ports := make([]int, 0, DefaultPortLast-DefaultPortFirst+1)
	for p := DefaultPortFirst; p <= DefaultPortLast; p++ {
		ports = append(ports, p)
	}
	return ports
}

// String renders the address as port@host, or @host without a port.
func (a ServerAddr) String() string {
	if a.Port == 0 {
		return "@" + a.Host
	}
	return strconv.Itoa(a.Port) + "@" + a.Host
}

// Source is one entry of a resolved license path: a license file, or a
// license server given as port@host (one server, or three for a
// redundant triad).
type Source struct {
	// Path is the license file as written in the path (a directory's
	// files are the directory as written joined with the file name);
	// "" for a server.
	Path string
	// File is Path resolved against the working directory: the name to
	// open. "" for a server.
	File string
	// Servers is the port@host spec: one address, or three for
	// port@h1,port@h2,port@h3. Nil for a license file.
	Servers []ServerAddr
	// Origin says where the entry came from: "-c", an environment
	// variable name, "$HOME/.flexlmrc:" and a variable name, or "default".
	Origin string
}

// IsServer reports whether the source is a port@host spec.
func (s Source) IsServer() bool { return len(s.Servers) > 0 }

// String renders the source as lmstat prints it after "License server
// status: ": port@host, a triad joined with commas, or the file path as
// written. (For a license file lmstat prints its SERVER lines instead
// once the file is read; see ServerSpecOf.)
func (s Source) String() string {
	if !s.IsServer() {
		return s.Path
	}
	parts := make([]string, len(s.Servers))
	for i, a := range s.Servers {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// key identifies a source for removing duplicates: the file to open, or
// the server spec with host names compared case-insensitively.
func (s Source) key() string {
	if s.IsServer() {
		return "@" + strings.ToLower(s.String())
	}
	return "f" + filepath.Clean(s.File)
}

// ServerSpecOf returns the port@host spec of a license file's SERVER
// lines, as lmstat prints after "License server status: " (a SERVER line
// without a port shows the first default port). It is nil when the file
// has no SERVER line.
func ServerSpecOf(servers []*Server) []ServerAddr {
	var spec []ServerAddr
	for _, s := range servers {
		if s == nil {
			continue
		}
		port := s.Port
		if port == 0 {
			port = DefaultPortFirst
		}
		spec = append(spec, ServerAddr{Port: port, Host: s.Host})
	}
	return spec
}

// ErrServerSpec is wrapped by the errors of ParseServerSpec.
var ErrServerSpec = errors.New("bad port@host")

// ParseServerSpec parses port@host, @host or port@h1,port@h2,port@h3
// (a redundant triad, exactly three servers). The port is a decimal
// number from 1 to 65535; the host is a name or IPv4 address without
// '/', ':' or spaces.
func ParseServerSpec(s string) ([]ServerAddr, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != 3 {
		return nil, fmt.Errorf("%w %q: a redundant server list has three servers, not %d", ErrServerSpec, s, len(parts))
	}
	addrs := make([]ServerAddr, 0, len(parts))
	for _, p := range parts {
		a, err := parseServerAddr(p)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %s", ErrServerSpec, s, err.Error())
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

func parseServerAddr(s string) (ServerAddr, error) {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return ServerAddr{}, errors.New("no '@'")
	}
	port, host := s[:at], s[at+1:]
	var a ServerAddr
	if port != "" {
		if !allDigits(port) {
			return ServerAddr{}, fmt.Errorf("port %q is not a number", port)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return ServerAddr{}, fmt.Errorf("port %s is out of range", port)
		}
		a.Port = n
	}
	if host == "" {
		return ServerAddr{}, errors.New("no host")
	}
	if strings.ContainsAny(host, "/\\:@ \t") {
		return ServerAddr{}, fmt.Errorf("host %q is not a host name", host)
	}
	a.Host = host
	return a, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isServerSpec reports whether a license path entry is meant as a server
// (it has an '@' after an optional port number and no path separator
// after it), as opposed to a file whose name happens to contain '@'.
func isServerSpec(entry string) bool {
	at := strings.IndexByte(entry, '@')
	if at < 0 {
		return false
	}
	if at > 0 && !allDigits(entry[:at]) {
		return false
	}
	return !strings.ContainsAny(entry[at:], "/\\")
}

// SplitPath splits a license path list on ':' (the UNIX separator). A
// single drive letter followed by an entry starting with '\' or '/' is
// rejoined, so C:\flexlm\license.dat survives. Empty entries are dropped.
func SplitPath(list string) []string {
	raw := strings.Split(list, ":")
	var out []string
	for i := 0; i < len(raw); i++ {
		e := raw[i]
		if len(e) == 1 && isLetter(e[0]) && i+1 < len(raw) &&
			(strings.HasPrefix(raw[i+1], `\`) || strings.HasPrefix(raw[i+1], "/")) {
			e += ":" + raw[i+1]
			i++
		}
		e = strings.TrimSpace(e)
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ReadFlexlmrc reads the VAR=value lines of a .flexlmrc file. Blank
// lines, '#' comments and lines without '=' are skipped; spaces around
// the name and the value are trimmed and one pair of surrounding double
// quotes is removed. A later line for the same variable wins.
func ReadFlexlmrc(data []byte) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			continue
		}
		name := strings.TrimSpace(line[:eq])
		val := strings.TrimSpace(line[eq+1:])
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		vars[name] = val
	}
	return vars
}

// ResolvePath turns the license path into the ordered list of sources
// every command and the client use. The rules, in order:
//
//  1. A non-empty cflag (the -c value) is the whole path: the
//     environment and .flexlmrc are not consulted.
//  2. Otherwise VENDOR_LICENSE_FILE (when vendor is not ""), then
//     LM_LICENSE_FILE from the environment, then the same two variables
//     from $HOME/.flexlmrc, which is appended to the environment's
//     values as manual appendix C.1.2 says for these two variables.
//  3. If that yields nothing, DefaultLicenseFile.
//
// Each list is split with SplitPath. An entry of the form port@host, @host
// or port@h1,port@h2,port@h3 is a server; any other entry is a file, and a
// directory stands for its *.lic files in name order (none if it has
// none). Duplicates are removed, keeping the first. ResolvePath does not
// check that files exist: opening them is the caller's business, and a
// missing file is reported there with its name.
func ResolvePath(cflag, vendor string, env PathEnv) []Source {
	type list struct{ origin, value string }
	var lists []list
	switch {
	case cflag != "":
		lists = append(lists, list{"-c", cflag})
	default:
		var vars []string
		if vendor != "" {
			vars = append(vars, VendorLicenseFileVar(vendor), LMLicenseFile)
		} else {
			vars = append([]string{LMLicenseFile}, env.vendorVars()...)
		}
		for _, v := range vars {
			lists = append(lists, list{v, env.getenv(v)})
		}
		if env.Home != "" {
			if data, err := os.ReadFile(filepath.Join(env.Home, ".flexlmrc")); err == nil {
				rc := ReadFlexlmrc(data)
				rcVars := vars
				if vendor == "" {
					// lmutil commands take every vendor's entry.
					rcVars = []string{LMLicenseFile}
					var more []string
					for k := range rc {
						if isVendorVar(k) {
							more = append(more, k)
						}
					}
					sort.Strings(more)
					rcVars = append(rcVars, more...)
				}
				for _, v := range rcVars {
					lists = append(lists, list{"$HOME/.flexlmrc:" + v, rc[v]})
				}
			}
		}
	}
	var out []Source
	seen := map[string]bool{}
	add := func(s Source) {
		if k := s.key(); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	for _, l := range lists {
		for _, entry := range SplitPath(l.value) {
			for _, s := range expandEntry(entry, l.origin, env) {
				add(s)
			}
		}
	}
	if len(out) == 0 && cflag == "" {
		// The manual's default, then golm's license.dat here: those that
		// exist, or both when neither does (each is reported missing).
		defaults := []Source{
			{Path: ManualLicenseFile, File: ManualLicenseFile, Origin: "default"},
			{Path: DefaultLicenseFile, File: env.abs(DefaultLicenseFile), Origin: "default"},
		}
		for _, d := range defaults {
			if _, err := os.Stat(d.File); err == nil {
				add(d)
			}
		}
		if len(out) == 0 {
			for _, d := range defaults {
				add(d)
			}
		}
	}
	return out
}

// expandEntry turns one path entry into sources: a server, a file, or a
// directory's *.lic files.
func expandEntry(entry, origin string, env PathEnv) []Source {
	if isServerSpec(entry) {
		if addrs, err := ParseServerSpec(entry); err == nil {
			return []Source{{Servers: addrs, Origin: origin}}
		}
		// Not a valid spec: treat it as a file name, which then fails to
		// open with its name in the message.
	}
	file := env.abs(entry)
	fi, err := os.Stat(file)
	if err != nil || !fi.IsDir() {
		return []Source{{Path: entry, File: file, Origin: origin}}
	}
	ents, err := os.ReadDir(file)
	if err != nil {
		return []Source{{Path: entry, File: file, Origin: origin}}
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".lic") && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	out := make([]Source, 0, len(names))
	for _, n := range names {
		out = append(out, Source{Path: filepath.Join(entry, n), File: filepath.Join(file, n), Origin: origin})
	}
	return out
}

// PathString joins sources back into a license path list, as lmgrd and
// lmstat print "License file(s) on host: a:b:" (without the final ':').
func PathString(sources []Source) string {
	parts := make([]string, len(sources))
	for i, s := range sources {
		parts[i] = s.String()
	}
	return strings.Join(parts, ":")
}
