package clickhouse

import (
	"errors"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Server error codes meaning the credentials were refused.
const (
	codeUnknownUser          = 192
	codeWrongPassword        = 193
	codeAuthenticationFailed = 516 // servers since 20.x report both cases as this
)

// IsAuthError reports whether err is ClickHouse refusing the user or its
// password: retrying with the same settings cannot succeed.
func IsAuthError(err error) bool {
	var ex *ch.Exception
	if !errors.As(err, &ex) {
		return false
	}
	switch ex.Code {
	case codeUnknownUser, codeWrongPassword, codeAuthenticationFailed:
		return true
	}
	return false
}
