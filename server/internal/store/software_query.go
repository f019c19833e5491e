package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/deskside/deskside/shared/protocol"
)

// The registry as IT reads and keeps it: the Software page's list, a title
// page, IT's decisions (with the thank-yous they send), the catalogue, the
// policy and the amnesty figures. The ingest side (inventories, answers)
// lives in software_ingest.go.

// SoftwarePolicyKey is the meta key the amnesty policy is stored under
// (JSON of SoftwarePolicy); the ingest side reads it there.
const SoftwarePolicyKey = "software.policy"

// Bounds of what IT writes on a title (runes).
const (
	maxSoftwareReason   = 2000
	maxSoftwareAlt      = 500
	maxSoftwareURL      = 2000
	maxSoftwarePackage  = 200
	maxSoftwareText     = 20000
	maxSoftwareDesc     = 2000
	maxSoftwareMessage  = 2000
	maxSoftwarePrompt   = 500
	maxSoftwarePageSize = 1000
	maxTitleDevices     = 1000
	// titleDeviceEntries is how many of a title page's devices get their
	// version and per-user flag from their stored inventory: each is one
	// blob to inflate and decode (~1,500 entries), so a page costs 25 blob
	// reads, not one per desk that has the title.
	titleDeviceEntries = 25
)

// SoftwareInputError is IT's change refused for what it says (an unknown
// status, a missing reason, a URL that is not https, …): the caller shows
// Msg as it is.
type SoftwareInputError struct{ Msg string }

func (e *SoftwareInputError) Error() string { return e.Msg }

func badSoftware(format string, args ...any) error {
	return &SoftwareInputError{Msg: fmt.Sprintf(format, args...)}
}

const swCols = `t.id, t.name, t.publisher, t.source, t.status, t.reason, t.alternative, t.catalogue, t.catalogue_how,
	t.catalogue_url, t.catalogue_package, t.catalogue_text, t.description, t.catalogue_os, t.devices, t.per_user_devices,
	t.told, t.first_seen, t.last_seen, t.status_at, t.status_by, t.came_in_at`

func scanSoftwareTitle(row interface{ Scan(...any) error }, extra ...any) (SoftwareTitle, error) {
	var t SoftwareTitle
	var catalogue int64
	var os string
	var first, last, statusAt, cameIn int64
	dest := []any{&t.ID, &t.Name, &t.Publisher, &t.Source, &t.Status, &t.Reason, &t.Alternative, &catalogue, &t.CatalogueHow,
		&t.CatalogueURL, &t.CataloguePackage, &t.CatalogueText, &t.Description, &os, &t.Devices, &t.PerUserDevices,
		&t.Told, &first, &last, &statusAt, &t.StatusBy, &cameIn}
	err := row.Scan(append(dest, extra...)...)
	t.Catalogue = catalogue != 0
	t.CatalogueOS = splitOS(os)
	t.FirstSeen, t.LastSeen, t.StatusAt, t.CameInAt = fromMS(first), fromMS(last), fromMS(statusAt), fromMS(cameIn)
	return t, err
}

