package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WebhookStore is outbound webhooks: endpoints and their durable delivery queue (webhooks.go).
type WebhookStore interface {
	// CreateWebhook stores a new endpoint (its ID set by the caller).
	CreateWebhook(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error)
	Webhook(ctx context.Context, id string) (WebhookEndpoint, error)
	// ListWebhooks is every endpoint, oldest first.
	ListWebhooks(ctx context.Context) ([]WebhookEndpoint, error)
	// UpdateWebhook changes an endpoint's URL, events, opt-in, description
	// and disabled flag (not its secret or kind).
	UpdateWebhook(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error)
	// DeleteWebhook removes an endpoint and its deliveries.
	DeleteWebhook(ctx context.Context, id string) error
	// EnqueueWebhookDeliveries stores deliveries as pending, in one
	// transaction; a delivery whose ID is already stored is left as is,
	// so a publisher may safely try again. A delivery with LeaseUntil set
	// is stored claimed (the publishing node attempts it at once).
	EnqueueWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error
	// ClaimWebhookDeliveries leases up to limit due deliveries of one
	// endpoint (pending, next attempt due, no live lease) until now+lease,
	// oldest due first. Two nodes never claim the same delivery at once.
	ClaimWebhookDeliveries(ctx context.Context, endpointID string, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error)
	// NextWebhookAttempt is when the endpoint's earliest pending delivery
	// is due (or its lease runs out); zero when none is pending.
	NextWebhookAttempt(ctx context.Context, endpointID string) (time.Time, error)
	// FinishWebhookAttempt records an attempt on a delivery claimed with
	// lease d.LeaseUntil: its Status, Attempts, NextAttemptAt,
	// FirstAttemptAt, LastStatus, LastError and DeliveredAt. It reports
	// false when the lease was lost (another node claimed it since).
	FinishWebhookAttempt(ctx context.Context, d WebhookDelivery) (bool, error)
	// ListWebhookDeliveries is an endpoint's newest deliveries first.
	ListWebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]WebhookDelivery, error)
	// ResendWebhookDelivery queues a delivered or failed delivery again
	// (same id, a fresh 24 h window). It fails with ErrConflict while the
	// delivery is still pending or was resent less than cooldown ago, so
	// a button pressed many times sends once.
	ResendWebhookDelivery(ctx context.Context, endpointID, id string, now time.Time, cooldown time.Duration) (WebhookDelivery, error)
	// PruneWebhookDeliveries deletes finished deliveries created before t.
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int, error)
}

