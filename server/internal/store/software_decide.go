package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskside/deskside/shared/protocol"
)

// IT's decisions about a title: what a change may say, how it fits the
// title, and the thank-yous a decision sends, all in one transaction.

// checkLen refuses a field longer than max runes or not valid UTF-8.
func checkLen(what, v string, max int) error {
	if !utf8.ValidString(v) {
		return badSoftware("The %s is not valid text.", what)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return badSoftware("The %s can be at most %d characters (it has %d).", what, max, n)
	}
	return nil
}

var catalogueOS = map[string]bool{"linux": true, "windows": true, "darwin": true}

// validateSoftwareChange checks each field on its own; applyChange checks
// how they fit the title.
func validateSoftwareChange(ch SoftwareChange) error {
	if ch.Status != nil && !ch.Status.Valid() {
		return badSoftware("Status %.40q is not new, approved, under_review or not_for_work.", *ch.Status)
	}
	for _, f := range []struct {
		what string
		v    *string
		max  int
	}{{"reason", ch.Reason, maxSoftwareReason}, {"alternative", ch.Alternative, maxSoftwareAlt},
		{"catalogue URL", ch.CatalogueURL, maxSoftwareURL}, {"package name", ch.CataloguePackage, maxSoftwarePackage},
		{"instructions", ch.CatalogueText, maxSoftwareText}, {"description", ch.Description, maxSoftwareDesc},
		{"message", &ch.Message, maxSoftwareMessage}, {"catalogue kind", ch.CatalogueHow, 20}} {
		if f.v == nil {
			continue
		}
		if err := checkLen(f.what, *f.v, f.max); err != nil {
			return err
		}
	}
	if ch.CatalogueHow != nil {
		switch *ch.CatalogueHow {
		case "", protocol.CatalogueLink, protocol.CataloguePackage, protocol.CatalogueInstructions:
		default:
			return badSoftware("Catalogue kind must be link, package or instructions.")
		}
	}
	if ch.CatalogueURL != nil && *ch.CatalogueURL != "" {
		u, err := url.Parse(strings.TrimSpace(*ch.CatalogueURL))
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return badSoftware("The catalogue link must be an https:// address.")
		}
	}
	if ch.CatalogueOS != nil {
		if len(*ch.CatalogueOS) > len(catalogueOS) {
			return badSoftware("Catalogue systems are linux, windows and darwin.")
		}
		for _, o := range *ch.CatalogueOS {
			if !catalogueOS[o] {
				return badSoftware("Catalogue system %.20q is not linux, windows or darwin.", o)
			}
		}
	}
	return nil
}

// applyChange applies ch to t and checks that the result holds together.
func applyChange(t *SoftwareTitle, ch SoftwareChange) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	if ch.Status != nil {
		t.Status = *ch.Status
	}
	set(&t.Reason, ch.Reason)
	set(&t.Alternative, ch.Alternative)
	set(&t.CatalogueHow, ch.CatalogueHow)
	set(&t.CatalogueURL, ch.CatalogueURL)
	set(&t.CataloguePackage, ch.CataloguePackage)
	set(&t.CatalogueText, ch.CatalogueText)
	set(&t.Description, ch.Description)
	if ch.CatalogueOS != nil {
		t.CatalogueOS = append([]string(nil), (*ch.CatalogueOS)...)
	}
	if ch.Catalogue != nil {
		t.Catalogue = *ch.Catalogue
	} else if t.Status != protocol.SoftwareApproved {
		// A title that is no longer approved leaves the catalogue with
		// its decision; IT need not remember to untick it.
		t.Catalogue = false
	}
	if t.Status == protocol.SoftwareNotForWork && t.Reason == "" {
		return badSoftware("Not for work needs a reason: say kindly why, so the person understands.")
	}
	if !t.Catalogue {
		return nil
	}
	if t.Status != protocol.SoftwareApproved {
		return badSoftware("Only approved software can be in the catalogue.")
	}
	switch t.CatalogueHow {
	case protocol.CatalogueLink:
		if t.CatalogueURL == "" {
			return badSoftware("A catalogue link needs its https:// address.")
		}
	case protocol.CataloguePackage:
		if t.CataloguePackage == "" {
			return badSoftware("A catalogue package needs the package name.")
		}
	case protocol.CatalogueInstructions:
		if t.CatalogueText == "" {
			return badSoftware("Catalogue instructions need their text.")
		}
	default:
		return badSoftware("Say how people get it: link, package or instructions.")
	}
	return nil
}

