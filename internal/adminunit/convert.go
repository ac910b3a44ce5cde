package adminunit

import (
	"slices"
	"strings"
)

// Status is the outcome of converting one address.
type Status string

// The statuses of a conversion.
const (
	StatusExact     Status = "exact"     // one new ward
	StatusSplit     Status = "split"     // the legacy ward was divided; Candidates lists the new wards
	StatusNotFound  Status = "not_found" // no ward recognised (the province may be)
	StatusAmbiguous Status = "ambiguous" // several readings lead to different wards; Reason says why
)

// Rule records how a conversion was decided, for later reconciliation.
type Rule string

// The rules a conversion can use.
const (
	RuleExact   Rule = "exact"       // official names (case and diacritics aside), with their types
	RuleAlias   Rule = "alias"       // an alias, an abbreviation-free short name or a missing type word
	RuleTypo    Rule = "typo"        // a name matched with a small spelling error
	RuleStreet  Rule = "street_rule" // a divided ward decided by an earlier officer decision for the same street
	RuleOfficer Rule = "officer"     // decided by an officer for this record
)

// Form says which units an address names.
type Form string

// The forms of an address. FormAuto lets the converter decide; where an
// address reads both ways with no district to tell them apart, the current
// units win.
const (
	FormAuto   Form = ""
	FormLegacy Form = "legacy" // units in force before 1/7/2025
	FormNew    Form = "new"    // the two-tier units from 1/7/2025
)

// Reasons given with StatusAmbiguous and StatusNotFound.
const (
	ReasonEmpty            = "empty"
	ReasonTooLong          = "too_long"
	ReasonNoUnit           = "no_unit"
	ReasonNoWard           = "no_ward"
	ReasonSeveralDistricts = "ward_in_several_districts"
	ReasonOldAndNew        = "old_and_new_names"
	ReasonSeveralUnits     = "several_units"
)

// MaxAddress is the longest address (in bytes) the converter reads; longer
// input is answered not_found with ReasonTooLong, so time stays bounded.
const MaxAddress = 1024

// Options tune a conversion.
type Options struct {
	Form Form
}

// Result is the conversion of one address. The original text is always kept.
type Result struct {
	Input        string
	Status       Status
	Rule         Rule   // empty unless a ward was decided
	Form         Form   // the form the address was read in
	ProvinceCode string // the new province; set whenever it is known
	WardCode     string // the new ward; empty when undecided
	Candidates   []string
	Reason       string
	// The legacy units named, when the address was read in the legacy form.
	LegacyWardCode, LegacyDistrictCode, LegacyProvinceCode string
	// Street is the part of the address before the units: house number,
	// street, hamlet.
	Street string
	// Decoded names the legacy font encoding (EncodingTCVN3, EncodingVNI) the
	// address was read in, folded; empty for Unicode text.
	Decoded string
}

type provOpt struct {
	start, end int
	legacy     int32 // legacy province named, or -1
	newp       int32 // new province named or implied, or -1
	alias      bool
	typo       bool
	current    bool // the name is a current province's, not only a legacy one's
}

type distOpt struct {
	start, end int
	unit       int32
	alias      bool
	typed      bool
}

type cand struct {
	ns, ne     int // the ward name's words
	ward       int32
	district   int32
	prov       int32 // new province named, -1 when none
	score      int
	start, end int // token range of the units part
	alias      bool
	typo       bool
}

type scratch struct {
	input string
	// provLo, provHi bound the longest province name read at the end (or,
	// reversed, the start): no district or ward name is read inside it.
	provLo, provHi int
	head, tail     int // the address proper, without a country or postcode
	tz             tokenizer
	provs          []provOpt
	dists          []distOpt
	cands          []cand
	buf            []byte
}

