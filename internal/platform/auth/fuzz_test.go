package auth

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzVerifyPassword: a corrupted stored hash is an error, never a panic, and
// never a match.
func FuzzVerifyPassword(f *testing.F) {
	cheap := Argon2Params{Memory: 64, Time: 1, Threads: 1}
	good, _ := HashPassword("0123456789", cheap)
	f.Add(good, "0123456789")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$", "x")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$AAAA$AAAA", "x")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$!!!!$AAAA", "x")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		var m, tc uint32
		var th uint8
		if parts := strings.Split(encoded, "$"); len(parts) > 3 {
			if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &tc, &th); err == nil && (m > 256 || tc > 2) {
				return // valid but costly parameters: not what this fuzz is about
			}
		}
		ok, _, err := VerifyPassword(encoded, pw, cheap)
		if err != nil && ok {
			t.Fatal("error and match at once")
		}
		if ok && encoded != good {
			// Only the real hash may match; any edit of it must not.
			if pw != "0123456789" {
				t.Fatalf("hash %q matched %q", encoded, pw)
			}
		}
	})
}
