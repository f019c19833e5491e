package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MailStore is email: SMTP settings, technicians' notification preferences and the email outbox (mail.go).
type MailStore interface {
	// MailSettings returns the SMTP settings (zero when email is not set
	// up), password included: only the mail package may see it.
	MailSettings(ctx context.Context) (MailSettings, error)
	SetMailSettings(ctx context.Context, m MailSettings) error
	// MailPrefs is one technician's notification preferences (the defaults
	// of their role until they save their own).
	MailPrefs(ctx context.Context, technicianID string) (MailPrefs, error)
	SetMailPrefs(ctx context.Context, technicianID string, p MailPrefs) error
	// MailRecipients is every enabled account with an email address whose
	// preferences (saved or default) turn pref on, ordered by name.
	MailRecipients(ctx context.Context, pref MailPref) ([]Technician, error)

	// EnqueueMail stores an email to send (status queued, due now) and
	// returns it as stored.
	EnqueueMail(ctx context.Context, m OutMail) (OutMail, error)
	// ClaimMail leases up to limit queued emails that are due at now to
	// the caller until now+lease and counts the attempt: a node that
	// stops mid-send leaves them to another once the lease runs out. Two
	// nodes never hold the same email at once.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutMail, error)
	// MailSent marks a claimed email sent.
	MailSent(ctx context.Context, id string, at time.Time) error
	// MailAttemptFailed records why a claimed email did not go and when to
	// try again; a zero retryAt gives up (status failed).
	MailAttemptFailed(ctx context.Context, id, lastError string, retryAt time.Time) error
	// ListMail is the newest emails first, of one status ("" any).
	ListMail(ctx context.Context, status MailStatus, limit int) ([]OutMail, error)
	// CountMail counts the outbox by status.
	CountMail(ctx context.Context) (map[MailStatus]int, error)
	// PruneMail deletes emails sent before sentBefore and failed ones
	// created before failedBefore; it returns how many.
	PruneMail(ctx context.Context, sentBefore, failedBefore time.Time) (int, error)
}

// MailSettings is how the server reaches its SMTP server.
type MailSettings struct {
	Host string
	Port int
	// Security is "starttls" (required STARTTLS), "tls" (implicit TLS) or
	// "none" (only for a relay on the same machine).
	Security  string
	Username  string
	Password  string
	From      string // the From address
	FromName  string // the From display name
	UpdatedAt time.Time
	UpdatedBy string
}

// MailPref names one notification preference.
type MailPref string

// Notification preferences.
const (
	PrefAssigned      MailPref = "assigned"       // a request was assigned to me
	PrefSlipping      MailPref = "slipping"       // a target is about to slip on my (or an unassigned) request
	PrefMonthlyReport MailPref = "monthly_report" // IT's monthly report
)

// MailPrefs is a technician's notification preferences.
type MailPrefs struct {
	Assigned      bool `json:"assigned"`
	Slipping      bool `json:"slipping"`
	MonthlyReport bool `json:"monthly_report"`
}

// DefaultMailPrefs are the preferences of an account that never saved its
// own: people who work requests hear of their requests; viewers (who read
// the help desk rather than work it) get the monthly report.
func DefaultMailPrefs(role string) MailPrefs {
	if role == "viewer" {
		return MailPrefs{MonthlyReport: true}
	}
	return MailPrefs{Assigned: true, Slipping: true}
}

// MailStatus is where an email is in the outbox.
type MailStatus string

// Outbox statuses.
const (
	MailQueued MailStatus = "queued" // waiting for its next attempt
	MailSent   MailStatus = "sent"
	MailFailed MailStatus = "failed" // given up (see LastError)
)

// OutMail is one email in the outbox.
type OutMail struct {
	ID            string     `json:"id"`
	To            []string   `json:"to"`
	Subject       string     `json:"subject"`
	Text          string     `json:"-"`
	HTML          string     `json:"-"`
	Status        MailStatus `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at,omitzero"`
	LeaseUntil    time.Time  `json:"-"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        time.Time  `json:"sent_at,omitzero"`
}

// MailSettings implements MailStore.
func (s *SQL) MailSettings(ctx context.Context) (MailSettings, error) {
	var m MailSettings
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT host, port, security, username, password, from_addr, from_name, updated_at, updated_by
		FROM mail_settings WHERE id = 1`).Scan(&m.Host, &m.Port, &m.Security, &m.Username, &m.Password, &m.From, &m.FromName, &at, &m.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return MailSettings{}, nil
	}
	if err != nil {
		return m, fmt.Errorf("read mail settings: %w", err)
	}
	m.UpdatedAt = fromMS(at)
	return m, nil
}

