package auth

import (
	"context"
	"embed"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

// SessionCookie names the session cookie.
const SessionCookie = "hopnhat_session"

//go:embed pages/*.html
var pageFS embed.FS

// Middleware resolves the caller: an API key in "Authorization: Bearer", or the
// session cookie. A request with neither, or with one that is not valid, goes
// on anonymous and the route's rule decides. A user whose password an admin
// reset is sent to the account page until they choose a new one.
func Middleware(s *Service, ui *web.UI) web.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			var p *reqctx.Principal
			if h := r.Header.Get("Authorization"); h != "" {
				// A client that presents a key wants to know at once that it is
				// wrong, whatever route it called.
				tok, ok := strings.CutPrefix(h, "Bearer ")
				var err error
				if ok {
					p, err = s.APIKeyPrincipal(ctx, strings.TrimSpace(tok))
				}
				if !ok || err != nil {
					if err != nil && !apperr.Is(err, apperr.Unauthenticated) {
						ui.Fail(w, r, err)
						return
					}
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
					ui.Fail(w, r, apperr.New(apperr.Unauthenticated, "auth.bad_api_key"))
					return
				}
			} else if c, err := r.Cookie(SessionCookie); err == nil {
				p, _ = s.SessionPrincipal(ctx, c.Value)
			}
			if p != nil {
				r = r.WithContext(reqctx.WithPrincipal(ctx, p))
				if p.MustChangePassword && !allowedBeforeNewPassword(r) {
					if r.Method == http.MethodGet && !web.IsAPI(r) {
						http.Redirect(w, r, "/account?must=1", http.StatusFound)
						return
					}
					ui.Fail(w, r, apperr.New(apperr.Forbidden, "account.must_change"))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// allowedBeforeNewPassword lists what a user whose password was issued by
// someone else may do before choosing their own: nothing but that.
func allowedBeforeNewPassword(r *http.Request) bool {
	switch r.Method + " " + r.URL.Path {
	case "GET /account", "POST /account/password", "GET /account/password", "POST /logout", "GET /lang":
		return true
	}
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/static/")
}

// Handlers serves sign-in, the account page, user and API key management, as
// pages and as JSON.
type Handlers struct {
	svc    *Service
	ui     *web.UI
	pages  *web.Pages
	secure bool // cookies only over TLS
}

// NewHandlers parses the auth pages.
func NewHandlers(s *Service, ui *web.UI, secureCookies bool) (*Handlers, error) {
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	return &Handlers{svc: s, ui: ui, pages: ps, secure: secureCookies}, nil
}

var admins = web.Roles(reqctx.RoleAdmin)

// Register adds the routes and navigation.
func (h *Handlers) Register(rt *web.Router) {
	rt.Handle("GET /login", web.Public, h.loginPage)
	rt.Handle("POST /login", web.Public, h.login)
	rt.Handle("POST /logout", web.SignedIn, h.logout)
	rt.Handle("GET /account", web.SignedIn, h.accountPage)
	rt.Handle("POST /account/password", web.SignedIn, h.changePassword)
	rt.Handle("GET /account/password", web.SignedIn, func(w http.ResponseWriter, r *http.Request) error {
		// A reload of the page a refused change rendered.
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	})
	rt.Handle("GET /users", admins, h.usersPage)
	rt.Handle("GET /users/new", admins, h.newUserPage)
	rt.Handle("POST /users", admins, h.createUser)
	rt.Handle("GET /users/{id}", admins, h.userPage)
	rt.Handle("POST /users/{id}", admins, h.updateUser)
	rt.Handle("POST /users/{id}/password", admins, h.resetPassword)
	rt.Handle("GET /apikeys", admins, h.apiKeysPage)
	rt.Handle("POST /apikeys", admins, h.createAPIKey)
	rt.Handle("POST /apikeys/{id}/revoke", admins, h.revokeAPIKey)

	rt.Handle("GET /api/v1/me", web.SignedIn, h.apiMe)
	rt.Handle("GET /api/v1/users", admins, h.apiUsers)
	rt.Handle("POST /api/v1/users", admins, h.apiCreateUser)
	rt.Handle("GET /api/v1/users/{id}", admins, h.apiUser)
	rt.Handle("PATCH /api/v1/users/{id}", admins, h.apiUpdateUser)
	rt.Handle("GET /api/v1/apikeys", admins, h.apiAPIKeys)
	rt.Handle("POST /api/v1/apikeys", admins, h.apiCreateAPIKey)
	rt.Handle("DELETE /api/v1/apikeys/{id}", admins, h.apiRevokeAPIKey)

	h.ui.AddNav(
		web.NavLink{Key: "nav.users", Href: "/users", Rule: admins},
		web.NavLink{Key: "nav.apikeys", Href: "/apikeys", Rule: admins},
	)
	h.ui.AddTile(web.Tile{Key: "tile.users", Href: "/users?status=active", Rule: admins, Value: func(ctx context.Context) (string, error) {
		n, err := h.svc.CountActiveUsers(ctx)
		return strconv.Itoa(n), err
	}})
	h.ui.AddTile(web.Tile{Key: "tile.sessions", Rule: admins, Value: func(ctx context.Context) (string, error) {
		n, err := h.svc.CountOpenSessions(ctx)
		return strconv.Itoa(n), err
	}})
}

type loginView struct {
	Username string
	Next     string
	Error    string
	Asked    bool // sent here from a page that needs a sign-in
}

func (h *Handlers) loginPage(w http.ResponseWriter, r *http.Request) error {
	if reqctx.PrincipalOf(r.Context()) != nil {
		http.Redirect(w, r, web.LocalPath(r.URL.Query().Get("next")), http.StatusFound)
		return nil
	}
	next := r.URL.Query().Get("next")
	return h.pages.Render(w, r, "login", loginView{Next: web.LocalPath(next), Asked: next != "" && next != "/"})
}

func (h *Handlers) login(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	v := loginView{Username: r.PostFormValue("username"), Next: web.LocalPath(r.PostFormValue("next"))}
	tok, _, err := h.svc.Login(r.Context(), Credentials{
		Username: v.Username, Password: r.PostFormValue("password"),
		Client: reqctx.Client(r.Context()), UserAgent: r.UserAgent(),
	})
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			return err
		}
		v.Error = h.ui.Catalog.For(web.LangOf(r)).T(ae.Key)
		status := web.StatusOf(err)
		if ae.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
		}
		return h.pages.RenderStatus(w, r, status, "login", v)
	}
	// A new token at every sign-in: a session id planted before sign-in is never
	// promoted (session fixation).
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.secure || r.TLS != nil, MaxAge: int(h.svc.cfg.SessionAbsolute / time.Second),
	})
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
	return nil
}

func (h *Handlers) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secure || r.TLS != nil, MaxAge: -1})
}

func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := h.svc.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.clearCookie(w, r)
	http.Redirect(w, r, "/login?ok=flash.logged_out", http.StatusSeeOther)
	return nil
}
