package adminunit_test

import (
	"testing"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata/refdatatest"
)

// official returns the index of the official lists, or skips the test.
func official(tb testing.TB) *adminunit.Index { return refdatatest.Index(tb) }