// SetMailSettings implements MailStore.
func (s *SQL) SetMailSettings(ctx context.Context, m MailSettings) error {
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO mail_settings(id, host, port, security, username, password, from_addr, from_name, updated_at, updated_by)
		VALUES(1,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET host = excluded.host, port = excluded.port,
		security = excluded.security, username = excluded.username, password = excluded.password, from_addr = excluded.from_addr,
		from_name = excluded.from_name, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		m.Host, m.Port, m.Security, m.Username, m.Password, m.From, m.FromName, ms(m.UpdatedAt), m.UpdatedBy)
	if err != nil {
		return fmt.Errorf("store mail settings: %w", err)
	}
	return nil
}

// MailPrefs implements MailStore.
func (s *SQL) MailPrefs(ctx context.Context, technicianID string) (MailPrefs, error) {
	var role string
	var a, sl, mr sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT t.role, p.assigned, p.slipping, p.monthly_report FROM technicians t
		LEFT JOIN mail_prefs p ON p.technician_id = t.id WHERE t.id = ?`, technicianID).Scan(&role, &a, &sl, &mr)
	if err != nil {
		return MailPrefs{}, notFound(err, "read notification preferences")
	}
	if !a.Valid {
		return DefaultMailPrefs(role), nil
	}
	return MailPrefs{Assigned: a.Int64 != 0, Slipping: sl.Int64 != 0, MonthlyReport: mr.Int64 != 0}, nil
}

// SetMailPrefs implements MailStore.
func (s *SQL) SetMailPrefs(ctx context.Context, technicianID string, p MailPrefs) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO mail_prefs(technician_id, assigned, slipping, monthly_report) VALUES(?,?,?,?)
		ON CONFLICT(technician_id) DO UPDATE SET assigned = excluded.assigned, slipping = excluded.slipping,
		monthly_report = excluded.monthly_report`, technicianID, b2i(p.Assigned), b2i(p.Slipping), b2i(p.MonthlyReport))
	if err != nil {
		return fmt.Errorf("store notification preferences: %w", err)
	}
	return nil
}