// Convert reads a free-text address and converts it to the new units.
func (x *Index) Convert(addr string, opt Options) Result {
	res := Result{Input: addr, Status: StatusNotFound}
	if len(addr) > MaxAddress {
		res.Reason = ReasonTooLong
		return res
	}
	s := x.pool.Get().(*scratch)
	defer x.pool.Put(s)
	text := addr
	if suspectLegacy(addr) {
		if dec, enc := x.decodeLegacy(s, addr); enc != "" {
			text, res.Decoded = dec, enc
		}
	}
	s.input = text
	s.tz.run(text)
	toks := s.tz.toks
	if len(toks) == 0 {
		res.Reason = ReasonEmpty
		return res
	}
	for i := range toks {
		toks[i].id = x.words[string(s.tz.word(i))]
	}
	head, tail := x.trimEnds(s)
	s.head, s.tail = head, tail
	s.cands = s.cands[:0]
	// Both orders are read: "…, ward, district, province" and the reversed
	// "province, district, ward, …"; the better reading wins.
	x.chain(s, head, tail, false, opt)
	x.chain(s, head, tail, true, opt)
	if len(s.cands) == 0 {
		x.typoWard(s, head, tail, opt)
	}
	if len(s.cands) == 0 {
		res.Reason = ReasonNoUnit
		if p := x.bestProvince(s, head, tail); p >= 0 {
			res.ProvinceCode, res.Reason = x.units[p].Code, ReasonNoWard
		}
		return res
	}
	x.decide(s, &res)
	return res
}

// trimEnds leaves out a country name or postcode at either end: the words
// [head, tail) are the address proper.
func (x *Index) trimEnds(s *scratch) (head, tail int) {
	word := func(i int) string { return string(s.tz.word(i)) }
	tail = len(s.tz.toks)
	for tail > 0 {
		w := word(tail - 1)
		switch {
		case w == "vn" || w == "vietnam":
			tail--
		case w == "nam" && tail > 1 && word(tail-2) == "viet":
			tail -= 2
		case len(w) >= 5 && isDigits(w):
			tail--
		default:
			goto start
		}
	}
start:
	for head < tail {
		switch w := word(head); {
		case w == "vn" || w == "vietnam":
			head++
		case w == "viet" && head+1 < tail && word(head+1) == "nam":
			head += 2
		default:
			return head, tail
		}
	}
	return head, tail
}

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// span is a name found in the address: the type word (if any) starts at ts,
// the name runs [ns, e).
type span struct {
	ts, ns, e int
	tb        uint16
	refs      []nameRef
}

// spanAt looks up the name at [ns, e) and the type word before it.
func (x *Index) spanAt(s *scratch, lo, ns, e int) (span, bool) {
	toks := s.tz.toks
	var ids [16]uint32
	L := e - ns
	if L <= 0 || L > len(ids) {
		return span{}, false
	}
	digits := true
	for k := ns; k < e; k++ {
		if toks[k].id == 0 || (k > ns && toks[k].brk) {
			return span{}, false
		}
		ids[k-ns] = toks[k].id
		digits = digits && isDigits(string(s.tz.word(k)))
	}
	refs := x.names[hashIDs(ids[:L])]
	if len(refs) == 0 || !slices.Equal(x.nameIDs[refs[0].entry], ids[:L]) {
		return span{}, false
	}
	sp := span{ts: ns, ns: ns, e: e, refs: refs}
	sp.ts, sp.tb = x.typeBefore(s, lo, ns)
	// A bare number is a house number, not "Phường 3".
	if digits && sp.tb == 0 {
		return span{}, false
	}
	return sp, true
}

// typeOK reports whether a type word (or none) fits unit u.
func (x *Index) typeOK(tb uint16, u int32) bool {
	return tb == 0 || tb&x.tbits[u] != 0
}

