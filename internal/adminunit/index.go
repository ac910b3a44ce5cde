package adminunit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Index is a read-only, in-memory view of a Register built for fast lookups
// and address conversion. It is safe for concurrent use.
type Index struct {
	units  []Unit
	byCode [LevelLegacyWard + 1]map[string]int32
	folded []string // folded Name of each unit, for search
	short  []string // folded Short of each unit, for typo matching
	tbits  []uint16 // type bit of each unit

	words   map[string]uint32 // folded word → id, 1-based
	names   map[uint64][]nameRef
	nameIDs [][]uint32 // word ids of each name entry, to rule out hash collisions
	types   map[uint64]uint16
	maxName int

	newProv    []int32   // the new province each unit is in (or became part of); -1 when unknown
	legacyProv []int32   // the legacy province of each legacy unit; -1 otherwise
	parent     []int32   // ParentCode resolved; -1 for none
	succ       [][]int32 // legacy ward or district → new wards it went to
	pred       [][]int32 // new ward → legacy wards (and island districts) it came from
	children   [][]int32 // district → legacy wards; province → its wards (legacy or new)
	links      []Link
	linksFrom  map[int32][]int32 // unit → positions in links
	linksTo    map[int32][]int32

	rules   map[ruleKey]int32
	aliases map[int32][]string // other names of each unit

	pool sync.Pool
}

type nameRef struct {
	unit  int32
	entry int32 // position in nameIDs
	alias bool  // the name is an alias, not the official short name
}

type ruleKey struct {
	legacy int32
	street string
}

// Type bits: the kinds of unit a type word in an address can announce.
const (
	tPhuong uint16 = 1 << iota
	tXa
	tThiTran
	tDacKhu
	tQuan
	tHuyen
	tThiXa
	tThanhPho
	tTinh
)

// wardTypes are the type bits of wards, legacy or new.
const wardTypes = tPhuong | tXa | tThiTran | tDacKhu

// typeWords are the ways addresses write unit types, folded.
var typeWords = map[string]uint16{
	"phuong": tPhuong, "p": tPhuong, "f": tPhuong, "ph": tPhuong,
	"xa": tXa, "x": tXa,
	"thi tran": tThiTran, "tt": tThiTran, "ttr": tThiTran,
	"dac khu": tDacKhu, "dk": tDacKhu,
	"quan": tQuan, "q": tQuan,
	"huyen": tHuyen, "h": tHuyen,
	"thi xa": tThiXa, "tx": tThiXa,
	"thanh pho": tThanhPho, "tp": tThanhPho, "t p": tThanhPho, "thanhpho": tThanhPho,
	"tinh": tTinh, "t": tTinh,
	"thu do": tThanhPho,
}

var unitTypeBits = map[string]uint16{
	"phuong": tPhuong, "xa": tXa, "thi tran": tThiTran, "dac khu": tDacKhu,
	"quan": tQuan, "huyen": tHuyen, "thi xa": tThiXa, "thanh pho": tThanhPho, "tinh": tTinh,
}

// provinceAliases are other names people write for provinces, folded, each
// pointing to a folded short name of a legacy or new province.
var provinceAliases = map[string][]string{
	"hcm": {"ho chi minh"}, "tphcm": {"ho chi minh"}, "hochiminh": {"ho chi minh"}, "tp hcm": {"ho chi minh"},
	"sai gon": {"ho chi minh"}, "saigon": {"ho chi minh"}, "sg": {"ho chi minh"}, "ho chi minh city": {"ho chi minh"},
	"hn": {"ha noi"}, "hanoi": {"ha noi"},
	"tt hue": {"thua thien hue", "hue"}, "thua thien hue": {"hue"}, "tth": {"thua thien hue", "hue"},
	"brvt": {"ba ria vung tau"}, "br vt": {"ba ria vung tau"}, "vung tau": {"ba ria vung tau"},
	"daklak": {"dak lak"}, "dac lak": {"dak lak"}, "dak lac": {"dak lak"}, "dac lac": {"dak lak"},
	"daknong": {"dak nong"}, "dac nong": {"dak nong"}, "kontum": {"kon tum"},
	"danang": {"da nang"}, "haiphong": {"hai phong"}, "hp": {"hai phong"}, "cantho": {"can tho"},
}

