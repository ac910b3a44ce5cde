package qr

// matrix is a symbol under construction.
type matrix struct {
	size int
	dark []bool // row-major
	fn   []bool // function patterns and reserved areas: not data, not masked
}

func (m *matrix) set(x, y int, dark bool) {
	m.dark[y*m.size+x] = dark
	m.fn[y*m.size+x] = true
}

// newTemplate draws the function patterns of a version — finders with their
// separators, timing, alignment, the dark module, version information — and
// reserves the format information areas, which depend on the mask.
func newTemplate(version int) *matrix {
	size := 17 + 4*version
	m := &matrix{size: size, dark: make([]bool, size*size), fn: make([]bool, size*size)}

	for i := 8; i < size-8; i++ {
		m.set(i, 6, i%2 == 0)
		m.set(6, i, i%2 == 0)
	}
	for _, c := range [3][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				// 3×3 core, light ring, dark ring, light separator.
				d := max(abs(dx), abs(dy))
				m.set(x, y, d != 2 && d != 4)
			}
		}
	}
	pos := alignmentPositions(version)
	last := len(pos) - 1
	for i, cy := range pos {
		for j, cx := range pos {
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue // a finder is there
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					m.set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}

	drawFormat(m, 0)
	m.set(8, size-8, true) // the dark module, always dark

	if version >= 7 {
		bits := versionBits(version)
		for i := 0; i < 18; i++ {
			a, b := size-11+i%3, i/3
			dark := bits>>i&1 != 0
			m.set(a, b, dark) // above the top-right finder
			m.set(b, a, dark) // left of the bottom-left finder
		}
	}
	return m
}

// drawFormat writes the 15 format bits twice, bit 0 first in each list.
func drawFormat(m *matrix, bits uint32) {
	size := m.size
	for i := 0; i < 15; i++ {
		dark := bits>>i&1 != 0
		// Around the top-left finder: down column 8, then left along row 8,
		// stepping over the timing patterns.
		switch {
		case i < 6:
			m.set(8, i, dark)
		case i < 8:
			m.set(8, i+1, dark)
		case i == 8:
			m.set(7, 8, dark)
		default:
			m.set(14-i, 8, dark)
		}
		// Split between the other two finders: bits 0–7 leftwards along
		// row 8 from the right edge, bits 8–14 down column 8 to the bottom.
		if i < 8 {
			m.set(size-1-i, 8, dark)
		} else {
			m.set(8, size-15+i, dark)
		}
	}
}

// formatBits is the format information: two level bits and three mask bits,
// a BCH(15,5) code with generator x^10+x^8+x^5+x^4+x^2+x+1, and the XOR mask
// 101010000010010 that keeps it from being all light.
func formatBits(level Level, mask int) uint32 {
	levelBits := [4]uint32{L: 0b01, M: 0b00, Q: 0b11, H: 0b10}[level]
	data := levelBits<<3 | uint32(mask)
	return (data<<10 | bchRemainder(data<<10, 0b10100110111, 15)) ^ 0b101010000010010
}

// versionBits is the version information: six version bits and a BCH(18,6)
// code with generator x^12+x^11+x^10+x^9+x^8+x^5+x^2+1.
func versionBits(version int) uint32 {
	v := uint32(version)
	return v<<12 | bchRemainder(v<<12, 0b1111100100101, 18)
}

// bchRemainder divides the n-bit word by gen over GF(2).
func bchRemainder(word, gen uint32, n int) uint32 {
	genDeg := 31
	for gen>>genDeg == 0 {
		genDeg--
	}
	for i := n - 1; i >= genDeg; i-- {
		if word>>i&1 != 0 {
			word ^= gen << (i - genDeg)
		}
	}
	return word
}

// placeData writes the codewords, most significant bit first, into the
// modules that are not function patterns: two columns at a time from the
// right edge, alternately upwards and downwards, skipping the vertical timing
// column. Modules left over are remainder bits and stay light.
func placeData(m *matrix, codewords []byte) {
	size := m.size
	bit := 0
	up := true
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for k := 0; k < size; k++ {
			y := k
			if up {
				y = size - 1 - k
			}
			for _, x := range [2]int{right, right - 1} {
				i := y*size + x
				if m.fn[i] {
					continue
				}
				if bit < len(codewords)*8 {
					m.dark[i] = codewords[bit/8]>>(7-bit%8)&1 != 0
					bit++
				}
			}
		}
		up = !up
	}
}

// maskBit reports whether data mask pattern p inverts the module at row y,
// column x.
func maskBit(p, x, y int) bool {
	switch p {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// build places the codewords and keeps the mask with the lowest penalty.
func build(codewords []byte, version int, level Level) *Code {
	m := newTemplate(version)
	placeData(m, codewords)
	base := m.dark
	best, bestMask, bestScore := []bool(nil), 0, -1
	cand := &matrix{size: m.size, fn: m.fn}
	scratch := make([]bool, m.size)
	for p := 0; p < 8; p++ {
		cand.dark = make([]bool, len(base))
		for y := 0; y < m.size; y++ {
			for x := 0; x < m.size; x++ {
				i := y*m.size + x
				cand.dark[i] = base[i] != (!m.fn[i] && maskBit(p, x, y))
			}
		}
		drawFormat(cand, formatBits(level, p))
		if s := penalty(cand.dark, m.size, scratch); bestScore < 0 || s < bestScore {
			best, bestMask, bestScore = cand.dark, p, s
		}
	}
	return &Code{Size: m.size, Version: version, Level: level, Mask: bestMask, modules: best}
}

// penalty scores a masked symbol by the four rules of ISO/IEC 18004 7.8.3.
func penalty(dark []bool, size int, line []bool) int {
	score := 0
	for i := 0; i < size; i++ {
		for j := 0; j < size; j++ {
			line[j] = dark[i*size+j]
		}
		score += linePenalty(line)
		for j := 0; j < size; j++ {
			line[j] = dark[j*size+i]
		}
		score += linePenalty(line)
	}
	// Rule 2: 3 for every 2×2 block of one colour, overlaps included.
	darkCount := 0
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			c := dark[y*size+x]
			if c {
				darkCount++
			}
			if x+1 < size && y+1 < size && dark[y*size+x+1] == c &&
				dark[(y+1)*size+x] == c && dark[(y+1)*size+x+1] == c {
				score += 3
			}
		}
	}
	// Rule 4: 10 for every full 5% the dark share strays from 50%.
	total := size * size
	score += 10 * (abs(20*darkCount-10*total) / total)
	return score
}

// linePenalty scores one row or column by rules 1 and 3.
func linePenalty(line []bool) int {
	score := 0
	// Rule 1: a run of 5 or more modules of one colour costs 3, plus 1 for
	// each module beyond 5.
	run := 1
	for i := 1; i <= len(line); i++ {
		if i < len(line) && line[i] == line[i-1] {
			run++
			continue
		}
		if run >= 5 {
			score += run - 2
		}
		run = 1
	}
	// Rule 3: 40 for a finder-like 1:1:3:1:1 dark:light:dark:light:dark
	// with four light modules on either side. The quiet zone beyond the
	// edge is light, so it counts as such.
	light := func(from int) bool {
		for i := from; i < from+4; i++ {
			if i >= 0 && i < len(line) && line[i] {
				return false
			}
		}
		return true
	}
	for i := 0; i+7 <= len(line); i++ {
		if line[i] && !line[i+1] && line[i+2] && line[i+3] && line[i+4] && !line[i+5] && line[i+6] &&
			(light(i-4) || light(i+7)) {
			score += 40
		}
	}
	return score
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
