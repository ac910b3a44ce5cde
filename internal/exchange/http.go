package exchange

import (
	"embed"
	"errors"
	"io/fs"
	"maps"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

//go:embed pages/*.html
var pageFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

// Catalog returns the gateway's strings, for the CLI's error messages.
func Catalog() fs.FS {
	sub, _ := fs.Sub(i18nFS, "i18n")
	return sub
}

// Handlers are the gateway's pages and JSON API.
type Handlers struct {
	s     *Service
	pages *web.Pages
}

// Who may do what. The administrators and the merger coordinators keep the
// catalogue, the consumers, their keys, grants and certificates; the leaders
// also read the catalogue, the message log and the migration board, to see
// when the legacy LGSP can be switched off.
var (
	managers = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator)
	readers  = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator, reqctx.RoleLeader)
)

// NewHandlers loads the gateway's pages and messages.
func NewHandlers(s *Service, ui *web.UI) (*Handlers, error) {
	if err := ui.Catalog.Load(Catalog()); err != nil {
		return nil, err
	}
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	ui.AddNav(web.NavLink{Key: "nav.gateway", Href: "/gateway", Rule: readers},
		web.NavLink{Key: "nav.gateway_board", Href: "/gateway/board", Rule: readers})
	return &Handlers{s: s, pages: ps}, nil
}

// Register adds the routes.
func (h *Handlers) Register(rt *web.Router) {
	rt.Handle("GET /gateway", readers, h.servicesPage)
	rt.Handle("GET /gateway/services/new", managers, h.newServicePage)
	rt.Handle("POST /gateway/services", managers, h.createServiceForm)
	rt.Handle("GET /gateway/services/{id}", readers, h.servicePage)
	rt.Handle("GET /gateway/services/{id}/edit", managers, h.editServicePage)
	rt.Handle("POST /gateway/services/{id}", managers, h.updateServiceForm)

	rt.Handle("GET /gateway/consumers", managers, h.consumersPage)
	rt.Handle("GET /gateway/consumers/new", managers, h.newConsumerPage)
	rt.Handle("POST /gateway/consumers", managers, h.createConsumerForm)
	rt.Handle("GET /gateway/consumers/{id}", managers, h.consumerPage)
	rt.Handle("POST /gateway/consumers/{id}", managers, h.updateConsumerForm)
	rt.Handle("POST /gateway/consumers/{id}/keys", managers, h.issueKeyForm)
	rt.Handle("POST /gateway/consumers/{id}/keys/rotate", managers, h.rotateKeyForm)
	rt.Handle("POST /gateway/consumers/{id}/keys/{key}/revoke", managers, h.revokeKeyForm)
	rt.Handle("POST /gateway/consumers/{id}/grants", managers, h.grantForm)
	rt.Handle("POST /gateway/consumers/{id}/grants/{service}/delete", managers, h.revokeGrantForm)
	rt.Handle("POST /gateway/consumers/{id}/certs", managers, h.addCertForm)
	rt.Handle("POST /gateway/consumers/{id}/certs/{cert}/revoke", managers, h.revokeCertForm)

	rt.Handle("GET /gateway/log", readers, h.logPage)
	rt.Handle("GET /gateway/board", readers, h.boardPage)

	rt.Handle("GET /api/v1/gateway/services", readers, h.apiServices)
	rt.Handle("POST /api/v1/gateway/services", managers, h.apiCreateService)
	rt.Handle("GET /api/v1/gateway/services/{id}", readers, h.apiService)
	rt.Handle("PUT /api/v1/gateway/services/{id}", managers, h.apiUpdateService)
	rt.Handle("GET /api/v1/gateway/consumers", managers, h.apiConsumers)
	rt.Handle("POST /api/v1/gateway/consumers", managers, h.apiCreateConsumer)
	rt.Handle("GET /api/v1/gateway/consumers/{id}", managers, h.apiConsumer)
	rt.Handle("PUT /api/v1/gateway/consumers/{id}", managers, h.apiUpdateConsumer)
	rt.Handle("POST /api/v1/gateway/consumers/{id}/keys", managers, h.apiIssueKey)
	rt.Handle("DELETE /api/v1/gateway/keys/{id}", managers, h.apiRevokeKey)
	rt.Handle("PUT /api/v1/gateway/consumers/{id}/grants/{service}", managers, h.apiGrant)
	rt.Handle("DELETE /api/v1/gateway/consumers/{id}/grants/{service}", managers, h.apiRevokeGrant)
	rt.Handle("POST /api/v1/gateway/consumers/{id}/certs", managers, h.apiAddCert)
	rt.Handle("DELETE /api/v1/gateway/certs/{id}", managers, h.apiRevokeCert)
	rt.Handle("GET /api/v1/gateway/messages", readers, h.apiMessages)
	rt.Handle("GET /api/v1/gateway/board", readers, h.apiBoard)
}

// vnZone is Vietnam's time (UTC+7, no daylight saving), in which the log's
// times are shown.
var vnZone = time.FixedZone("ICT", 7*3600)

// methodOrder is the order the grant forms offer the methods in: reads
// first, as most integrations only read.
var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// methodCheck is one method's box on a grant form.
type methodCheck struct {
	Method string
	On     bool
}

func methodChecks(on func(string) bool) []methodCheck {
	out := make([]methodCheck, len(methodOrder))
	for i, m := range methodOrder {
		out[i] = methodCheck{Method: m, On: on(m)}
	}
	return out
}

// parseInt reads an optional whole number: an empty field is 0.
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// renameField returns err with an input field renamed, so an API answer
// names the field of its own JSON body.
func renameField(err error, from, to string) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Field[from] == "" {
		return err
	}
	c := *ae
	c.Field = maps.Clone(ae.Field)
	c.Field[to] = c.Field[from]
	delete(c.Field, from)
	return &c
}

// rfc3339 writes t for the API; the zero time is "".
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
