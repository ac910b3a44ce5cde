// Package adminunit is the register of Vietnam's administrative units before
// and after the 2025 reform, and the parser and converter of free-text
// addresses onto the new units. It is pure Go with no I/O: the register comes
// in as values (see the refdata package for reading the official files and the
// register package for the database), so the converter can run anywhere, fast.
package adminunit

import (
	"fmt"
	"time"
)

// Level is the kind of an administrative unit, which together with the period
// decides what a code means: legacy ward 26740 was Bến Nghé, ward 26740 is
// Sài Gòn.
type Level uint8

// The levels of the register. Legacy levels are the units in force until
// 30/6/2025; the others are the two-tier units from 1/7/2025.
const (
	LevelProvince Level = iota + 1
	LevelWard
	LevelLegacyProvince
	LevelLegacyDistrict
	LevelLegacyWard
)

var levelNames = [...]string{"", "province", "ward", "legacy-province", "legacy-district", "legacy-ward"}

// String returns the level's name as used in URLs, the database and JSON.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// ParseLevel reads a level name written by String.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if i > 0 && n == s {
			return Level(i), true
		}
	}
	return 0, false
}

// Legacy reports whether the level is one abolished or replaced by the reform.
func (l Level) Legacy() bool { return l >= LevelLegacyProvince }

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// ReformDate is the day the two-tier units took effect: 1/7/2025, 00:00 in
// Vietnam (UTC+7).
var ReformDate = time.Date(2025, 7, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// Unit is one administrative unit of any level.
type Unit struct {
	Level Level
	Code  string // GSO-style, zero padded: 2 digits province, 3 district, 5 ward
	Name  string // full name with its type: "Phường Phúc Xá"
	Short string // the name without its type: "Phúc Xá"
	Type  string // "Phường", "Xã", "Đặc khu", "Thị trấn", "Quận", "Tỉnh", …
	// ParentCode is the unit one level up: the province of a ward or a legacy
	// district, the legacy district of a legacy ward; empty for provinces.
	ParentCode string
	// ProvinceCode is the province (of the same period) the unit lies in; a
	// province's own code for provinces.
	ProvinceCode string
	ValidFrom    time.Time // zero: in force before the register starts
	ValidTo      time.Time // zero: still in force
	Lat, Lon     float64   // 0 when unknown
	AreaKm2      float64   // 0 when unknown
	Population   int64     // 0 when unknown
}

// ValidAt reports whether the unit was in force at t.
func (u *Unit) ValidAt(t time.Time) bool {
	return (u.ValidFrom.IsZero() || !t.Before(u.ValidFrom)) && (u.ValidTo.IsZero() || t.Before(u.ValidTo))
}

// LinkKind says how a legacy unit became a new one.
type LinkKind string

// The kinds of successor link.
const (
	LinkUnchanged LinkKind = "unchanged" // same unit, same name
	LinkRenamed   LinkKind = "renamed"   // same territory, new name or type
	LinkMerged    LinkKind = "merged"    // the whole unit went into the successor, with others
	LinkDivided   LinkKind = "divided"   // part of the unit went into the successor
)

// Valid reports whether k is one of the known kinds.
func (k LinkKind) Valid() bool {
	switch k {
	case LinkUnchanged, LinkRenamed, LinkMerged, LinkDivided:
		return true
	}
	return false
}

// Link is a typed successor link from a legacy unit to a new one.
type Link struct {
	FromLevel Level
	FromCode  string
	ToLevel   Level
	ToCode    string
	Kind      LinkKind
	Basis     string // legal basis, e.g. "Nghị quyết 202/2025/QH15"; empty when unknown
}

// Alias is another name a unit is written with: an older spelling or a
// name it had before a rename ("Xã Xá Nhè" for "Xã Sáng Nhè").
type Alias struct {
	Level Level
	Code  string
	Name  string // full name, with its type
}

// Register is the whole reference: the units of both periods, the links
// between them and the other names units go by.
type Register struct {
	Units   []Unit
	Links   []Link
	Aliases []Alias
}
