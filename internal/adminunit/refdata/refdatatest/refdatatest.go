// Package refdatatest finds the official administrative-unit lists for tests:
// HOPNHAT_ADMINUNITS_DIR, or ../shared/data/adminunits beside the repository.
// Tests that need them skip where they are absent, unless
// HOPNHAT_REQUIRE_ALL=1, where they fail.
package refdatatest

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata"
)

// Dir returns the lists' directory, or skips tb.
func Dir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("HOPNHAT_ADMINUNITS_DIR")
	if d == "" {
		_, file, _, _ := runtime.Caller(0)
		// internal/adminunit/refdata/refdatatest → the repository's parent
		d = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "..", "shared", "data", "adminunits")
	}
	if _, err := os.Stat(filepath.Join(d, refdata.FileMapping)); err != nil {
		if os.Getenv("HOPNHAT_REQUIRE_ALL") == "1" {
			tb.Fatalf("official administrative-unit lists not found at %s (set HOPNHAT_ADMINUNITS_DIR): %v", d, err)
		}
		tb.Skipf("official administrative-unit lists not found at %s; set HOPNHAT_ADMINUNITS_DIR to run this test", d)
	}
	return d
}

type loaded struct {
	reg *adminunit.Register
	idx *adminunit.Index
	err error
}

var (
	mu    sync.Mutex
	cache = map[string]*loaded{}
)

func get(tb testing.TB) *loaded {
	tb.Helper()
	d := Dir(tb)
	mu.Lock()
	defer mu.Unlock()
	if l, ok := cache[d]; ok {
		return l
	}
	l := &loaded{}
	l.reg, _, l.err = refdata.Load(os.DirFS(d))
	if l.err == nil {
		l.idx, l.err = adminunit.NewIndex(l.reg)
	}
	cache[d] = l
	return l
}

// Register returns the official lists read into a register (shared: do not modify).
func Register(tb testing.TB) *adminunit.Register {
	l := get(tb)
	if l.err != nil {
		tb.Fatal(l.err)
	}
	return l.reg
}

// Index returns the index of the official lists (shared; safe for concurrent use).
func Index(tb testing.TB) *adminunit.Index {
	l := get(tb)
	if l.err != nil {
		tb.Fatal(l.err)
	}
	return l.idx
}