// NewIndex builds the index of reg. It fails on a register that contradicts
// itself (a link to a unit it does not hold, a duplicated code).
func NewIndex(reg *Register) (*Index, error) {
	n := len(reg.Units)
	x := &Index{
		units:      slices.Clone(reg.Units),
		folded:     make([]string, n),
		short:      make([]string, n),
		tbits:      make([]uint16, n),
		words:      map[string]uint32{},
		names:      map[uint64][]nameRef{},
		types:      map[uint64]uint16{},
		newProv:    make([]int32, n),
		legacyProv: make([]int32, n),
		parent:     make([]int32, n),
		succ:       make([][]int32, n),
		pred:       make([][]int32, n),
		children:   make([][]int32, n),
		linksFrom:  map[int32][]int32{},
		linksTo:    map[int32][]int32{},
	}
	for l := range x.byCode {
		x.byCode[l] = map[string]int32{}
	}
	for i := range x.units {
		u := &x.units[i]
		if u.Level < LevelProvince || u.Level > LevelLegacyWard {
			return nil, fmt.Errorf("unit %s: unknown level %d", u.Code, u.Level)
		}
		if _, dup := x.byCode[u.Level][u.Code]; dup {
			return nil, fmt.Errorf("unit %s %s: code listed twice", u.Level, u.Code)
		}
		x.byCode[u.Level][u.Code] = int32(i)
		x.folded[i], x.short[i] = Fold(u.Name), Fold(u.Short)
		x.tbits[i] = unitTypeBits[Fold(u.Type)]
		x.newProv[i], x.legacyProv[i], x.parent[i] = -1, -1, -1
	}
	for i := range x.units {
		u := &x.units[i]
		switch u.Level {
		case LevelWard, LevelLegacyDistrict:
			x.parent[i] = x.lookup(provinceLevel(u.Level), u.ParentCode)
		case LevelLegacyWard:
			x.parent[i] = x.lookup(LevelLegacyDistrict, u.ParentCode)
		}
		if u.Level.Legacy() {
			x.legacyProv[i] = x.lookup(LevelLegacyProvince, u.ProvinceCode)
		} else {
			x.newProv[i] = x.lookup(LevelProvince, u.ProvinceCode)
		}
		if p := x.parent[i]; p >= 0 {
			x.children[p] = append(x.children[p], int32(i))
		}
		if u.Level == LevelLegacyWard { // also listed under its province, for typo matching
			if p := x.lookup(LevelLegacyProvince, u.ProvinceCode); p >= 0 {
				x.children[p] = append(x.children[p], int32(i))
			}
		}
	}
	for li, l := range reg.Links {
		from, to := x.lookup(l.FromLevel, l.FromCode), x.lookup(l.ToLevel, l.ToCode)
		if from < 0 || to < 0 {
			return nil, fmt.Errorf("link %s %s → %s %s: unit not in the register", l.FromLevel, l.FromCode, l.ToLevel, l.ToCode)
		}
		if !l.FromLevel.Legacy() || l.ToLevel.Legacy() || !l.Kind.Valid() {
			return nil, fmt.Errorf("link %s %s → %s %s: not a legacy → new link of a known kind", l.FromLevel, l.FromCode, l.ToLevel, l.ToCode)
		}
		x.links = append(x.links, l)
		x.linksFrom[from] = append(x.linksFrom[from], int32(li))
		x.linksTo[to] = append(x.linksTo[to], int32(li))
		if l.ToLevel == LevelWard {
			x.succ[from] = append(x.succ[from], to)
			x.pred[to] = append(x.pred[to], from)
		}
		if l.FromLevel == LevelLegacyProvince && l.ToLevel == LevelProvince {
			x.newProv[from] = to
		}
	}
	// Legacy units other than provinces are in the new province of their
	// legacy province (no legacy province was split in 2025), or, failing
	// that, of the wards they went to.
	for i := range x.units {
		if !x.units[i].Level.Legacy() || x.units[i].Level == LevelLegacyProvince {
			continue
		}
		if lp := x.legacyProv[i]; lp >= 0 && x.newProv[lp] >= 0 {
			x.newProv[i] = x.newProv[lp]
		} else if s := x.succ[i]; len(s) > 0 {
			x.newProv[i] = x.newProv[s[0]]
		}
	}
	// A district goes wherever its wards went.
	for i := range x.units {
		if x.units[i].Level != LevelLegacyWard || x.parent[i] < 0 {
			continue
		}
		d := x.parent[i]
		for _, s := range x.succ[i] {
			if !slices.Contains(x.succ[d], s) {
				x.succ[d] = append(x.succ[d], s)
			}
		}
	}
	x.buildNames()
	x.aliases = map[int32][]string{}
	for _, a := range reg.Aliases {
		u := x.lookup(a.Level, a.Code)
		if u < 0 {
			return nil, fmt.Errorf("alias %q of %s %s: unit not in the register", a.Name, a.Level, a.Code)
		}
		short := strings.TrimSpace(a.Name)
		if t := x.units[u].Type; t != "" && len(short) > len(t) && strings.EqualFold(short[:len(t)], t) {
			short = strings.TrimSpace(short[len(t):])
		}
		x.addName(Fold(short), u, true)
		x.aliases[u] = append(x.aliases[u], a.Name)
	}
	x.pool.New = func() any { return new(scratch) }
	return x, nil
}

