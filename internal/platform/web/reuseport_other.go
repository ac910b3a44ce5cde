//go:build !linux

package web

import (
	"errors"
	"syscall"
)

func reusePort(network, address string, c syscall.RawConn) error {
	return errors.New("--reuse-port needs Linux")
}
