// Package qr encodes bytes as a QR code (ISO/IEC 18004, model 2) for printing
// on receipts: byte mode, the smallest version 1–40 that holds the data at the
// chosen error-correction level, the mask with the lowest penalty, and an SVG
// rendering that can be inlined in a page.
package qr

import (
	"errors"
	"fmt"
)

// ErrTooLong is returned when the data does not fit in a version 40 symbol at
// the requested level.
var ErrTooLong = errors.New("qr: data too long")

// ErrLevel is returned for a Level other than L, M, Q and H.
var ErrLevel = errors.New("qr: unknown error-correction level")

// Level is the error-correction level of a symbol.
type Level int

// The four error-correction levels, from the least to the most redundant.
const (
	// L restores about 7% of damaged codewords.
	L Level = iota
	// M restores about 15% of damaged codewords.
	M
	// Q restores about 25% of damaged codewords.
	Q
	// H restores about 30% of damaged codewords.
	H
)

// String returns the letter of the level.
func (l Level) String() string {
	switch l {
	case L:
		return "L"
	case M:
		return "M"
	case Q:
		return "Q"
	case H:
		return "H"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Code is an encoded QR symbol, without its quiet zone.
type Code struct {
	// Size is the number of modules per side, 17 + 4*Version.
	Size int
	// Version is the symbol version, 1–40.
	Version int
	// Level is the error-correction level the code was encoded at.
	Level Level
	// Mask is the data mask pattern, 0–7: the one with the lowest penalty.
	Mask int

	modules []bool // row-major, true = dark
}

// Dark reports whether the module at column x, row y is dark; modules outside
// the symbol (the quiet zone) are light.
func (c *Code) Dark(x, y int) bool {
	if x < 0 || y < 0 || x >= c.Size || y >= c.Size || len(c.modules) != c.Size*c.Size {
		return false // also a Code not made by Encode
	}
	return c.modules[y*c.Size+x]
}

// Encode encodes data in byte mode at the given level, in the smallest version
// that holds it. Text is encoded as its bytes with no ECI header: UTF-8 is what
// phone scanners assume for non-ASCII bytes. It returns ErrTooLong when data
// does not fit in version 40 (2953 bytes at L, 1273 at H), and ErrLevel for an
// unknown level.
func Encode(data []byte, level Level) (*Code, error) {
	if level < L || level > H {
		return nil, fmt.Errorf("encode %d bytes: %w: %d", len(data), ErrLevel, int(level))
	}
	version := 0
	for v := 1; v <= 40; v++ {
		if len(data) <= byteCapacity(v, level) {
			version = v
			break
		}
	}
	if version == 0 {
		return nil, fmt.Errorf("encode %d bytes at level %v (at most %d): %w",
			len(data), level, byteCapacity(40, level), ErrTooLong)
	}
	codewords := interleave(dataCodewords(data, version, level), version, level)
	return build(codewords, version, level), nil
}

// countBits is the length of the byte-mode character count indicator.
func countBits(version int) int {
	if version <= 9 {
		return 8
	}
	return 16
}

// byteCapacity is the number of data bytes a symbol holds in byte mode.
func byteCapacity(version int, level Level) int {
	bits := dataLen(version, level)*8 - 4 - countBits(version)
	return bits / 8
}

// dataCodewords builds the data bit stream (mode, count, bytes, terminator, pad
// bits, pad codewords) for a version known to hold data.
func dataCodewords(data []byte, version int, level Level) []byte {
	out := make([]byte, 0, dataLen(version, level))
	var acc uint32 // pending bits, right-aligned
	var n int      // number of pending bits
	put := func(v uint32, bits int) {
		acc = acc<<bits | v&(1<<bits-1)
		n += bits
		for n >= 8 {
			out = append(out, byte(acc>>(n-8)))
			n -= 8
		}
	}
	put(0b0100, 4) // byte mode
	put(uint32(len(data)), countBits(version))
	for _, b := range data {
		put(uint32(b), 8)
	}
	capBits := cap(out) * 8
	// The terminator is up to four zero bits, fewer when the symbol is full.
	put(0, min(4, capBits-len(out)*8-n))
	if n > 0 {
		put(0, 8-n)
	}
	for pad := byte(0xEC); len(out) < cap(out); pad ^= 0xEC ^ 0x11 {
		out = append(out, pad)
	}
	return out
}
