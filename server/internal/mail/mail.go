// Package mail sends email to technicians: assignments, targets about to
// slip, and IT's monthly report. Sender is what the rest of the server
// uses; the SMTP implementation sits behind it.
package mail

import "context"

// Message is one email. Text is required; HTML, when set, is sent beside
// it as an alternative part.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
}

// Sender sends one email (or queues it durably and returns).
type Sender interface {
	Send(ctx context.Context, m Message) error
}
