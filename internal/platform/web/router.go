package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"hopnhat/internal/platform/reqctx"
)

// Rule says who may use a route. The zero Rule is "no rule", which the router
// refuses: every route must declare its audience.
type Rule struct {
	public bool
	anyone bool // any signed-in principal
	roles  []reqctx.Role
}

// Public admits everyone, signed in or not.
var Public = Rule{public: true}

// SignedIn admits any signed-in user or API key, whatever its role.
var SignedIn = Rule{anyone: true}

// Roles admits principals holding one of roles.
func Roles(roles ...reqctx.Role) Rule { return Rule{roles: roles} }

// Declared reports whether the rule says anything at all.
func (r Rule) Declared() bool { return r.public || r.anyone || len(r.roles) > 0 }

// Admits reports whether p (nil: anonymous) may use a route with this rule.
func (r Rule) Admits(p *reqctx.Principal) bool {
	if r.public {
		return true
	}
	if p == nil {
		return false
	}
	return r.anyone || slices.Contains(r.roles, p.Role)
}

// String describes the rule for route listings.
func (r Rule) String() string {
	switch {
	case r.public:
		return "public"
	case r.anyone:
		return "signed-in"
	case len(r.roles) > 0:
		s := make([]string, len(r.roles))
		for i, x := range r.roles {
			s[i] = string(x)
		}
		return strings.Join(s, ",")
	}
	return "none"
}

// HandlerFunc is a handler that returns its error; the router renders it with
// Fail, as a page or as problem+json.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one registered pattern and who may use it.
type Route struct {
	Pattern string // "GET /api/v1/users/{id}"
	Rule    Rule
}

// Router is a net/http ServeMux that knows each route's rule.
type Router struct {
	mux    *http.ServeMux
	routes []Route
	errs   []string
	ui     *UI
}

// NewRouter returns an empty router rendering errors with ui.
func NewRouter(ui *UI) *Router {
	rt := &Router{mux: http.NewServeMux(), ui: ui}
	return rt
}

// Handle registers h for pattern ("METHOD /path"), admitting those rule admits.
func (rt *Router) Handle(pattern string, rule Rule, h HandlerFunc) {
	if !rule.Declared() {
		rt.errs = append(rt.errs, pattern)
	}
	if !strings.Contains(pattern, " ") {
		rt.errs = append(rt.errs, pattern+" (no method)")
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Rule: rule})
	rt.mux.Handle(pattern, rt.guard(pattern, rule, h))
}

// HandleHTTP registers a plain http.Handler (static files, metrics) with a rule.
func (rt *Router) HandleHTTP(pattern string, rule Rule, h http.Handler) {
	rt.Handle(pattern, rule, func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	})
}

// Routes lists every registered route, for the route × role test and `routes`.
func (rt *Router) Routes() []Route { return slices.Clone(rt.routes) }

// Validate returns an error naming every route registered without a rule; the
// server refuses to start on one.
func (rt *Router) Validate() error {
	if len(rt.errs) > 0 {
		return fmt.Errorf("routes without an access rule: %s", strings.Join(rt.errs, "; "))
	}
	return nil
}

// ServeHTTP dispatches to the registered routes; unknown paths get the 404 page
// or problem.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := rt.mux.Handler(r)
	if pattern == "" {
		// ServeMux answers 404 and 405 itself in plain text; ours speak Vietnamese
		// or problem+json instead.
		if rt.methodMismatch(r) {
			rt.ui.Fail(w, r, errMethodNotAllowed)
			return
		}
		rt.ui.Fail(w, r, errRouteNotFound)
		return
	}
	// ServeHTTP again rather than the handler Handler returned: only the mux's
	// own dispatch fills in the path values ({id}).
	rt.mux.ServeHTTP(w, r)
}

func (rt *Router) methodMismatch(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := rt.mux.Handler(probe); p != "" {
			return true
		}
	}
	return false
}

func (rt *Router) guard(pattern string, rule Rule, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := infoOf(r.Context()); i != nil {
			i.pattern = pattern
		}
		p := reqctx.PrincipalOf(r.Context())
		if !rule.Admits(p) {
			if p == nil {
				if !IsAPI(r) && r.Method == http.MethodGet {
					http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
					return
				}
				rt.ui.Fail(w, r, errSignInRequired)
				return
			}
			rt.ui.Fail(w, r, errForbidden)
			return
		}
		if err := h(w, r); err != nil {
			rt.ui.Fail(w, r, err)
		}
	})
}

// IsAPI reports whether r addresses the JSON API (answers are problem+json).
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}
