package exchange

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
)

// The gateway answers from a copy of the catalogue in memory, so a call costs
// no database round trip. Every change bumps xchg_meta.generation in its own
// transaction: this process drops its copy at once; other gateway processes
// sharing the database see the new generation within pollEvery and reload.
// A revoked key or grant therefore stops working at once here and within
// pollEvery everywhere else.
const pollEvery = time.Second

// snapshot is the catalogue as the proxy reads it.
type snapshot struct {
	gen       int64
	keys      map[string]Key      // by hash
	hashes    map[string]string   // key id → hash
	consumers map[string]Consumer // by id
	services  map[string]ServiceDef
	grants    map[[2]string]Grant // consumer id, service id
	certs     map[string]string   // fingerprint → consumer id
	changes   uint64              // catalogCache.changes when the load began
}

// catalogCache holds the copy. changes counts what made a copy out of date
// (a change here, a new generation seen by the poll); a copy is current
// while no change came after its load began.
type catalogCache struct {
	snap    atomic.Pointer[snapshot]
	changes atomic.Uint64
	mu      sync.Mutex // one reload at a time
}

func (c *catalogCache) current() *snapshot {
	if p := c.snap.Load(); p != nil && p.changes == c.changes.Load() {
		return p
	}
	return nil
}

// change runs fn in a transaction that also bumps the catalogue's generation,
// and drops this process's copy once it commits.
func (s *Service) change(ctx context.Context, fn func(tx *db.Tx) error) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE xchg_meta SET generation = generation + 1 WHERE id = 1`)
		return err
	})
	if err == nil {
		s.cat.changes.Add(1)
	}
	return err
}

func (s *Service) generation(ctx context.Context) (int64, error) {
	var gen int64
	err := s.db.QueryRowContext(ctx, `SELECT generation FROM xchg_meta WHERE id = 1`).Scan(&gen)
	return gen, err
}

// catalog returns the current copy, loading it when there is none or it was
// dropped.
func (s *Service) catalog(ctx context.Context) (*snapshot, error) {
	if p := s.cat.current(); p != nil {
		return p, nil
	}
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	if p := s.cat.current(); p != nil {
		return p, nil
	}
	changes := s.cat.changes.Load()
	p, err := s.loadCatalog(ctx)
	if err != nil {
		// The database is away: callers may try again in a moment.
		e := apperr.Wrapf(apperr.Unavailable, "exchange.catalogue_unavailable", err)
		e.RetryAfter = 1
		return nil, e
	}
	p.changes = changes
	s.cat.snap.Store(p)
	return p, nil
}

// pollCatalog drops the copy when another process changed the catalogue.
func (s *Service) pollCatalog(ctx context.Context) {
	p := s.cat.snap.Load()
	if p == nil {
		return
	}
	gen, err := s.generation(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "gateway catalogue poll failed", "err", err)
		return
	}
	if gen != p.gen {
		s.cat.changes.Add(1)
	}
}

func (s *Service) loadCatalog(ctx context.Context) (*snapshot, error) {
	p := &snapshot{keys: map[string]Key{}, hashes: map[string]string{}, consumers: map[string]Consumer{},
		services: map[string]ServiceDef{}, grants: map[[2]string]Grant{}, certs: map[string]string{}}
	// Read in one transaction so the generation matches what is read.
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT generation FROM xchg_meta WHERE id = 1`).Scan(&p.gen); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, `SELECT `+serviceCols+` FROM xchg_service`, func(r *sql.Rows) error {
			d, err := scanService(r)
			p.services[d.Code] = d
			return err
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, `SELECT `+consumerCols+` FROM xchg_consumer`, func(r *sql.Rows) error {
			c, err := scanConsumer(r)
			p.consumers[c.ID] = c
			return err
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, `SELECT `+keyCols+`, hash FROM xchg_key`, func(r *sql.Rows) error {
			var h string
			k, err := scanKey(r, &h)
			p.keys[h], p.hashes[k.ID] = k, h
			return err
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, `SELECT consumer_id, service_id, methods, rate_per_minute FROM xchg_grant`, func(r *sql.Rows) error {
			var g Grant
			var ms string
			err := r.Scan(&g.ConsumerID, &g.ServiceID, &ms, &g.RatePerMinute)
			g.Methods = strings.Split(ms, ",")
			p.grants[[2]string{g.ConsumerID, g.ServiceID}] = g
			return err
		}); err != nil {
			return err
		}
		now := db.Micros(tx.Now)
		return eachRow(ctx, tx, `SELECT fingerprint, consumer_id FROM xchg_cert WHERE revoked_at IS NULL AND not_after > $1`,
			func(r *sql.Rows) error {
				var fp, id string
				err := r.Scan(&fp, &id)
				p.certs[fp] = id
				return err
			}, now)
	})
	if err != nil {
		return nil, fmt.Errorf("load the gateway catalogue: %w", err)
	}
	return p, nil
}

