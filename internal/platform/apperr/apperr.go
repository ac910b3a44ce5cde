// Package apperr is the error type every hopnhat module returns: a kind that maps
// to an HTTP status, a translation key that is safe to show, per-field keys for
// forms, and the cause, which is logged but never shown.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the web layer and the CLI.
type Kind int

// The kinds of error. Internal is the zero value: anything not classified.
const (
	Internal Kind = iota
	NotFound
	Invalid
	Conflict
	Forbidden
	Unauthenticated
	Unavailable
	TooLarge
	TooManyRequests
)

// String names the kind in snake case; it is the problem "code" prefix.
func (k Kind) String() string {
	switch k {
	case NotFound:
		return "not_found"
	case Invalid:
		return "invalid"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case Unavailable:
		return "unavailable"
	case TooLarge:
		return "too_large"
	case TooManyRequests:
		return "too_many_requests"
	}
	return "internal"
}

// Error is a classified error with a translation key.
type Error struct {
	Kind  Kind
	Key   string            // i18n key of the message shown to people, e.g. "auth.bad_credentials"
	Args  []any             // arguments for the message, if it has verbs
	Field map[string]string // input field → i18n key
	Err   error             // cause: logged, never shown

	RetryAfter int // seconds, for TooManyRequests and Unavailable
}

// Error returns the key and, if present, the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind and key.
func New(k Kind, key string, args ...any) *Error {
	return &Error{Kind: k, Key: key, Args: args}
}

// Wrapf returns an error of the given kind and key with a cause.
func Wrapf(k Kind, key string, cause error) *Error {
	return &Error{Kind: k, Key: key, Err: cause}
}

// InvalidFields returns an Invalid error carrying per-field keys.
func InvalidFields(fields map[string]string) *Error {
	return &Error{Kind: Invalid, Key: "error.invalid_input", Field: fields}
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err's chain holds an *Error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Wrap adds context to *errp if it is not nil, keeping the chain intact:
//
//	defer apperr.Wrap(&err, "import ward list %q", name)
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
