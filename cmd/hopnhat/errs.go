package main

import (
	"errors"

	"hopnhat/internal/platform/apperr"
)

func asApp(err error) *apperr.Error {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
