package procedure

import (
	"embed"

	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

//go:embed pages/*.html
var pageFS embed.FS

// Handlers serve the procedure system's pages and API.
type Handlers struct {
	s         *Service
	pages     *web.Pages
	ui        *web.UI // for the words of workbooks, in the reader's language
	trackRate int     // public lookups a minute per client address; 0: the default
}

// LimitTracking sets how many public dossier lookups a client address may
// make a minute (also the burst). Call it before Register.
func (h *Handlers) LimitTracking(perMinute int) { h.trackRate = perMinute }

// Who may do what. Dossiers hold personal data: only the people who handle
// them (officers within their scope, coordinators, admins) and leaders see
// them and their statistics; everyone signed in reads the catalogue.
var (
	// editors keep the catalogue, the calendar and the reassignments.
	editors = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator)
	// officers receive and process dossiers, within their scope.
	officers = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator, reqctx.RoleOfficer)
	// readers of dossiers: the officers and the leaders.
	dossierReaders = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator, reqctx.RoleOfficer, reqctx.RoleLeader)
	anyone         = web.SignedIn
)

// NewHandlers loads the module's pages and words into ui.
func NewHandlers(s *Service, ui *web.UI) (*Handlers, error) {
	for _, c := range catalogs() {
		if err := ui.Catalog.Load(c); err != nil {
			return nil, err
		}
	}
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	ui.AddNav(web.NavLink{Key: "nav.procedures", Href: "/procedures", Rule: web.SignedIn})
	ui.AddNav(web.NavLink{Key: "nav.dossiers", Href: "/dossiers", Rule: dossierReaders})
	return &Handlers{s: s, pages: ps, ui: ui}, nil
}

// Register adds the module's routes.
func (h *Handlers) Register(rt *web.Router) {
	h.registerCatalogue(rt)
	h.registerDossiers(rt)
}