// Webhook endpoint kinds.
const (
	WebhookStandard = "standard" // Standard Webhooks: signed event JSON
	WebhookSlack    = "slack"    // Slack incoming webhook, Block Kit
	WebhookTeams    = "teams"    // Microsoft Teams Workflows webhook, Adaptive Card
)

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookEndpoint is where events are sent.
type WebhookEndpoint struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Kind   string   `json:"kind"`
	Events []string `json:"events"`
	// Secret signs standard deliveries ("whsec_…"); never sent back to a
	// client after creation.
	Secret string `json:"-"`
	// AllowPrivate lets the endpoint reach loopback and private networks.
	AllowPrivate bool      `json:"allow_private"`
	Description  string    `json:"description"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
}

// Subscribed reports whether the endpoint wants events of type t.
func (e WebhookEndpoint) Subscribed(t string) bool {
	for _, x := range e.Events {
		if x == t {
			return true
		}
	}
	return false
}

// WebhookDelivery is one event on its way to one endpoint. ID is the
// webhook-id header: the same on every attempt.
type WebhookDelivery struct {
	ID             string    `json:"id"`
	EndpointID     string    `json:"endpoint_id"`
	EventType      string    `json:"event_type"`
	Payload        []byte    `json:"-"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	NextAttemptAt  time.Time `json:"next_attempt_at"`
	FirstAttemptAt time.Time `json:"first_attempt_at"`
	LeaseUntil     time.Time `json:"-"`
	LastStatus     int       `json:"last_status,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	DeliveredAt    time.Time `json:"delivered_at"`
	ResentAt       time.Time `json:"resent_at"`
}

const webhookCols = "id, url, kind, events, secret, allow_private, description, disabled, created_at"

func scanWebhook(row interface{ Scan(...any) error }) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	var evs string
	var priv, dis int
	var at int64
	if err := row.Scan(&e.ID, &e.URL, &e.Kind, &evs, &e.Secret, &priv, &e.Description, &dis, &at); err != nil {
		return e, err
	}
	e.Events = splitEvents(evs)
	e.AllowPrivate, e.Disabled, e.CreatedAt = priv != 0, dis != 0, fromMS(at)
	return e, nil
}

func splitEvents(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateWebhook implements WebhookStore.
func (s *SQL) CreateWebhook(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error) {
	e.CreatedAt = stamp(nowIfZero(e.CreatedAt))
	if e.Events == nil {
		e.Events = []string{}
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO webhooks("+webhookCols+") VALUES(?,?,?,?,?,?,?,?,?)",
		e.ID, e.URL, e.Kind, strings.Join(e.Events, ","), e.Secret, b2i(e.AllowPrivate), e.Description, b2i(e.Disabled), ms(e.CreatedAt))
	if s.isUnique(err) {
		return e, fmt.Errorf("create webhook %s: %w", e.ID, ErrConflict)
	}
	if err != nil {
		return e, fmt.Errorf("create webhook %s: %w", e.ID, err)
	}
	return e, nil
}

// Webhook implements WebhookStore.
func (s *SQL) Webhook(ctx context.Context, id string) (WebhookEndpoint, error) {
	e, err := scanWebhook(s.r.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE id = ?", id))
	if err != nil {
		return e, notFound(err, "webhook "+id)
	}
	return e, nil
}

// ListWebhooks implements WebhookStore.
func (s *SQL) ListWebhooks(ctx context.Context) ([]WebhookEndpoint, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+webhookCols+" FROM webhooks ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []WebhookEndpoint{}
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateWebhook implements WebhookStore.
func (s *SQL) UpdateWebhook(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error) {
	var out WebhookEndpoint
	err := s.tx(ctx, func(tx handle) error {
		res, err := tx.ExecContext(ctx, "UPDATE webhooks SET url = ?, events = ?, allow_private = ?, description = ?, disabled = ? WHERE id = ?",
			e.URL, strings.Join(e.Events, ","), b2i(e.AllowPrivate), e.Description, b2i(e.Disabled), e.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		out, err = scanWebhook(tx.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE id = ?", e.ID))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("update webhook %s: %w", e.ID, err)
	}
	return out, nil
}

// DeleteWebhook implements WebhookStore.
func (s *SQL) DeleteWebhook(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx handle) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhooks WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE endpoint_id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return nil
}

// EnqueueWebhookDeliveries implements WebhookStore.
func (s *SQL) EnqueueWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx handle) error {
		for _, d := range ds {
			created := stamp(nowIfZero(d.CreatedAt))
			next := d.NextAttemptAt
			if next.IsZero() {
				next = created
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries(id, endpoint_id, event_type, payload, status,
				attempts, next_attempt_at, first_attempt_at, lease_until, last_status, last_error, created_at, delivered_at, resent_at)
				VALUES(?,?,?,?,?,0,?,0,?,0,'',?,0,0) ON CONFLICT(id) DO NOTHING`,
				d.ID, d.EndpointID, d.EventType, d.Payload, DeliveryPending, ms(next), ms(d.LeaseUntil), ms(created)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue %d webhook deliveries: %w", len(ds), err)
	}
	return nil
}

const deliveryCols = `id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, first_attempt_at, lease_until,
	last_status, last_error, created_at, delivered_at, resent_at`

func scanDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var next, first, lease, created, delivered, resent int64
	err := row.Scan(&d.ID, &d.EndpointID, &d.EventType, &d.Payload, &d.Status, &d.Attempts, &next, &first, &lease,
		&d.LastStatus, &d.LastError, &created, &delivered, &resent)
	d.NextAttemptAt, d.FirstAttemptAt, d.LeaseUntil = fromMS(next), fromMS(first), fromMS(lease)
	d.CreatedAt, d.DeliveredAt, d.ResentAt = fromMS(created), fromMS(delivered), fromMS(resent)
	return d, err
}

