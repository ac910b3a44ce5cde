package qr

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

const receiptURL = "https://dichvucong.haiphong.gov.vn/tra-cuu?ma=HS-2511-7K3M-9Q2X"

func TestFormatBits(t *testing.T) {
	// ISO/IEC 18004 table C.1: format information after masking, by level
	// and mask 0–7.
	want := map[Level][8]string{
		L: {"111011111000100", "111001011110011", "111110110101010", "111100010011101",
			"110011000101111", "110001100011000", "110110001000001", "110100101110110"},
		M: {"101010000010010", "101000100100101", "101111001111100", "101101101001011",
			"100010111111001", "100000011001110", "100111110010111", "100101010100000"},
		Q: {"011010101011111", "011000001101000", "011111100110001", "011101000000110",
			"010010010110100", "010000110000011", "010111011011010", "010101111101101"},
		H: {"001011010001001", "001001110111110", "001110011100111", "001100111010000",
			"000011101100010", "000001001010101", "000110100001100", "000100000111011"},
	}
	var all []uint32
	for level, row := range want {
		for mask, w := range row {
			got := fmt.Sprintf("%015b", formatBits(level, mask))
			if got != w {
				t.Errorf("formatBits(%v, %d) = %s, want %s", level, mask, got, w)
			}
			all = append(all, formatBits(level, mask))
		}
	}
	// BCH(15,5) has minimum distance 7, so a reader corrects 3 bit errors.
	for i := range all {
		for j := range i {
			if d := bits.OnesCount32(all[i] ^ all[j]); d < 7 {
				t.Errorf("format words %015b and %015b differ in %d bits, want ≥ 7", all[i], all[j], d)
			}
		}
	}
}

func TestVersionBits(t *testing.T) {
	// ISO/IEC 18004 table D.1.
	cases := []struct {
		version int
		want    string
	}{
		{7, "000111110010010100"},
		{8, "001000010110111100"},
		{9, "001001101010011001"},
		{10, "001010010011010011"},
		{21, "010101011010000011"},
		{40, "101000110001101001"},
	}
	for _, tc := range cases {
		if got := fmt.Sprintf("%018b", versionBits(tc.version)); got != tc.want {
			t.Errorf("versionBits(%d) = %s, want %s", tc.version, got, tc.want)
		}
	}
}

func TestTotalCodewords(t *testing.T) {
	// Table 1 of the spec, and the remainder bits left after them.
	known := map[int]int{1: 26, 2: 44, 3: 70, 4: 100, 5: 134, 6: 172, 7: 196, 10: 346, 14: 581, 20: 1085, 27: 1828, 40: 3706}
	for v := 1; v <= 40; v++ {
		m := newTemplate(v)
		free := 0
		for _, f := range m.fn {
			if !f {
				free++
			}
		}
		if got := totalCodewords(v); got != free/8 {
			t.Errorf("version %d: totalCodewords = %d, but the template leaves %d free modules", v, got, free)
		}
		var rem int
		switch {
		case v == 1 || v >= 7 && v <= 13 || v >= 35:
			rem = 0
		case v <= 6:
			rem = 7
		case v <= 20 || v >= 28:
			rem = 3
		default:
			rem = 4
		}
		if free%8 != rem {
			t.Errorf("version %d: %d remainder bits, want %d", v, free%8, rem)
		}
		if w, ok := known[v]; ok && free/8 != w {
			t.Errorf("version %d: %d codewords, want %d", v, free/8, w)
		}
	}
}

func TestByteCapacity(t *testing.T) {
	// Table 7 of the spec, byte mode.
	cases := []struct {
		version int
		want    [4]int // L, M, Q, H
	}{
		{1, [4]int{17, 14, 11, 7}},
		{2, [4]int{32, 26, 20, 14}},
		{4, [4]int{78, 62, 46, 34}},
		{5, [4]int{106, 84, 60, 44}},
		{7, [4]int{154, 122, 86, 64}},
		{9, [4]int{230, 180, 130, 98}},
		{10, [4]int{271, 213, 151, 119}},
		{15, [4]int{520, 412, 292, 220}},
		{20, [4]int{858, 666, 482, 382}},
		{40, [4]int{2953, 2331, 1663, 1273}},
	}
	for _, tc := range cases {
		for l := L; l <= H; l++ {
			if got := byteCapacity(tc.version, l); got != tc.want[l] {
				t.Errorf("byteCapacity(%d, %v) = %d, want %d", tc.version, l, got, tc.want[l])
			}
		}
	}
	// Every version must hold more than the one before, or version choice
	// would skip it.
	for l := L; l <= H; l++ {
		for v := 2; v <= 40; v++ {
			if byteCapacity(v, l) <= byteCapacity(v-1, l) {
				t.Errorf("level %v: version %d holds %d bytes, version %d holds %d",
					l, v, byteCapacity(v, l), v-1, byteCapacity(v-1, l))
			}
		}
	}
}

