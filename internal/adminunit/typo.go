package adminunit

import "strings"

// maxTypos is how many edits a name of n bytes may carry and still match:
// none below 5 bytes (too many short names are one edit apart), one up to 9,
// two from 10.
func maxTypos(n int) int {
	switch {
	case n < 5:
		return 0
	case n < 10:
		return 1
	}
	return 2
}

// editDistance is the optimal-string-alignment distance between a and b
// (insert, delete, substitute, swap two neighbours), or limit+1 when it
// exceeds limit.
func editDistance(a []byte, b string, limit int) int {
	const maxLen = 47
	if len(a) > maxLen || len(b) > maxLen {
		return limit + 1
	}
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	var rows [3][maxLen + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// joinWords writes the folded words [lo, hi) separated by spaces into s.buf;
// false if the range crosses a comma-like break.
func (s *scratch) joinWords(lo, hi int) ([]byte, bool) {
	s.buf = s.buf[:0]
	for k := lo; k < hi; k++ {
		if k > lo {
			if s.tz.toks[k].brk {
				return nil, false
			}
			s.buf = append(s.buf, ' ')
		}
		s.buf = append(s.buf, s.tz.word(k)...)
	}
	return s.buf, true
}

func hasUnknown(s *scratch, lo, hi int) bool {
	for k := lo; k < hi; k++ {
		if s.tz.toks[k].id == 0 {
			return true
		}
	}
	return false
}

// typePhrase returns the type bits of the words [a, b) read as one type word
// ("p", "thị trấn"); false when they are not one.
func (x *Index) typePhrase(s *scratch, a, b int) (uint16, bool) {
	var ids [2]uint32
	if b-a > len(ids) || a < 0 || b > len(s.tz.toks) {
		return 0, false
	}
	if b-a == 1 && s.tz.toks[a].id == 0 {
		return typoType(s.tz.word(a))
	}
	for j := a; j < b; j++ {
		t := s.tz.toks[j]
		if t.id == 0 || (j > a && t.brk) {
			return 0, false
		}
		ids[j-a] = t.id
	}
	bits, ok := x.types[hashIDs(ids[:b-a])]
	return bits, ok
}

// longTypes are the type words long enough to recognise with a typo
// ("phuờg", "huyn"); shorter ones are too close to other words.
var longTypes = []struct {
	word string
	bits uint16
}{{"phuong", tPhuong}, {"huyen", tHuyen}}

// typoType reads an unknown word as a long type word one edit away.
func typoType(w []byte) (uint16, bool) {
	if len(w) < 4 {
		return 0, false
	}
	for _, t := range longTypes {
		if editDistance(w, t.word, 1) <= 1 {
			return t.bits, true
		}
	}
	return 0, false
}

// typeBefore returns the type word ending at ns, if any, not reaching below lo.
func (x *Index) typeBefore(s *scratch, lo, ns int) (ts int, tb uint16) {
	if ns < len(s.tz.toks) && s.tz.toks[ns].brk {
		return ns, 0 // a comma between type and name: not its type
	}
	for k := 2; k >= 1; k-- {
		if ns-k < lo {
			continue
		}
		if b, ok := x.typePhrase(s, ns-k, ns); ok {
			return ns - k, b
		}
	}
	return ns, 0
}

// typeAt returns the length and bits of a type word starting at st.
func (x *Index) typeAt(s *scratch, st int) (int, uint16) {
	for k := 2; k >= 1; k-- {
		if b, ok := x.typePhrase(s, st, st+k); ok {
			return k, b
		}
	}
	return 0, 0
}

// typoProvince adds provinces whose name is within a small edit of the last
// words, when those words hold a word the index does not know.
func (x *Index) typoProvince(s *scratch, tail int) {
	for L := 1; L <= 4 && L <= tail; L++ {
		if !hasUnknown(s, tail-L, tail) {
			continue
		}
		text, ok := s.joinWords(tail-L, tail)
		if !ok {
			break
		}
		limit := maxTypos(len(text))
		bestD, found := limit+1, provOpt{legacy: -1, newp: -1}
		for i := range x.units {
			lvl := x.units[i].Level
			if lvl != LevelProvince && lvl != LevelLegacyProvince {
				continue
			}
			if d := editDistance(text, x.short[i], limit); d <= limit && d <= bestD {
				if d < bestD {
					found, bestD = provOpt{legacy: -1, newp: -1}, d
				}
				if lvl == LevelLegacyProvince {
					found.legacy, found.newp = int32(i), x.newProv[i]
				} else if found.legacy < 0 {
					found.newp = int32(i)
				}
			}
		}
		if found.newp >= 0 {
			ts, _ := x.typeBefore(s, 0, tail-L)
			found.start, found.end, found.typo, found.alias = ts, tail, true, true
			s.provs = append(s.provs, found)
			return
		}
	}
}

// typoWard looks, when no ward name matched exactly, for a ward of the named
// province within a small edit of the words before it.
func (x *Index) typoWard(s *scratch, head, tail int, opt Options) {
	for _, reversed := range []bool{false, true} {
		s.provs = s.provs[:0]
		x.provinces(s, head, tail, reversed)
		if len(s.provs) == 0 && !reversed {
			x.typoProvince(s, tail)
		}
		for _, p := range s.provs {
			d := distOpt{start: p.start, end: p.end, unit: -1}
			s.provLo, s.provHi = p.start, p.end
			if p.legacy >= 0 {
				x.typoWardIn(s, x.children[p.legacy], p, d, opt, reversed, true)
			}
			if p.newp >= 0 {
				x.typoWardIn(s, x.children[p.newp], p, d, opt, reversed, true)
			}
		}
	}
}

// typoWardIn adds readings of a ward of scope whose name is within a small
// edit of the words next to d (before it, or after it when reversed).
func (x *Index) typoWardIn(s *scratch, scope []int32, p provOpt, d distOpt, opt Options, reversed, needUnknown bool) {
	n := len(s.tz.toks)
	for _, w := range scope {
		lvl := x.units[w].Level
		if lvl != LevelWard && lvl != LevelLegacyWard {
			continue
		}
		name := x.short[w]
		L := strings.Count(name, " ") + 1
		var ts, ns int
		var tb uint16
		if reversed {
			ts, ns, tb = d.end, d.end, 0
			if k, b := x.typeAt(s, d.end); k > 0 {
				ns, tb = d.end+k, b
			}
		} else {
			ns = d.start - L
			if ns < 0 {
				continue
			}
			ts, tb = x.typeBefore(s, 0, ns)
		}
		// Across a whole province a near miss must be announced as a ward or
		// hold an unknown word: "Hà Nội, Hà Nội" is not a typo of "Hà Hồi".
		if ns+L > n || (needUnknown && tb&wardTypes == 0 && !hasUnknown(s, ns, ns+L)) || s.insideProvince(span{ns: ns, e: ns + L}, reversed) {
			continue
		}
		text, ok := s.joinWords(ns, ns+L)
		if !ok {
			continue
		}
		limit := maxTypos(len(name))
		if editDistance(text, name, limit) > limit || !x.typeOK(tb, w) {
			continue
		}
		c, ok := x.score(w, span{ts: ts, ns: ns, e: ns + L, tb: tb}, p, d, opt)
		if !ok {
			continue
		}
		c.typo = true
		if reversed {
			c.start, c.end = p.start, ns+L
		} else {
			c.start, c.end = ts, p.end
		}
		c.score -= 3
		s.cands = append(s.cands, c)
	}
}