// Aliases returns the other names a unit goes by.
func (x *Index) Aliases(l Level, code string) []string {
	return x.aliases[x.lookup(l, code)]
}

func provinceLevel(l Level) Level {
	if l.Legacy() {
		return LevelLegacyProvince
	}
	return LevelProvince
}

func (x *Index) lookup(l Level, code string) int32 {
	if int(l) >= len(x.byCode) || x.byCode[l] == nil {
		return -1
	}
	if i, ok := x.byCode[l][code]; ok {
		return i
	}
	return -1
}

// wordIDs returns the ids of the words of folded text, adding new words.
func (x *Index) wordIDs(folded string) []uint32 {
	var ids []uint32
	for w := range strings.FieldsSeq(folded) {
		id, ok := x.words[w]
		if !ok {
			id = uint32(len(x.words) + 1)
			x.words[w] = id
		}
		ids = append(ids, id)
	}
	return ids
}

const (
	hashSeed  uint64 = 14695981039346656037
	hashPrime uint64 = 1099511628211
)

func hashIDs(ids []uint32) uint64 {
	h := hashSeed
	for _, id := range ids {
		h = (h ^ uint64(id)) * hashPrime
		h ^= h >> 29
	}
	return h
}

func (x *Index) addName(folded string, unit int32, alias bool) {
	ids := x.wordIDs(folded)
	if len(ids) == 0 {
		return
	}
	k := hashIDs(ids)
	for _, r := range x.names[k] {
		if r.unit == unit {
			return
		}
	}
	x.names[k] = append(x.names[k], nameRef{unit: unit, entry: int32(len(x.nameIDs)), alias: alias})
	x.nameIDs = append(x.nameIDs, ids)
	x.maxName = max(x.maxName, len(ids))
}

func (x *Index) buildNames() {
	for w, bits := range typeWords {
		x.types[hashIDs(x.wordIDs(w))] = bits
	}
	byShort := map[string][]int32{}
	for i := range x.units {
		x.addName(x.short[i], int32(i), false)
		if x.units[i].Level == LevelProvince || x.units[i].Level == LevelLegacyProvince {
			byShort[x.short[i]] = append(byShort[x.short[i]], int32(i))
		}
	}
	for alias, targets := range provinceAliases {
		for _, t := range targets {
			for _, u := range byShort[t] {
				x.addName(alias, u, true)
			}
		}
	}
}

