package qr

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// gfPow returns α^e.
func gfPow(e int) byte {
	v := byte(1)
	for range e {
		v = gfMul(v, 2)
	}
	return v
}

// evalPoly evaluates a polynomial, coefficients from the highest degree, at x.
func evalPoly(p []byte, x byte) byte {
	var acc byte
	for _, c := range p {
		acc = gfMul(acc, x) ^ c
	}
	return acc
}

func TestGFMul(t *testing.T) {
	// α = 2 must be primitive for 0x11D: its powers run through all 255
	// non-zero elements before coming back to 1.
	seen := map[byte]bool{}
	for e := range 255 {
		v := gfPow(e)
		if v == 0 || seen[v] {
			t.Fatalf("α^%d = %d repeats or is zero", e, v)
		}
		seen[v] = true
	}
	if got := gfPow(255); got != 1 {
		t.Errorf("α^255 = %d, want 1", got)
	}
	if got := gfMul(0x80, 2); got != 0x1D {
		t.Errorf("α^7·α = %#x, want 0x1d (x^8 reduced by 0x11D)", got)
	}
	if got := gfPow(8); got != 29 {
		t.Errorf("α^8 = %d, want 29", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		a, b, c := byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))
		if gfMul(a, b) != gfMul(b, a) {
			t.Fatalf("%d·%d not commutative", a, b)
		}
		if gfMul(a, b^c) != gfMul(a, b)^gfMul(a, c) {
			t.Fatalf("%d·(%d+%d) not distributive", a, b, c)
		}
		if gfMul(a, 1) != a || gfMul(a, 0) != 0 {
			t.Fatalf("%d·1 or %d·0 wrong", a, a)
		}
	}
}

func TestRSGenerator(t *testing.T) {
	// ISO/IEC 18004 annex A lists the generator for 7 error-correction
	// codewords as exponents of α: x^7 + α^87x^6 + α^229x^5 + α^146x^4 +
	// α^149x^3 + α^238x^2 + α^102x + α^21.
	want := []byte{1}
	for _, e := range []int{87, 229, 146, 149, 238, 102, 21} {
		want = append(want, gfPow(e))
	}
	if got := rsGenerator(7); !bytes.Equal(got, want) {
		t.Errorf("rsGenerator(7) = %v, want %v", got, want)
	}
	for _, n := range []int{7, 10, 13, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30} {
		g := rsGenerator(n)
		for i := range n {
			if v := evalPoly(g, gfPow(i)); v != 0 {
				t.Errorf("g_%d(α^%d) = %d, want 0", n, i, v)
			}
		}
		if v := evalPoly(g, gfPow(n)); v == 0 {
			t.Errorf("g_%d(α^%d) = 0: more roots than its degree allows", n, n)
		}
	}
}

func TestRSKnownBlocks(t *testing.T) {
	cases := []struct {
		name       string
		data, want []byte
	}{
		{
			// ISO/IEC 18004 annex I: "01234567" in numeric mode, 1-M.
			name: "annex I 01234567 1-M",
			data: []byte{16, 32, 12, 86, 97, 128, 236, 17, 236, 17, 236, 17, 236, 17, 236, 17},
			want: []byte{165, 36, 212, 193, 237, 54, 199, 135, 44, 85},
		},
		{
			// The usual worked example: "HELLO WORLD" alphanumeric, 1-M.
			name: "HELLO WORLD 1-M",
			data: []byte{32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17},
			want: []byte{196, 35, 39, 119, 235, 215, 231, 226, 93, 23},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rsRemainder(tc.data, rsGenerator(len(tc.want))); !bytes.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRSCodewordVanishesAtRoots(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{7, 10, 13, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30} {
		gen := rsGenerator(n)
		for range 20 {
			data := make([]byte, 1+r.IntN(122))
			for i := range data {
				data[i] = byte(r.IntN(256))
			}
			cw := append(append([]byte(nil), data...), rsRemainder(data, gen)...)
			for i := range n {
				if v := evalPoly(cw, gfPow(i)); v != 0 {
					t.Fatalf("n=%d len=%d: c(α^%d) = %d, want 0", n, len(data), i, v)
				}
			}
			// A single changed codeword must show in the syndromes.
			cw[r.IntN(len(cw))] ^= byte(1 + r.IntN(255))
			zero := true
			for i := range n {
				zero = zero && evalPoly(cw, gfPow(i)) == 0
			}
			if zero {
				t.Fatalf("n=%d: corrupted codeword still has zero syndromes", n)
			}
		}
	}
}
