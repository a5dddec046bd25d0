package licfile

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the golden files instead of comparing against them:
// go test ./licfile -update. It is the one -update flag of this package.
var update = flag.Bool("update", false, "rewrite golden files in testdata")

// checkGolden compares got with the golden file path, or rewrites it
// under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func licenseFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", dir, "*.lic"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no license files in testdata/%s: %v", dir, err)
	}
	return files
}

// TestManualLicenses parses every license file of testdata/licenses: each
// must parse without error, its canonical form must match its golden
// file, and parsing the canonical form must give the same form again.
func TestManualLicenses(t *testing.T) {
	for _, path := range licenseFiles(t, "licenses") {
		name := strings.TrimSuffix(filepath.Base(path), ".lic")
		t.Run(name, func(t *testing.T) {
			f, err := ParseFile(path)
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if len(f.Order) == 0 {
				t.Fatal("no lines parsed")
			}
			canon := f.String()
			checkGolden(t, filepath.Join("testdata", "canonical", name+".golden"), canon)
			again, err := Parse(strings.NewReader(canon), "canonical")
			if err != nil {
				t.Fatalf("canonical form does not parse: %v", err)
			}
			if got := again.String(); got != canon {
				t.Errorf("canonical form is not stable:\ngot:\n%s\nwant:\n%s", got, canon)
			}
		})
	}
}

// TestMalformed parses every file of testdata/malformed: the errors and
// the lines that still parsed must match the file's .golden.
func TestMalformed(t *testing.T) {
	for _, path := range licenseFiles(t, "malformed") {
		name := strings.TrimSuffix(filepath.Base(path), ".lic")
		t.Run(name, func(t *testing.T) {
			f, err := ParseFile(path)
			if err == nil {
				t.Fatal("ParseFile: no error for a malformed file")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList", err)
			}
			rel := filepath.ToSlash(filepath.Join("testdata", "malformed", filepath.Base(path)))
			got := strings.ReplaceAll(err.Error(), filepath.ToSlash(path), rel) + "\n-- parsed --\n" + f.String()
			checkGolden(t, strings.TrimSuffix(path, ".lic")+".golden", got)
		})
	}
}