func eachRow(ctx context.Context, tx *db.Tx, q string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

var (
	errKeyInvalid       = apperr.New(apperr.Unauthenticated, "exchange.key_invalid")
	errKeyExpired       = apperr.New(apperr.Unauthenticated, "exchange.key_expired")
	errKeyRevoked       = apperr.New(apperr.Unauthenticated, "exchange.key_revoked")
	errConsumerDisabled = apperr.New(apperr.Forbidden, "exchange.consumer_disabled")
	errServiceNotFound  = apperr.New(apperr.NotFound, "exchange.service_not_found")
	errNoGrant          = apperr.New(apperr.Forbidden, "exchange.no_grant")
	errMethodNotGranted = apperr.New(apperr.Forbidden, "exchange.method_not_granted")
)

// Authorize checks a presented key for a call of method on the service at
// code. The key is checked first, so callers without a valid key learn
// nothing about the catalogue: a bad, expired or revoked key is
// Unauthenticated; an unknown or disabled service NotFound; a missing grant
// or method Forbidden.
func (s *Service) Authorize(ctx context.Context, key, code, method string) (Consumer, ServiceDef, Grant, error) {
	if !keyRE.MatchString(key) {
		return Consumer{}, ServiceDef{}, Grant{}, errKeyInvalid
	}
	p, err := s.catalog(ctx)
	if err != nil {
		return Consumer{}, ServiceDef{}, Grant{}, err
	}
	want := hashKey(key)
	// Found by its hash, so nothing about the key's text is compared in time
	// that depends on it.
	k, ok := p.keys[want]
	if !ok || subtle.ConstantTimeCompare([]byte(p.hashes[k.ID]), []byte(want)) != 1 {
		return Consumer{}, ServiceDef{}, Grant{}, errKeyInvalid
	}
	now := s.db.Now()
	switch {
	case !k.RevokedAt.IsZero():
		return Consumer{}, ServiceDef{}, Grant{}, errKeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return Consumer{}, ServiceDef{}, Grant{}, errKeyExpired
	}
	return p.authorizeConsumer(k.ConsumerID, code, method)
}

// AuthorizeCert is Authorize for a caller that presented a verified client
// certificate with this SHA-256 fingerprint (hex) instead of a key.
func (s *Service) AuthorizeCert(ctx context.Context, fingerprint, code, method string) (Consumer, ServiceDef, Grant, error) {
	p, err := s.catalog(ctx)
	if err != nil {
		return Consumer{}, ServiceDef{}, Grant{}, err
	}
	id, ok := p.certs[fingerprint]
	if !ok {
		return Consumer{}, ServiceDef{}, Grant{}, apperr.New(apperr.Unauthenticated, "exchange.cert_unknown")
	}
	return p.authorizeConsumer(id, code, method)
}

func (p *snapshot) authorizeConsumer(consumerID, code, method string) (Consumer, ServiceDef, Grant, error) {
	c, ok := p.consumers[consumerID]
	if !ok {
		return Consumer{}, ServiceDef{}, Grant{}, errKeyInvalid
	}
	if c.Status != Active {
		return c, ServiceDef{}, Grant{}, errConsumerDisabled
	}
	d, ok := p.services[code]
	if !ok || d.Status != Active {
		return c, ServiceDef{}, Grant{}, errServiceNotFound
	}
	g, ok := p.grants[[2]string{c.ID, d.ID}]
	if !ok {
		return c, d, Grant{}, errNoGrant
	}
	if !g.Allows(method) {
		return c, d, g, errMethodNotGranted
	}
	return c, d, g, nil
}

// UpdateConsumer renames a consumer, moves it to another agency or pauses it,
// refusing a stale version.
func (s *Service) UpdateConsumer(ctx context.Context, id string, in ConsumerInput, status Status, version int64) (Consumer, error) {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.OwnerAgencyID = strings.TrimSpace(in.OwnerAgencyID)
	f := map[string]string{}
	if in.Name == "" || len([]rune(in.Name)) > 300 {
		f["name"] = "exchange.name_invalid"
	}
	if status != Active && status != Disabled {
		f["status"] = "exchange.status_invalid"
	}
	if len(f) > 0 {
		return Consumer{}, apperr.InvalidFields(f)
	}
	var out Consumer
	err := s.change(ctx, func(tx *db.Tx) error {
		before, err := s.consumer(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Version != version {
			return apperr.New(apperr.Conflict, "exchange.stale_version")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE xchg_consumer SET name = $1, owner_agency_id = $2, status = $3,
version = version + 1, updated_at = $4 WHERE id = $5`, in.Name, in.OwnerAgencyID, string(status), db.Micros(tx.Now), id); err != nil {
			return fmt.Errorf("update consumer %s: %w", id, err)
		}
		if out, err = s.consumer(ctx, tx, id); err != nil {
			return err
		}
		changes := map[string]any{}
		audit.Diff(changes, "name", before.Name, out.Name)
		audit.Diff(changes, "owner_agency_id", before.OwnerAgencyID, out.OwnerAgencyID)
		audit.Diff(changes, "status", string(before.Status), string(out.Status))
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.consumer.update", ObjectType: "exchange_consumer",
			ObjectID: id, Details: map[string]any{"changes": changes}})
		return err
	})
	return out, err
}

// Consumer returns one consumer.
func (s *Service) Consumer(ctx context.Context, id string) (Consumer, error) {
	return s.consumer(ctx, s.db, id)
}

// ServiceByID returns one service.
func (s *Service) ServiceByID(ctx context.Context, id string) (ServiceDef, error) {
	return s.service(ctx, s.db, id)
}
