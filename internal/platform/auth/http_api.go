package auth

import (
	"hopnhat/internal/platform/apperr"
	"net/http"
	"strconv"
	"time"

	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

type scopeJSON struct {
	Kind reqctx.ScopeKind `json:"kind"`
	Code string           `json:"code,omitempty"`
}

type userJSON struct {
	ID                 string      `json:"id"`
	Username           string      `json:"username"`
	FullName           string      `json:"full_name"`
	Email              string      `json:"email,omitempty"`
	Role               reqctx.Role `json:"role"`
	Scope              scopeJSON   `json:"scope"`
	Disabled           bool        `json:"disabled"`
	MustChangePassword bool        `json:"must_change_password"`
	CreatedAt          time.Time   `json:"created_at"`
	UpdatedAt          time.Time   `json:"updated_at"`
	LastLoginAt        *time.Time  `json:"last_login_at,omitempty"`
	Version            int64       `json:"version"`
}

func toJSON(u User) userJSON {
	j := userJSON{ID: u.ID, Username: u.Username, FullName: u.FullName, Email: u.Email, Role: u.Role,
		Scope: scopeJSON{u.Scope.Kind, u.Scope.Code}, Disabled: u.Disabled, MustChangePassword: u.MustChangePassword,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version}
	if !u.LastLoginAt.IsZero() {
		t := u.LastLoginAt
		j.LastLoginAt = &t
	}
	return j
}

func (h *Handlers) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := reqctx.PrincipalOf(r.Context())
	return web.WriteJSON(w, http.StatusOK, map[string]any{
		"kind": p.Kind, "id": p.ID, "name": p.Name, "full_name": p.FullName, "role": p.Role,
		"scope": scopeJSON{p.Scope.Kind, p.Scope.Code},
	})
}

func (h *Handlers) apiUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := UserFilter{Query: q.Get("q"), Role: reqctx.Role(q.Get("role"))}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	users, total, err := h.svc.Users(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = toJSON(u)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "users": out})
}

func (h *Handlers) apiUser(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, toJSON(u))
}

type createUserJSON struct {
	Username           string      `json:"username"`
	FullName           string      `json:"full_name"`
	Email              string      `json:"email"`
	Role               reqctx.Role `json:"role"`
	Scope              scopeJSON   `json:"scope"`
	Password           string      `json:"password"`
	MustChangePassword bool        `json:"must_change_password"`
}

func (h *Handlers) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in createUserJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Scope.Kind == "" {
		in.Scope.Kind = reqctx.ScopeProvince
	}
	u, err := h.svc.CreateUser(r.Context(), NewUser{Username: in.Username, FullName: in.FullName, Email: in.Email,
		Role: in.Role, Scope: reqctx.Scope{Kind: in.Scope.Kind, Code: in.Scope.Code}, Password: in.Password,
		MustChangePassword: in.MustChangePassword})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	return web.WriteJSON(w, http.StatusCreated, toJSON(u))
}

type updateUserJSON struct {
	FullName *string      `json:"full_name"`
	Email    *string      `json:"email"`
	Role     *reqctx.Role `json:"role"`
	Scope    *scopeJSON   `json:"scope"`
	Disabled *bool        `json:"disabled"`
	Version  int64        `json:"version"`
	Password *string      `json:"password"`
}

func (h *Handlers) apiUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var in updateUserJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if in.Password != nil {
		// Check it first: a refused password must not leave the other
		// changes half-applied.
		if k := passwordProblem(*in.Password); k != "" {
			return &apperr.Error{Kind: apperr.Invalid, Key: k, Field: map[string]string{"password": k}}
		}
	}
	up := UserUpdate{FullName: in.FullName, Email: in.Email, Role: in.Role, Disabled: in.Disabled, Version: in.Version}
	if in.Scope != nil {
		up.Scope = &reqctx.Scope{Kind: in.Scope.Kind, Code: in.Scope.Code}
	}
	u, err := h.svc.UpdateUser(r.Context(), id, up)
	if err != nil {
		return err
	}
	if in.Password != nil {
		if err := h.svc.ResetPassword(r.Context(), id, *in.Password); err != nil {
			return err
		}
		if u, err = h.svc.User(r.Context(), id); err != nil {
			return err
		}
	}
	return web.WriteJSON(w, http.StatusOK, toJSON(u))
}

type apiKeyJSON struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Role       reqctx.Role `json:"role"`
	Scope      scopeJSON   `json:"scope"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	ExpiresAt  *time.Time  `json:"expires_at,omitempty"`
	LastUsedAt *time.Time  `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time  `json:"revoked_at,omitempty"`
	Key        string      `json:"key,omitempty"` // only in the answer that creates it
}

func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func keyJSON(k APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Role: k.Role, Scope: scopeJSON{k.Scope.Kind, k.Scope.Code}, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, ExpiresAt: opt(k.ExpiresAt), LastUsedAt: opt(k.LastUsedAt), RevokedAt: opt(k.RevokedAt)}
}

func (h *Handlers) apiAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := h.svc.APIKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = keyJSON(k)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"api_keys": out})
}

type createKeyJSON struct {
	Name      string      `json:"name"`
	Role      reqctx.Role `json:"role"`
	Scope     *scopeJSON  `json:"scope"`
	ExpiresAt *time.Time  `json:"expires_at"`
}

func (h *Handlers) apiCreateAPIKey(w http.ResponseWriter, r *http.Request) error {
	var in createKeyJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	nk := NewAPIKey{Name: in.Name, Role: in.Role}
	if in.Scope != nil {
		nk.Scope = reqctx.Scope{Kind: in.Scope.Kind, Code: in.Scope.Code}
	}
	if in.ExpiresAt != nil {
		nk.ExpiresAt = *in.ExpiresAt
	}
	secret, k, err := h.svc.CreateAPIKey(r.Context(), nk)
	if err != nil {
		return err
	}
	j := keyJSON(k)
	j.Key = secret
	w.Header().Set("Location", "/api/v1/apikeys/"+k.ID)
	return web.WriteJSON(w, http.StatusCreated, j)
}

func (h *Handlers) apiRevokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.RevokeAPIKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
