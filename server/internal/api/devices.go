package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// CreateToken makes an enrolment token and returns it with its wire form
// (shown once; only a hash is stored). pin is added when non-nil.
func CreateToken(ctx context.Context, st store.Store, group string, maxUses int, expiresIn time.Duration, pin []byte) (store.EnrollToken, string, error) {
	secret := auth.RandomToken(24)
	t := store.EnrollToken{ID: "tok_" + uuid.NewString()[:8], Group: group, MaxUses: maxUses, CreatedAt: time.Now().UTC()}
	if expiresIn != 0 {
		e := t.CreatedAt.Add(expiresIn)
		t.ExpiresAt = &e
	}
	if err := st.CreateToken(ctx, t, auth.Hash(secret)); err != nil {
		return t, "", err
	}
	return t, protocol.Token{Secret: secret, Pin: pin}.String(), nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, _ *actor) {
	ts, err := a.st.ListTokens(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Group          string  `json:"group"`
		ExpiresInHours float64 `json:"expires_in_hours"`
		MaxUses        int     `json:"max_uses"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.MaxUses < 0 || in.ExpiresInHours < 0 {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "max_uses and expires_in_hours cannot be negative (0 means no limit).")
		return
	}
	t, tok, err := CreateToken(r.Context(), a.st, trimmed(in.Group), in.MaxUses, time.Duration(in.ExpiresInHours*float64(time.Hour)), a.opt.Pin)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "token.create", t.ID, "group="+t.Group)
	httpjson.Write(w, http.StatusCreated, struct {
		store.EnrollToken
		Token string `json:"token"`
	}{t, tok})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, ac *actor) {
	id := r.PathValue("id")
	if err := a.st.RevokeToken(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "token")
		return
	}
	a.audit(r.Context(), ac.Email, "token.revoke", id, "")
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) enroll(w http.ResponseWriter, r *http.Request) {
	var in protocol.EnrollRequest
	if !decode(w, r, &in) {
		return
	}
	tok, err := protocol.ParseToken(in.Token)
	if err != nil {
		httpjson.Error(w, http.StatusUnauthorized, "bad_token", capitalise(err.Error())+".")
		return
	}
	if trimmed(in.Hostname) == "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The device did not say its hostname.")
		return
	}
	if msg := enrollTooLong(in); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "too_long", msg)
		return
	}
	secret := auth.RandomToken(32)
	d := store.Device{ID: "dev_" + uuid.NewString(), Hostname: trimmed(in.Hostname), User: in.User, OS: in.OS,
		Arch: in.Arch, AgentVersion: in.AgentVersion, SecretHash: auth.Hash(secret)}
	d, err = a.st.Enroll(r.Context(), auth.Hash(tok.Secret), d, time.Now().UTC())
	if err != nil {
		msg := ""
		switch {
		case errors.Is(err, store.ErrTokenUnknown):
			msg = "This enrolment token is not known to the server. Check it was copied whole, or ask IT for a new one."
		case errors.Is(err, store.ErrTokenExpired):
			msg = "This enrolment token has expired. Please ask IT for a new one."
		case errors.Is(err, store.ErrTokenUsedUp):
			msg = "This enrolment token has been used as many times as allowed. Please ask IT for a new one."
		case errors.Is(err, store.ErrTokenRevoked):
			msg = "This enrolment token was withdrawn. Please ask IT for a new one."
		default:
			httpjson.Internal(a.log, w, r, err)
			return
		}
		a.log.Warn("enrolment refused", "hostname", in.Hostname, "remote", r.RemoteAddr, "err", err)
		httpjson.Error(w, http.StatusUnauthorized, "bad_token", msg)
		return
	}
	a.metrics.enrolled.Inc()
	a.audit(r.Context(), "device:"+d.ID, "device.enroll", d.ID, d.Hostname+" group="+d.Group)
	httpjson.Write(w, http.StatusCreated, protocol.EnrollResponse{DeviceID: d.ID, DeviceSecret: secret, Group: d.Group, ServerName: a.opt.ServerName})
}

// enrollTooLong says which enrolment field is longer than any real one
// (a DNS name is at most 253 bytes) and would only bloat every list and
// console that shows it; "" when all fit.
func enrollTooLong(in protocol.EnrollRequest) string {
	for _, f := range []struct {
		name, v string
		max     int
	}{{"hostname", in.Hostname, 253}, {"user name", in.User, 256}, {"OS", in.OS, 128},
		{"architecture", in.Arch, 32}, {"agent version", in.AgentVersion, 64}} {
		if len(f.v) > f.max {
			return fmt.Sprintf("The device's %s is %d bytes long; at most %d are accepted.", f.name, len(f.v), f.max)
		}
	}
	return ""
}

type deviceView struct {
	store.Device
	Online bool `json:"online"`
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request, _ *actor) {
	ds, err := a.st.ListDevices(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	out := make([]deviceView, 0, len(ds))
	for _, d := range ds {
		out = append(out, deviceView{a.devices.WithPendingHello(d), a.hub.Online(d.ID)})
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"devices": out})
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request, _ *actor) {
	id := r.PathValue("id")
	d, err := a.st.Device(r.Context(), id)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "device")
		return
	}
	snap, err := a.st.DeviceSnapshot(r.Context(), id)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	if len(snap) == 0 {
		snap = json.RawMessage("null")
	}
	checks, err := a.deviceChecks(r, d)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, struct {
		deviceView
		Snapshot json.RawMessage        `json:"snapshot"`
		Checks   []protocol.DeviceCheck `json:"checks"` // heads-up items (docs/heads-up.md)
	}{deviceView{a.devices.WithPendingHello(d), a.hub.Online(id)}, snap, checks})
}

// sendLive sends an unstored frame to an online device, answering 202 or 409.
func (a *API) sendLive(w http.ResponseWriter, r *http.Request, kind protocol.Kind, body any) {
	id := r.PathValue("id")
	env, err := protocol.New(kind, body)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	frame, _ := env.Marshal()
	if !a.hub.SendLive(id, frame) {
		httpjson.Error(w, http.StatusConflict, "offline", "This device is not connected right now; try again when it is online.")
		return
	}
	httpjson.Write(w, http.StatusAccepted, map[string]string{"status": "sent"})
}

func (a *API) wantSnapshot(w http.ResponseWriter, r *http.Request, _ *actor) {
	a.sendLive(w, r, protocol.KindSnapshotWant, struct{}{})
}

func (a *API) telemetry(w http.ResponseWriter, r *http.Request, _ *actor) {
	var in struct {
		On         bool `json:"on"`
		IntervalMS int  `json:"interval_ms"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !in.On {
		a.sendLive(w, r, protocol.KindTelemetryStop, struct{}{})
		return
	}
	if in.IntervalMS < 500 {
		in.IntervalMS = 2000
	}
	a.sendLive(w, r, protocol.KindTelemetryStart, protocol.TelemetryStart{IntervalMS: in.IntervalMS})
}

func (a *API) directMessage(w http.ResponseWriter, r *http.Request, ac *actor) {
	id := r.PathValue("id")
	if _, err := a.st.Device(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "device")
		return
	}
	a.sendMessage(w, r, ac, id, "")
}

func (a *API) revokeDevice(w http.ResponseWriter, r *http.Request, ac *actor) {
	id := r.PathValue("id")
	if err := a.st.RevokeDevice(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "device")
		return
	}
	a.hub.Kick(id, protocol.CloseRevoked, "this device was removed from the help desk by IT")
	a.audit(r.Context(), ac.Email, "device.revoke", id, "")
	w.WriteHeader(http.StatusNoContent)
}
