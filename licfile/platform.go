package licfile

import (
	"runtime"
	"strings"
)

// PlatformName is the FlexNet platform name of goos/goarch, the name a
// PLATFORMS= list gives: x64_lsb for linux/amd64, i86_n3 for
// windows/386, a64_mac for darwin/arm64. A pair FlexNet has no name for
// is goarch_goos (riscv64_linux); "" for an empty pair.
func PlatformName(goos, goarch string) string {
	switch goos + "/" + goarch {
	case "linux/amd64":
		return "x64_lsb"
	case "linux/386":
		return "i86_lsb"
	case "linux/arm64":
		return "a64_lsb"
	case "darwin/amd64":
		return "x64_mac"
	case "darwin/arm64":
		return "a64_mac"
	case "windows/amd64":
		return "x64_n6"
	case "windows/386":
		return "i86_n3"
	case "/":
		return ""
	}
	return goarch + "_" + goos
}

// ThisPlatform is the platform name of the running program.
func ThisPlatform() string { return PlatformName(runtime.GOOS, runtime.GOARCH) }

// AllowsPlatform reports whether the line may be used on platform: a
// line without PLATFORMS= may be used anywhere, a line with it only on
// the platforms it lists (compared ignoring case). An unknown platform
// ("") is on no list.
func (f *Feature) AllowsPlatform(platform string) bool {
	if len(f.Platforms) == 0 {
		return true
	}
	if platform == "" {
		return false
	}
	for _, p := range f.Platforms {
		if strings.EqualFold(p, platform) {
			return true
		}
	}
	return false
}