// ClaimWebhookDeliveries implements WebhookStore. On PostgreSQL the
// candidate rows are locked with SKIP LOCKED, so nodes claiming side by
// side take different rows; SQLite's one writer runs claims one at a time.
func (s *SQL) ClaimWebhookDeliveries(ctx context.Context, endpointID string, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error) {
	if limit <= 0 {
		limit = 1
	}
	skip := ""
	if s.d.postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	until := now.Add(lease)
	rows, err := s.w.QueryContext(ctx, `UPDATE webhook_deliveries SET lease_until = ? WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND status = ? AND next_attempt_at <= ? AND lease_until <= ?
		ORDER BY next_attempt_at, created_at LIMIT ?`+skip+`) RETURNING `+deliveryCols,
		ms(until), endpointID, DeliveryPending, ms(now), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries of %s: %w", endpointID, err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("claim webhook deliveries of %s: %w", endpointID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim webhook deliveries of %s: %w", endpointID, err)
	}
	// RETURNING gives no order; attempts go oldest due first.
	sortDeliveries(out)
	return out, nil
}

func sortDeliveries(ds []WebhookDelivery) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && deliveryBefore(ds[j], ds[j-1]); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func deliveryBefore(a, b WebhookDelivery) bool {
	if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		return a.NextAttemptAt.Before(b.NextAttemptAt)
	}
	return a.CreatedAt.Before(b.CreatedAt)
}

// NextWebhookAttempt implements WebhookStore.
func (s *SQL) NextWebhookAttempt(ctx context.Context, endpointID string) (time.Time, error) {
	var v *int64
	err := s.r.QueryRowContext(ctx, `SELECT MIN(CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END)
		FROM webhook_deliveries WHERE endpoint_id = ? AND status = ?`, endpointID, DeliveryPending).Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("next webhook attempt of %s: %w", endpointID, err)
	}
	if v == nil {
		return time.Time{}, nil
	}
	if *v == 0 {
		return time.UnixMilli(0).UTC(), nil
	}
	return fromMS(*v), nil
}

// FinishWebhookAttempt implements WebhookStore.
func (s *SQL) FinishWebhookAttempt(ctx context.Context, d WebhookDelivery) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, first_attempt_at = ?,
		lease_until = 0, last_status = ?, last_error = ?, delivered_at = ? WHERE id = ? AND status = ? AND lease_until = ?`,
		d.Status, d.Attempts, ms(d.NextAttemptAt), ms(d.FirstAttemptAt), d.LastStatus, d.LastError, ms(d.DeliveredAt),
		d.ID, DeliveryPending, ms(d.LeaseUntil))
	if err != nil {
		return false, fmt.Errorf("record webhook attempt %s: %w", d.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ListWebhookDeliveries implements WebhookStore.
func (s *SQL) ListWebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]WebhookDelivery, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
		endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", endpointID, err)
	}
	defer rows.Close()
	out := []WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries of %s: %w", endpointID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ResendWebhookDelivery implements WebhookStore. One conditional UPDATE
// decides, so of many presses at once exactly one wins.
func (s *SQL) ResendWebhookDelivery(ctx context.Context, endpointID, id string, now time.Time, cooldown time.Duration) (WebhookDelivery, error) {
	d, err := scanDelivery(s.w.QueryRowContext(ctx, `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, first_attempt_at = 0,
		lease_until = 0, resent_at = ? WHERE id = ? AND endpoint_id = ? AND status <> ? AND resent_at <= ? RETURNING `+deliveryCols,
		DeliveryPending, ms(now), ms(now), id, endpointID, DeliveryPending, ms(now.Add(-cooldown))))
	if err == nil {
		return d, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("send delivery %s again: %w", id, err)
	}
	var status string
	if err := s.r.QueryRowContext(ctx, "SELECT status FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?", id, endpointID).Scan(&status); err != nil {
		return d, notFound(err, "delivery "+id)
	}
	return d, fmt.Errorf("send delivery %s again (it is %s): %w", id, status, ErrConflict)
}

// PruneWebhookDeliveries implements WebhookStore.
func (s *SQL) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE status <> ? AND created_at < ?", DeliveryPending, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func nowIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