// MailRecipients implements MailStore.
func (s *SQL) MailRecipients(ctx context.Context, pref MailPref) ([]Technician, error) {
	var col string
	switch pref {
	case PrefAssigned, PrefSlipping, PrefMonthlyReport:
		col = string(pref)
	default:
		return nil, fmt.Errorf("unknown notification preference %q", pref)
	}
	// The defaults (DefaultMailPrefs) written as SQL, for accounts that
	// never saved their own.
	def := "CASE WHEN t.role = 'viewer' THEN 0 ELSE 1 END"
	if pref == PrefMonthlyReport {
		def = "CASE WHEN t.role = 'viewer' THEN 1 ELSE 0 END"
	}
	cols := "t." + strings.ReplaceAll(techCols, ", ", ", t.")
	rows, err := s.r.QueryContext(ctx, "SELECT "+cols+" FROM technicians t LEFT JOIN mail_prefs p ON p.technician_id = t.id"+
		" WHERE t.disabled = 0 AND t.email <> '' AND COALESCE(p."+col+", "+def+") <> 0 ORDER BY t.name, t.id")
	if err != nil {
		return nil, fmt.Errorf("list mail recipients: %w", err)
	}
	defer rows.Close()
	var out []Technician
	for rows.Next() {
		t, err := scanTech(rows)
		if err != nil {
			return nil, fmt.Errorf("list mail recipients: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const mailCols = "id, recipients, subject, text, html, status, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at"

func scanMail(row interface{ Scan(...any) error }) (OutMail, error) {
	var m OutMail
	var to string
	var next, lease, created, sent int64
	if err := row.Scan(&m.ID, &to, &m.Subject, &m.Text, &m.HTML, &m.Status, &m.Attempts, &next, &lease, &m.LastError,
		&created, &sent); err != nil {
		return m, err
	}
	m.To = strings.Split(to, "\n")
	m.NextAttemptAt, m.LeaseUntil, m.CreatedAt, m.SentAt = fromMS(next), fromMS(lease), fromMS(created), fromMS(sent)
	return m, nil
}

// EnqueueMail implements MailStore.
func (s *SQL) EnqueueMail(ctx context.Context, m OutMail) (OutMail, error) {
	if m.ID == "" || len(m.To) == 0 {
		return m, errors.New("enqueue mail: an email needs an id and a recipient")
	}
	for _, a := range m.To {
		if a == "" || strings.ContainsAny(a, "\r\n") {
			return m, fmt.Errorf("enqueue mail: bad recipient %q", a)
		}
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Millisecond)
	m.Status, m.Attempts, m.NextAttemptAt, m.LeaseUntil, m.LastError, m.SentAt = MailQueued, 0, m.CreatedAt, time.Time{}, "", time.Time{}
	_, err := s.w.ExecContext(ctx, "INSERT INTO mail_outbox("+mailCols+") VALUES(?,?,?,?,?,?,0,?,0,'',?,0)",
		m.ID, strings.Join(m.To, "\n"), m.Subject, m.Text, m.HTML, m.Status, ms(m.NextAttemptAt), ms(m.CreatedAt))
	if s.isUnique(err) {
		return m, fmt.Errorf("enqueue mail %s: %w", m.ID, ErrConflict)
	}
	if err != nil {
		return m, fmt.Errorf("enqueue mail: %w", err)
	}
	return m, nil
}

// ClaimMail implements MailStore. On PostgreSQL the rows are picked FOR
// UPDATE SKIP LOCKED, so nodes claiming together take different emails
// rather than wait on each other; SQLite's one writer runs claims in turn.
func (s *SQL) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutMail, error) {
	if limit <= 0 {
		limit = 10
	}
	skip := ""
	if s.d.postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	var out []OutMail
	err := s.tx(ctx, func(tx handle) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, "UPDATE mail_outbox SET lease_until = ?, attempts = attempts + 1 WHERE id IN (SELECT id FROM mail_outbox"+
			" WHERE status = 'queued' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at, id LIMIT ?"+skip+") RETURNING "+mailCols,
			ms(now.Add(lease)), ms(now), ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMail(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	return out, nil
}

// MailSent implements MailStore.
func (s *SQL) MailSent(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, "UPDATE mail_outbox SET status = 'sent', sent_at = ?, lease_until = 0, last_error = '' WHERE id = ?",
		ms(at), id)
	return mailUpdated(res, err, "mark mail sent")
}

// MailAttemptFailed implements MailStore.
func (s *SQL) MailAttemptFailed(ctx context.Context, id, lastError string, retryAt time.Time) error {
	if len(lastError) > 1000 {
		lastError = lastError[:1000]
	}
	q, args := "UPDATE mail_outbox SET next_attempt_at = ?, lease_until = 0, last_error = ? WHERE id = ? AND status = 'queued'",
		[]any{ms(retryAt), lastError, id}
	if retryAt.IsZero() {
		q, args = "UPDATE mail_outbox SET status = 'failed', lease_until = 0, last_error = ? WHERE id = ? AND status = 'queued'",
			[]any{lastError, id}
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	return mailUpdated(res, err, "record mail attempt")
}

func mailUpdated(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// ListMail implements MailStore.
func (s *SQL) ListMail(ctx context.Context, status MailStatus, limit int) ([]OutMail, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q, args := "SELECT "+mailCols+" FROM mail_outbox ORDER BY created_at DESC, id DESC LIMIT ?", []any{limit}
	if status != "" {
		q, args = "SELECT "+mailCols+" FROM mail_outbox WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?", []any{status, limit}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list mail: %w", err)
	}
	defer rows.Close()
	var out []OutMail
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, fmt.Errorf("list mail: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountMail implements MailStore.
func (s *SQL) CountMail(ctx context.Context) (map[MailStatus]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT status, count(*) FROM mail_outbox GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count mail: %w", err)
	}
	defer rows.Close()
	out := map[MailStatus]int{MailQueued: 0, MailSent: 0, MailFailed: 0}
	for rows.Next() {
		var st MailStatus
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count mail: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// PruneMail implements MailStore.
func (s *SQL) PruneMail(ctx context.Context, sentBefore, failedBefore time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM mail_outbox WHERE (status = 'sent' AND sent_at < ?) OR (status = 'failed' AND created_at < ?)",
		ms(sentBefore), ms(failedBefore))
	if err != nil {
		return 0, fmt.Errorf("prune mail: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
