// Package refdata reads the official administrative-unit lists (the GSO
// catalogue of legacy units, the merger map's new units and the legacy→new
// mapping, as described in the data directory's SOURCES.md) into an
// adminunit.Register. It reads through an fs.FS so the path stays the
// caller's choice, and names the file, line and column of every problem.
package refdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/platform/apperr"
)

// The files Load reads, as published in the data directory.
const (
	FileLegacyWards     = "danhmuchanhchinh.gso.gov.vn_ward_2025-07-18.csv"
	FileLegacyDistricts = "danhmuchanhchinh.gso.gov.vn_district_2025-07-18.csv"
	FileProvinces       = "sapnhap.bando.com.vn_province_2025-07-17.csv"
	FileNewUnits        = "2025_34-province-3221-ward_with_location.csv"
	FileMapping         = "convert_legacy_2025_simple.csv"
)

// ProvinceBasis is the legal basis of the province-level merger: Resolution
// 202/2025/QH15 of the National Assembly (12/6/2025).
const ProvinceBasis = "Nghị quyết 202/2025/QH15"

// FileReport counts what happened to one file's rows.
type FileReport struct {
	File    string
	Read    int // data rows read (the header is not counted)
	Loaded  int // rows that became units or links
	Skipped []Skip
}

// Skip is a row left out, with the reason as an i18n key and its arguments.
type Skip struct {
	Line int
	Key  string
	Args []any
}

// Report is the outcome of Load, one entry per file in the order read.
type Report []FileReport

// Load reads the five official files from fsys. A missing or malformed file
// is an error naming the file (and line and column); a row that cannot be
// used is skipped with its reason in the report, never dropped silently.
func Load(fsys fs.FS) (*adminunit.Register, Report, error) {
	l := &loader{
		reg:        &adminunit.Register{},
		legacyProv: map[string]int{},
		district:   map[string]int{},
		legacyWard: map[string]int{},
		newProv:    map[string]int{},
		newWard:    map[string]int{},
	}
	steps := []struct {
		file string
		cols []string
		row  func(fr *FileReport, line int, rec []string) error
	}{
		{FileLegacyDistricts, []string{"Mã", "Tên", "Cấp", "Mã TP", "Tỉnh / Thành Phố"}, l.districtRow},
		{FileLegacyWards, []string{"Mã", "Tên", "Cấp", "Mã QH", "Mã TP"}, l.legacyWardRow},
		{FileNewUnits, []string{"province", "ward", "provinceShort", "wardShort", "wardType", "provinceCode", "provinceLat", "provinceLon", "wardCode", "wardLat", "wardLon", "wardAreaKm2"}, l.newUnitRow},
		{FileProvinces, []string{"tentinh", "dientichkm2", "dansonguoi"}, l.provinceRow},
		{FileMapping, []string{"provinceCode", "isMergedProvince", "districtCode", "wardCode", "isMergedWard", "isDividedWard", "newProvinceCode", "newWardCode"}, l.mappingRow},
	}
	var rep Report
	for _, s := range steps {
		fr := FileReport{File: s.file}
		err := readCSV(fsys, s.file, s.cols, func(line int, rec []string) error {
			fr.Read++
			return s.row(&fr, line, rec)
		}, &l.colIdx)
		rep = append(rep, fr)
		if err != nil {
			return nil, rep, err
		}
	}
	l.provinceLinks()
	return l.reg, rep, nil
}

type loader struct {
	reg    *adminunit.Register
	colIdx map[string]int
	// positions in reg.Units by code, per level
	legacyProv, district, legacyWard, newProv, newWard map[string]int
	// legacy province → new province, from the mapping
	provTo     map[string]string
	provMerged map[string]bool
	linkSeen   map[[2]string]bool
	aliasSeen  map[string]bool
}