// chain finds readings of the units part of the address: ward, then
// optionally district, then optionally province, ending at tail; or, when
// reversed, province, district, ward starting at head.
func (x *Index) chain(s *scratch, head, tail int, reversed bool, opt Options) {
	s.provs = s.provs[:0]
	x.provinces(s, head, tail, reversed)
	if len(s.provs) == 0 {
		if reversed {
			return // a reversed address is only recognised by its leading province
		}
		x.typoProvince(s, tail)
	}
	s.provLo, s.provHi = tail, head
	for _, p := range s.provs {
		s.provLo, s.provHi = min(s.provLo, p.start), max(s.provHi, p.end)
	}
	if !reversed {
		s.provs = append(s.provs, provOpt{start: tail, end: tail, legacy: -1, newp: -1})
	}
	for _, p := range s.provs {
		s.dists = s.dists[:0]
		x.districts(s, head, tail, p, reversed)
		s.dists = append(s.dists, distOpt{start: p.start, end: p.end, unit: -1})
		for _, d := range s.dists {
			before := len(s.cands)
			x.wards(s, head, tail, p, d, reversed, opt)
			if len(s.cands) == before && d.unit >= 0 {
				// The district is known and no ward name matched: try the
				// district's wards allowing a small spelling error.
				x.typoWardIn(s, x.children[d.unit], p, d, opt, reversed, false)
			}
			if len(s.cands) == before && d.unit >= 0 && len(x.linksFrom[d.unit]) > 0 {
				// An island district without wards became a special zone
				// directly: the district alone says where the address is.
				x.districtOnly(s, p, d, reversed)
			}
		}
	}
}

// districtOnly adds the reading of an address naming a ward-less district
// (the islands that became special zones) and no ward.
func (x *Index) districtOnly(s *scratch, p provOpt, d distOpt, reversed bool) {
	c := cand{ward: d.unit, district: d.unit, prov: p.newp, alias: p.alias || d.alias || !d.typed, typo: p.typo}
	c.score = 7 + 8
	if ok, strong := x.provinceOK(p, d.unit); !ok {
		return
	} else if p.legacy >= 0 || p.newp >= 0 {
		c.score += 5
		if strong {
			c.score++
		}
	}
	c.start, c.end = d.start, p.end
	if reversed {
		c.start, c.end = p.start, d.end
	}
	s.cands = append(s.cands, c)
}

// fitting returns the span as read for ref r: with its type word when the
// word fits r, else without it, the word then belonging to the name before
// ("… Đan Phượng HN": "phượng" is not "Phường" before "HN").
func (x *Index) fitting(sp span, r nameRef) span {
	if x.typeOK(sp.tb, r.unit) {
		return sp
	}
	sp.ts, sp.tb = sp.ns, 0
	return sp
}

func (x *Index) provinces(s *scratch, head, tail int, reversed bool) {
	add := func(sp span) {
		// Refs the type word fits, then the ones read without it.
		opts := [2]provOpt{{legacy: -1, newp: -1}, {legacy: -1, newp: -1}}
		for _, r := range sp.refs {
			lvl := x.units[r.unit].Level
			if lvl != LevelLegacyProvince && lvl != LevelProvince {
				continue
			}
			rs := x.fitting(sp, r)
			o := &opts[0]
			if rs.tb == 0 {
				o = &opts[1]
			}
			o.start, o.end = rs.ts, rs.e
			if lvl == LevelLegacyProvince {
				if o.legacy < 0 {
					o.legacy = r.unit
				}
			} else {
				o.newp, o.current = r.unit, true
			}
			o.alias = o.alias || r.alias || rs.tb == 0
		}
		for _, o := range opts {
			if o.legacy < 0 && o.newp < 0 || (reversed && o.start != sp.ts) {
				continue
			}
			if o.newp < 0 {
				o.newp = x.newProv[o.legacy]
			}
			s.provs = append(s.provs, o)
		}
	}
	at := tail
	if reversed {
		at = head
	}
	x.spansNext(s, head, tail, at, reversed, add)
}

