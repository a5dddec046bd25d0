package options

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golm/lmutil/licfile"
)

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	lic := filepath.Join(dir, "license.dat")
	if err := os.WriteFile(filepath.Join(dir, "xyzd.opt"), []byte("EXCLUDE f1 USER hank\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	vendor := func(line string) *licfile.Vendor {
		f, err := licfile.Parse(strings.NewReader(line+"\n"), "license.dat")
		if err != nil || len(f.Vendors) != 1 {
			t.Fatalf("licfile.Parse(%q): %v", line, err)
		}
		return f.Vendors[0]
	}
	for _, c := range []struct {
		name string
		v    *licfile.Vendor
		want string
		ok   bool
	}{
		{"positional", vendor("DAEMON xyzd /etc/xyzd /a/b/xyzd/licenses/xyzd.opt"), "/a/b/xyzd/licenses/xyzd.opt", true},
		{"options=", vendor("VENDOR xyzd options=/a/b/other.opt"), "/a/b/other.opt", true},
		{"vendor.opt beside the license file", vendor("VENDOR xyzd"), filepath.Join(dir, "xyzd.opt"), true},
		{"none", vendor("VENDOR abcd"), "", false},
		{"no vendor", nil, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Locate(lic, c.v, exists)
			if got != c.want || ok != c.ok {
				t.Errorf("Locate = %q, %v; want %q, %v", got, ok, c.want, c.ok)
			}
		})
	}
}
