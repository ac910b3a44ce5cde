package reqctx

import "context"

// Role is what a principal may do. Routes name the roles they admit.
type Role string

// The roles of DESIGN.md.
const (
	RoleAdmin       Role = "admin"
	RoleCoordinator Role = "coordinator"
	RoleOfficer     Role = "officer"
	RoleLeader      Role = "leader"
	RoleViewer      Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleOfficer, RoleLeader, RoleViewer}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// ScopeKind is the extent of a principal's data: the whole province, one agency
// or one ward.
type ScopeKind string

// The scope kinds.
const (
	ScopeProvince ScopeKind = "province"
	ScopeAgency   ScopeKind = "agency"
	ScopeWard     ScopeKind = "ward"
)

// Scope is a scope kind and, for agency and ward, the unit's code.
type Scope struct {
	Kind ScopeKind
	Code string
}

// Valid reports whether s names a known kind, with a code where one is needed.
func (s Scope) Valid() bool {
	switch s.Kind {
	case ScopeProvince:
		return s.Code == ""
	case ScopeAgency, ScopeWard:
		return s.Code != ""
	}
	return false
}

// Principal is who is making a request: a signed-in user or an API key.
type Principal struct {
	Kind      string // "user" or "apikey"
	ID        string // user id or API key id
	Name      string // username, or the key's name
	FullName  string
	Role      Role
	Scope     Scope
	SessionID string // hash of the session token, for users signed in by cookie

	MustChangePassword bool // an admin reset the password; the user must pick a new one
}

// Label is how the audit trail names the principal: "user:admin", "apikey:k_ab12".
func (p *Principal) Label() string { return p.Kind + ":" + p.Name }

const principalKey key = 100

// WithPrincipal returns ctx carrying p; its label becomes the actor.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey, p)
	return WithActor(ctx, p.Label())
}

// PrincipalOf returns the principal in ctx, or nil for an anonymous request.
func PrincipalOf(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}
