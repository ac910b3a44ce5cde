package auth

import (
	"errors"

	"hopnhat/internal/platform/apperr"
)

func asAppErr(err error, target **apperr.Error) bool { return errors.As(err, target) }