func TestAlignmentPositions(t *testing.T) {
	// Annex E, table E.1.
	cases := map[int]string{
		1: "[]", 2: "[6 18]", 6: "[6 34]", 7: "[6 22 38]", 14: "[6 26 46 66]",
		15: "[6 26 48 70]", 16: "[6 26 50 74]", 22: "[6 26 50 74 98]",
		28: "[6 26 50 74 98 122]", 32: "[6 34 60 86 112 138]", 33: "[6 30 58 86 114 142]",
		36: "[6 24 50 76 102 128 154]", 39: "[6 26 54 82 110 138 166]", 40: "[6 30 58 86 114 142 170]",
	}
	for v, want := range cases {
		if got := fmt.Sprint(alignmentPositions(v)); got != want {
			t.Errorf("alignmentPositions(%d) = %s, want %s", v, got, want)
		}
	}
}

func TestFunctionPatterns(t *testing.T) {
	c, err := Encode([]byte(strings.Repeat("x", 150)), L) // version 7
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 7 || c.Size != 45 {
		t.Fatalf("got version %d size %d, want 7 and 45", c.Version, c.Size)
	}
	finder := []string{
		"#######.",
		"#.....#.",
		"#.###.#.",
		"#.###.#.",
		"#.###.#.",
		"#.....#.",
		"#######.",
		"........",
	}
	s := c.Size
	for dy, row := range finder {
		for dx, ch := range row {
			want := ch == '#'
			// Top-left as drawn; the other two mirrored so the separator
			// faces the symbol.
			for _, p := range [][2]int{{dx, dy}, {s - 1 - dx, dy}, {dx, s - 1 - dy}} {
				if got := c.Dark(p[0], p[1]); got != want {
					t.Errorf("finder module (%d,%d) dark = %v, want %v", p[0], p[1], got, want)
				}
			}
		}
	}
	for i := 8; i < s-8; i++ {
		if c.Dark(i, 6) != (i%2 == 0) || c.Dark(6, i) != (i%2 == 0) {
			t.Errorf("timing module %d wrong", i)
		}
	}
	align := []string{"#####", "#...#", "#.#.#", "#...#", "#####"}
	for _, cy := range []int{6, 22, 38} {
		for _, cx := range []int{6, 22, 38} {
			if cx == 6 && cy == 6 || cx == 6 && cy == 38 || cx == 38 && cy == 6 {
				continue
			}
			for dy, row := range align {
				for dx, ch := range row {
					if got := c.Dark(cx-2+dx, cy-2+dy); got != (ch == '#') {
						t.Errorf("alignment at (%d,%d): module (%d,%d) dark = %v", cx, cy, cx-2+dx, cy-2+dy, got)
					}
				}
			}
		}
	}
	if !c.Dark(8, s-8) {
		t.Error("dark module is light")
	}
	if c.Dark(-1, 0) || c.Dark(0, s) {
		t.Error("modules outside the symbol read dark")
	}
}

func TestEncodeErrors(t *testing.T) {
	for l := L; l <= H; l++ {
		max := byteCapacity(40, l)
		if _, err := Encode(make([]byte, max), l); err != nil {
			t.Errorf("level %v: %d bytes: %v", l, max, err)
		}
		_, err := Encode(make([]byte, max+1), l)
		if !errors.Is(err, ErrTooLong) {
			t.Errorf("level %v: %d bytes: got %v, want ErrTooLong", l, max+1, err)
		}
	}
	for _, l := range []Level{-1, 4} {
		if _, err := Encode([]byte("x"), l); !errors.Is(err, ErrLevel) {
			t.Errorf("Level(%d): got %v, want ErrLevel", l, err)
		}
	}
}

func TestEncodePicksSmallestVersion(t *testing.T) {
	for l := L; l <= H; l++ {
		for v := 1; v <= 40; v++ {
			n := byteCapacity(v, l)
			c, err := Encode(make([]byte, n), l)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != v {
				t.Errorf("%d bytes at %v: version %d, want %d", n, l, c.Version, v)
			}
			if v < 40 {
				if c, _ := Encode(make([]byte, n+1), l); c.Version != v+1 {
					t.Errorf("%d bytes at %v: version %d, want %d", n+1, l, c.Version, v+1)
				}
			}
		}
	}
	if c, _ := Encode([]byte(receiptURL), M); c.Version != 5 {
		t.Errorf("receipt URL (%d bytes) at M: version %d, want 5", len(receiptURL), c.Version)
	}
}

