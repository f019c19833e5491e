package console_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/servertest"
)

// A viewer reads the queue but the console shows no reply box, no status
// or assignee controls and no announcements page; when an admin disables
// them, the console returns to sign-in at once (the socket closes with
// 4007). The admin sees sign-ins in the audit log.
func TestViewerConsoleAndAudit(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	var v struct{ ID string }
	if st := admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": "vera@example.com", "name": "Vera",
		"password": "a long enough password", "role": "viewer"}, &v); st != http.StatusCreated {
		t.Fatalf("create viewer: %d", st)
	}
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	dev.RaiseRequest(t, "The printer is jammed again")

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), "vera@example.com", "a long enough password")
	b.WaitText("#whoami", "viewer")
	if hidden := console.Eval[bool](b, `document.querySelector('[data-nav=announcements]').closest('li').hidden`); !hidden {
		t.Error("a viewer sees the Announcements link")
	}
	b.Do("open the request", chromedp.Click(chromedp.CSS(`#queue-body a.rowlink`)), chromedp.WaitVisible(chromedp.CSS("#read-only")))
	if n := console.Eval[int](b, `document.querySelectorAll('#reply-text, #req-status, #assign-me').length`); n != 0 {
		t.Errorf("a viewer sees %d reply or change controls", n)
	}

	if st := admin.Do(t, "PATCH", "/api/v1/technicians/"+v.ID, map[string]any{"disabled": true}, nil); st != http.StatusOK {
		t.Fatalf("disable: %d", st)
	}
	b.WaitText("#signin-message", "session ended")

	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("audit", chromedp.Navigate(srv.URL()+"/#/admin/audit"), chromedp.WaitVisible(chromedp.CSS("#audit-table")))
	b.WaitText("#audit-table", "session.revoke")
	b.WaitText("#audit-table", "method=password")
}
