package qr

// gfMul multiplies in GF(256) as the QR spec defines it: polynomials over
// GF(2) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11D), with α = x = 2.
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1D
		}
		b >>= 1
	}
	return p
}

// rsGenerator returns g(x) = (x - α^0)(x - α^1)…(x - α^(n-1)), coefficients
// from the highest degree down; the first is always 1.
func rsGenerator(n int) []byte {
	g := make([]byte, n+1)
	g[0] = 1
	root := byte(1)
	for i := 0; i < n; i++ {
		// Multiply the degree-i polynomial by (x + root); minus is plus here.
		for k := i + 1; k > 0; k-- {
			g[k] ^= gfMul(g[k-1], root)
		}
		root = gfMul(root, 2)
	}
	return g
}

// rsRemainder returns data(x)·x^n mod gen(x), the n error-correction
// codewords of a block, for a generator from rsGenerator.
func rsRemainder(data, gen []byte) []byte {
	n := len(gen) - 1
	rem := make([]byte, n)
	for _, d := range data {
		f := d ^ rem[0]
		copy(rem, rem[1:])
		rem[n-1] = 0
		for i := range rem {
			rem[i] ^= gfMul(gen[i+1], f)
		}
	}
	return rem
}

// interleave splits the data codewords into blocks, appends each block's
// error-correction codewords, and interleaves them as the symbol stores them:
// the first data codeword of every block, then the second, and so on, then
// the error-correction codewords in the same way.
func interleave(data []byte, version int, level Level) []byte {
	blocks := blockCount(version, level)
	ecLen := ecPerBlock(version, level)
	shortLen := len(data) / blocks
	longBlocks := len(data) % blocks
	gen := rsGenerator(ecLen)

	dataBlocks := make([][]byte, blocks)
	ecBlocks := make([][]byte, blocks)
	for i, off := 0, 0; i < blocks; i++ {
		n := shortLen
		if i >= blocks-longBlocks {
			n++
		}
		dataBlocks[i] = data[off : off+n]
		ecBlocks[i] = rsRemainder(dataBlocks[i], gen)
		off += n
	}

	out := make([]byte, 0, len(data)+blocks*ecLen)
	for i := 0; i <= shortLen; i++ {
		for _, b := range dataBlocks {
			if i < len(b) {
				out = append(out, b[i])
			}
		}
	}
	for i := 0; i < ecLen; i++ {
		for _, b := range ecBlocks {
			out = append(out, b[i])
		}
	}
	return out
}