// insideProvince reports whether a name lies within the longest province
// name read: "Bà Rịa" in "Tỉnh Bà Rịa - Vũng Tàu" is part of the province,
// not a ward before a province "Vũng Tàu".
func (s *scratch) insideProvince(sp span, reversed bool) bool {
	if reversed {
		return sp.e <= s.provHi
	}
	return sp.ns >= s.provLo
}

// spansNext calls fn for every name next to the anchor at: ending there in
// the usual order, starting there (perhaps after a type word) when reversed.
func (x *Index) spansNext(s *scratch, head, tail, at int, reversed bool, fn func(span)) {
	for L := 1; L <= x.maxName; L++ {
		if reversed {
			x.spansFrom(s, head, tail, at, L, fn)
		} else if at-L >= head {
			if sp, ok := x.spanAt(s, head, at-L, at); ok {
				fn(sp)
			}
		}
	}
}

// spansFrom calls fn for a name of L words at st, or after a type word at st.
func (x *Index) spansFrom(s *scratch, lo, hi, st, L int, fn func(span)) {
	for k := 0; k <= 2; k++ {
		ns := st + k
		if ns+L > hi {
			return
		}
		sp, ok := x.spanAt(s, st, ns, ns+L) // the type word, if any, is at st, not before it
		if ok && sp.ts == st {
			fn(sp)
		}
	}
}

func (x *Index) provinceOK(p provOpt, u int32) (ok, strong bool) {
	if p.legacy < 0 && p.newp < 0 {
		return true, false
	}
	if p.legacy >= 0 && x.legacyProv[u] == p.legacy {
		return true, true
	}
	return p.newp >= 0 && x.newProv[u] == p.newp, false
}

func (x *Index) districts(s *scratch, head, tail int, p provOpt, reversed bool) {
	add := func(sp span) {
		if s.insideProvince(sp, reversed) {
			return
		}
		for _, r := range sp.refs {
			if x.units[r.unit].Level != LevelLegacyDistrict {
				continue
			}
			rs := x.fitting(sp, r)
			if reversed && rs.ts != sp.ts {
				continue
			}
			if ok, _ := x.provinceOK(p, r.unit); ok {
				s.dists = append(s.dists, distOpt{start: rs.ts, end: rs.e, unit: r.unit, alias: r.alias, typed: rs.tb != 0})
			}
		}
	}
	at := p.start
	if reversed {
		at = p.end
	}
	x.spansNext(s, head, tail, at, reversed, add)
}

// wards adds the readings with a ward named next to district d (or, when
// d.unit < 0, next to province p). Without a district, a ward name that is
// the tail of a district named with its type ("Q. Nam Từ Liêm") is not read
// as a ward, and an untyped ward name alone, with neither district nor
// province, is taken for a street.
func (x *Index) wards(s *scratch, head, tail int, p provOpt, d distOpt, reversed bool, opt Options) {
	add := func(sp span) {
		// A name announced as a district or province ("huyện An Dương") is
		// not a ward, even when a ward has that name now.
		if s.insideProvince(sp, reversed) || (sp.tb != 0 && sp.tb&wardTypes == 0) {
			return
		}
		if d.unit < 0 {
			for _, od := range s.dists {
				if od.unit >= 0 && od.typed && ((!reversed && od.start <= sp.ns) || (reversed && od.end >= sp.e)) {
					return
				}
			}
		}
		for _, r := range sp.refs {
			lvl := x.units[r.unit].Level
			if lvl != LevelWard && lvl != LevelLegacyWard {
				continue
			}
			rs := x.fitting(sp, r)
			if reversed && rs.ts != sp.ts {
				continue
			}
			if rs.tb == 0 && d.unit < 0 && p.newp < 0 {
				continue
			}
			c, ok := x.score(r.unit, rs, p, d, opt)
			if !ok {
				continue
			}
			c.alias = c.alias || r.alias
			c.ns, c.ne = rs.ns, rs.e
			if reversed {
				c.start, c.end = p.start, rs.e
			} else {
				c.start, c.end = rs.ts, p.end
			}
			s.cands = append(s.cands, c)
		}
	}
	at := d.start
	if reversed {
		at = d.end
	}
	x.spansNext(s, head, tail, at, reversed, add)
}