// Units returns every unit of level l, in register order.
func (x *Index) Units(l Level) []*Unit {
	var out []*Unit
	for i := range x.units {
		if x.units[i].Level == l {
			out = append(out, &x.units[i])
		}
	}
	return out
}

// Count returns the number of units of level l.
func (x *Index) Count(l Level) int {
	if int(l) >= len(x.byCode) {
		return 0
	}
	return len(x.byCode[l])
}

// Len returns the number of units in the index.
func (x *Index) Len() int { return len(x.units) }

// Unit returns the unit of level l with code.
func (x *Index) Unit(l Level, code string) (*Unit, bool) {
	i := x.lookup(l, code)
	if i < 0 {
		return nil, false
	}
	return &x.units[i], true
}

// CodeAt returns the ward or province that code meant on day t: a 5-digit
// code is a ward, 3 digits a legacy district, 2 a province. Codes were
// reused in 2025, so the answer depends on t.
func (x *Index) CodeAt(code string, t time.Time) (*Unit, bool) {
	var levels []Level
	switch len(code) {
	case 5:
		levels = []Level{LevelWard, LevelLegacyWard}
	case 3:
		levels = []Level{LevelLegacyDistrict}
	case 2:
		levels = []Level{LevelProvince, LevelLegacyProvince}
	}
	for _, l := range levels {
		if u, ok := x.Unit(l, code); ok && u.ValidAt(t) {
			return u, true
		}
	}
	return nil, false
}

// Relation is a unit at the other end of a successor link.
type Relation struct {
	Unit *Unit
	Kind LinkKind // empty for a derived relation (a district's wards' successors)
	Link *Link    // nil for a derived relation
}

// Successors returns what a legacy unit became. For a legacy district, whose
// level was abolished, it is every new ward its wards went to.
func (x *Index) Successors(l Level, code string) []Relation {
	i := x.lookup(l, code)
	if i < 0 {
		return nil
	}
	out := x.related(x.linksFrom[i], func(lk *Link) (Level, string) { return lk.ToLevel, lk.ToCode })
	if len(out) == 0 && l == LevelLegacyDistrict {
		for _, s := range x.succ[i] {
			out = append(out, Relation{Unit: &x.units[s]})
		}
	}
	return out
}

// Predecessors returns the legacy units a new unit was made of.
func (x *Index) Predecessors(l Level, code string) []Relation {
	i := x.lookup(l, code)
	if i < 0 {
		return nil
	}
	return x.related(x.linksTo[i], func(lk *Link) (Level, string) { return lk.FromLevel, lk.FromCode })
}

// related turns links into relations to the unit at the end other names.
func (x *Index) related(links []int32, other func(*Link) (Level, string)) []Relation {
	out := make([]Relation, 0, len(links))
	for _, li := range links {
		lk := &x.links[li]
		out = append(out, Relation{Unit: &x.units[x.lookup(other(lk))], Kind: lk.Kind, Link: lk})
	}
	return out
}

// Children returns the units directly under a unit: a legacy district's
// wards, a province's wards (legacy or new, by the province's period).
func (x *Index) Children(l Level, code string) []*Unit {
	i := x.lookup(l, code)
	if i < 0 {
		return nil
	}
	var out []*Unit
	for _, c := range x.children[i] {
		if l == LevelLegacyProvince && x.units[c].Level == LevelLegacyWard {
			continue // list a legacy province's districts, not its 300 wards
		}
		out = append(out, &x.units[c])
	}
	return out
}

// Parent returns the unit one level up, if any.
func (x *Index) Parent(u *Unit) (*Unit, bool) {
	switch u.Level {
	case LevelWard:
		return x.Unit(LevelProvince, u.ParentCode)
	case LevelLegacyDistrict:
		return x.Unit(LevelLegacyProvince, u.ParentCode)
	case LevelLegacyWard:
		return x.Unit(LevelLegacyDistrict, u.ParentCode)
	}
	return nil, false
}

