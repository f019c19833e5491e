package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/hub"
)

// metrics are the server's Prometheus series, registered per server (not
// globally) so several servers can live in one test process.
// The device gateway registers the device frame series (devicelink).
type metrics struct {
	enrolled     prometheus.Counter
	techMessages prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, h *hub.Hub) *metrics {
	m := &metrics{
		enrolled: prometheus.NewCounter(prometheus.CounterOpts{Name: "deskside_devices_enrolled_total",
			Help: "Devices enrolled."}),
		techMessages: prometheus.NewCounter(prometheus.CounterOpts{Name: "deskside_technician_messages_total",
			Help: "Messages technicians sent to devices."}),
	}
	reg.MustRegister(m.enrolled, m.techMessages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "deskside_device_connections", Help: "Live device links."},
			func() float64 { d, _ := h.Counts(); return float64(d) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "deskside_console_connections", Help: "Live console links."},
			func() float64 { _, c := h.Counts(); return float64(c) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "deskside_slow_consumer_closes_total",
			Help: "Links closed because their send queue overflowed."},
			func() float64 { return float64(h.SlowConsumerCloses()) }),
	)
	return m
}

// metricsAuth asks for the bearer token MetricsToken when one is set.
func (a *API) metricsAuth(h http.Handler) http.HandlerFunc {
	want := []byte("Bearer " + a.opt.MetricsToken)
	return func(w http.ResponseWriter, r *http.Request) {
		if a.opt.MetricsToken != "" && !auth.Equal([]byte(r.Header.Get("Authorization")), want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="deskside metrics"`)
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "The metrics need the bearer token set with --metrics-token.")
			return
		}
		h.ServeHTTP(w, r)
	}
}