// score rates ward u read with district d and province p; false when they
// contradict each other.
func (x *Index) score(u int32, sp span, p provOpt, d distOpt, opt Options) (cand, bool) {
	legacy := x.units[u].Level == LevelLegacyWard
	c := cand{ward: u, district: d.unit, prov: p.newp, alias: p.alias || d.alias || sp.tb == 0 || (d.unit >= 0 && !d.typed), typo: p.typo}
	c.score = 7 + (sp.e - sp.ns)
	if sp.tb != 0 {
		c.score += 3
	}
	if d.unit >= 0 {
		switch {
		case legacy && x.parent[u] == d.unit && d.typed:
			c.score += 8
		case legacy && x.parent[u] == d.unit:
			c.score += 6 // an untyped district may be the end of a longer ward name
		case !legacy && slices.Contains(x.succ[d.unit], u):
			c.score += 3 // a new ward written with its old district
		default:
			return c, false
		}
	}
	if ok, strong := x.provinceOK(p, u); !ok {
		return c, false
	} else if p.legacy >= 0 || p.newp >= 0 {
		c.score += 5
		if strong {
			c.score++
		}
	}
	switch {
	case opt.Form == FormLegacy && !legacy, opt.Form == FormNew && legacy:
		c.score -= 15
	case opt.Form == FormAuto && legacy && p.legacy >= 0 && !p.current:
		c.score += 3 // the province's name is gone: the address is old
	case opt.Form == FormAuto && !legacy && d.unit < 0 && (p.current || p.newp < 0):
		c.score += 2 // current units first when nothing says the address is old
	}
	if p.typo {
		c.score -= 2
	}
	return c, true
}

// decide picks the best reading, or reports why there is none.
func (x *Index) decide(s *scratch, res *Result) {
	best := s.cands[0].score
	for _, c := range s.cands[1:] {
		best = max(best, c.score)
	}
	x.preferAccents(s, best)
	var top cand
	n, same := 0, true
	legacyOnly, newOnly, oneDistrict := true, true, true
	for _, c := range s.cands {
		if c.score != best {
			continue
		}
		if n == 0 {
			top = c
		} else if !slices.Equal(x.outcome(c.ward), x.outcome(top.ward)) {
			same = false
		}
		n++
		if x.units[c.ward].Level == LevelLegacyWard {
			newOnly = false
			oneDistrict = oneDistrict && x.parent[c.ward] == x.parent[top.ward]
		} else {
			legacyOnly = false
		}
	}
	toks := s.tz.toks
	if top.start > s.head {
		res.Street = trimStreet(s.input[toks[s.head].start:toks[top.start].start])
	} else if top.end < s.tail {
		res.Street = trimStreet(s.input[toks[top.end].start:toks[s.tail-1].end])
	}
	if !same {
		res.Status = StatusAmbiguous
		switch {
		case legacyOnly && !oneDistrict:
			res.Reason = ReasonSeveralDistricts
		case !legacyOnly && !newOnly:
			res.Reason = ReasonOldAndNew
		default:
			res.Reason = ReasonSeveralUnits
		}
		for _, c := range s.cands {
			if c.score != best {
				continue
			}
			for _, w := range x.outcome(c.ward) {
				if code := x.units[w].Code; !slices.Contains(res.Candidates, code) {
					res.Candidates = append(res.Candidates, code)
				}
			}
		}
		if p := x.newProv[top.ward]; p >= 0 {
			res.ProvinceCode = x.units[p].Code
			for _, c := range s.cands {
				if c.score == best && x.newProv[c.ward] != p {
					res.ProvinceCode = ""
				}
			}
		}
		return
	}
	u := &x.units[top.ward]
	res.Rule = RuleExact
	if top.alias {
		res.Rule = RuleAlias
	}
	if top.typo {
		res.Rule = RuleTypo
	}
	if p := x.newProv[top.ward]; p >= 0 {
		res.ProvinceCode = x.units[p].Code
	}
	if u.Level == LevelWard {
		res.Status, res.Form, res.WardCode = StatusExact, FormNew, u.Code
		return
	}
	res.Form = FormLegacy
	if u.Level == LevelLegacyDistrict {
		res.LegacyDistrictCode, res.LegacyProvinceCode = u.Code, u.ProvinceCode
	} else {
		res.LegacyWardCode, res.LegacyDistrictCode, res.LegacyProvinceCode = u.Code, u.ParentCode, u.ProvinceCode
	}
	succ := x.succ[top.ward]
	switch len(succ) {
	case 0:
		res.Status, res.Rule, res.Reason = StatusNotFound, "", ReasonNoWard
	case 1:
		res.Status, res.WardCode = StatusExact, x.units[succ[0]].Code
	default:
		res.Status, res.Rule = StatusSplit, ""
		res.Candidates = make([]string, len(succ))
		for i, w := range succ {
			res.Candidates[i] = x.units[w].Code
		}
		if len(x.rules) > 0 && res.Street != "" {
			if w, ok := x.rules[ruleKey{top.ward, StreetKey(res.Street)}]; ok {
				res.WardCode, res.Rule = x.units[w].Code, RuleStreet
			}
		}
	}
}

