package webhooks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/deskside/deskside/server/internal/store"
)

// worker delivers one endpoint's queue, one delivery at a time, so a
// slow or stuck endpoint holds up nobody else.
type worker struct {
	s      *Service
	ep     store.WebhookEndpoint
	client *http.Client
	wakeCh chan struct{}
	// fresh carries deliveries this node just published, stored already
	// claimed, so the first attempt needs no claim write; room counts the
	// free places Publish may reserve (it never blocks on a stuck endpoint).
	fresh  chan store.WebhookDelivery
	room   atomic.Int32
	ctx    context.Context
	cancel context.CancelFunc
	exited chan struct{}
}

func newWorker(s *Service, ep store.WebhookEndpoint) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{s: s, ep: ep, client: newClient(s.opt, ep.AllowPrivate), wakeCh: make(chan struct{}, 1),
		fresh: make(chan store.WebhookDelivery, freshQueue), ctx: ctx, cancel: cancel, exited: make(chan struct{})}
	w.room.Store(freshQueue)
	return w
}

// freshQueue bounds the just-published deliveries a worker holds.
const freshQueue = 256

// reserve takes a place in fresh; false when it is full.
func (w *worker) reserve() bool {
	if w.room.Add(-1) < 0 {
		w.room.Add(1)
		return false
	}
	return true
}

func (w *worker) unreserve() { w.room.Add(1) }

// lease is how long a claim holds a delivery: long enough for a batch of
// attempts that all time out.
func (o Options) lease() time.Duration { return time.Duration(o.Batch+1)*o.Timeout + 30*time.Second }

// takeFresh attempts a just-published delivery, unless it waited so long
// that its lease could run out during the attempt (then the queue's next
// claim picks it up, here or on another node).
func (w *worker) takeFresh(d store.WebhookDelivery) {
	w.room.Add(1)
	o := w.s.opt
	if o.Now().Add(o.Timeout + 5*time.Second).After(d.LeaseUntil) {
		return
	}
	w.deliver(d)
}

// newClient is an HTTP client that verifies TLS, refuses private
// addresses at dial time (unless allowed), uses no proxy from the
// environment (it would dial for us, past the check), follows no
// redirect and gives up after the timeout.
func newClient(opt Options, allowPrivate bool) *http.Client {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            newDialer(allowPrivate).DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: opt.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           2,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    opt.Timeout,
		ResponseHeaderTimeout:  opt.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{Transport: tr, Timeout: opt.Timeout, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		return fmt.Errorf("the endpoint redirected to %s, and webhooks follow no redirects: register the final address", req.URL.Redacted())
	}}
}

