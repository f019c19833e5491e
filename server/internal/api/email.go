package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/store"
)

// emailSettings is GET /api/v1/settings/email: the SMTP settings without
// the password (only whether one is set), and how the outbox is doing.
type emailSettings struct {
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Security    string    `json:"security"`
	Username    string    `json:"username"`
	PasswordSet bool      `json:"password_set"`
	From        string    `json:"from"`
	FromName    string    `json:"from_name"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	UpdatedBy   string    `json:"updated_by,omitempty"`
	Outbox      struct {
		Queued int `json:"queued"`
		Sent   int `json:"sent"`
		Failed int `json:"failed"`
		// Problems are the newest emails that failed or are waiting on a
		// retry, with the reason.
		Problems []store.OutMail `json:"problems"`
	} `json:"outbox"`
}

func (a *API) emailSettings(w http.ResponseWriter, r *http.Request, _ *actor) {
	ctx := r.Context()
	set, err := a.st.MailSettings(ctx)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	out := emailSettings{Host: set.Host, Port: set.Port, Security: set.Security, Username: set.Username,
		PasswordSet: set.Password != "", From: set.From, FromName: set.FromName, UpdatedAt: set.UpdatedAt, UpdatedBy: set.UpdatedBy}
	if out.Security == "" {
		out.Security, out.Port = mail.SecuritySTARTTLS, mail.DefaultPort(mail.SecuritySTARTTLS)
	}
	counts, err := a.st.CountMail(ctx)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	out.Outbox.Queued, out.Outbox.Sent, out.Outbox.Failed = counts[store.MailQueued], counts[store.MailSent], counts[store.MailFailed]
	out.Outbox.Problems = []store.OutMail{}
	for _, st := range []store.MailStatus{store.MailFailed, store.MailQueued} {
		list, err := a.st.ListMail(ctx, st, 5)
		if err != nil {
			httpjson.Internal(a.log, w, r, err)
			return
		}
		for _, m := range list {
			if m.LastError != "" {
				out.Outbox.Problems = append(out.Outbox.Problems, m)
			}
		}
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *API) putEmailSettings(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Security string `json:"security"`
		Username string `json:"username"`
		// Password: absent keeps the stored one, "" clears it.
		Password *string `json:"password"`
		From     string  `json:"from"`
		FromName string  `json:"from_name"`
	}
	if !decode(w, r, &in) {
		return
	}
	ctx := r.Context()
	old, err := a.st.MailSettings(ctx)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	set := store.MailSettings{Host: trimmed(in.Host), Port: in.Port, Security: strings.ToLower(trimmed(in.Security)),
		Username: trimmed(in.Username), Password: old.Password, From: trimmed(in.From), FromName: trimmed(in.FromName),
		UpdatedAt: time.Now(), UpdatedBy: ac.Email}
	if in.Password != nil {
		set.Password = *in.Password
	}
	if set.Security == "" {
		set.Security = mail.SecuritySTARTTLS
	}
	if set.Port == 0 {
		set.Port = mail.DefaultPort(set.Security)
	}
	detail := "off"
	if set.Host != "" { // an empty host turns email off and keeps the queue
		if err := mail.CheckSettings(set); err != nil {
			httpjson.Error(w, http.StatusBadRequest, "bad_settings", err.Error())
			return
		}
		detail = set.Security + " " + set.Host
	}
	if err := a.st.SetMailSettings(ctx, set); err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(ctx, ac.Email, "settings.email", "email", detail) // never the password
	a.emailSettings(w, r, ac)
}

// testEmail sends a test email to the admin now, not through the outbox,
// so the answer is the mail server's own.
func (a *API) testEmail(w http.ResponseWriter, r *http.Request, ac *actor) {
	set, err := a.st.MailSettings(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	if set.Host == "" {
		httpjson.Error(w, http.StatusConflict, "email_off", "Email is not set up yet — save the mail server's settings first.")
		return
	}
	c, err := mail.NewSMTP(set, a.opt.SMTP)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_settings", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 45*time.Second)
	defer cancel()
	name := strings.Fields(ac.Name)
	hi := "Hi,"
	if len(name) > 0 {
		hi = "Hi " + name[0] + ","
	}
	err = c.Send(ctx, mail.Message{To: []string{ac.Email}, Subject: mail.SubjectPrefix + "Test email",
		Text: hi + "\n\nThis is a test email from Deskside. If you can read it, email to technicians works.\n\n— Deskside\n"})
	a.audit(r.Context(), ac.Email, "settings.email.test", ac.Email, errText(err))
	if err != nil {
		var e *mail.Error
		msg, detail := err.Error(), ""
		if errors.As(err, &e) {
			msg = e.Msg
			if e.Err != nil {
				detail = e.Err.Error()
			}
		}
		httpjson.Write(w, http.StatusBadGateway, map[string]string{"error": "smtp_failed", "message": msg, "detail": detail})
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"sent": true, "to": ac.Email})
}

func errText(err error) string {
	if err == nil {
		return "sent"
	}
	return err.Error()
}

// notificationPrefs is GET /api/v1/profile/notifications.
type notificationPrefs struct {
	store.MailPrefs
	Email string `json:"email"` // where they go
	// EmailOn says an admin has set email up; until then nothing is sent.
	EmailOn bool `json:"email_on"`
}

func (a *API) notificationPrefs(w http.ResponseWriter, r *http.Request, ac *actor) {
	p, err := a.st.MailPrefs(r.Context(), ac.ID)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "technician")
		return
	}
	set, err := a.st.MailSettings(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, notificationPrefs{MailPrefs: p, Email: ac.Email, EmailOn: set.Host != ""})
}

func (a *API) putNotificationPrefs(w http.ResponseWriter, r *http.Request, ac *actor) {
	p, err := a.st.MailPrefs(r.Context(), ac.ID)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "technician")
		return
	}
	if !decode(w, r, &p) { // fields left out keep their value
		return
	}
	if err := a.st.SetMailPrefs(r.Context(), ac.ID, p); err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.notificationPrefs(w, r, ac)
}
