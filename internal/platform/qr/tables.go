package qr

// The block structure of ISO/IEC 18004 table 9, reduced to two numbers per
// version and level: the error-correction codewords per block and the number
// of blocks. The data codewords are spread over the blocks so that the later
// blocks hold one more than the earlier ones when they do not divide evenly.

// ecPerBlock is the number of error-correction codewords in each block.
func ecPerBlock(version int, level Level) int {
	table := [4][40]uint8{
		L: {7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
			28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
		M: {10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
			26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28},
		Q: {13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
			28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
		H: {17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
			30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	}
	return int(table[level][version-1])
}

// blockCount is the number of error-correction blocks.
func blockCount(version int, level Level) int {
	table := [4][40]uint8{
		L: {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
			8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25},
		M: {1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
			17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49},
		Q: {1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
			23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68},
		H: {1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
			25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81},
	}
	return int(table[level][version-1])
}

// totalCodewords is the number of 8-bit codewords a version holds: every
// module that is not a function pattern, format or version information,
// divided by eight (the 0–7 left over are remainder bits).
func totalCodewords(version int) int {
	size := 17 + 4*version
	modules := size * size
	modules -= 3 * 8 * 8       // finders with separators
	modules -= 2 * (size - 16) // timing patterns between the separators
	modules -= 2*15 + 1        // format information twice, dark module
	if n := alignmentCount(version); n > 0 {
		all := n*n - 3 // none where a finder sits
		modules -= 25 * all
		// Alignment patterns centred on row or column 6 cover 5 timing
		// modules each, already counted above.
		modules += 2 * (n - 2) * 5
	}
	if version >= 7 {
		modules -= 2 * 18 // version information twice
	}
	return modules / 8
}

// dataLen is the number of data codewords of a version and level.
func dataLen(version int, level Level) int {
	return totalCodewords(version) - ecPerBlock(version, level)*blockCount(version, level)
}

// alignmentCount is the number of alignment pattern coordinates per axis.
func alignmentCount(version int) int {
	if version == 1 {
		return 0
	}
	return version/7 + 2
}

// alignmentPositions returns the row and column coordinates of the alignment
// pattern centres (ISO/IEC 18004 annex E): the first is 6, the last is 7 in
// from the far edge, and the rest are evenly spaced by an even step working
// back from the last, any slack going to the first gap.
func alignmentPositions(version int) []int {
	n := alignmentCount(version)
	if n == 0 {
		return nil
	}
	size := 17 + 4*version
	last := size - 7
	var step int
	if version == 32 {
		step = 26 // the one version where the table departs from the rule
	} else {
		// (last-6)/(n-1) rounded up to an even number.
		step = ((last - 6) + 2*(n-1) - 1) / (2 * (n - 1)) * 2
	}
	pos := make([]int, n)
	pos[0] = 6
	for i := n - 1; i >= 1; i-- {
		pos[i] = last - (n-1-i)*step
	}
	return pos
}