// catalogue_os is kept as a comma list of GOOS values ("" for every OS).
func splitOS(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// likeWord is a LIKE pattern matching w anywhere, its wildcards escaped.
func likeWord(w string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(w) + "%"
}

// softwareWhere turns the filter into a WHERE clause and its arguments.
func (s *SQL) softwareWhere(f SoftwareFilter) (string, []any) {
	var conds []string
	var args []any
	if len(f.Status) > 0 {
		conds = append(conds, "t.status IN (?"+strings.Repeat(",?", len(f.Status)-1)+")")
		for _, st := range f.Status {
			args = append(args, string(st))
		}
	}
	if !f.NewSince.IsZero() {
		conds = append(conds, "t.first_seen >= ?")
		args = append(args, ms(f.NewSince))
	}
	if f.PerUserOnly {
		conds = append(conds, "t.per_user_devices > 0")
	}
	if f.Source != "" {
		conds = append(conds, "t.source = ?")
		args = append(args, f.Source)
	}
	if f.Catalogue {
		conds = append(conds, "t.catalogue = 1")
	}
	// Every word must appear in the name or the publisher. SQLite's LIKE
	// ignores ASCII case (non-ASCII letters match as typed). On PostgreSQL
	// lower() LIKE a lower-cased pattern ignores case for all letters and
	// measured ~2× faster than ILIKE over 50,000 titles.
	for i, w := range strings.Fields(f.Query) {
		if i == 8 { // a pasted paragraph narrows nothing more
			break
		}
		if s.d.postgres {
			conds = append(conds, `(lower(t.name) LIKE ? ESCAPE '\' OR lower(t.publisher) LIKE ? ESCAPE '\')`)
			w = strings.ToLower(w)
		} else {
			conds = append(conds, `(t.name LIKE ? ESCAPE '\' OR t.publisher LIKE ? ESCAPE '\')`)
		}
		args = append(args, likeWord(w), likeWord(w))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// softwareOrder is the ORDER BY of a sort name; every order ends in the
// id so pages do not overlap.
func softwareOrder(sort string) (string, error) {
	switch sort {
	case "", "devices":
		return " ORDER BY t.devices DESC, t.id", nil
	case "name":
		return " ORDER BY lower(t.name), t.id", nil
	case "first_seen":
		return " ORDER BY t.first_seen DESC, t.id", nil
	case "per_user":
		return " ORDER BY t.per_user_devices DESC, t.devices DESC, t.id", nil
	}
	return "", badSoftware("Sort must be devices, name, first_seen or per_user.")
}

// ListSoftware returns one page of titles matching f and how many match.
func (s *SQL) ListSoftware(ctx context.Context, f SoftwareFilter) (SoftwarePage, error) {
	for _, st := range f.Status {
		if !st.Valid() {
			return SoftwarePage{}, badSoftware("Status %.40q is not new, approved, under_review or not_for_work.", st)
		}
	}
	order, err := softwareOrder(f.Sort)
	if err != nil {
		return SoftwarePage{}, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, maxSoftwarePageSize)
	f.Offset = max(f.Offset, 0)
	where, args := s.softwareWhere(f)
	page := SoftwarePage{Titles: []SoftwareTitle{}}
	// Two statements, each on an index where the filter allows: the page
	// (the index of its order, stopping at limit) and the total. Measured
	// on 50,000 titles, one statement with count(*) OVER () was slower on
	// both backends: it materialises every match before the top-N sort.
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM software_titles t"+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count software titles: %w", err)
	}
	if page.Total <= f.Offset {
		return page, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+swCols+" FROM software_titles t"+where+order+" LIMIT ? OFFSET ?",
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return page, fmt.Errorf("list software titles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanSoftwareTitle(rows)
		if err != nil {
			return page, fmt.Errorf("list software titles: %w", err)
		}
		page.Titles = append(page.Titles, t)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list software titles: %w", err)
	}
	return page, nil
}

// softwareTitle reads one title and its device bitmap.
func softwareTitle(ctx context.Context, h handle, id string, lock bool) (SoftwareTitle, *roaring.Bitmap, error) {
	q := "SELECT " + swCols + ", t.device_set FROM software_titles t WHERE t.id = ?"
	if lock {
		q += h.d.lock("")
	}
	var set []byte
	t, err := scanSoftwareTitle(h.QueryRowContext(ctx, q, id), &set)
	if err != nil {
		return t, nil, notFound(err, "software title "+id)
	}
	bm := roaring.New()
	if len(set) > 0 {
		if err := bm.UnmarshalBinary(set); err != nil {
			return t, nil, fmt.Errorf("software title %s: read device set: %w", id, err)
		}
	}
	return t, bm, nil
}

// SoftwareTitleDetail returns the title page: versions (most devices
// first), up to devicesLimit devices (per-user installs first among those
// read), the answers, linked requests and the status history (newest
// first).
func (s *SQL) SoftwareTitleDetail(ctx context.Context, id string, devicesLimit int) (SoftwareTitleDetail, error) {
	var d SoftwareTitleDetail
	t, bm, err := softwareTitle(ctx, s.r, id, false)
	if err != nil {
		return d, err
	}
	d.SoftwareTitle = t
	if d.Versions, err = s.titleVersions(ctx, id); err != nil {
		return d, err
	}
	if devicesLimit <= 0 {
		devicesLimit = 25
	}
	if d.Devices, err = s.titleDevices(ctx, t, bm, min(devicesLimit, maxTitleDevices)); err != nil {
		return d, err
	}
	if d.Answers, err = s.titleAnswers(ctx, id); err != nil {
		return d, err
	}
	if d.Requests, err = s.titleRequests(ctx, id); err != nil {
		return d, err
	}
	if d.History, err = s.titleHistory(ctx, id); err != nil {
		return d, err
	}
	return d, nil
}

func (s *SQL) titleVersions(ctx context.Context, id string) ([]SoftwareVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, devices, first_seen, last_seen FROM software_versions
		WHERE title_id = ? ORDER BY devices DESC, version LIMIT 500`, id)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", id, err)
	}
	defer rows.Close()
	out := []SoftwareVersion{}
	for rows.Next() {
		var v SoftwareVersion
		var first, last int64
		if err := rows.Scan(&v.Version, &v.Devices, &first, &last); err != nil {
			return nil, fmt.Errorf("versions of %s: %w", id, err)
		}
		v.FirstSeen, v.LastSeen = fromMS(first), fromMS(last)
		out = append(out, v)
	}
	return out, rows.Err()
}

// titleDevices turns the first limit numbers of the title's bitmap into
// devices (one indexed query), then fills version, per-user and source
// from the stored inventories of the first titleDeviceEntries of them.
func (s *SQL) titleDevices(ctx context.Context, t SoftwareTitle, bm *roaring.Bitmap, limit int) ([]SoftwareDevice, error) {
	out := []SoftwareDevice{}
	nums := make([]any, 0, limit)
	it := bm.Iterator()
	for it.HasNext() && len(nums) < limit {
		nums = append(nums, int64(it.Next()))
	}
	if len(nums) == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT ds.device_id, coalesce(d.hostname, ''), coalesce(d.usr, ''), ds.updated_at
		FROM device_software ds LEFT JOIN devices d ON d.id = ds.device_id
		WHERE ds.num IN (?`+strings.Repeat(",?", len(nums)-1)+`) ORDER BY ds.num`, nums...)
	if err != nil {
		return nil, fmt.Errorf("devices of %s: %w", t.ID, err)
	}
	for rows.Next() {
		var d SoftwareDevice
		var at int64
		if err := rows.Scan(&d.DeviceID, &d.Hostname, &d.User, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("devices of %s: %w", t.ID, err)
		}
		d.Since, d.Source = fromMS(at), t.Source
		out = append(out, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("devices of %s: %w", t.ID, err)
	}
	if err := s.fillDeviceEntries(ctx, t, nums[:min(len(nums), titleDeviceEntries)], out); err != nil {
		return nil, fmt.Errorf("devices of %s: %w", t.ID, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PerUser && !out[j].PerUser })
	return out, nil
}

// fillDeviceEntries reads the stored inventories of the devices numbered
// nums (one query) and sets each device's version, per-user flag and
// source for the title. Only entries that could be the title (its source
// family, its first word) have their title id computed: a desk holds
// ~1,500 entries and a SHA-256 each would cost more than the query. A blob
// that cannot be read leaves its device without a version: the list is
// still right about who has the title.
func (s *SQL) fillDeviceEntries(ctx context.Context, t SoftwareTitle, nums []any, out []SoftwareDevice) error {
	if len(nums) == 0 {
		return nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT device_id, blob FROM device_software WHERE num IN (?"+strings.Repeat(",?", len(nums)-1)+")", nums...)
	if err != nil {
		return err
	}
	blobs := map[string][]byte{}
	for rows.Next() {
		var id string
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			rows.Close()
			return err
		}
		blobs[id] = blob
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	first := ""
	if f := strings.Fields(strings.ToLower(t.Name)); len(f) > 0 {
		first = f[0]
	}
	for i := range out {
		blob, ok := blobs[out[i].DeviceID]
		if !ok {
			continue
		}
		entries, err := decodeSoftware(blob)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Source.Family() != t.Source || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(e.Name)), first) || e.TitleID() != t.ID {
				continue
			}
			out[i].Version, out[i].PerUser, out[i].Source = e.Version, e.PerUser, string(e.Source)
			break
		}
	}
	return nil
}

