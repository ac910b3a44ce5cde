// Package org is the register of agencies (cơ quan, đơn vị) of the old
// provinces and of the merged one, and of what became of each: typed
// successor links old → new. Other modules ask it "who is responsible now
// for what this agency did?" — procedures, documents, e-mail and the gateway
// all hold records that name an old agency.
package org

import (
	"embed"
	"time"

	"hopnhat/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the agency register's tables.
var Migrations = db.EmbeddedModule("org", migrationFS)

// Kind is the type of an agency.
type Kind string

// The kinds of agency.
const (
	KindProvinceCommittee Kind = "province_committee" // Ủy ban nhân dân tỉnh/thành phố
	KindDepartment        Kind = "department"         // sở, ban, ngành
	KindDistrictCommittee Kind = "district_committee" // UBND huyện/quận (legacy only)
	KindWardCommittee     Kind = "ward_committee"     // UBND xã/phường/đặc khu
	KindPublicService     Kind = "public_service"     // đơn vị sự nghiệp công lập
	KindParty             Kind = "party"              // cơ quan Đảng, đoàn thể
	KindOther             Kind = "other"
)

// Kinds lists the kinds in display order.
var Kinds = []Kind{KindProvinceCommittee, KindDepartment, KindDistrictCommittee, KindWardCommittee, KindPublicService, KindParty, KindOther}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Period says which side of the merger an agency belongs to.
type Period string

// The periods.
const (
	Legacy  Period = "legacy"  // an agency of an old province
	Current Period = "current" // an agency of the merged province
)

// Agency is one agency.
type Agency struct {
	ID           string
	Code         string // electronic identifier code (mã định danh điện tử)
	OldCode      string // the code it had before the merger, when it kept on
	Name         string
	Kind         Kind
	ParentID     string
	Period       Period
	ProvinceCode string // the old province (legacy) or the new one (current)
	WardCode     string // for ward People's Committees
	ValidFrom    time.Time
	ValidTo      time.Time
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// LinkKind says what became of an agency.
type LinkKind string

// The kinds of successor link.
const (
	LinkUnchanged  LinkKind = "unchanged"   // the same agency carries on
	LinkRenamed    LinkKind = "renamed"     // carries on under a new name or code
	LinkMergedInto LinkKind = "merged_into" // merged with others into the successor
	LinkSplitInto  LinkKind = "split_into"  // its tasks were divided; this successor took a part
	LinkDissolved  LinkKind = "dissolved"   // dissolved; its tasks moved to the successor
)

// LinkKinds lists the link kinds in display order.
var LinkKinds = []LinkKind{LinkUnchanged, LinkRenamed, LinkMergedInto, LinkSplitInto, LinkDissolved}

// Valid reports whether k is a known link kind.
func (k LinkKind) Valid() bool {
	for _, v := range LinkKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Link is a successor link.
type Link struct {
	FromID, ToID string
	Kind         LinkKind
	Note         string
	CreatedAt    time.Time
}
