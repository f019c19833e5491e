package store

// SLAStore is response targets: the SLA policy and the request clocks (sla.go).
type SLAStore interface {
}
