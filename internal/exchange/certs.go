package exchange

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
)

// Cert is a client certificate a consumer may call with (mutual TLS).
type Cert struct {
	ID          string
	ConsumerID  string
	Fingerprint string // SHA-256 of the DER form, hex
	Subject     string
	NotAfter    time.Time
	CreatedAt   time.Time
	Revoked     bool
}

// CertFingerprint is the SHA-256 of a certificate's DER form, in hex.
func CertFingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

// maxCertPEM bounds what AddCert reads.
const maxCertPEM = 64 << 10

// AddCert registers the PEM client certificate a consumer will present. The
// gateway's listener must trust its issuer (--gateway-client-ca): the
// certificate is checked there, and here only recognised by its fingerprint.
func (s *Service) AddCert(ctx context.Context, consumerID string, pemText []byte) (Cert, error) {
	bad := apperr.InvalidFields(map[string]string{"cert": "exchange.cert_invalid"})
	if len(pemText) > maxCertPEM {
		return Cert{}, bad
	}
	block, _ := pem.Decode(pemText)
	if block == nil || block.Type != "CERTIFICATE" {
		return Cert{}, bad
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return Cert{}, bad
	}
	var out Cert
	err = s.change(ctx, func(tx *db.Tx) error {
		if x.NotAfter.Before(tx.Now) {
			return apperr.InvalidFields(map[string]string{"cert": "exchange.cert_expired"})
		}
		if _, err := s.consumer(ctx, tx, consumerID); err != nil {
			return err
		}
		out = Cert{ID: newID("xt_"), ConsumerID: consumerID, Fingerprint: CertFingerprint(x.Raw), Subject: x.Subject.String(),
			NotAfter: x.NotAfter.UTC(), CreatedAt: tx.Now}
		_, err := tx.ExecContext(ctx, `INSERT INTO xchg_cert (id, consumer_id, fingerprint, subject, not_after, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`, out.ID, consumerID, out.Fingerprint, out.Subject, db.Micros(x.NotAfter), db.Micros(tx.Now))
		if apperr.Is(err, apperr.Conflict) {
			return apperr.InvalidFields(map[string]string{"cert": "exchange.cert_taken"})
		}
		if err != nil {
			return fmt.Errorf("add certificate: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.cert.add", ObjectType: "exchange_consumer", ObjectID: consumerID,
			Details: map[string]any{"cert_id": out.ID, "fingerprint": out.Fingerprint, "subject": out.Subject}})
		return err
	})
	return out, err
}

// RevokeCert stops a certificate from being accepted.
func (s *Service) RevokeCert(ctx context.Context, id string) error {
	return s.change(ctx, func(tx *db.Tx) error {
		var consumerID, fp string
		err := tx.QueryRowContext(ctx, `SELECT consumer_id, fingerprint FROM xchg_cert WHERE id = $1 AND revoked_at IS NULL`, id).
			Scan(&consumerID, &fp)
		if err := db.NotFoundIfNoRows(err, "exchange.cert_not_found"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE xchg_cert SET revoked_at = $1 WHERE id = $2`, db.Micros(tx.Now), id); err != nil {
			return fmt.Errorf("revoke certificate: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.cert.revoke", ObjectType: "exchange_consumer", ObjectID: consumerID,
			Details: map[string]any{"cert_id": id, "fingerprint": fp}})
		return err
	})
}

// Certs lists a consumer's certificates, the newest first.
func (s *Service) Certs(ctx context.Context, consumerID string) ([]Cert, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, consumer_id, fingerprint, subject, not_after, created_at, revoked_at
FROM xchg_cert WHERE consumer_id = $1 ORDER BY created_at DESC, id`, consumerID)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	defer rows.Close()
	var out []Cert
	for rows.Next() {
		var c Cert
		var notAfter, created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.ConsumerID, &c.Fingerprint, &c.Subject, &notAfter, &created, &revoked); err != nil {
			return nil, fmt.Errorf("list certificates: %w", err)
		}
		c.NotAfter, c.CreatedAt = db.FromMicros(notAfter), db.FromMicros(created)
		c.Revoked = revoked.Valid
		out = append(out, c)
	}
	return out, rows.Err()
}
