package console_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/servertest"
)

// TestEmailPage, against the real server and a real SMTP server: an admin
// fills in Admin → Email, sends a test email that arrives, then a wrong
// password: the test says so in plain words, and an assignment email
// waits in the outbox with the same reason. A technician turns an email
// off in My profile. axe checks both pages; the screenshot is
// docs/screenshots/console-email.png.
func TestEmailPage(t *testing.T) {
	smtpd := mailtest.New(t)
	smtpd.Start()
	srv := servertest.New(t, func(c *app.Config) {
		c.Mail = mail.SMTPOptions{RootCAs: mailtest.Pool(), Timeout: 10 * time.Second}
		c.PublicURL = "https://help.example.com"
	})
	admin := srv.Tech(t)
	set := smtpd.Settings()

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("email page", chromedp.Navigate(srv.URL()+"/#/admin/email"), chromedp.WaitVisible(chromedp.CSS("#email-form")))
	b.WaitText("#email-saved", "Email is off")
	if !console.Eval[bool](b, `document.getElementById('email-test').disabled`) {
		t.Error("the test button works before anything is saved")
	}
	console.Eval[any](b, `(() => { const p = document.getElementById('email-port'); p.value = '`+itoa(set.Port)+`'; })()`)
	b.Do("fill in",
		chromedp.SendKeys(chromedp.CSS("#email-host"), set.Host),
		chromedp.SendKeys(chromedp.CSS("#email-user"), set.Username),
		chromedp.SendKeys(chromedp.CSS("#email-pass"), set.Password),
		chromedp.SendKeys(chromedp.CSS("#email-from"), "helpdesk@example.com"),
		chromedp.SendKeys(chromedp.CSS("#email-from-name"), "Acme IT"))
	b.Do("save", chromedp.Click(chromedp.CSS("#email-form button[type=submit]")))
	b.WaitText("#email-saved", "Saved by rob@example.com")
	if v := console.Eval[string](b, `document.getElementById('email-pass').value + '|' + document.getElementById('email-pass').placeholder`); v != "|•••••••• saved" {
		t.Errorf("password field after saving: %q", v)
	}
	b.Click("test", "#email-test")
	b.WaitText("#email-test-result", "Sent to rob@example.com")
	if got := smtpd.Await(1)[0]; got.To[0] != servertest.AdminEmail || !got.TLS {
		t.Fatalf("test email: %+v", got)
	}

	// A wrong password: the button says what the mail server said.
	b.Do("wrong password", chromedp.SendKeys(chromedp.CSS("#email-pass"), "not the password"),
		chromedp.Click(chromedp.CSS("#email-form button[type=submit]")))
	b.WaitTrue("saved", `!document.getElementById('email-pass').value`)
	b.Click("test again", "#email-test")
	b.WaitText("#email-test-result", "The mail server refused the username or password — check them in Admin → Email.")

	// Meanwhile an assignment email is queued and fails for the same reason.
	var lee struct{ ID string }
	if code := admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": "lee@example.com", "name": "Lee Park",
		"password": "a long enough password", "role": "technician"}, &lee); code != http.StatusCreated {
		t.Fatalf("create Lee: %d", code)
	}
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	reqID := dev.RaiseRequest(t, "Wi-Fi drops every few minutes in the meeting room")
	if code := admin.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"assignee": lee.ID}, nil); code != http.StatusOK {
		t.Fatalf("assign: %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		var st struct {
			Outbox struct {
				Problems []struct {
					LastError string `json:"last_error"`
				}
			}
		}
		if admin.Do(t, "GET", "/api/v1/settings/email", nil, &st); len(st.Outbox.Problems) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the assignment email never failed its first try")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
	b.Do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#email-form")))
	b.WaitText("#email-problems", "refused the username or password")
	b.WaitText("#email-counts", "1 waiting")
	b.Do("show the error again", chromedp.Click(chromedp.CSS("#email-test")))
	b.WaitText("#email-test-result", "refused the username or password")
	axe := console.LoadAxe(t)
	b.Axe(axe, "email")
	b.Screenshot("email")
	b.DarkMode(true)
	b.Axe(axe, "email, dark")
	b.DarkMode(false)

	// Lee's profile: the three choices, saved as they change.
	lb := console.NewBrowser(t)
	lb.SignIn(srv.URL(), "lee@example.com", "a long enough password")
	lb.Do("profile", chromedp.Navigate(srv.URL()+"/#/profile"), chromedp.WaitVisible(chromedp.CSS("#notify-assigned")))
	lb.WaitText("#notify-where", "Emails go to lee@example.com.")
	if v := console.Eval[string](lb, `['assigned','slipping','monthly'].map(k => document.getElementById('notify-'+k).checked).join()`); v != "true,true,false" {
		t.Errorf("Lee's boxes: %s", v)
	}
	lb.Click("no assignment emails", "#notify-assigned")
	lb.Click("monthly report", "#notify-monthly")
	leeAPI := srv.Login(t, "lee@example.com", "a long enough password")
	for deadline := time.Now().Add(10 * time.Second); ; {
		var p struct {
			Assigned      bool
			MonthlyReport bool `json:"monthly_report"`
		}
		if leeAPI.Do(t, "GET", "/api/v1/profile/notifications", nil, &p); !p.Assigned && p.MonthlyReport {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Lee's choices were not saved: %+v", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	lb.Axe(axe, "profile with email choices")
	lb.Do("scroll", chromedp.ScrollIntoView(chromedp.CSS("#notify-prefs")))
	lb.Screenshot("profile-email")
	if s := lb.Text("#notify-prefs"); !strings.Contains(s, "IT’s monthly report") {
		t.Errorf("profile panel: %q", s)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
