package web

import (
	"errors"
	"maps"
	"net/http"

	"hopnhat/internal/platform/apperr"
)

// Form carries a submitted form back to its page after a refusal: what was
// typed, what was ticked, and the i18n keys of the problems.
type Form struct {
	Values  map[string]string
	Checked map[string]bool   // ticked boxes, by value
	Errors  map[string]string // field → i18n key
	Error   string            // i18n key of the form-level message
}

// NewForm returns an empty form.
func NewForm() Form {
	return Form{Values: map[string]string{}, Checked: map[string]bool{}, Errors: map[string]string{}}
}

// Take fills the form's problems from err and returns the status to answer
// with: 422 for fields to fix, 409 for a conflict (a stale version). Any
// other error, which editing the form cannot fix, is returned as it is.
func (f *Form) Take(err error) (int, error) {
	var ae *apperr.Error
	if !errors.As(err, &ae) || (ae.Kind != apperr.Invalid && ae.Kind != apperr.Conflict) {
		return 0, err
	}
	maps.Copy(f.Errors, ae.Field)
	f.Error = ae.Key
	if ae.Kind == apperr.Invalid {
		return http.StatusUnprocessableEntity, nil
	}
	return StatusOf(err), nil
}
