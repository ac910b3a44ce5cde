// Package exchange is the LGSP gateway: the catalogue of services other
// systems call through /gw/{service}/…, the consumers that call them with API
// keys or client certificates, their grants and rate limits, and the reverse
// proxy in front of each service's new system and legacy LGSP: failover,
// health checks, a circuit breaker, the cutover modes (old, shadow with its
// comparisons, new), the batched message log, the migration board that says
// when the legacy LGSP can go, and the pages and JSON API to run it all.
package exchange

import (
	"embed"
	"slices"
	"strings"
	"time"

	"hopnhat/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the gateway's tables.
var Migrations = db.EmbeddedModule("exchange", migrationFS)

// Status says whether a service or a consumer may be used.
type Status string

// The statuses.
const (
	Active   Status = "active"
	Disabled Status = "disabled"
)

// Cutover says which LGSP answers a service while integrations move.
type Cutover string

// The cutover modes. The primary URL is the service in the merged province's
// systems; the backup URL is the legacy LGSP's. Old: the legacy LGSP answers
// (the new system takes over only when it is down); shadow: the legacy LGSP
// answers and GET/HEAD calls are repeated to the new system and compared;
// new: the new system answers, the legacy LGSP is its backup.
const (
	CutoverOld    Cutover = "old"
	CutoverShadow Cutover = "shadow"
	CutoverNew    Cutover = "new"
)

// ServiceDef is one service in the catalogue.
type ServiceDef struct {
	ID            string
	Code          string
	Name          string
	OwnerAgencyID string
	VersionLabel  string
	PrimaryURL    string
	BackupURL     string
	TimeoutMS     int64
	MaxBodyBytes  int64
	DocsURL       string
	Status        Status
	Cutover       Cutover
	HealthPath    string // below each upstream's URL; empty: the URL itself
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Timeout is the time the upstream has to answer with its headers.
func (d ServiceDef) Timeout() time.Duration { return time.Duration(d.TimeoutMS) * time.Millisecond }

// ServiceInput is what a person gives for a service. Zero TimeoutMS,
// MaxBodyBytes, Status and Cutover take the defaults.
type ServiceInput struct {
	Code          string
	Name          string
	OwnerAgencyID string
	VersionLabel  string
	PrimaryURL    string
	BackupURL     string
	TimeoutMS     int64
	MaxBodyBytes  int64
	DocsURL       string
	Status        Status
	Cutover       Cutover
	HealthPath    string
}

// Consumer is a system that calls services through the gateway.
type Consumer struct {
	ID            string
	Name          string
	OwnerAgencyID string
	Status        Status
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ConsumerInput is what a person gives for a consumer.
type ConsumerInput struct {
	Name          string
	OwnerAgencyID string
}

// Key is an API key as stored: never its plaintext.
type Key struct {
	ID         string
	ConsumerID string
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: no expiry
	RevokedAt  time.Time // zero: not revoked
}

// Active reports whether the key may be used at now.
func (k Key) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// Grant lets a consumer call a service with some methods.
type Grant struct {
	ConsumerID    string
	ServiceID     string
	Methods       []string // upper case, sorted
	RatePerMinute int      // 0: no limit
}

// Allows reports whether the grant covers method; GET covers HEAD.
func (g Grant) Allows(method string) bool {
	if method == "HEAD" && slices.Contains(g.Methods, "GET") {
		return true
	}
	return slices.Contains(g.Methods, strings.ToUpper(method))
}
