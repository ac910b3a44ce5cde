package procedure_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hopnhat/internal/procedure"
)

// FuzzTrackingInput feeds what citizens type into tracking and receipt: a
// code and a citizen ID. Nothing panics; a normalised code is stable; an ID
// taken as valid is 12 digits of a real province.
func FuzzTrackingInput(f *testing.F) {
	for _, s := range []string{"HS2602-7K3M-9Q2X", "hs2602 7k3m 9q2x", "000.00.10.H30-250801-0007", "031190001234", "", "\x00", "ĐĂNG-KÝ", "HSOIL"} {
		f.Add(s, s)
	}
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, code, id string) {
		n := procedure.NormalizeCode(code)
		if procedure.NormalizeCode(n) != n {
			t.Fatalf("NormalizeCode(%q) = %q is not stable", code, n)
		}
		if utf8.ValidString(code) && strings.ContainsAny(n, " oilOIL") {
			t.Fatalf("NormalizeCode(%q) = %q keeps a space or a letter people misread", code, n)
		}
		if procedure.CheckCitizenID(id, now) == "" {
			if len(id) != 12 || strings.Trim(id, "0123456789") != "" || id[0] != '0' {
				t.Fatalf("CheckCitizenID accepted %q", id)
			}
		}
	})
}
