package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// TestFlowWithRealServer is the technician's day in one test, against the
// real server (servertest: SQLite, hub, REST, WebSockets): sign in → a
// device raises a request → it appears in the queue without reload → open
// it and see the snapshot → reply → the device receives the reply.
func TestFlowWithRealServer(t *testing.T) {
	srv := servertest.New(t)
	srv.Tech(t) // creates the admin through /api/v1/setup
	url := srv.URL()

	b := console.NewBrowser(t)
	// A wrong password gets a friendly sentence, not a code.
	b.Do("open", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.Do("wrong password",
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), servertest.AdminEmail),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), "not the password"),
		chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.WaitText("#signin-error", "don’t match")

	b.SignIn(url, servertest.AdminEmail, servertest.AdminPassword)
	b.WaitText("#queue-body", "No requests yet")

	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	snap := console.Snap("ana-laptop", "ana", "linux", "debian", 37, 48, 71, 7200)
	fid := dev.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: protocol.NewID(), Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyBlocking, Text: "Wi-Fi keeps dropping in the meeting room", Snapshot: &snap, CreatedAt: time.Now().UTC()})
	for {
		var a protocol.Ack
		if err := dev.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == fid {
			break
		}
	}

	// Live: no reload.
	b.WaitText("#queue-body", "Wi-Fi keeps dropping in the meeting room")
	b.WaitText("#nav-open", "1")

	b.Do("open the request", chromedp.Click(chromedp.CSS(`#queue-body a.rowlink`)), chromedp.WaitVisible(chromedp.CSS("#compare")))
	if loc := console.Eval[string](b, `location.hash`); !strings.HasPrefix(loc, "#/requests/") {
		t.Errorf("request view at %q", loc)
	}
	b.WaitText("#compare", "37 %") // CPU when raised, from the device's own snapshot
	b.WaitText("#compare", "Online now")

	reply := "Hi Ana, I'm on it — the access point is being replaced."
	b.Do("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), reply), chromedp.Click(chromedp.CSS("#send")))
	b.WaitText("#thread", "access point is being replaced")
	var m protocol.Message
	for m.Text != reply {
		if err := dev.WaitFor(t, protocol.KindMessage).Decode(&m); err != nil {
			t.Fatal(err)
		}
	}
	if m.Author.Name != servertest.AdminName {
		t.Errorf("the device got the reply from %q, want %q", m.Author.Name, servertest.AdminName)
	}

	// The user answers; the console shows it live.
	dev.Send(t, protocol.KindRequestReply, protocol.RequestReply{RequestID: m.RequestID, MessageID: protocol.NewID(), Text: "Thank you!", CreatedAt: time.Now().UTC()})
	b.WaitText("#thread", "Thank you!")
	b.Screenshot("flow-request") // into the test's temp dir unless DESKSIDE_SCREENSHOTS is set

	// The session ends on the server (as on expiry): the next call returns
	// the technician to sign-in with a friendly sentence.
	console.Eval[any](b, `import('/js/api.js').then(m => fetch('/api/v1/logout', {method: 'POST', headers: {'X-CSRF-Token': m.session.csrf}}))`)
	b.Do("navigate", chromedp.Navigate(url+"/#/devices"))
	b.WaitText("#signin-message", "Your session ended — please sign in again.")
}

// TestConsoleSocketChecksOrigin: a page on another site must not open the
// console WebSocket with the technician's cookie, nor may anyone without
// the CSRF token.
func TestConsoleSocketChecksOrigin(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	if conn, res, err := tech.DialConsole("https://evil.example", tech.CSRF); err == nil {
		conn.Close()
		t.Fatal("console WebSocket opened from another Origin")
	} else if res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %v (status %v), want 403", err, statusOf(res))
	}
	if conn, _, err := tech.DialConsole(srv.URL(), ""); err == nil {
		conn.Close()
		t.Error("console WebSocket opened without the CSRF token")
	}
	// Control: the same credentials from the server's own origin work.
	conn, _, err := tech.DialConsole(srv.URL(), tech.CSRF)
	if err != nil {
		t.Fatalf("console WebSocket from the server's own origin: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var env protocol.Envelope
	if err := json.Unmarshal(data, &env); err != nil || env.Type != protocol.KindConsoleHello {
		t.Errorf("first console frame = %s; want console.hello", data)
	}
}

func statusOf(res *http.Response) any {
	if res == nil {
		return "none"
	}
	return res.StatusCode
}

// TestUpdatesWithRealServer: an admin rolls a signed release out from the
// Updates page against the real server; the connected desk is offered it,
// its failure report halts the release, and the page says so.
func TestUpdatesWithRealServer(t *testing.T) {
	pub := servertest.NewPublisher(t)
	srv := servertest.New(t, servertest.WithReleaseKey(pub.PublicKey))
	admin := srv.Tech(t)
	dev := srv.Enroll(t, "ana-laptop")
	dev.ConnectWith(t, protocol.Hello{AgentVersion: "1.0.0", OS: "linux", Arch: "amd64"})

	bin := []byte("deskside agent 1.1.0")
	man, sig := pub.Sign(t, bin, "1.1.0", "linux", "amd64")
	if st, out := admin.UploadRelease(t, man, sig, bin); st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, out)
	}

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("updates", chromedp.Navigate(srv.URL()+"/#/admin/updates"), chromedp.WaitVisible(chromedp.CSS("#releases-body form.rollout")))
	b.WaitText("#releases-body", "Not started")
	b.WaitText("#versions-body", "1.0.0")
	console.Eval[any](b, `document.querySelector('#releases-body form.rollout input').value = ''`)
	b.Do("set 100 %",
		chromedp.SendKeys(chromedp.CSS("#releases-body form.rollout input"), "100"),
		chromedp.Click(chromedp.CSS("#releases-body form.rollout button")))
	b.WaitText("#releases-body", "Everyone")

	var offer protocol.UpdateAvailable
	if err := dev.WaitFor(t, protocol.KindUpdateAvailable).Decode(&offer); err != nil || offer.Version != "1.1.0" {
		t.Fatalf("update.available: %+v %v", offer, err)
	}
	id := dev.Send(t, protocol.KindUpdateReport, protocol.UpdateReport{FromVersion: "1.0.0", ToVersion: "1.1.0",
		RolledBack: true, Detail: "1.1.0 did not report healthy within 5m0s"})
	for {
		var a protocol.Ack
		if err := dev.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == id {
			break
		}
	}
	b.Do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#releases-body form.rollout")))
	b.WaitText("#releases-body", "Halted")
	b.Do("show failures", chromedp.Click(chromedp.CSS("#releases-body button[aria-controls]")))
	b.WaitText("#releases-body", "ana-laptop")
	b.WaitText("#releases-body", "did not report healthy")
}

// TestUpdatesPageWithoutKey: without a publisher key the page says how to
// turn updates on instead of failing.
func TestUpdatesPageWithoutKey(t *testing.T) {
	srv := servertest.New(t)
	srv.Tech(t)
	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("updates", chromedp.Navigate(srv.URL()+"/#/admin/updates"))
	b.WaitText("#updates-notice", "--release-public-key")
}