func (w *worker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

func (w *worker) halt() {
	w.cancel()
	<-w.exited
}

func (w *worker) run() {
	defer close(w.exited)
	defer w.client.CloseIdleConnections()
	defer w.drainFresh()
	for {
		n, err := w.round()
		if w.ctx.Err() != nil {
			return
		}
		if err != nil {
			w.s.log.Warn("webhook queue unreadable", "endpoint", w.ep.ID, "err", err)
		}
		if err == nil && n == w.s.opt.Batch {
			continue // more may be due
		}
		wait := w.s.opt.Poll
		if err == nil {
			if next, err := w.s.st.NextWebhookAttempt(w.ctx, w.ep.ID); err == nil && !next.IsZero() {
				if d := next.Sub(w.s.opt.Now()); d < wait {
					wait = max(d, 0)
				}
			}
		}
		t := time.NewTimer(wait)
	idle:
		for {
			select {
			case <-w.ctx.Done():
				t.Stop()
				return
			case d := <-w.fresh:
				w.takeFresh(d)
				if w.ctx.Err() != nil {
					t.Stop()
					return
				}
				continue idle
			case <-w.wakeCh:
			case <-t.C:
			}
			break
		}
		t.Stop()
	}
}

// drainFresh gives back the just-published deliveries a stopping worker
// holds, so the queue's next claim takes them without waiting out a lease.
func (w *worker) drainFresh() {
	var ds []store.WebhookDelivery
	for {
		select {
		case d := <-w.fresh:
			ds = append(ds, d)
		default:
			if len(ds) > 0 {
				w.release(ds)
			}
			return
		}
	}
}

// round claims due deliveries and attempts each; it returns how many it claimed.
func (w *worker) round() (int, error) {
	o := w.s.opt
	ds, err := w.s.st.ClaimWebhookDeliveries(w.ctx, w.ep.ID, o.Now(), o.lease(), o.Batch)
	if err != nil {
		return 0, err
	}
	for i, d := range ds {
		if w.ctx.Err() != nil {
			w.release(ds[i:])
			break
		}
		w.deliver(d)
	}
	return len(ds), nil
}

// release gives claimed deliveries back, due as they were, when the
// worker stops before attempting them.
func (w *worker) release(ds []store.WebhookDelivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, d := range ds {
		if _, err := w.s.st.FinishWebhookAttempt(ctx, d); err != nil {
			w.s.log.Warn("webhook delivery not released; its lease runs out instead", "delivery", d.ID, "err", err)
		}
	}
}

// deliver makes one attempt and records it.
func (w *worker) deliver(d store.WebhookDelivery) {
	o := w.s.opt
	started := o.Now()
	code, err := w.send(d, started)
	if errors.Is(err, errClosed) {
		w.release([]store.WebhookDelivery{d})
		return
	}
	now := o.Now()
	d.Attempts++
	if d.FirstAttemptAt.IsZero() {
		d.FirstAttemptAt = started
	}
	d.LastStatus = code
	if err == nil {
		d.Status, d.DeliveredAt, d.LastError = store.DeliveryDelivered, now, ""
	} else {
		d.LastError = clip(err.Error(), 500)
		step := o.Backoff[min(d.Attempts, len(o.Backoff))-1]
		d.NextAttemptAt = now.Add(step)
		d.Status = store.DeliveryPending
		if d.NextAttemptAt.After(d.FirstAttemptAt.Add(o.Window)) {
			d.Status = store.DeliveryFailed
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, ferr := w.s.st.FinishWebhookAttempt(ctx, d)
	switch {
	case ferr != nil:
		w.s.log.Error("webhook attempt not recorded", "delivery", d.ID, "err", ferr)
	case !ok:
		w.s.log.Warn("webhook delivery was claimed by another node meanwhile", "delivery", d.ID)
	case d.Status == store.DeliveryFailed:
		w.s.log.Warn("webhook delivery failed for good", "delivery", d.ID, "endpoint", w.ep.ID, "attempts", d.Attempts, "err", d.LastError)
	case err != nil:
		w.s.log.Info("webhook attempt failed; will retry", "delivery", d.ID, "endpoint", w.ep.ID, "attempts", d.Attempts,
			"next", d.NextAttemptAt, "err", d.LastError)
	}
}

// send POSTs the delivery; it returns the HTTP status (0 when none came)
// and an error saying in plain words what went wrong.
func (w *worker) send(d store.WebhookDelivery, at time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.s.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.ep.URL, strings.NewReader(string(d.Payload)))
	if err != nil {
		return 0, fmt.Errorf("the endpoint's address is unusable: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Deskside-Webhooks/1")
	if w.ep.Kind == store.WebhookStandard {
		if err := sign(req.Header, w.ep.Secret, d.ID, at, d.Payload); err != nil {
			return 0, err
		}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		if w.ctx.Err() != nil {
			return 0, errClosed
		}
		return 0, explain(err, w.s.opt.Timeout)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, w.s.opt.MaxResponse+1))
	if err != nil {
		if w.ctx.Err() != nil {
			return resp.StatusCode, errClosed
		}
		return resp.StatusCode, fmt.Errorf("HTTP %d, then the answer broke off: %w", resp.StatusCode, explain(err, w.s.opt.Timeout))
	}
	if int64(len(body)) > w.s.opt.MaxResponse {
		return resp.StatusCode, fmt.Errorf("HTTP %d with an answer over %d KB: a receiver should answer with a short body (counted as not delivered)",
			resp.StatusCode, w.s.opt.MaxResponse>>10)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := "HTTP " + strconv.Itoa(resp.StatusCode)
		if s := strings.TrimSpace(string(body)); s != "" {
			msg += ": " + clip(s, 200)
		}
		return resp.StatusCode, errors.New(msg)
	}
	return resp.StatusCode, nil
}

// sign adds the Standard Webhooks headers, signed by the spec's own library.
func sign(h http.Header, secret, id string, at time.Time, payload []byte) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return fmt.Errorf("the endpoint's signing secret is unreadable: %w", err)
	}
	sig, err := wh.Sign(id, at, payload)
	if err != nil {
		return fmt.Errorf("sign delivery: %w", err)
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}

// explain turns a transport error into what an admin can act on.
func explain(err error, timeout time.Duration) error {
	var certErr *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrPrivateTarget):
		msg := err.Error()
		if i := strings.Index(msg, "refused to connect"); i >= 0 {
			msg = msg[i:]
		}
		return fmt.Errorf("%s: tick \"Allow private network\" on the endpoint if the receiver really is inside your network", msg)
	case errors.As(err, &certErr):
		return fmt.Errorf("the endpoint's TLS certificate is not valid: %v", certErr.Err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("no answer within %v (timed out)", timeout)
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.Contains(err.Error(), "redirected") {
		return errors.New(redirectMessage(err))
	}
	return err
}

func redirectMessage(err error) string {
	s := err.Error()
	if i := strings.Index(s, "the endpoint redirected"); i >= 0 {
		return s[i:]
	}
	return s
}