func TestRoundTrip(t *testing.T) {
	type input struct {
		data   []byte
		levels []Level
	}
	all := []Level{L, M, Q, H}
	inputs := []input{
		{[]byte{}, all},
		{[]byte("a"), all},
		{[]byte(receiptURL), all},
		{[]byte("Hồ sơ HS-2511-7K3M-9Q2X"), all},
		{[]byte(receiptURL + "&" + strings.Repeat("x", 200-len(receiptURL)-1)), all},
	}
	// Full symbols of every version and level: every data codeword used, no
	// padding, every block length of the tables exercised.
	r := rand.New(rand.NewPCG(5, 6))
	for l := L; l <= H; l++ {
		for v := 1; v <= 40; v++ {
			b := make([]byte, byteCapacity(v, l))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			inputs = append(inputs, input{b, []Level{l}})
		}
	}
	for _, in := range inputs {
		for _, l := range in.levels {
			c, err := Encode(in.data, l)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readBack(c)
			if err != nil {
				t.Errorf("%d bytes at %v (version %d): %v", len(in.data), l, c.Version, err)
				continue
			}
			if !bytes.Equal(got, in.data) {
				t.Errorf("%d bytes at %v: read back %q, want %q", len(in.data), l, got, in.data)
			}
		}
	}
}

func TestLinePenalty(t *testing.T) {
	cases := []struct {
		name string
		line string
		want int
	}{
		{name: "alternating costs nothing", line: "#.#.#.#.#.#", want: 0},
		{name: "run of four is free", line: "####.#.#.", want: 0},
		{name: "run of five costs 3", line: "#####.#.#", want: 3},
		{name: "run of seven costs 5", line: ".#######.", want: 5},
		{name: "finder-like with light after", line: "#.###.#....#.", want: 40},
		{name: "finder-like with light before", line: ".#....#.###.#", want: 40},
		{name: "finder-like at the edge, quiet zone counts as light", line: "#.###.#", want: 40},
		{name: "finder-like hemmed in both sides", line: "##.#.###.#.##", want: 0},
		{name: "finder-like with light both sides counted once", line: "....#.###.#....", want: 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := make([]bool, len(tc.line))
			for i, ch := range tc.line {
				line[i] = ch == '#'
			}
			if got := linePenalty(line); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPenaltyBlocksAndBalance(t *testing.T) {
	// 4×4, columns alternate in pairs: ##..
	// Rule 1: none. Rule 2: per row pair, blocks at x=0 and x=2 → 3 row
	// pairs × 2 = 6 blocks = 18. Columns: each column is one colour, a run of
	// 4, free. Rule 3: none. Rule 4: 50% dark, 0.
	grid := make([]bool, 16)
	for y := range 4 {
		for x := range 4 {
			grid[y*4+x] = x < 2
		}
	}
	if got := penalty(grid, 4, make([]bool, 4)); got != 18 {
		t.Errorf("paired columns: got %d, want 18", got)
	}
	// 5×5 all light: rule 1: 10 lines × 3 = 30; rule 2: 16 blocks × 3 = 48;
	// rule 4: 0% dark is 50 points off, 10 steps of 5% = 100.
	if got := penalty(make([]bool, 25), 5, make([]bool, 5)); got != 178 {
		t.Errorf("all light: got %d, want 178", got)
	}
}

func TestMaskHasLowestPenalty(t *testing.T) {
	for _, in := range []string{"a", receiptURL, "Hồ sơ HS-2511-7K3M-9Q2X", strings.Repeat("0", 300)} {
		for l := L; l <= H; l++ {
			c, err := Encode([]byte(in), l)
			if err != nil {
				t.Fatal(err)
			}
			scores := make([]int, 8)
			for p := range 8 {
				scores[p] = penalty(withMask(c, p).modules, c.Size, make([]bool, c.Size))
			}
			for p, s := range scores {
				if s < scores[c.Mask] || s == scores[c.Mask] && p < c.Mask {
					t.Errorf("%q at %v: kept mask %d (%d), mask %d scores %d", in, l, c.Mask, scores[c.Mask], p, s)
				}
			}
		}
	}
}

// withMask returns c with its data masked by pattern p instead of c.Mask.
func withMask(c *Code, p int) *Code {
	m := newTemplate(c.Version)
	cand := &matrix{size: c.Size, fn: m.fn, dark: make([]bool, len(c.modules))}
	for y := range c.Size {
		for x := range c.Size {
			i := y*c.Size + x
			flip := !m.fn[i] && maskBit(c.Mask, x, y) != maskBit(p, x, y)
			cand.dark[i] = c.modules[i] != flip
		}
	}
	drawFormat(cand, formatBits(c.Level, p))
	return &Code{Size: c.Size, Version: c.Version, Level: c.Level, Mask: p, modules: cand.dark}
}

func TestWithMaskReadsBack(t *testing.T) {
	c, err := Encode([]byte(receiptURL), Q)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 8 {
		if got, err := readBack(withMask(c, p)); err != nil || string(got) != receiptURL {
			t.Errorf("mask %d: read back %q, %v", p, got, err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	data := []byte(receiptURL[:60])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(data, M); err != nil {
			b.Fatal(err)
		}
	}
}
