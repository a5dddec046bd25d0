package commands

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// golmModule is the module path of golm's own binaries; a Go binary built
// from it is golm, one that depends on it links golm's client package.
const golmModule = "golm/lmutil"

// Symbols of the version variables (protocol.Software, protocol.Build)
// in a golm binary's symbol table.
const (
	versionSymbol = golmModule + "/protocol.Software"
	buildSymbol   = golmModule + "/protocol.Build"
)

// maxBannerLines bounds how many copyright strings lmver prints from one
// foreign binary.
const maxBannerLines = 20

func lmverApplet() *Applet {
	return &Applet{
		Name:        "lmver",
		Usage:       "lmver [filename]",
		Summary:     "report the license manager version of a binary",
		Description: manText("lmver"),
		Action:      runLmver,
	}
}

func runLmver(c *cli.Context, env *Env) error {
	if c.NArg() > 1 {
		return &UsageError{Applet: "lmver", Msg: fmt.Sprintf("lmver: one filename at most, not %d", c.NArg())}
	}
	fmt.Fprintln(env.Stdout, Banner(env.Prog))
	name := c.Args().First()
	self, _ := env.Executable()
	if name == "" || sameFile(env.Path(name), self) {
		fmt.Fprintln(env.Stdout, golmVersionLine(protocol.Software, protocol.Build, Platform()))
		return nil
	}
	lines, err := fileVersion(env.Path(name), name)
	for _, l := range lines {
		fmt.Fprintln(env.Stdout, l)
	}
	return err
}

func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

func golmVersionLine(version, build, platform string) string {
	s := "golm " + version
	if version != "" && version[0] >= '0' && version[0] <= '9' {
		s = "golm v" + version
	}
	if build != "" {
		s += " build " + build
	}
	if platform != "" {
		s += " " + platform
	}
	return s
}

// readError is the error of a file lmver cannot open or read.
func readError(name string, minor lmerr.Minor, err error) error {
	e := lmerr.FromOS(lmerr.CantReadFile, minor, err)
	e.Text = "Cannot read file " + name + "."
	return e
}