// get returns the cell of column col, "" when the file has no such column
// (only the required ones are checked up front) or the row is short.
func (l *loader) get(rec []string, col string) string {
	i, ok := l.colIdx[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// add appends u; false when its code is already listed for its level.
func (l *loader) add(m map[string]int, u adminunit.Unit) bool {
	if _, ok := m[u.Code]; ok {
		return false
	}
	m[u.Code] = len(l.reg.Units)
	l.reg.Units = append(l.reg.Units, u)
	return true
}

func skip(fr *FileReport, line int, key string, args ...any) error {
	fr.Skipped = append(fr.Skipped, Skip{Line: line, Key: key, Args: args})
	return nil
}

func (l *loader) districtRow(fr *FileReport, line int, rec []string) error {
	code, ok := padCode(l.get(rec, "Mã"), 3)
	prov, ok2 := padCode(l.get(rec, "Mã TP"), 2)
	name, pname := l.get(rec, "Tên"), l.get(rec, "Tỉnh / Thành Phố")
	if !ok || !ok2 {
		return skip(fr, line, "adminunit.import.bad_code")
	}
	if name == "" || pname == "" {
		return skip(fr, line, "adminunit.import.no_name")
	}
	if _, seen := l.legacyProv[prov]; !seen {
		typ, short := splitType(pname, provinceTypes)
		l.add(l.legacyProv, adminunit.Unit{Level: adminunit.LevelLegacyProvince, Code: prov, Name: pname, Short: short, Type: typ,
			ProvinceCode: prov, ValidTo: adminunit.ReformDate})
	}
	typ := l.get(rec, "Cấp")
	_, short := splitType(name, []string{typ})
	if !l.add(l.district, adminunit.Unit{Level: adminunit.LevelLegacyDistrict, Code: code, Name: name, Short: short, Type: typ,
		ParentCode: prov, ProvinceCode: prov, ValidTo: adminunit.ReformDate}) {
		return skip(fr, line, "adminunit.import.duplicate_code", code)
	}
	fr.Loaded++
	return nil
}

func (l *loader) legacyWardRow(fr *FileReport, line int, rec []string) error {
	code, ok := padCode(l.get(rec, "Mã"), 5)
	dist, ok2 := padCode(l.get(rec, "Mã QH"), 3)
	prov, ok3 := padCode(l.get(rec, "Mã TP"), 2)
	if !ok || !ok2 || !ok3 {
		return skip(fr, line, "adminunit.import.bad_code")
	}
	name, typ := l.get(rec, "Tên"), l.get(rec, "Cấp")
	if name == "" || typ == "" {
		return skip(fr, line, "adminunit.import.no_name")
	}
	di, ok := l.district[dist]
	if !ok || l.reg.Units[di].ProvinceCode != prov {
		return skip(fr, line, "adminunit.import.unknown_district", dist)
	}
	_, short := splitType(name, []string{typ})
	if !l.add(l.legacyWard, adminunit.Unit{Level: adminunit.LevelLegacyWard, Code: code, Name: name, Short: short, Type: typ,
		ParentCode: dist, ProvinceCode: prov, ValidTo: adminunit.ReformDate}) {
		return skip(fr, line, "adminunit.import.duplicate_code", code)
	}
	fr.Loaded++
	return nil
}

func (l *loader) newUnitRow(fr *FileReport, line int, rec []string) error {
	prov, ok := padCode(l.get(rec, "provinceCode"), 2)
	code, ok2 := padCode(l.get(rec, "wardCode"), 5)
	if !ok || !ok2 {
		return skip(fr, line, "adminunit.import.bad_code")
	}
	pname, wname, wtype := l.get(rec, "province"), l.get(rec, "ward"), l.get(rec, "wardType")
	if pname == "" || wname == "" || wtype == "" {
		return skip(fr, line, "adminunit.import.no_name")
	}
	if _, seen := l.newProv[prov]; !seen {
		typ, _ := splitType(pname, provinceTypes)
		l.add(l.newProv, adminunit.Unit{Level: adminunit.LevelProvince, Code: prov, Name: pname, Short: l.get(rec, "provinceShort"),
			Type: typ, ProvinceCode: prov, ValidFrom: adminunit.ReformDate,
			Lat: number(l.get(rec, "provinceLat")), Lon: number(l.get(rec, "provinceLon"))})
	}
	short := l.get(rec, "wardShort")
	if short == "" {
		_, short = splitType(wname, []string{wtype})
	}
	if !l.add(l.newWard, adminunit.Unit{Level: adminunit.LevelWard, Code: code, Name: wname, Short: short, Type: wtype,
		ParentCode: prov, ProvinceCode: prov, ValidFrom: adminunit.ReformDate,
		Lat: number(l.get(rec, "wardLat")), Lon: number(l.get(rec, "wardLon")), AreaKm2: number(l.get(rec, "wardAreaKm2"))}) {
		return skip(fr, line, "adminunit.import.duplicate_code", code)
	}
	fr.Loaded++
	return nil
}

// provinceRow adds the merger map's area and population to a new province,
// matched by its folded short name ("Thủ đô Hà Nội" ↔ "Thành phố Hà Nội").
func (l *loader) provinceRow(fr *FileReport, line int, rec []string) error {
	_, short := splitType(l.get(rec, "tentinh"), []string{"Thủ đô", "tỉnh", "thành phố", "Tỉnh", "Thành phố"})
	key := adminunit.Fold(short)
	for _, i := range l.newProv {
		u := &l.reg.Units[i]
		if adminunit.Fold(u.Short) == key {
			u.AreaKm2 = viNumber(l.get(rec, "dientichkm2"))
			u.Population = int64(viNumber(l.get(rec, "dansonguoi")))
			fr.Loaded++
			return nil
		}
	}
	return skip(fr, line, "adminunit.import.unknown_province", short)
}

func (l *loader) mappingRow(fr *FileReport, line int, rec []string) error {
	oldProv, ok := padCode(l.get(rec, "provinceCode"), 2)
	newProv, ok2 := padCode(l.get(rec, "newProvinceCode"), 2)
	newWard, ok3 := padCode(l.get(rec, "newWardCode"), 5)
	if !ok || !ok2 || !ok3 {
		return skip(fr, line, "adminunit.import.bad_code")
	}
	if _, ok := l.legacyProv[oldProv]; !ok {
		return skip(fr, line, "adminunit.import.unknown_legacy_province", oldProv)
	}
	wi, ok := l.newWard[newWard]
	if !ok || l.reg.Units[wi].ProvinceCode != newProv {
		return skip(fr, line, "adminunit.import.unknown_ward", newWard)
	}
	if l.provTo == nil {
		l.provTo, l.provMerged, l.linkSeen = map[string]string{}, map[string]bool{}, map[[2]string]bool{}
	}
	if to, seen := l.provTo[oldProv]; seen && to != newProv {
		return skip(fr, line, "adminunit.import.province_split", oldProv)
	}
	l.provTo[oldProv] = newProv
	l.provMerged[oldProv] = l.provMerged[oldProv] || l.get(rec, "isMergedProvince") == "True"

	link := adminunit.Link{ToLevel: adminunit.LevelWard, ToCode: newWard}
	raw := l.get(rec, "wardCode")
	if raw == "" {
		// Island districts without wards became special zones directly.
		dist, ok := padCode(l.get(rec, "districtCode"), 3)
		if _, known := l.district[dist]; !ok || !known {
			return skip(fr, line, "adminunit.import.unknown_district", l.get(rec, "districtCode"))
		}
		link.FromLevel, link.FromCode, link.Kind = adminunit.LevelLegacyDistrict, dist, adminunit.LinkRenamed
	} else {
		code, ok := padCode(raw, 5)
		li, known := l.legacyWard[code]
		if !ok || !known {
			return skip(fr, line, "adminunit.import.unknown_legacy_ward", raw)
		}
		// The mapping sometimes names a legacy ward as it was before a
		// rename the GSO list already has; records written then use it.
		if name := l.get(rec, "ward"); name != "" && adminunit.Fold(name) != adminunit.Fold(l.reg.Units[li].Name) {
			l.addAlias(adminunit.Alias{Level: adminunit.LevelLegacyWard, Code: code, Name: name})
		}
		link.FromLevel, link.FromCode = adminunit.LevelLegacyWard, code
		switch {
		case l.get(rec, "isDividedWard") == "True":
			link.Kind = adminunit.LinkDivided
		case l.get(rec, "isMergedWard") == "True":
			link.Kind = adminunit.LinkMerged
		case adminunit.Fold(l.reg.Units[li].Name) == adminunit.Fold(l.reg.Units[wi].Name):
			link.Kind = adminunit.LinkUnchanged
		default:
			link.Kind = adminunit.LinkRenamed
		}
	}
	k := [2]string{link.FromLevel.String() + link.FromCode, newWard}
	if l.linkSeen[k] {
		return skip(fr, line, "adminunit.import.duplicate_link", link.FromCode, newWard)
	}
	l.linkSeen[k] = true
	l.reg.Links = append(l.reg.Links, link)
	fr.Loaded++
	return nil
}

func (l *loader) addAlias(a adminunit.Alias) {
	k := a.Level.String() + "/" + a.Code + "/" + adminunit.Fold(a.Name)
	if l.aliasSeen == nil {
		l.aliasSeen = map[string]bool{}
	}
	if !l.aliasSeen[k] {
		l.aliasSeen[k] = true
		l.reg.Aliases = append(l.reg.Aliases, a)
	}
}

// provinceLinks adds legacy province → new province links from what the
// mapping said about each legacy province.
func (l *loader) provinceLinks() {
	for old, i := range l.legacyProv {
		to, ok := l.provTo[old]
		if !ok {
			continue
		}
		kind := adminunit.LinkMerged
		if !l.provMerged[old] {
			kind = adminunit.LinkUnchanged
			if ni, ok := l.newProv[to]; ok && adminunit.Fold(l.reg.Units[ni].Short) != adminunit.Fold(l.reg.Units[i].Short) {
				kind = adminunit.LinkRenamed
			}
		}
		l.reg.Links = append(l.reg.Links, adminunit.Link{FromLevel: adminunit.LevelLegacyProvince, FromCode: old,
			ToLevel: adminunit.LevelProvince, ToCode: to, Kind: kind, Basis: ProvinceBasis})
	}
}

var provinceTypes = []string{"Thành phố", "Tỉnh"}

// splitType splits "Phường Phúc Xá" into "Phường" and "Phúc Xá" when the name
// starts with one of types.
func splitType(name string, types []string) (typ, short string) {
	for _, t := range types {
		if t != "" && len(name) > len(t) && strings.EqualFold(name[:len(t)], t) && name[len(t)] == ' ' {
			return t, strings.TrimSpace(name[len(t):])
		}
	}
	return "", name
}

// padCode normalises a code written as "1", "01", "1.0" or "00001" to width
// digits; false when it is not a non-negative whole number that fits.
func padCode(s string, width int) (string, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".0")
	if s == "" || len(s) > width {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return strings.Repeat("0", width-len(s)) + s, true
}

func number(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// viNumber reads a number in Vietnamese notation: "3.359,80", "8.718.000".
func viNumber(s string) float64 {
	return number(strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", "."))
}

// readCSV opens name in fsys, checks that the header has cols (a UTF-8 BOM is
// allowed) and calls row for each data record with its line number.
func readCSV(fsys fs.FS, name string, cols []string, row func(line int, rec []string) error, idx *map[string]int) error {
	f, err := fsys.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return apperr.New(apperr.Invalid, "adminunit.import.missing_file", name)
		}
		return apperr.Wrapf(apperr.Unavailable, "adminunit.import.read_failed", fmt.Errorf("open %s: %w", name, err))
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if err == io.EOF {
			return apperr.New(apperr.Invalid, "adminunit.import.empty_file", name)
		}
		return malformed(name, err)
	}
	m := make(map[string]int, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		m[strings.TrimSpace(h)] = i
	}
	for _, c := range cols {
		if _, ok := m[c]; !ok {
			return apperr.New(apperr.Invalid, "adminunit.import.missing_column", name, c)
		}
	}
	*idx = m
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed(name, err)
		}
		line, _ := r.FieldPos(0)
		for i, v := range rec {
			if !utf8.ValidString(v) {
				_, col := r.FieldPos(i)
				return apperr.New(apperr.Invalid, "adminunit.import.malformed", name, line, col, "not UTF-8")
			}
		}
		if err := row(line, rec); err != nil {
			return err
		}
	}
}

func malformed(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return apperr.New(apperr.Invalid, "adminunit.import.malformed", name, pe.Line, pe.Column, pe.Err.Error())
	}
	return apperr.Wrapf(apperr.Unavailable, "adminunit.import.read_failed", fmt.Errorf("read %s: %w", name, err))
}
