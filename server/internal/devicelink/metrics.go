package devicelink

import "github.com/prometheus/client_golang/prometheus"

// metrics are the gateway's Prometheus series, registered per server (not
// globally) so several servers can live in one test process.
type metrics struct {
	framesIn        *prometheus.CounterVec
	badFrames       *prometheus.CounterVec
	requestsCreated prometheus.Counter
	checkReports    *prometheus.CounterVec
	checkBatch      prometheus.Histogram
	inventoryBatch  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		framesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskside_device_frames_total",
			Help: "Frames received from devices, by kind."}, []string{"kind"}),
		badFrames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskside_device_bad_frames_total",
			Help: "Device frames refused, by reason."}, []string{"reason"}),
		requestsCreated: prometheus.NewCounter(prometheus.CounterOpts{Name: "deskside_requests_created_total",
			Help: "Help requests stored."}),
		checkReports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskside_check_reports_total",
			Help: "Heads-up check state changes stored, by new state."}, []string{"state"}),
		checkBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskside_check_report_batch_size",
			Help: "check.reports stored per group commit.", Buckets: prometheus.ExponentialBuckets(1, 4, 6)}),
		inventoryBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskside_software_inventory_batch_size",
			Help: "software.inventory frames stored per group commit.", Buckets: prometheus.ExponentialBuckets(1, 4, 6)}),
	}
	reg.MustRegister(m.framesIn, m.badFrames, m.requestsCreated, m.checkReports, m.checkBatch, m.inventoryBatch)
	return m
}