// UpdateSoftware applies IT's change to a title. The title row is locked
// for the transaction (PostgreSQL: FOR UPDATE; SQLite: the one writer), so
// of many PATCHes racing to the same status exactly one sees the change:
// one history row, and each person's thanks marked (thanked_status) in the
// same transaction that queues it, so it is queued once.
func (s *SQL) UpdateSoftware(ctx context.Context, id string, ch SoftwareChange, by Technician, now time.Time,
	out func(t SoftwareTitle, a SoftwareAnswer) Outgoing) (SoftwareTitle, []Delivery, error) {
	if err := validateSoftwareChange(ch); err != nil {
		return SoftwareTitle{}, nil, err
	}
	now = stamp(now)
	var t SoftwareTitle
	var ds []Delivery
	err := s.tx(ctx, func(tx handle) error {
		ds = nil
		old, _, err := softwareTitle(ctx, tx, id, true)
		if err != nil {
			return err
		}
		t = old
		if err := applyChange(&t, ch); err != nil {
			return err
		}
		if t.Status != old.Status {
			t.StatusAt, t.StatusBy = now, by.Name
			if _, err := tx.ExecContext(ctx, `INSERT INTO software_history(title_id, at, by_id, by_name, from_status, to_status,
				reason, alternative) VALUES(?,?,?,?,?,?,?,?)`, id, ms(now), by.ID, by.Name, old.Status, t.Status, t.Reason, t.Alternative); err != nil {
				return fmt.Errorf("record history: %w", err)
			}
			if t.Status == protocol.SoftwareApproved && t.CameInAt.IsZero() {
				var told int
				if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM software_answers WHERE title_id = ? AND answer = ?",
					id, protocol.AnswerForWork).Scan(&told); err != nil {
					return err
				}
				if told > 0 || t.Told > 0 {
					t.CameInAt = now
				}
			}
		}
		catalogue := 0
		if t.Catalogue {
			catalogue = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE software_titles SET status = ?, reason = ?, alternative = ?, catalogue = ?,
			catalogue_how = ?, catalogue_url = ?, catalogue_package = ?, catalogue_text = ?, description = ?, catalogue_os = ?,
			status_at = ?, status_by = ?, came_in_at = ? WHERE id = ?`, t.Status, t.Reason, t.Alternative, catalogue,
			t.CatalogueHow, t.CatalogueURL, t.CataloguePackage, t.CatalogueText, t.Description, strings.Join(t.CatalogueOS, ","),
			ms(t.StatusAt), t.StatusBy, ms(t.CameInAt), id); err != nil {
			return fmt.Errorf("store title: %w", err)
		}
		if t.Status == protocol.SoftwareApproved || t.Status == protocol.SoftwareNotForWork {
			ds, err = s.thankTx(ctx, tx, t, now, out)
		}
		return err
	})
	if err != nil {
		var bad *SoftwareInputError
		if errors.As(err, &bad) {
			return t, nil, err
		}
		return t, nil, fmt.Errorf("update software title %s: %w", id, err)
	}
	return t, ds, nil
}

// thankTx queues a software.thanks for everyone who said "for work" about
// t and has not been thanked for its status yet, and marks them thanked.
// Revoked devices are left out (nobody is there to read it).
func (s *SQL) thankTx(ctx context.Context, tx handle, t SoftwareTitle, now time.Time,
	out func(t SoftwareTitle, a SoftwareAnswer) Outgoing) ([]Delivery, error) {
	rows, err := tx.QueryContext(ctx, `SELECT a.title_id, a.device_id, d.hostname, a.usr, a.answer, a.request_id, a.at, a.thanked_at
		FROM software_answers a JOIN devices d ON d.id = a.device_id
		WHERE a.title_id = ? AND a.answer = ? AND a.thanked_status <> ? AND d.revoked = 0 ORDER BY a.device_id`,
		t.ID, protocol.AnswerForWork, t.Status)
	if err != nil {
		return nil, fmt.Errorf("find people to thank: %w", err)
	}
	var as []SoftwareAnswer
	for rows.Next() {
		a, err := scanSoftwareAnswer(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("find people to thank: %w", err)
		}
		as = append(as, a)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("find people to thank: %w", err)
	}
	ds := make([]Delivery, 0, len(as))
	for _, a := range as {
		d, err := appendOutbox(ctx, tx, a.DeviceID, out(t, a), "")
		if err != nil {
			return nil, fmt.Errorf("thank %s: %w", a.DeviceID, err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE software_answers SET thanked_at = ?, thanked_status = ? WHERE title_id = ? AND device_id = ?",
			ms(now), t.Status, t.ID, a.DeviceID); err != nil {
			return nil, fmt.Errorf("mark %s thanked: %w", a.DeviceID, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}