// preferAccents settles ties between wards whose names differ only in
// diacritics ("Văn Lang", "Văn Lăng"): when the address wrote the name with
// its diacritics and that spelling matches some of the tied wards exactly,
// the others drop out.
func (x *Index) preferAccents(s *scratch, best int) {
	toks := s.tz.toks
	var input string
	matched := 0
	for i := range s.cands {
		c := &s.cands[i]
		if c.score != best || c.ne <= c.ns {
			continue
		}
		input = s.input[toks[c.ns].start:toks[c.ne-1].end]
		if strings.EqualFold(input, x.units[c.ward].Short) {
			matched++
		}
	}
	if matched == 0 {
		return
	}
	for i := range s.cands {
		c := &s.cands[i]
		if c.score == best && c.ne > c.ns && !strings.EqualFold(s.input[toks[c.ns].start:toks[c.ne-1].end], x.units[c.ward].Short) {
			c.score--
		}
	}
}

// outcome is what a ward reading leads to: the new wards.
func (x *Index) outcome(w int32) []int32 {
	if x.units[w].Level == LevelWard {
		return []int32{w}[:1:1]
	}
	return x.succ[w]
}

func trimStreet(s string) string {
	return strings.Trim(s, " \t,;.-–|/\r\n")
}

// bestProvince returns the new province named at either end, or -1.
func (x *Index) bestProvince(s *scratch, head, tail int) int32 {
	s.provs = s.provs[:0]
	x.provinces(s, head, tail, false)
	if len(s.provs) == 0 {
		x.typoProvince(s, tail)
	}
	for _, p := range s.provs {
		if p.newp >= 0 {
			return p.newp
		}
	}
	return -1
}

// StreetKey folds the street part of an address into the key an officer's
// decision is remembered under: house numbers and the words "số", "đường",
// "phố" dropped, so "Số 12 đường Lê Lợi" and "45 Le Loi" share "le loi".
func StreetKey(street string) string {
	words := strings.Fields(Fold(street))
	for len(words) > 0 {
		w := words[0]
		if w == "so" || w == "sn" || w == "nha" || w == "duong" || w == "pho" || w == "d" || (w[0] >= '0' && w[0] <= '9') {
			words = words[1:]
			continue
		}
		break
	}
	return strings.Join(words, " ")
}
