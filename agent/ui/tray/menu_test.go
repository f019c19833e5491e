package tray

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/ui/icon"
)

func TestMenuShowsState(t *testing.T) {
	f := &fakeFactory{}
	m := NewMenu(f, Branding{})
	status := f.items[0]
	requests := m.Item(ActRequests).(*fakeItem)
	news := m.Item(ActAnnouncement).(*fakeItem)
	help := m.Item(ActHelpLink).(*fakeItem)
	if !help.Hidden() || !news.Hidden() {
		t.Fatal("help link and news must be hidden without branding or announcements")
	}

	m.Show(View{Connection: agentapi.Connection{State: agentapi.ConnOnline, ServerName: "Acme IT"}})
	if got := status.Title(); got != "Connected to Acme IT" {
		t.Errorf("status line = %q", got)
	}
	if f.IconCount() != 1 {
		t.Errorf("icon set %d times, want 1", f.IconCount())
	}

	// Same view again: nothing is redrawn.
	m.Show(View{Connection: agentapi.Connection{State: agentapi.ConnOnline, ServerName: "Acme IT"}})
	if f.IconCount() != 1 {
		t.Errorf("icon redrawn for an unchanged state")
	}

	a := agentapi.Announcement{ID: "ann1", Title: "Printer on floor 2 is back", CreatedAt: time.Now()}
	m.Show(View{Connection: agentapi.Connection{State: agentapi.ConnOffline, Unread: 2}, Latest: &a})
	if got := status.Title(); got != "Offline — what you send is saved" {
		t.Errorf("offline status line = %q", got)
	}
	if got := requests.Title(); got != "My requests (2 new)" {
		t.Errorf("requests title = %q", got)
	}
	if news.Hidden() || news.Title() != "New: Printer on floor 2 is back" {
		t.Errorf("news item hidden=%v title=%q", news.Hidden(), news.Title())
	}
	if f.IconCount() != 2 {
		t.Errorf("icon set %d times, want 2", f.IconCount())
	}
	if got := f.Tooltip(); got != "Deskside — Offline — what you send is saved · 2 new" {
		t.Errorf("tooltip = %q", got)
	}

	m.Show(View{Connection: agentapi.Connection{State: agentapi.ConnOffline}})
	if !news.Hidden() || requests.Title() != "My requests" {
		t.Errorf("after clearing: news hidden=%v requests=%q", news.Hidden(), requests.Title())
	}
}

func TestBrandingShowsHelpLink(t *testing.T) {
	f := &fakeFactory{}
	m := NewMenu(f, Branding{CompanyName: "Acme Help", HelpURL: "https://help.acme.test"})
	m.Show(View{Connection: agentapi.Connection{State: agentapi.ConnOnline, ServerName: "server name"}})
	if m.Item(ActHelpLink).(*fakeItem).Hidden() {
		t.Error("help link hidden despite HelpURL")
	}
	if got := f.items[0].Title(); got != "Connected to Acme Help" {
		t.Errorf("status line = %q; the brand name should win", got)
	}
}

func TestIconFor(t *testing.T) {
	for _, tc := range []struct {
		s    agentapi.Connection
		want icon.State
	}{
		{agentapi.Connection{State: agentapi.ConnOnline}, icon.Online},
		{agentapi.Connection{State: agentapi.ConnConnecting}, icon.Offline},
		{agentapi.Connection{State: agentapi.ConnOffline, Unread: 1}, icon.OfflineUnread},
		{agentapi.Connection{State: agentapi.ConnOnline, Unread: 3}, icon.OnlineUnread},
	} {
		if got := IconFor(tc.s); got != tc.want {
			t.Errorf("IconFor(%+v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestIconsDiffer(t *testing.T) {
	ic := icon.NewIcons(nil)
	seen := map[string]icon.State{}
	for _, st := range []icon.State{icon.Offline, icon.Online, icon.OfflineUnread, icon.OnlineUnread} {
		b := ic.PNG(st)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("icon %v: %v", st, err)
		}
		if img.Bounds().Dx() != icon.Size {
			t.Errorf("icon %v is %d wide", st, img.Bounds().Dx())
		}
		if prev, ok := seen[string(b)]; ok {
			t.Errorf("icons %v and %v look the same", prev, st)
		}
		seen[string(b)] = st
	}
	// A company icon is used as the base.
	var buf bytes.Buffer
	_ = png.Encode(&buf, icon.NewIcons(nil).Image(icon.Online))
	if len(icon.NewIcons(buf.Bytes()).PNG(icon.OfflineUnread)) == 0 {
		t.Error("branded icon is empty")
	}
}

func TestAnnouncementTitleIsShort(t *testing.T) {
	a := agentapi.Announcement{Title: "A very long announcement title that goes on and on about the network", Read: true}
	got := AnnouncementTitle(a)
	if want := "News: A very long announcement title that goe…"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
