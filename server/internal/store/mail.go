package store

// MailStore is email: SMTP settings, technicians' notification preferences and the email outbox (mail.go).
type MailStore interface {
}
