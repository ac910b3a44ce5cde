// Package merger is the merger workspace: the new province and its old ones,
// the inventory of each old province's shared systems, and (in later work)
// their assessment, the decisions, the roadmap and its monitoring.
package merger

import (
	"embed"
	"encoding/json"
	"time"

	"hopnhat/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the workspace's tables.
var Migrations = db.EmbeddedModule("merger", migrationFS)

// Category is a kind of shared system.
type Category string

// The categories of shared systems DESIGN names, and custom ones.
const (
	CatDataCenter      Category = "data_center"
	CatIOC             Category = "ioc"
	CatSOC             Category = "soc"
	CatVideoConference Category = "video_conference"
	CatDataNetwork     Category = "data_network"
	CatProcedures      Category = "procedures" // TTHC system
	CatPortal          Category = "portal"
	CatCitizenApp      Category = "citizen_app"
	CatFeedback        Category = "feedback_1022"
	CatWarehouse       Category = "warehouse"
	CatDocuments       Category = "documents"
	CatEmail           Category = "email"
	CatLGSP            Category = "lgsp"
	CatCivilStatus     Category = "civil_status"
	CatCivilServants   Category = "civil_servants"
	CatEducation       Category = "education"
	CatLand            Category = "land"
	CatCustom          Category = "custom"
)

// Categories lists the categories in display order: the shared systems,
// then the specialised ones, then custom.
var Categories = []Category{CatDataCenter, CatIOC, CatSOC, CatVideoConference, CatDataNetwork, CatProcedures, CatPortal,
	CatCitizenApp, CatFeedback, CatWarehouse, CatDocuments, CatEmail, CatLGSP, CatCivilStatus, CatCivilServants,
	CatEducation, CatLand, CatCustom}

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	for _, v := range Categories {
		if v == c {
			return true
		}
	}
	return false
}

// Investment is how a system was paid for.
type Investment string

// The investment forms.
const (
	Purchased Investment = "purchased"
	Leased    Investment = "leased" // thuê dịch vụ
	SelfBuilt Investment = "self_built"
	OtherInv  Investment = "other"
)

// Investments lists them in display order.
var Investments = []Investment{Purchased, Leased, SelfBuilt, OtherInv}

// Source is one old province of a merger.
type Source struct {
	ProvinceCode string
	Name         string
}

// Merger is a new province and the old provinces it was formed from.
type Merger struct {
	ID           string
	Name         string
	ProvinceCode string
	EffectiveOn  time.Time
	Sources      []Source
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// System is one old province's instance of a shared system.
type System struct {
	ID             string
	MergerID       string
	Category       Category
	CustomCategory string // the name of a custom category
	ProvinceCode   string // the old province running it
	Name           string
	Vendor         string
	Technology     string
	DeployedYear   int
	Investment     Investment
	Users          int64
	DBEngine       string
	DBSizeMB       int64
	Datasets       int64
	Fields         int64
	Records        int64
	Functions      []string // the functions it offers, from the category's checklist or added
	Integrations   string
	ContractEnd    time.Time
	Notes          string
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

//go:embed checklists.json
var checklistJSON []byte

// checklists are the functions each category is usually expected to offer,
// in Vietnamese, offered as a checklist on the inventory form.
var checklists = mustChecklists()

func mustChecklists() map[Category][]string {
	var m map[Category][]string
	if err := json.Unmarshal(checklistJSON, &m); err != nil {
		panic("merger: checklists.json: " + err.Error())
	}
	return m
}

// Checklist returns the usual functions of a category.
func Checklist(c Category) []string { return checklists[c] }
