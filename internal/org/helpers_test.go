package org_test

import (
	"errors"

	"hopnhat/internal/platform/apperr"
)

func asErr(err error, target **apperr.Error) bool { return errors.As(err, target) }
