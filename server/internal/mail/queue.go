package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/store"
)

// Queue is the Sender the rest of the server uses: Send stores the email
// in the durable outbox and returns; a Worker on some node delivers it,
// retrying for a day. An email Send accepted survives a restart and a
// mail server that is down or refuses the password.
type Queue struct {
	st   store.MailStore
	wake chan struct{}
	now  func() time.Time // the clock (tests)
}

var _ Sender = (*Queue)(nil)

// NewQueue is a queue over the store's outbox.
func NewQueue(st store.MailStore) *Queue {
	return &Queue{st: st, wake: make(chan struct{}, 1), now: time.Now}
}

// Send implements Sender by enqueueing m.
func (q *Queue) Send(ctx context.Context, m Message) error {
	if err := checkMessage(m); err != nil {
		return err
	}
	_, err := q.st.EnqueueMail(ctx, store.OutMail{ID: "mail_" + uuid.NewString(), To: m.To, Subject: oneLine(m.Subject),
		Text: m.Text, HTML: m.HTML, CreatedAt: q.now()})
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	select { // nudge this node's worker; others find it when they poll
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

func checkMessage(m Message) error {
	if len(m.To) == 0 {
		return errors.New("queue email: no recipient")
	}
	for _, a := range m.To {
		p, err := mail.ParseAddress(a)
		if err != nil || p.Address != a {
			return fmt.Errorf("queue email: %q is not an email address", a)
		}
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("queue email: no text")
	}
	return nil
}

// WorkerOptions configure a Worker; zero values take defaults.
type WorkerOptions struct {
	Store store.MailStore
	// Queue, when set, wakes the worker as soon as it queues an email.
	Queue *Queue
	Log   *slog.Logger
	SMTP  SMTPOptions
	// Poll is how often the outbox is checked without a nudge (15 s).
	Poll time.Duration
	// Lease is how long a claimed email is this node's (3 min): longer
	// than a send takes, short enough that a stopped node's emails soon go.
	Lease time.Duration
	// GiveUp is how long an email is retried before it is marked failed (24 h).
	GiveUp time.Duration
	// FirstRetry is the wait after the first failure (30 s); it doubles
	// with each attempt up to MaxRetry (1 h).
	FirstRetry, MaxRetry time.Duration
	// KeepSent and KeepFailed are how long sent and failed emails stay in
	// the outbox (30 and 90 days); pruned about once an hour.
	KeepSent, KeepFailed time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Worker delivers the outbox. Every node runs one; the store's leases
// make sure two never send the same email at once.
type Worker struct {
	o         WorkerOptions
	lastPrune time.Time
	cancel    context.CancelFunc
	done      chan struct{}
	once      sync.Once
}

const claimBatch = 10

// StartWorker starts delivering in the background until Close.
func StartWorker(o WorkerOptions) *Worker {
	w := NewWorker(o)
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.done)
		w.run(ctx)
	}()
	return w
}

// NewWorker is a worker that does nothing until RunOnce (tests) or is
// started with StartWorker.
func NewWorker(o WorkerOptions) *Worker {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = 15 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 3 * time.Minute
	}
	if o.GiveUp <= 0 {
		o.GiveUp = 24 * time.Hour
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = 30 * time.Second
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = time.Hour
	}
	if o.KeepSent <= 0 {
		o.KeepSent = 30 * 24 * time.Hour
	}
	if o.KeepFailed <= 0 {
		o.KeepFailed = 90 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Worker{o: o, done: make(chan struct{})}
}

// Close stops the worker and waits for the email in hand; safe to call twice.
func (w *Worker) Close() {
	w.once.Do(func() {
		if w.cancel != nil {
			w.cancel()
			<-w.done
		}
	})
}

func (w *Worker) run(ctx context.Context) {
	var wake <-chan struct{}
	if w.o.Queue != nil {
		wake = w.o.Queue.wake
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		w.prune(ctx)
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.o.Log.Error("email outbox", "err", err)
			}
			if err != nil || n < claimBatch {
				break
			}
		}
		t.Reset(w.o.Poll)
	}
}

// RunOnce claims the emails that are due and tries each once; it returns
// how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	// The settings are read per pass: an admin's fix applies to the next try.
	set, err := w.o.Store.MailSettings(ctx)
	if err != nil || set.Host == "" {
		return 0, err // email is off: queued emails wait (a day at most, see record)
	}
	sender, setupErr := NewSMTP(set, w.o.SMTP)
	now := w.o.Now()
	claimed, err := w.o.Store.ClaimMail(ctx, now, w.o.Lease, claimBatch)
	if err != nil {
		return 0, err
	}
	for _, m := range claimed {
		if ctx.Err() != nil {
			// Stopping: the lease hands these to the next run or node.
			return len(claimed), nil
		}
		if now.Sub(m.CreatedAt) > w.o.GiveUp {
			// It waited too long (email was off): old news is not sent.
			if err := w.o.Store.MailAttemptFailed(ctx, m.ID, cmp.Or(m.LastError, stale), time.Time{}); err != nil {
				return len(claimed), err
			}
			continue
		}
		err := setupErr
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, w.o.Lease/2)
			err = sender.Send(sctx, Message{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
			cancel()
		}
		if err := w.record(ctx, m, err); err != nil {
			return len(claimed), err
		}
	}
	return len(claimed), nil
}

// stale is why an email that waited more than a day was not sent.
const stale = "It waited more than a day while email was off, so Deskside did not send it."

// record stores the outcome of one attempt.
func (w *Worker) record(ctx context.Context, m store.OutMail, sendErr error) error {
	now := w.o.Now()
	if sendErr == nil {
		w.o.Log.Info("email sent", "id", m.ID, "attempts", m.Attempts)
		return w.o.Store.MailSent(ctx, m.ID, now)
	}
	retry := now.Add(w.Backoff(m.Attempts))
	if retry.Sub(m.CreatedAt) > w.o.GiveUp {
		w.o.Log.Error("email given up", "id", m.ID, "attempts", m.Attempts, "err", sendErr)
		return w.o.Store.MailAttemptFailed(ctx, m.ID, sendErr.Error(), time.Time{})
	}
	w.o.Log.Warn("email not sent, will retry", "id", m.ID, "attempts", m.Attempts, "retry_at", retry, "err", sendErr)
	return w.o.Store.MailAttemptFailed(ctx, m.ID, sendErr.Error(), retry)
}

// Backoff is the wait after the attempts-th failed attempt: FirstRetry,
// doubling, at most MaxRetry.
func (w *Worker) Backoff(attempts int) time.Duration {
	d := w.o.FirstRetry
	for i := 1; i < attempts && d < w.o.MaxRetry; i++ {
		d *= 2
	}
	return min(d, w.o.MaxRetry)
}

// prune drops old sent and failed emails, at most once an hour per node.
func (w *Worker) prune(ctx context.Context) {
	now := w.o.Now()
	if now.Sub(w.lastPrune) < time.Hour {
		return
	}
	w.lastPrune = now
	n, err := w.o.Store.PruneMail(ctx, now.Add(-w.o.KeepSent), now.Add(-w.o.KeepFailed))
	if err != nil && ctx.Err() == nil {
		w.o.Log.Error("email outbox: prune", "err", err)
	} else if n > 0 {
		w.o.Log.Info("email outbox: pruned old emails", "n", n)
	}
}
