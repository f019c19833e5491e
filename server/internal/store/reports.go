package store

// ReportStore is IT's month: the figures of the Reports page (reports.go).
type ReportStore interface {
}
