// Package procedure is the administrative-procedure system (thủ tục hành
// chính, TTHC) of the merged province: the catalogue of procedures, the
// dossiers (hồ sơ) officers receive and process, their working-day clock,
// citizen tracking and the statistics leaders watch.
//
// Deadlines are counted by package workday; agencies and addresses come from
// the agency register and the administrative-unit register through the
// Agencies and Addresses interfaces, so this package stands alone in tests.
package procedure

import (
	"embed"
	"io/fs"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/fold"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the procedure system's tables.
var Migrations = db.EmbeddedModule("procedure", migrationFS)

//go:embed i18n
var i18nFS embed.FS

// catalogs are the module's word lists: the catalogue's and the service's,
// and the dossier pages'.
func catalogs() []fs.FS {
	a, _ := fs.Sub(i18nFS, "i18n")
	b, _ := fs.Sub(i18nFS, "i18n/dossier")
	return []fs.FS{a, b}
}

// Level is where a procedure is handled.
type Level string

// The levels after the merger: there are no districts any more.
const (
	LevelProvince Level = "province"
	LevelCommune  Level = "commune"
)

// Online is how far a procedure can be done online.
type Online string

// The online levels of the national public-service portal.
const (
	OnlineFull    Online = "full"    // toàn trình
	OnlinePartial Online = "partial" // một phần
	OnlineOffline Online = "offline" // trực tiếp
)

// Procedure is one administrative procedure of the catalogue.
type Procedure struct {
	ID        string
	Code      string // national code, e.g. 1.001234.000.00.00.H01
	Name      string
	Field     string // lĩnh vực
	Level     Level
	AgencyID  string // the responsible agency
	Days      int    // processing time in working days
	Fee       string // as published: "50.000 đồng", "Không"
	Online    Online
	Papers    []string // required papers
	Active    bool
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// codeRE is the national procedure code: a group digit, six digits, then
// three groups and a suffix naming the body that published it.
var codeRE = regexp.MustCompile(`^[0-9]\.[0-9]{6}\.[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9A-Z]{1,3}$`)

// ValidCode reports whether s has the national procedure code's form.
func ValidCode(s string) bool { return codeRE.MatchString(s) }

func text(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	return s, utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !strings.ContainsRune(s, 0)
}

// check normalises p and returns the fields that are wrong, as i18n keys.
func (p *Procedure) check() map[string]string {
	f := map[string]string{}
	var ok bool
	p.Code = strings.ToUpper(strings.TrimSpace(p.Code))
	if !ValidCode(p.Code) {
		f["code"] = "procedure.code_invalid"
	}
	if p.Name, ok = text(p.Name, 500); !ok || p.Name == "" {
		f["name"] = "procedure.name_invalid"
	}
	if p.Field, ok = text(p.Field, 200); !ok {
		f["field"] = "procedure.text_too_long"
	}
	if p.Level != LevelProvince && p.Level != LevelCommune {
		f["level"] = "procedure.level_invalid"
	}
	if p.Online != OnlineFull && p.Online != OnlinePartial && p.Online != OnlineOffline {
		f["online"] = "procedure.online_invalid"
	}
	if p.Days < 0 || p.Days > 365 {
		f["days"] = "procedure.days_invalid"
	}
	if p.Fee, ok = text(p.Fee, 500); !ok {
		f["fee"] = "procedure.text_too_long"
	}
	var papers []string
	for _, x := range p.Papers {
		x, ok := text(x, 500)
		if !ok {
			f["papers"] = "procedure.text_too_long"
		}
		if x != "" {
			papers = append(papers, x)
		}
	}
	if len(papers) > 100 {
		f["papers"] = "procedure.too_many_papers"
	}
	p.Papers = papers
	p.AgencyID = strings.TrimSpace(p.AgencyID)
	return f
}

func foldName(p Procedure) string { return fold.String(p.Name + " " + p.Code) }

// Channel is how a dossier reached the agency.
type Channel string

// The channels.
const (
	Desk      Channel = "desk"   // at a one-stop desk
	ViaPortal Channel = "online" // through the public-service portal
	Post      Channel = "post"   // by public postal service
)

// Channels lists the channels in the order forms show them.
var Channels = []Channel{Desk, ViaPortal, Post}

// Status is where a dossier is in its workflow.
type Status string

// The statuses: received → in progress → (supplement requested ⇄ in
// progress) → approved / rejected → returned.
const (
	Received            Status = "received"
	InProgress          Status = "in_progress"
	SupplementRequested Status = "supplement_requested"
	Approved            Status = "approved"
	Rejected            Status = "rejected"
	Returned            Status = "returned"
)

// Statuses lists the statuses in workflow order.
var Statuses = []Status{Received, InProgress, SupplementRequested, Approved, Rejected, Returned}

// Open reports whether a dossier in status s is still being processed.
func (s Status) Open() bool { return s == Received || s == InProgress || s == SupplementRequested }

// Action is one step of the workflow.
type Action string

// The actions officers take, and the two the system takes.
const (
	ActReceive    Action = "receive"
	ActStart      Action = "start"
	ActRequest    Action = "request_supplement"
	ActSupplement Action = "supplement"
	ActApprove    Action = "approve"
	ActReject     Action = "reject"
	ActReturn     Action = "return"
	ActTransfer   Action = "transfer"
	ActReassign   Action = "reassign" // moved to an agency's successor after the merger
	ActMigrate    Action = "migrate"  // brought over from an old province's system
)

// transitions names, per action, the statuses it may start from and the
// status it leads to ("" keeps the status).
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	ActStart:      {[]Status{Received}, InProgress},
	ActRequest:    {[]Status{Received, InProgress}, SupplementRequested},
	ActSupplement: {[]Status{SupplementRequested}, InProgress},
	ActApprove:    {[]Status{InProgress}, Approved},
	ActReject:     {[]Status{Received, InProgress, SupplementRequested}, Rejected},
	ActReturn:     {[]Status{Approved, Rejected}, Returned},
	ActTransfer:   {[]Status{Received, InProgress}, ""},
}

// Allowed lists the actions an officer may take on a dossier in status s.
func Allowed(s Status) []Action {
	var out []Action
	for _, a := range []Action{ActStart, ActRequest, ActSupplement, ActApprove, ActReject, ActReturn, ActTransfer} {
		for _, f := range transitions[a].from {
			if f == s {
				out = append(out, a)
			}
		}
	}
	return out
}

// Step is one recorded step of a dossier.
type Step struct {
	Seq      int
	Action   Action
	Status   Status // after the step
	AgencyID string // who held the dossier after the step
	Actor    string
	At       time.Time
	Note     string
}

// Dossier is one application for a procedure.
type Dossier struct {
	ID          string
	Code        string
	ProcedureID string
	AgencyID    string // the holder now
	WardCode    string
	Channel     Channel
	Applicant   string
	CitizenID   string
	Phone       string
	Address     string
	AddressWard string // the current ward of the address, when it could be decided
	Papers      []string
	Status      Status
	Days        int
	ReceivedAt  time.Time
	DueDay      int // workday.Day; while paused, the earliest due day
	PausedAt    time.Time
	PausedDays  int
	FinishedAt  time.Time
	ReturnedAt  time.Time
	LateDays    int
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Aliases     []string // old codes
}
