package store

// WebhookStore is outbound webhooks: endpoints and their durable delivery queue (webhooks.go).
type WebhookStore interface {
}
