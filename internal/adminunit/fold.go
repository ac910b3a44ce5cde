package adminunit

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps each precomposed Latin letter (U+00C0–U+024F, U+1E00–U+1EFF)
// to its lower-case ASCII base letter; 0 where there is none.
var foldTable = buildFoldTable()

const (
	foldLo1, foldHi1 = 0x00C0, 0x024F
	foldLo2, foldHi2 = 0x1E00, 0x1EFF
)

func buildFoldTable() []byte {
	t := make([]byte, (foldHi1-foldLo1+1)+(foldHi2-foldLo2+1))
	set := func(i int, r rune) {
		d := norm.NFD.String(string(r))
		b, _ := utf8.DecodeRuneInString(d)
		b = unicode.ToLower(b)
		if b < utf8.RuneSelf && ('a' <= b && b <= 'z') {
			t[i] = byte(b)
		}
	}
	for r := rune(foldLo1); r <= foldHi1; r++ {
		set(int(r-foldLo1), r)
	}
	for r := rune(foldLo2); r <= foldHi2; r++ {
		set(int(r-foldLo2)+(foldHi1-foldLo1+1), r)
	}
	t['đ'-foldLo1], t['Đ'-foldLo1] = 'd', 'd'
	return t
}

// foldRune returns the ASCII letter a Vietnamese letter folds to, 0 for a
// combining mark (dropped), and -1 for anything else.
func foldRune(r rune) int {
	switch {
	case r >= foldLo1 && r <= foldHi1:
		if b := foldTable[r-foldLo1]; b != 0 {
			return int(b)
		}
	case r >= foldLo2 && r <= foldHi2:
		if b := foldTable[int(r-foldLo2)+(foldHi1-foldLo1+1)]; b != 0 {
			return int(b)
		}
	case r >= 0x0300 && r <= 0x036F: // combining diacritics of decomposed input
		return 0
	}
	return -1
}

// Fold lower-cases s, removes Vietnamese diacritics (đ → d) and reduces
// punctuation and runs of space to single spaces: "Thị trấn  Phú-Mỹ" folds to
// "thi tran phu my". Numbers lose leading zeros ("Phường 03" → "phuong 3").
func Fold(s string) string {
	var tz tokenizer
	tz.run(s)
	b := make([]byte, 0, len(tz.buf)+len(tz.toks))
	for i, t := range tz.toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, tz.buf[t.lo:t.hi]...)
	}
	return string(b)
}

// token is one word of a folded address: buf[lo:hi] in the tokenizer, the
// original text at [start,end), and whether a comma-like break precedes it.
type token struct {
	lo, hi     int32
	start, end int32
	brk        bool
	id         uint32 // the word's id in the index; 0 when unknown
}

// tokenizer splits text into folded words. Letters and digits make words;
// a run of letters followed by digits is split ("p3" → "p", "3"); numbers
// lose leading zeros; ',', ';', '|' and line breaks mark segment breaks.
type tokenizer struct {
	buf  []byte
	toks []token
}

func (tz *tokenizer) run(s string) {
	tz.buf, tz.toks = tz.buf[:0], tz.toks[:0]
	var cur token
	in, digits, brk := false, false, false
	flush := func(at int) {
		if !in {
			return
		}
		cur.hi, cur.end = int32(len(tz.buf)), int32(at)
		if digits { // drop leading zeros, keep one "0"
			lo := cur.lo
			for lo < cur.hi-1 && tz.buf[lo] == '0' {
				lo++
			}
			if lo > cur.lo {
				n := copy(tz.buf[cur.lo:], tz.buf[lo:cur.hi])
				tz.buf = tz.buf[:int(cur.lo)+n]
				cur.hi = int32(len(tz.buf))
			}
		}
		tz.toks = append(tz.toks, cur)
		in = false
	}
	for i := 0; i < len(s); {
		c := s[i]
		var b int
		size := 1
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				b = int(c)
			case 'A' <= c && c <= 'Z':
				b = int(c + 'a' - 'A')
			case c == ',' || c == ';' || c == '|' || c == '\n' || c == '\r':
				b = -2
			default:
				b = -1
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			b = foldRune(r)
			if b < 0 && r != utf8.RuneError && unicode.IsLetter(r) {
				// A letter we cannot fold stays as itself, so foreign words
				// do not glue neighbours together.
				if in && digits {
					flush(i)
				}
				if !in {
					in, digits, cur = true, false, token{lo: int32(len(tz.buf)), start: int32(i), brk: brk}
					brk = false
				}
				tz.buf = append(tz.buf, s[i:i+size]...)
				i += size
				continue
			}
		}
		switch {
		case b == 0: // combining mark: part of the current word
		case b < 0:
			flush(i)
			if b == -2 {
				brk = true
			}
		default:
			isDigit := b <= '9'
			// "p3" → "p", "3"; but "12a", a house number, keeps its letter.
			if in && isDigit && !digits {
				flush(i)
			}
			if !in {
				in, digits, cur = true, isDigit, token{lo: int32(len(tz.buf)), start: int32(i), brk: brk}
				brk = false
			}
			tz.buf = append(tz.buf, byte(b))
		}
		i += size
	}
	flush(len(s))
}

// word returns the folded text of token i.
func (tz *tokenizer) word(i int) []byte { t := tz.toks[i]; return tz.buf[t.lo:t.hi] }
