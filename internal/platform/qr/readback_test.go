package qr

import (
	"errors"
	"fmt"
)

// readBack decodes a Code the way a reader would: format information from
// both copies, version information from both copies, unmasking, codewords in
// placement order, de-interleaving, a Reed–Solomon syndrome check of every
// block, and the byte-mode segment with its terminator and padding. It uses
// the package only for the function-pattern layout and the BCH words, which
// have tests of their own against the spec.
func readBack(c *Code) ([]byte, error) {
	s := c.Size
	if c.Version < 1 || c.Version > 40 || s != 17+4*c.Version || len(c.modules) != s*s {
		return nil, fmt.Errorf("version %d with size %d and %d modules", c.Version, s, len(c.modules))
	}
	read := func(pos [][2]int) uint32 {
		var v uint32
		for i, p := range pos {
			if c.Dark(p[0], p[1]) {
				v |= 1 << i
			}
		}
		return v
	}
	// Bit 0 first; (x, y) as in ISO/IEC 18004 figure 25.
	f1 := read([][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8},
		{7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}})
	var pos2 [][2]int
	for i := range 8 {
		pos2 = append(pos2, [2]int{s - 1 - i, 8})
	}
	for y := s - 7; y < s; y++ {
		pos2 = append(pos2, [2]int{8, y})
	}
	f2 := read(pos2)
	if f1 != f2 {
		return nil, fmt.Errorf("format copies differ: %015b, %015b", f1, f2)
	}
	level, mask := Level(-1), -1
	for l := L; l <= H; l++ {
		for p := range 8 {
			if formatBits(l, p) == f1 {
				level, mask = l, p
			}
		}
	}
	if level != c.Level || mask != c.Mask {
		return nil, fmt.Errorf("format %015b reads as %v/%d, code says %v/%d", f1, level, mask, c.Level, c.Mask)
	}
	if !c.Dark(8, s-8) {
		return nil, errors.New("dark module is light")
	}
	if c.Version >= 7 {
		var tr, bl [][2]int
		for i := range 18 {
			tr = append(tr, [2]int{s - 11 + i%3, i / 3})
			bl = append(bl, [2]int{i / 3, s - 11 + i%3})
		}
		if v1, v2 := read(tr), read(bl); v1 != versionBits(c.Version) || v2 != v1 {
			return nil, fmt.Errorf("version information %018b, %018b", v1, v2)
		}
	}

	fn := newTemplate(c.Version).fn
	total := totalCodewords(c.Version)
	cw := make([]byte, total)
	n := 0
	// Column pairs from the right, skipping column 6; the first pair goes up.
	for pair := 0; ; pair++ {
		right := s - 1 - 2*pair
		if right <= 6 {
			right--
		}
		if right < 1 {
			break
		}
		for k := range s {
			y := s - 1 - k
			if pair%2 == 1 {
				y = k
			}
			for _, x := range []int{right, right - 1} {
				if fn[y*s+x] || n >= total*8 {
					continue
				}
				if c.Dark(x, y) != maskBit(mask, x, y) {
					cw[n/8] |= 0x80 >> (n % 8)
				}
				n++
			}
		}
	}
	if n != total*8 {
		return nil, fmt.Errorf("read %d bits, want %d", n, total*8)
	}

	blocks, ecLen := blockCount(c.Version, level), ecPerBlock(c.Version, level)
	dataTotal := total - blocks*ecLen
	data := make([][]byte, blocks)
	ec := make([][]byte, blocks)
	k := 0
	for i := 0; i <= dataTotal/blocks; i++ {
		for b := range blocks {
			n := dataTotal / blocks
			if b >= blocks-dataTotal%blocks {
				n++
			}
			if i < n {
				data[b] = append(data[b], cw[k])
				k++
			}
		}
	}
	for range ecLen {
		for b := range blocks {
			ec[b] = append(ec[b], cw[k])
			k++
		}
	}
	var stream []byte
	for b := range blocks {
		block := append(append([]byte(nil), data[b]...), ec[b]...)
		for i := range ecLen {
			if v := evalPoly(block, gfPow(i)); v != 0 {
				return nil, fmt.Errorf("block %d: syndrome %d = %d", b, i, v)
			}
		}
		stream = append(stream, data[b]...)
	}

	bit := 0
	get := func(n int) (int, error) {
		if bit+n > len(stream)*8 {
			return 0, errors.New("bit stream ends early")
		}
		v := 0
		for range n {
			v = v<<1 | int(stream[bit/8]>>(7-bit%8)&1)
			bit++
		}
		return v, nil
	}
	if mode, err := get(4); err != nil || mode != 0b0100 {
		return nil, fmt.Errorf("mode %04b, want byte mode 0100 (%v)", mode, err)
	}
	count, err := get(countBits(c.Version))
	if err != nil {
		return nil, err
	}
	out := make([]byte, count)
	for i := range out {
		v, err := get(8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	if term, _ := get(min(4, len(stream)*8-bit)); term != 0 {
		return nil, fmt.Errorf("terminator %b, want zeros", term)
	}
	if bit%8 != 0 {
		if fill, _ := get(8 - bit%8); fill != 0 {
			return nil, fmt.Errorf("fill bits %b, want zeros", fill)
		}
	}
	for i, pad := bit/8, byte(0xEC); i < len(stream); i, pad = i+1, pad^0xEC^0x11 {
		if stream[i] != pad {
			return nil, fmt.Errorf("pad codeword %d = %#x, want %#x", i, stream[i], pad)
		}
	}
	return out, nil
}