// fileVersion returns what lmver prints for the file at path (shown as
// name): a golm binary's version, a Go program's module, or the copyright
// strings of any other binary.
func fileVersion(path, name string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(name, lmerr.MinorLmverOpen, err)
	}
	defer f.Close()
	if bi, err := buildinfo.Read(f); err == nil {
		if lines := goVersion(f, bi); lines != nil {
			return lines, nil
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, readError(name, lmerr.MinorLmverRead, err)
	}
	lines, err := bannerStrings(f, maxBannerLines)
	if err != nil {
		return nil, readError(name, lmerr.MinorLmverRead, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("lmver: %s: no golm, FLEXlm or FlexNet version found", name)
	}
	return lines, nil
}

// goVersion describes a Go binary; nil if bi is empty.
func goVersion(r io.ReaderAt, bi *buildinfo.BuildInfo) []string {
	path := bi.Main.Path
	if path == "" {
		path = bi.Path
	}
	if path == "" {
		return nil
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	platform := platformFor(settings["GOOS"], settings["GOARCH"])
	if path == golmModule {
		version, build := golmVersionOf(r, bi, settings["-ldflags"])
		return []string{golmVersionLine(version, build, platform)}
	}
	line := path
	if v := bi.Main.Version; v != "" {
		line += " " + v
	}
	if bi.GoVersion != "" {
		line += " (" + bi.GoVersion + ")"
	}
	lines := []string{line}
	for _, d := range bi.Deps {
		if d.Path == golmModule {
			if d.Replace != nil && d.Replace.Version != "" {
				d = d.Replace
			}
			lines = append(lines, "golm "+d.Version)
		}
	}
	return lines
}

// golmVersionOf finds the version and build of a golm binary: the
// Version and Build variables in its ELF symbol table, else the -X values
// of its -ldflags, else its module version.
func golmVersionOf(r io.ReaderAt, bi *buildinfo.BuildInfo, ldflags string) (version, build string) {
	if ef, err := elf.NewFile(r); err == nil {
		version, _ = elfString(ef, versionSymbol)
		build, _ = elfString(ef, buildSymbol)
	}
	if version == "" {
		version = ldflagsValue(ldflags, versionSymbol)
	}
	if build == "" {
		build = ldflagsValue(ldflags, buildSymbol)
	}
	if version == "" {
		version = strings.TrimPrefix(bi.Main.Version, "v")
	}
	return version, build
}

// ldflagsValue returns the value -X sym=value sets in ldflags, or "".
func ldflagsValue(ldflags, sym string) string {
	f := strings.Fields(ldflags)
	for i, w := range f {
		v := ""
		switch {
		case w == "-X" && i+1 < len(f):
			v = f[i+1]
		case strings.HasPrefix(w, "-X="):
			v = w[3:]
		default:
			continue
		}
		if rest, ok := strings.CutPrefix(strings.Trim(v, `'"`), sym+"="); ok {
			return rest
		}
	}
	return ""
}

// elfString reads the Go string variable sym from an ELF file: its
// symbol holds a (pointer, length) header; the bytes sit at the pointer.
func elfString(ef *elf.File, sym string) (string, bool) {
	syms, err := ef.Symbols()
	if err != nil {
		return "", false
	}
	var word int
	var order = ef.ByteOrder
	switch ef.Class {
	case elf.ELFCLASS64:
		word = 8
	case elf.ELFCLASS32:
		word = 4
	default:
		return "", false
	}
	for _, s := range syms {
		if s.Name != sym {
			continue
		}
		hdr, ok := readVirtual(ef, s.Value, 2*word)
		if !ok {
			return "", false
		}
		var ptr, n uint64
		if word == 8 {
			ptr, n = order.Uint64(hdr), order.Uint64(hdr[8:])
		} else {
			ptr, n = uint64(order.Uint32(hdr)), uint64(order.Uint32(hdr[4:]))
		}
		if n > 256 {
			return "", false
		}
		b, ok := readVirtual(ef, ptr, int(n))
		if !ok {
			return "", false
		}
		return string(b), true
	}
	return "", false
}

// readVirtual reads n bytes at virtual address addr from the section
// that holds it.
func readVirtual(ef *elf.File, addr uint64, n int) ([]byte, bool) {
	if n == 0 {
		return []byte{}, true
	}
	for _, sec := range ef.Sections {
		if sec.Type == elf.SHT_NOBITS || addr < sec.Addr || addr+uint64(n) > sec.Addr+sec.Size {
			continue
		}
		b := make([]byte, n)
		if _, err := sec.ReadAt(b, int64(addr-sec.Addr)); err != nil {
			return nil, false
		}
		return b, true
	}
	return nil, false
}

// bannerStrings returns the printable runs of r (4 characters or more,
// as strings(1) finds them) that contain "Copyright" or name a FLEXlm or
// FlexNet version, in order, without repeats, at most max of them.
func bannerStrings(r io.Reader, max int) ([]string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var run bytes.Buffer
	var out []string
	seen := map[string]bool{}
	flush := func() {
		if run.Len() >= 4 {
			s := strings.TrimSpace(run.String())
			if isBannerString(s) && !seen[s] && len(out) < max {
				seen[s] = true
				out = append(out, s)
			}
		}
		run.Reset()
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			flush()
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if c == '\t' || c >= 0x20 && c < 0x7f {
			if run.Len() < 4096 {
				run.WriteByte(c)
			}
			continue
		}
		flush()
	}
}

func isBannerString(s string) bool {
	return strings.Contains(s, "Copyright") ||
		strings.Contains(s, "FLEXlm v") ||
		strings.Contains(s, "FlexNet Licensing v")
}

// platformFor is Platform for a binary built for goos/goarch.
func platformFor(goos, goarch string) string { return licfile.PlatformName(goos, goarch) }