// Search finds units whose name or code matches q, ignoring case and
// diacritics; every word of q must start a word of the name. Current units
// come first, then legacy ones; at most limit results.
func (x *Index) Search(q string, levels []Level, limit int) []*Unit {
	q = Fold(q)
	if q == "" || limit <= 0 {
		return nil
	}
	terms := strings.Fields(q)
	var out []*Unit
	for _, pass := range []bool{false, true} {
		for i := range x.units {
			u := &x.units[i]
			if u.Level.Legacy() != pass || (len(levels) > 0 && !slices.Contains(levels, u.Level)) {
				continue
			}
			if u.Code == q || matchWords(x.folded[i], terms) {
				out = append(out, u)
				if len(out) == limit {
					return out
				}
			}
		}
	}
	return out
}

func matchWords(name string, terms []string) bool {
	for _, t := range terms {
		ok := false
		for rest := name; rest != ""; {
			w, after, _ := strings.Cut(rest, " ")
			if strings.HasPrefix(w, t) {
				ok = true
				break
			}
			rest = after
		}
		if !ok {
			return false
		}
	}
	return true
}

// Names returns the names of a result's new province and ward ("" when
// not decided).
func (x *Index) Names(r *Result) (province, ward string) {
	if u, ok := x.Unit(LevelProvince, r.ProvinceCode); ok {
		province = u.Name
	}
	if u, ok := x.Unit(LevelWard, r.WardCode); ok {
		ward = u.Name
	}
	return province, ward
}

// ProvinceOf returns the new province a unit of any level is in or became part of.
func (x *Index) ProvinceOf(u *Unit) (*Unit, bool) {
	i := x.lookup(u.Level, u.Code)
	if i < 0 || x.newProv[i] < 0 {
		return nil, false
	}
	return &x.units[x.newProv[i]], true
}

// StreetRule is an officer's decision for a divided legacy ward: addresses
// with this street or hamlet text go to Ward.
type StreetRule struct {
	LegacyWard string // legacy ward code
	StreetKey  string // StreetKey of the street part
	Ward       string // new ward code
}

// ErrRule is returned by WithRules for a rule that does not fit the register.
var ErrRule = errors.New("street rule does not fit the register")

// RuleFits reports whether r names a legacy ward and one of the new wards
// that received part of it.
func (x *Index) RuleFits(r StreetRule) bool {
	l, w := x.lookup(LevelLegacyWard, r.LegacyWard), x.lookup(LevelWard, r.Ward)
	return l >= 0 && w >= 0 && slices.Contains(x.succ[l], w)
}

// WithRules returns an index that shares x's register and answers divided
// wards from rules. Rules for wards that were not divided, or naming a new
// ward that did not receive part of the legacy ward, are refused.
func (x *Index) WithRules(rules []StreetRule) (*Index, error) {
	m := make(map[ruleKey]int32, len(rules))
	for _, r := range rules {
		if !x.RuleFits(r) {
			return nil, fmt.Errorf("%w: %s %q → %s", ErrRule, r.LegacyWard, r.StreetKey, r.Ward)
		}
		m[ruleKey{x.lookup(LevelLegacyWard, r.LegacyWard), r.StreetKey}] = x.lookup(LevelWard, r.Ward)
	}
	y := &Index{}
	*y = x.shallow()
	y.rules = m
	y.pool.New = func() any { return new(scratch) }
	return y, nil
}

// shallow copies every field but the pool, which must not be copied.
func (x *Index) shallow() Index {
	return Index{
		units: x.units, byCode: x.byCode, folded: x.folded, short: x.short, tbits: x.tbits,
		words: x.words, names: x.names, nameIDs: x.nameIDs, types: x.types, maxName: x.maxName,
		newProv: x.newProv, legacyProv: x.legacyProv, parent: x.parent, succ: x.succ, pred: x.pred,
		children: x.children, links: x.links, linksFrom: x.linksFrom, linksTo: x.linksTo, rules: x.rules, aliases: x.aliases,
	}
}
