package auth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

// formState carries a form's values and the i18n keys of its field errors back
// to the page after a refused submit.
type formState struct {
	Values map[string]string
	Errors map[string]string // field → i18n key
	Error  string            // i18n key of the form-level error
}

func newForm() formState { return formState{Values: map[string]string{}, Errors: map[string]string{}} }

// fromErr fills the form's errors from err, or returns err when it is not a
// kind a person can fix by editing the form.
func (f *formState) fromErr(err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind == apperr.Internal || ae.Kind == apperr.Forbidden && ae.Key == "error.forbidden" {
		return err
	}
	for k, v := range ae.Field {
		f.Errors[k] = v
	}
	f.Error = ae.Key
	if len(ae.Field) > 0 {
		// The fields carry the specifics; the banner only says where to look.
		f.Error = "error.invalid_input"
	}
	return nil
}

type accountView struct {
	User User
	Must bool
	Form formState
}

func (h *Handlers) accountPage(w http.ResponseWriter, r *http.Request) error {
	p := reqctx.PrincipalOf(r.Context())
	if p.Kind != "user" {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	u, err := h.svc.User(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "account", accountView{User: u, Must: u.MustChangePassword, Form: newForm()})
}

func (h *Handlers) changePassword(w http.ResponseWriter, r *http.Request) error {
	p := reqctx.PrincipalOf(r.Context())
	if p.Kind != "user" {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := newForm()
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		f.Errors["confirm_password"] = "user.password_mismatch"
		f.Error = "error.invalid_input"
	} else if err := h.svc.ChangePassword(r.Context(), p.ID, r.PostFormValue("current_password"), next, p.SessionID); err != nil {
		if err := f.fromErr(err); err != nil {
			return err
		}
	} else {
		http.Redirect(w, r, "/account?ok=flash.password_changed", http.StatusSeeOther)
		return nil
	}
	u, err := h.svc.User(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, http.StatusBadRequest, "account", accountView{User: u, Must: u.MustChangePassword, Form: f})
}

type usersView struct {
	Users  []User
	Total  int
	Query  string
	Role   string
	Status string
	Roles  []reqctx.Role
	Offset int
	Next   int
	Prev   int
}

const usersPerPage = 50

func (h *Handlers) usersPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := UserFilter{Query: strings.TrimSpace(q.Get("q")), Role: reqctx.Role(q.Get("role")), Limit: usersPerPage}
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	f.Offset = max(0, f.Offset)
	switch q.Get("status") {
	case "active":
		b := false
		f.Disabled = &b
	case "disabled":
		b := true
		f.Disabled = &b
	}
	users, total, err := h.svc.Users(r.Context(), f)
	if err != nil {
		return err
	}
	v := usersView{Users: users, Total: total, Query: f.Query, Role: string(f.Role), Status: q.Get("status"), Roles: reqctx.Roles,
		Offset: f.Offset, Next: -1, Prev: -1}
	if f.Offset+usersPerPage < total {
		v.Next = f.Offset + usersPerPage
	}
	if f.Offset > 0 {
		v.Prev = max(0, f.Offset-usersPerPage)
	}
	return h.pages.Render(w, r, "users", v)
}

type userFormView struct {
	User   User
	IsNew  bool
	Roles  []reqctx.Role
	Scopes []reqctx.ScopeKind
	Form   formState
}

var scopeKinds = []reqctx.ScopeKind{reqctx.ScopeProvince, reqctx.ScopeAgency, reqctx.ScopeWard}

func (h *Handlers) newUserPage(w http.ResponseWriter, r *http.Request) error {
	f := newForm()
	f.Values["role"] = string(reqctx.RoleOfficer)
	f.Values["scope_kind"] = string(reqctx.ScopeProvince)
	f.Values["must_change"] = "1"
	return h.pages.Render(w, r, "user_form", userFormView{IsNew: true, Roles: reqctx.Roles, Scopes: scopeKinds, Form: f})
}

func formScope(r *http.Request) reqctx.Scope {
	sc := reqctx.Scope{Kind: reqctx.ScopeKind(r.PostFormValue("scope_kind")), Code: strings.TrimSpace(r.PostFormValue("scope_code"))}
	if sc.Kind == reqctx.ScopeProvince {
		sc.Code = ""
	}
	return sc
}

func (h *Handlers) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := NewUser{
		Username: r.PostFormValue("username"), FullName: r.PostFormValue("full_name"), Email: r.PostFormValue("email"),
		Role: reqctx.Role(r.PostFormValue("role")), Scope: formScope(r), Password: r.PostFormValue("password"),
		MustChangePassword: r.PostFormValue("must_change") != "",
	}
	u, err := h.svc.CreateUser(r.Context(), in)
	if err == nil {
		http.Redirect(w, r, "/users/"+u.ID+"?ok=flash.user_created", http.StatusSeeOther)
		return nil
	}
	f := newForm()
	if err := f.fromErr(err); err != nil {
		return err
	}
	for _, k := range []string{"username", "full_name", "email", "role", "scope_kind", "scope_code", "must_change"} {
		f.Values[k] = r.PostFormValue(k)
	}
	return h.pages.RenderStatus(w, r, web.StatusOf(err), "user_form", userFormView{IsNew: true, Roles: reqctx.Roles, Scopes: scopeKinds, Form: f})
}

