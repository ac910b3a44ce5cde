package adminunit_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata"
)

// DataDir returns the official lists' directory: HOPNHAT_ADMINUNITS_DIR, or
// ../shared/data/adminunits next to the repository.
func dataDir() string {
	if d := os.Getenv("HOPNHAT_ADMINUNITS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data", "adminunits")
}

var loadOnce = sync.OnceValues(func() (*adminunit.Index, error) {
	reg, _, err := refdata.Load(os.DirFS(dataDir()))
	if err != nil {
		return nil, err
	}
	return adminunit.NewIndex(reg)
})

// official returns the index of the official lists, or skips the test where
// they are absent (unless HOPNHAT_REQUIRE_ALL=1).
func official(tb testing.TB) *adminunit.Index {
	tb.Helper()
	if _, err := os.Stat(dataDir()); err != nil {
		if os.Getenv("HOPNHAT_REQUIRE_ALL") == "1" {
			tb.Fatalf("official lists not found at %s (set HOPNHAT_ADMINUNITS_DIR): %v", dataDir(), err)
		}
		tb.Skipf("official lists not found at %s; set HOPNHAT_ADMINUNITS_DIR to run this test", dataDir())
	}
	x, err := loadOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return x
}
