package adminunit

import (
	"strings"
	"unicode/utf8"
)

// Old records were typed with the TCVN3 (ABC) and VNI fonts, which put
// Vietnamese letters on Latin-1 code points; read as Unicode they come out as
// "Ph­êng BÕn NghÐ" (TCVN3) or "Phöôøng Beán Ngheù" (VNI). The converter folds
// such text back to plain letters when that makes more of its words known.

// Encodings a legacy address can be decoded from.
const (
	EncodingTCVN3 = "tcvn3"
	EncodingVNI   = "vni"
)

// vnLatin1 are the Latin-1 letters proper Vietnamese Unicode text uses; any
// other character in U+00A1–U+00FF suggests a legacy font encoding.
const vnLatin1 = "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý"

// tcvn3Base maps each TCVN3 code point to the plain letter it carries, by
// letter: the tone and vowel marks are what folding drops anyway.
var tcvn3Base = buildLegacyTable(map[byte]string{
	'a': "µ¶·¸¹¨»¼½¾Æ©ÇÈÉÊË¡¢",
	'e': "ÌÎÏÐÑªÒÓÔÕÖ£",
	'i': "×ØÜÝÞ",
	'o': "ßáâãä«åæçèé¬êëìíî¤¥",
	'u': "ïñòóô\u00adõö÷øù¦",
	'y': "úûüýþ",
	'd': "®§",
})

// vniLetters are VNI code points that stand for a letter by themselves (ơ, ư,
// đ, ĩ, ỉ, ị, ỵ); vniMarks follow a letter and only carry its marks.
var (
	vniLetters = buildLegacyTable(map[byte]string{
		'o': "ôÔ",
		'u': "öÖ",
		'd': "ñÑ",
		'i': "óÓæÆòÒìÌíÍ",
		'y': "îÎ",
	})
	vniMarks = "ØÙÛÕÏÂÊÁÀÅÃÄÉÈÚÜËøùûõïâêáàåãäéèúüë"
)

func buildLegacyTable(letters map[byte]string) map[rune]byte {
	m := map[rune]byte{}
	for b, s := range letters {
		for _, r := range s {
			m[r] = b
		}
	}
	return m
}

// suspectLegacy reports whether s holds a character no Vietnamese Unicode
// text has, but TCVN3 or VNI text does.
func suspectLegacy(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < utf8.RuneSelf {
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xA0 && r <= 0xFF && !strings.ContainsRune(vnLatin1, r) {
			return true
		}
		i += size - 1
	}
	return false
}

// foldTCVN3 folds s read as TCVN3.
func foldTCVN3(s string) string {
	var b strings.Builder
	for _, r := range s {
		if c, ok := tcvn3Base[r]; ok {
			b.WriteByte(c)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldVNI folds s read as VNI: letter code points become their letter, mark
// code points after a letter are dropped.
func foldVNI(s string) string {
	var b strings.Builder
	afterLetter := false
	for _, r := range s {
		switch c, ok := vniLetters[r]; {
		case ok:
			b.WriteByte(c)
			afterLetter = true
		case afterLetter && strings.ContainsRune(vniMarks, r):
			// a mark of the letter before: dropped, the letter stays
		default:
			b.WriteRune(r)
			afterLetter = r < utf8.RuneSelf && ('a' <= r|0x20 && r|0x20 <= 'z')
		}
	}
	return b.String()
}

// decodeLegacy returns s folded from TCVN3 or VNI, and which, when that
// makes more of its words ones the index knows than reading it as Unicode.
func (x *Index) decodeLegacy(s *scratch, addr string) (string, string) {
	best, enc, known := "", "", x.knownWords(s, addr)
	for _, c := range []struct{ enc, text string }{{EncodingTCVN3, foldTCVN3(addr)}, {EncodingVNI, foldVNI(addr)}} {
		if n := x.knownWords(s, c.text); n > known {
			best, enc, known = c.text, c.enc, n
		}
	}
	return best, enc
}

// knownWords counts the words of text the index knows.
func (x *Index) knownWords(s *scratch, text string) int {
	s.tz.run(text)
	n := 0
	for i := range s.tz.toks {
		if _, ok := x.words[string(s.tz.word(i))]; ok {
			n++
		}
	}
	return n
}
