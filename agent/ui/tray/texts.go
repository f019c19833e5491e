package tray

import (
	"strings"
	"unicode/utf8"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// MessageNotification is what a technician's message looks like on the desktop.
func MessageNotification(m agentapi.Message, b Branding) Notification {
	who := strings.TrimSpace(m.Author.Name)
	if who == "" {
		who = DeskName(agentapi.Connection{}, b)
	}
	return Notification{Title: who + " replied to your request", Body: short(m.Text, 200)}
}

// AnnouncementNotification is what an announcement looks like on the desktop.
func AnnouncementNotification(a agentapi.Announcement, b Branding) Notification {
	title := strings.TrimSpace(a.Title)
	if title == "" {
		title = "News from " + DeskName(agentapi.Connection{}, b)
	}
	return Notification{Title: title, Body: short(a.Text, 200)}
}

// StatusNotification tells the user that their request moved, when that is
// worth a notification.
func StatusNotification(r agentapi.Request) (Notification, bool) {
	name := ""
	if r.Assignee != nil {
		name = strings.TrimSpace(r.Assignee.Name)
	}
	about := "“" + short(r.Text, 60) + "”"
	switch r.Status {
	case protocol.StatusInProgress:
		if name != "" {
			return Notification{Title: name + " is on it", Body: name + " picked up your request " + about}, true
		}
		return Notification{Title: "Someone is on it", Body: "IT picked up your request " + about}, true
	case protocol.StatusWaitingOnUser:
		return Notification{Title: "IT has a question for you", Body: "About your request " + about}, true
	case protocol.StatusResolved:
		return Notification{Title: "Your request is resolved", Body: about + " — tell us how it went, one tap is enough."}, true
	}
	return Notification{}, false
}

// HeadsUpNotification tells the person about a check that needs them, in
// the check's own plain words with its numbers.
func HeadsUpNotification(c agentapi.CheckItem) Notification {
	title := "Heads-up: " + strings.ToLower(c.Title)
	if c.Title == "" {
		title = "Heads-up"
	}
	body := c.Summary
	if c.Fix == "clear_temp" || c.Fix == "restart" || c.Fix == "open_updates" || c.Fix == "open_password_page" {
		body += " Open Heads-up to fix it in one click."
	}
	return Notification{Title: title, Body: short(body, 240)}
}

// SoftwarePromptNotification asks about an app, kindly: the agent's own
// words, and a click opens the question with its three answers.
func SoftwarePromptNotification(p agentapi.SoftwarePrompt) Notification {
	title := "A quick question"
	if name := strings.TrimSpace(p.Name); name != "" {
		title = "A quick question about " + short(name, 40)
	}
	body := strings.TrimSpace(p.Text)
	if body == "" {
		body = "Is " + p.Name + " for your work? Telling IT helps us keep it safe and supported — you're not in any trouble."
	}
	return Notification{Title: title, Body: short(body, 240)}
}

// SoftwareNoteNotification is IT's word about an app the person told it
// about: a thank-you, or the reason with a supported alternative.
func SoftwareNoteNotification(n agentapi.SoftwareNote) Notification {
	title := strings.TrimSpace(n.Title)
	if title == "" {
		title = "IT about " + short(n.Name, 40)
	}
	return Notification{Title: title, Body: short(n.Text, 240)}
}

func short(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit-1]) + "…"
}
