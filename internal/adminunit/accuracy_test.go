package adminunit_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hopnhat/internal/adminunit"
)

// testCase is one generated address and what it must convert to.
type testCase struct {
	addr     string
	province string   // new province code
	wards    []string // new ward codes: one, or every part of a divided ward
}

// noise makes generated addresses look like what real records contain.
type noise struct {
	r *rand.Rand
}

var streets = []string{"Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hai Bà Trưng", "Quang Trung", "Lý Thường Kiệt", "Điện Biên Phủ", "Nguyễn Trãi"}
var hamlets = []string{"Thôn Đông", "Xóm 3", "Ấp Bình Hòa", "Tổ dân phố 5", "Khu phố 2", "Bản Nà Phặc", "Thôn Thượng"}

func (n noise) pick(p float64) bool { return n.r.Float64() < p }

func (n noise) street() string {
	switch n.r.IntN(4) {
	case 0:
		return ""
	case 1:
		return hamlets[n.r.IntN(len(hamlets))]
	case 2:
		return "Số " + strconv.Itoa(1+n.r.IntN(300)) + " " + streets[n.r.IntN(len(streets))]
	}
	return strconv.Itoa(1+n.r.IntN(300)) + "/" + strconv.Itoa(1+n.r.IntN(20)) + " " + streets[n.r.IntN(len(streets))]
}

var wardAbbr = map[string][]string{
	"Phường":    {"Phường", "P.", "P", "phường", "F"},
	"Xã":        {"Xã", "X.", "xã"},
	"Thị trấn":  {"Thị trấn", "TT", "TT.", "thị trấn"},
	"Đặc khu":   {"Đặc khu"},
	"Quận":      {"Quận", "Q.", "Q", "quận"},
	"Huyện":     {"Huyện", "H.", "huyện"},
	"Thị xã":    {"Thị xã", "TX", "TX.", "thị xã"},
	"Thành phố": {"Thành phố", "TP", "Tp.", "TP."},
	"Tỉnh":      {"Tỉnh", "T.", "tỉnh"},
}

var provinceAlias = map[string][]string{
	"Hồ Chí Minh":       {"TP.HCM", "HCM", "Tp Hồ Chí Minh", "Sài Gòn", "TPHCM"},
	"Hà Nội":            {"HN", "Hà Nội", "TP Hà Nội"},
	"Thừa Thiên Huế":    {"TT Huế", "Thừa Thiên - Huế", "TT-Huế"},
	"Bà Rịa - Vũng Tàu": {"BRVT", "Bà Rịa Vũng Tàu", "Bà Rịa-Vũng Tàu"},
	"Đắk Lắk":           {"Đăk Lăk", "Daklak", "Đắc Lắk"},
}

// unit writes a unit's name the way records do: full, abbreviated type,
// no type, numbered wards as "P3" or "P.03".
func (n noise) unit(u *adminunit.Unit) string {
	if alts, ok := provinceAlias[u.Short]; ok && u.Level.Legacy() == (u.Level == adminunit.LevelLegacyProvince) && n.pick(0.4) {
		return alts[n.r.IntN(len(alts))]
	}
	short := u.Short
	if _, err := strconv.Atoi(short); err == nil {
		abbr := wardAbbr[u.Type]
		t := abbr[n.r.IntN(len(abbr))]
		switch n.r.IntN(3) {
		case 0:
			return t + short
		case 1:
			return t + fmt.Sprintf("%02s", short)
		}
		return t + " " + short
	}
	if n.pick(0.2) {
		return short
	}
	abbr := wardAbbr[u.Type]
	if len(abbr) == 0 || n.pick(0.4) {
		return u.Name
	}
	t := abbr[n.r.IntN(len(abbr))]
	if strings.HasSuffix(t, ".") && n.pick(0.5) {
		return t + short
	}
	return t + " " + short
}

// typo changes one letter of the longest word of s, when it is long enough.
func (n noise) typo(s string) string {
	words := strings.Fields(s)
	best := -1
	for i, w := range words {
		if len([]rune(w)) >= 5 && (best < 0 || len(w) > len(words[best])) {
			best = i
		}
	}
	if best < 0 {
		return s
	}
	r := []rune(words[best])
	i := 1 + n.r.IntN(len(r)-2)
	switch n.r.IntN(3) {
	case 0:
		r[i], r[i+1] = r[i+1], r[i]
	case 1:
		r = slices.Delete(r, i, i+1)
	default:
		r[i] = 'x'
	}
	words[best] = string(r)
	return strings.Join(words, " ")
}