func (h *Handlers) userPage(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "user_form", userFormView{User: u, Roles: reqctx.Roles, Scopes: scopeKinds, Form: userValues(u)})
}

func userValues(u User) formState {
	f := newForm()
	f.Values["full_name"], f.Values["email"], f.Values["role"] = u.FullName, u.Email, string(u.Role)
	f.Values["scope_kind"], f.Values["scope_code"] = string(u.Scope.Kind), u.Scope.Code
	return f
}

func (h *Handlers) updateUser(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	up := UserUpdate{Version: version}
	switch r.PostFormValue("action") {
	case "disable":
		b := true
		up.Disabled = &b
	case "enable":
		b := false
		up.Disabled = &b
	default:
		name, email, role, sc := r.PostFormValue("full_name"), r.PostFormValue("email"), reqctx.Role(r.PostFormValue("role")), formScope(r)
		up.FullName, up.Email, up.Role, up.Scope = &name, &email, &role, &sc
	}
	u, err := h.svc.UpdateUser(r.Context(), id, up)
	if err == nil {
		http.Redirect(w, r, "/users/"+u.ID+"?ok=flash.user_saved", http.StatusSeeOther)
		return nil
	}
	var keep []string
	if r.PostFormValue("action") == "" {
		keep = []string{"full_name", "email", "role", "scope_kind", "scope_code"}
	}
	return h.refusedUserForm(w, r, id, err, keep)
}

// refusedUserForm shows a user's page again after a refused change: the
// stored values, what the editor typed in the keep fields, and the errors.
func (h *Handlers) refusedUserForm(w http.ResponseWriter, r *http.Request, id string, err error, keep []string) error {
	cur, gerr := h.svc.User(r.Context(), id)
	if gerr != nil {
		return gerr
	}
	f := userValues(cur)
	if err := f.fromErr(err); err != nil {
		return err
	}
	for _, k := range keep {
		f.Values[k] = r.PostFormValue(k)
	}
	return h.pages.RenderStatus(w, r, web.StatusOf(err), "user_form", userFormView{User: cur, Roles: reqctx.Roles, Scopes: scopeKinds, Form: f})
}

func (h *Handlers) resetPassword(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	err := h.svc.ResetPassword(r.Context(), id, r.PostFormValue("password"))
	if err == nil {
		http.Redirect(w, r, "/users/"+id+"?ok=flash.password_reset", http.StatusSeeOther)
		return nil
	}
	return h.refusedUserForm(w, r, id, err, nil)
}

type apiKeysView struct {
	Keys   []APIKey
	Now    time.Time
	Secret string // the new key, shown once
	Roles  []reqctx.Role
	Form   formState
}

func (h *Handlers) apiKeysPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderKeys(w, r, http.StatusOK, "", newForm())
}

func (h *Handlers) renderKeys(w http.ResponseWriter, r *http.Request, status int, secret string, f formState) error {
	keys, err := h.svc.APIKeys(r.Context())
	if err != nil {
		return err
	}
	if f.Values["role"] == "" {
		f.Values["role"] = string(reqctx.RoleViewer)
	}
	return h.pages.RenderStatus(w, r, status, "apikeys", apiKeysView{Keys: keys, Now: h.svc.db.Now(), Secret: secret, Roles: reqctx.Roles, Form: f})
}

func (h *Handlers) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := NewAPIKey{Name: r.PostFormValue("name"), Role: reqctx.Role(r.PostFormValue("role")), Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}}
	f := newForm()
	f.Values["name"], f.Values["role"], f.Values["expires"] = in.Name, string(in.Role), r.PostFormValue("expires")
	if e := strings.TrimSpace(r.PostFormValue("expires")); e != "" {
		t, err := web.ParseDate(e)
		if err != nil {
			f.Errors["expires"] = "error.date_invalid"
			f.Error = "error.invalid_input"
			return h.renderKeys(w, r, http.StatusBadRequest, "", f)
		}
		in.ExpiresAt = t.AddDate(0, 0, 1) // valid through the whole day given
	}
	secret, _, err := h.svc.CreateAPIKey(r.Context(), in)
	if err != nil {
		if err := f.fromErr(err); err != nil {
			return err
		}
		return h.renderKeys(w, r, web.StatusOf(err), "", f)
	}
	// The secret is in this one response and nowhere else: no redirect, no cache.
	return h.renderKeys(w, r, http.StatusCreated, secret, newForm())
}

func (h *Handlers) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.RevokeAPIKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/apikeys?ok=flash.apikey_revoked", http.StatusSeeOther)
	return nil
}
