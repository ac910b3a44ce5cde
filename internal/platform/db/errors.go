package db

import (
	"errors"

	"hopnhat/internal/platform/apperr"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// SQLite extended result codes for constraint failures.
const (
	sqliteConstraintUnique     = 2067
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintForeignKey = 787
)

// Translate turns a dialect's constraint violation into an apperr: unique → Conflict,
// foreign key → Invalid. The one place that knows each engine's error codes.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return apperr.Wrapf(apperr.Conflict, "error.duplicate", err)
		case "23503":
			return apperr.Wrapf(apperr.Invalid, "error.reference", err)
		case "22021", "22P05":
			// A NUL byte or broken encoding in text input: the input's fault.
			return apperr.Wrapf(apperr.Invalid, "error.text_invalid", err)
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return apperr.Wrapf(apperr.Conflict, "error.duplicate", err)
		case sqliteConstraintForeignKey:
			return apperr.Wrapf(apperr.Invalid, "error.reference", err)
		}
	}
	return err
}