// join writes the parts with the separators and case records use.
func (n noise) join(parts []string) string {
	if n.pick(0.1) {
		slices.Reverse(parts)
	}
	sep := ", "
	switch {
	case n.pick(0.1):
		sep = " "
	case n.pick(0.1):
		sep = " ,  "
	case n.pick(0.05):
		sep = " - "
	}
	s := strings.Join(parts, sep)
	if n.pick(0.05) {
		s += ", Việt Nam"
	}
	switch {
	case n.pick(0.3):
		s = adminunit.Fold(s) // no diacritics, lower case
	case n.pick(0.1):
		s = strings.ToUpper(s)
	}
	return s
}

// legacyCases builds one noisy address per legacy ward.
func legacyCases(x *adminunit.Index, seed uint64, withDistrict bool) []testCase {
	n := noise{rand.New(rand.NewPCG(seed, 1))}
	var out []testCase
	for _, w := range x.Units(adminunit.LevelLegacyWard) {
		d, _ := x.Parent(w)
		p, _ := x.Parent(d)
		tc := testCase{}
		for _, s := range x.Successors(w.Level, w.Code) {
			tc.wards = append(tc.wards, s.Unit.Code)
		}
		np, _ := x.ProvinceOf(w)
		tc.province = np.Code
		ward := n.unit(w)
		if n.pick(0.05) {
			ward = n.typo(ward)
		}
		parts := []string{}
		if st := n.street(); st != "" {
			parts = append(parts, st)
		}
		parts = append(parts, ward)
		if withDistrict {
			parts = append(parts, n.unit(d))
		}
		parts = append(parts, n.unit(p))
		tc.addr = n.join(parts)
		out = append(out, tc)
	}
	return out
}

// newCases builds the clean new-form address of every new ward.
func newCases(x *adminunit.Index) []testCase {
	var out []testCase
	for _, w := range x.Units(adminunit.LevelWard) {
		p, _ := x.Parent(w)
		out = append(out, testCase{addr: w.Name + ", " + p.Name, province: p.Code, wards: []string{w.Code}})
	}
	return out
}

type score struct {
	n, ward, province, ambiguous, split int
	fails                               []string
}

func (s score) String() string {
	return fmt.Sprintf("%d addresses: ward %.2f %%, province %.2f %% (ambiguous %d, split %d)",
		s.n, 100*float64(s.ward)/float64(s.n), 100*float64(s.province)/float64(s.n), s.ambiguous, s.split)
}

// measure converts every case: a ward counts as right when the one new ward
// is found, or, for a divided legacy ward, when every part is offered.
func measure(x *adminunit.Index, cases []testCase, opt adminunit.Options) score {
	var s score
	for _, tc := range cases {
		r := x.Convert(tc.addr, opt)
		s.n++
		if r.ProvinceCode == tc.province {
			s.province++
		}
		ok := false
		switch {
		case len(tc.wards) == 1:
			ok = r.Status == adminunit.StatusExact && r.WardCode == tc.wards[0]
		default:
			ok = r.Status == adminunit.StatusSplit && sameSet(r.Candidates, tc.wards)
		}
		switch r.Status {
		case adminunit.StatusAmbiguous:
			s.ambiguous++
		case adminunit.StatusSplit:
			s.split++
		}
		if ok {
			s.ward++
		} else if len(s.fails) < 4000 {
			s.fails = append(s.fails, fmt.Sprintf("%q → %s %s %v %s (want %v)", tc.addr, r.Status, r.WardCode, r.Candidates, r.Reason, tc.wards))
		}
	}
	return s
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

func showFails(t *testing.T, s score) {
	n, _ := strconv.Atoi(os.Getenv("ADMINUNIT_SHOW_FAILS"))
	for i, f := range s.fails {
		if i >= n {
			break
		}
		t.Log(f)
	}
}

func TestAccuracy(t *testing.T) {
	x := official(t)
	tests := []struct {
		name  string
		cases []testCase
		opt   adminunit.Options
		min   float64 // ward accuracy, percent
	}{
		{"legacy address with district", legacyCases(x, 1, true), adminunit.Options{}, 99},
		{"legacy address without district", legacyCases(x, 2, false), adminunit.Options{}, 90},
		{"legacy address without district, form given", legacyCases(x, 2, false), adminunit.Options{Form: adminunit.FormLegacy}, 90},
		{"clean new-form address", newCases(x), adminunit.Options{}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := measure(x, tc.cases, tc.opt)
			t.Log(s)
			showFails(t, s)
			if got := 100 * float64(s.ward) / float64(s.n); got < tc.min {
				t.Errorf("ward accuracy %.2f %%, want ≥ %.2f %%", got, tc.min)
			}
		})
	}
}