func (s *SQL) titleAnswers(ctx context.Context, id string) ([]SoftwareAnswer, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.title_id, a.device_id, coalesce(d.hostname, ''), a.usr, a.answer, a.request_id,
		a.at, a.thanked_at FROM software_answers a LEFT JOIN devices d ON d.id = a.device_id
		WHERE a.title_id = ? ORDER BY a.at DESC, a.device_id LIMIT 500`, id)
	if err != nil {
		return nil, fmt.Errorf("answers on %s: %w", id, err)
	}
	defer rows.Close()
	out := []SoftwareAnswer{}
	for rows.Next() {
		a, err := scanSoftwareAnswer(rows)
		if err != nil {
			return nil, fmt.Errorf("answers on %s: %w", id, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanSoftwareAnswer(row interface{ Scan(...any) error }) (SoftwareAnswer, error) {
	var a SoftwareAnswer
	var at, thanked int64
	err := row.Scan(&a.TitleID, &a.DeviceID, &a.Hostname, &a.User, &a.Answer, &a.RequestID, &at, &thanked)
	a.At, a.ThankedAt = fromMS(at), fromMS(thanked)
	return a, err
}

func (s *SQL) titleRequests(ctx context.Context, id string) ([]RequestSummaryLite, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.device_id, d.hostname, d.usr, r.status, substr(r.text, 1, 200), r.created_at
		FROM requests r JOIN devices d ON d.id = r.device_id WHERE r.software_title = ? ORDER BY r.created_at DESC, r.id LIMIT 200`, id)
	if err != nil {
		return nil, fmt.Errorf("requests about %s: %w", id, err)
	}
	defer rows.Close()
	out := []RequestSummaryLite{}
	for rows.Next() {
		var r RequestSummaryLite
		var at int64
		if err := rows.Scan(&r.ID, &r.DeviceID, &r.Hostname, &r.User, &r.Status, &r.Text, &at); err != nil {
			return nil, fmt.Errorf("requests about %s: %w", id, err)
		}
		r.CreatedAt = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *SQL) titleHistory(ctx context.Context, id string) ([]SoftwareStatusChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at, by_id, by_name, from_status, to_status, reason, alternative
		FROM software_history WHERE title_id = ? ORDER BY id DESC LIMIT 200`, id)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	defer rows.Close()
	out := []SoftwareStatusChange{}
	for rows.Next() {
		var c SoftwareStatusChange
		var at int64
		if err := rows.Scan(&at, &c.ByID, &c.ByName, &c.From, &c.To, &c.Reason, &c.Alternative); err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// LinkRequestSoftware links a software request to a title, or with
// titleID "" unlinks it. A request of another category is ErrConflict.
func (s *SQL) LinkRequestSoftware(ctx context.Context, requestID, titleID string) error {
	err := s.tx(ctx, func(tx handle) error {
		var category string
		if err := tx.QueryRowContext(ctx, "SELECT category FROM requests WHERE id = ?"+tx.d.lock(""), requestID).Scan(&category); err != nil {
			return notFound(err, "request "+requestID)
		}
		if protocol.Category(category) != protocol.CategorySoftware {
			return fmt.Errorf("request %s is not about software: %w", requestID, ErrConflict)
		}
		if titleID != "" {
			var one int
			if err := tx.QueryRowContext(ctx, "SELECT 1 FROM software_titles WHERE id = ?", titleID).Scan(&one); err != nil {
				return notFound(err, "software title "+titleID)
			}
		}
		_, err := tx.ExecContext(ctx, "UPDATE requests SET software_title = ? WHERE id = ?", titleID, requestID)
		return err
	})
	if err != nil {
		return fmt.Errorf("link request %s to software %q: %w", requestID, titleID, err)
	}
	return nil
}

// RequestSoftware returns the title a request is linked to (nil when none).
func (s *SQL) RequestSoftware(ctx context.Context, requestID string) (*SoftwareTitle, error) {
	t, err := scanSoftwareTitle(s.r.QueryRowContext(ctx, "SELECT "+swCols+
		" FROM requests r JOIN software_titles t ON t.id = r.software_title WHERE r.id = ?", requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("software of request %s: %w", requestID, err)
	}
	return &t, nil
}

// SoftwareCatalogue lists the approved titles IT put in the catalogue, by name.
func (s *SQL) SoftwareCatalogue(ctx context.Context) ([]protocol.CatalogueItem, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+swCols+" FROM software_titles t WHERE t.catalogue = 1 AND t.status = ? ORDER BY lower(t.name), t.id",
		protocol.SoftwareApproved)
	if err != nil {
		return nil, fmt.Errorf("software catalogue: %w", err)
	}
	defer rows.Close()
	out := []protocol.CatalogueItem{}
	for rows.Next() {
		t, err := scanSoftwareTitle(rows)
		if err != nil {
			return nil, fmt.Errorf("software catalogue: %w", err)
		}
		out = append(out, t.CatalogueItem())
	}
	return out, rows.Err()
}

// CatalogueItem is the title as the agent's catalogue shows it.
func (t SoftwareTitle) CatalogueItem() protocol.CatalogueItem {
	return protocol.CatalogueItem{TitleID: t.ID, Name: t.Name, Publisher: t.Publisher, Description: t.Description,
		How: t.CatalogueHow, URL: t.CatalogueURL, Package: t.CataloguePackage, Instructions: t.CatalogueText, OS: t.CatalogueOS}
}

// SoftwarePolicy returns IT's amnesty policy (prompt off until set).
func (s *SQL) SoftwarePolicy(ctx context.Context) (SoftwarePolicy, error) {
	var p SoftwarePolicy
	v, err := s.GetMeta(ctx, SoftwarePolicyKey)
	if err != nil || v == "" {
		return p, err
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return SoftwarePolicy{}, fmt.Errorf("read software policy: %w", err)
	}
	return p, nil
}

// PutSoftwarePolicy stores the policy (UpdatedAt now when unset) and
// returns what it stored.
func (s *SQL) PutSoftwarePolicy(ctx context.Context, p SoftwarePolicy) (SoftwarePolicy, error) {
	p.PromptText = strings.TrimSpace(p.PromptText)
	if err := checkLen("prompt text", p.PromptText, maxSoftwarePrompt); err != nil {
		return SoftwarePolicy{}, err
	}
	if err := protocol.CheckText("prompt text", p.PromptText, false); err != nil {
		return SoftwarePolicy{}, badSoftware("The prompt text: %v.", err)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = time.Now()
	}
	p.UpdatedAt = stamp(p.UpdatedAt)
	b, err := json.Marshal(p)
	if err != nil {
		return SoftwarePolicy{}, fmt.Errorf("store software policy: %w", err)
	}
	if err := s.SetMeta(ctx, SoftwarePolicyKey, string(b)); err != nil {
		return SoftwarePolicy{}, err
	}
	return p, nil
}

// SoftwareFigures counts the amnesty figures at now: the week is the last
// seven days, the month the calendar month (UTC) now is in.
func (s *SQL) SoftwareFigures(ctx context.Context, now time.Time) (SoftwareFigures, error) {
	var f SoftwareFigures
	now = now.UTC()
	week := ms(now.Add(-7 * 24 * time.Hour))
	month := ms(time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC))
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM software_titles),
		(SELECT count(*) FROM software_titles WHERE first_seen >= ?),
		(SELECT count(*) FROM software_titles WHERE status = 'new'),
		(SELECT count(*) FROM software_titles WHERE per_user_devices > 0),
		(SELECT count(*) FROM software_titles WHERE came_in_at >= ?),
		(SELECT count(*) FROM (SELECT DISTINCT device_id, usr FROM software_answers WHERE thanked_at >= ?) p),
		(SELECT count(*) FROM device_software WHERE hash <> '')`, week, month, month).Scan(
		&f.Titles, &f.NewThisWeek, &f.Unreviewed, &f.PerUser, &f.CameInThisMonth, &f.ThankedMonth, &f.Devices)
	if err != nil {
		return f, fmt.Errorf("software figures: %w", err)
	}
	return f, nil
}
