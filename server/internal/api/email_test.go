package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/servertest"
)

// TestEmailSettingsAndAssignment: an admin sets email up in Admin → Email
// (the password never comes back), sends a test email, sees the mail
// server's refusal in plain words, and an assignment made by the admin
// reaches the assignee through the outbox, over STARTTLS with AUTH PLAIN
// to a real SMTP server. Assigning oneself emails nobody.
func TestEmailSettingsAndAssignment(t *testing.T) {
	smtpd := mailtest.New(t)
	smtpd.Start()
	srv := servertest.New(t, func(c *app.Config) {
		c.Mail = mail.SMTPOptions{RootCAs: mailtest.Pool(), Timeout: 10 * time.Second}
		c.PublicURL = "https://help.example.com/"
	})
	admin := srv.Tech(t)
	st := storeOf(t, srv)

	var got map[string]any
	if code := admin.Do(t, "GET", "/api/v1/settings/email", nil, &got); code != http.StatusOK || got["host"] != "" ||
		got["security"] != "starttls" || got["port"] != 587.0 || got["password_set"] != false {
		t.Fatalf("fresh settings: %d %v", code, got)
	}
	set := smtpd.Settings()
	body := map[string]any{"host": set.Host, "port": set.Port, "security": "starttls", "username": set.Username,
		"password": set.Password, "from": "helpdesk@example.com", "from_name": "Acme IT"}

	bad := map[string]any{"host": "smtp.example.com", "security": "none", "from": "it@example.com"}
	var apiErr struct{ Error, Message string }
	if code := doErr(t, srv, admin, "PUT", "/api/v1/settings/email", bad, &apiErr); code != http.StatusBadRequest ||
		!strings.Contains(apiErr.Message, "only allowed to a relay on this machine") {
		t.Fatalf("unencrypted to a remote host: %d %+v", code, apiErr)
	}
	raw := json.RawMessage{}
	if code := admin.Do(t, "PUT", "/api/v1/settings/email", body, &raw); code != http.StatusOK {
		t.Fatalf("save settings: %d %s", code, raw)
	}
	if strings.Contains(string(raw), set.Password) || strings.Contains(string(raw), `"password"`) ||
		!strings.Contains(string(raw), `"password_set":true`) {
		t.Fatalf("the password came back: %s", raw)
	}
	// Saving without a password keeps the stored one.
	delete(body, "password")
	body["from_name"] = "Acme IT desk"
	if code := admin.Do(t, "PUT", "/api/v1/settings/email", body, &got); code != http.StatusOK || got["password_set"] != true ||
		got["from_name"] != "Acme IT desk" {
		t.Fatalf("save without a password: %d %v", code, got)
	}

	var sent struct {
		Sent bool
		To   string
	}
	if code := admin.Do(t, "POST", "/api/v1/settings/email/test", nil, &sent); code != http.StatusOK || !sent.Sent ||
		sent.To != servertest.AdminEmail {
		t.Fatalf("test email: %d %+v", code, sent)
	}
	e := smtpd.Await(1)[0]
	h, text, _ := mailtest.Parse(t, e.Data)
	if e.To[0] != servertest.AdminEmail || mailtest.Subject(t, h) != "[Deskside] Test email" || !strings.Contains(text, "email to technicians works") ||
		!e.TLS || !strings.Contains(h.Get("From"), "Acme IT desk") {
		t.Fatalf("test email as received: %+v %v %q", e, h, text)
	}

	// The mail server refuses the password: the admin reads why.
	body["password"] = "not the password"
	if code := admin.Do(t, "PUT", "/api/v1/settings/email", body, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	var refused struct{ Error, Message, Detail string }
	if code := doErr(t, srv, admin, "POST", "/api/v1/settings/email/test", nil, &refused); code != http.StatusBadGateway ||
		refused.Error != "smtp_failed" || refused.Message != "The mail server refused the username or password — check them in Admin → Email." ||
		!strings.Contains(refused.Detail, "535") {
		t.Fatalf("refused: %d %+v", code, refused)
	}
	body["password"] = set.Password
	if code := admin.Do(t, "PUT", "/api/v1/settings/email", body, nil); code != http.StatusOK {
		t.Fatal(code)
	}

	// Lee is a technician; the admin assigns Ana's request to Lee.
	var lee struct{ ID string }
	if code := admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": "lee@example.com", "name": "Lee Park",
		"password": "a long enough password", "role": "technician"}, &lee); code != http.StatusCreated {
		t.Fatalf("create Lee: %d", code)
	}
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	reqID := dev.RaiseRequest(t, "The Wi-Fi drops every ten minutes")

	if code := admin.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"assignee": "me"}, nil); code != http.StatusOK {
		t.Fatalf("assign to me: %d", code)
	}
	if c, err := st.CountMail(context.Background()); err != nil || c[store.MailQueued]+c[store.MailSent] != 0 {
		t.Fatalf("taking a request oneself queued email: %v %v", c, err)
	}
	if code := admin.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"assignee": lee.ID}, nil); code != http.StatusOK {
		t.Fatalf("assign to Lee: %d", code)
	}
	e = smtpd.Await(2)[1]
	h, text, html := mailtest.Parse(t, e.Data)
	if e.To[0] != "lee@example.com" || mailtest.Subject(t, h) != "[Deskside] Blocking: The Wi-Fi drops every ten minutes on ana-laptop — assigned to you" ||
		!strings.Contains(text, "Hi Lee,") || !strings.Contains(text, "Rob assigned you a request") ||
		!strings.Contains(text, "https://help.example.com/#/requests/"+reqID) || !strings.Contains(html, "Open the request") {
		t.Fatalf("assignment email: to %v subject %q\n%s", e.To, mailtest.Subject(t, h), text)
	}

	// Lee's own preferences.
	leeTech := srv.Login(t, "lee@example.com", "a long enough password")
	var prefs struct {
		Assigned, Slipping bool
		MonthlyReport      bool `json:"monthly_report"`
		Email              string
		EmailOn            bool `json:"email_on"`
	}
	if code := leeTech.Do(t, "GET", "/api/v1/profile/notifications", nil, &prefs); code != http.StatusOK || !prefs.Assigned ||
		!prefs.Slipping || prefs.MonthlyReport || prefs.Email != "lee@example.com" || !prefs.EmailOn {
		t.Fatalf("Lee's defaults: %d %+v", code, prefs)
	}
	if code := leeTech.Do(t, "PUT", "/api/v1/profile/notifications", map[string]bool{"assigned": false, "monthly_report": true},
		&prefs); code != http.StatusOK || prefs.Assigned || !prefs.Slipping || !prefs.MonthlyReport {
		t.Fatalf("Lee saves: %d %+v", code, prefs)
	}
	if code := leeTech.Do(t, "PUT", "/api/v1/profile/notifications", map[string]any{"assigned": "yes please"}, nil); code != http.StatusBadRequest {
		t.Fatalf("a bad body: %d", code)
	}
	if r, err := st.MailRecipients(context.Background(), store.PrefMonthlyReport); err != nil || len(r) != 1 || r[0].Email != "lee@example.com" {
		t.Fatalf("monthly report recipients: %+v %v", r, err)
	}
	// Lee opted out: the next assignment to Lee sends nothing.
	if code := admin.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"assignee": ""}, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	if code := admin.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"assignee": lee.ID}, nil); code != http.StatusOK {
		t.Fatal(code)
	}
	if c, _ := st.CountMail(context.Background()); c[store.MailQueued]+c[store.MailSent] != 1 {
		t.Fatalf("outbox after Lee opted out: %v", c)
	}
}

// TestEmailTestWhenOff: the test button before anything is set up says so.
func TestEmailTestWhenOff(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	var e struct{ Error, Message string }
	if code := doErr(t, srv, admin, "POST", "/api/v1/settings/email/test", nil, &e); code != http.StatusConflict || e.Error != "email_off" {
		t.Fatalf("%d %+v", code, e)
	}
}

// doErr is Tech.Do that also reads an error answer into out.
func doErr(t *testing.T, srv *servertest.Server, tc *servertest.Tech, method, path string, body, out any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tc.CSRF)
	resp, err := tc.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode
}
