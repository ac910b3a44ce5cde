package exchange

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus series, per service (only registered
// service codes become labels, never what a caller typed).
type Metrics struct {
	calls      *prometheus.CounterVec   // service, class, upstream
	seconds    *prometheus.HistogramVec // service
	bytes      *prometheus.CounterVec   // service, direction
	failovers  *prometheus.CounterVec   // service
	shadow     *prometheus.CounterVec   // service, result
	upstreamUp *prometheus.GaugeVec     // upstream
	breaker    *prometheus.CounterVec   // upstream
	logPending prometheus.GaugeFunc
	logWritten prometheus.Counter
	logErrors  prometheus.Counter

	perService sync.Map // service code → *serviceMetrics
}

// serviceMetrics are one service's series, looked up once rather than on
// every call.
type serviceMetrics struct {
	seconds prometheus.Observer
	in, out prometheus.Counter
	calls   sync.Map // class + " " + upstream → prometheus.Counter
}

func (m *Metrics) service(code string) *serviceMetrics {
	if v, ok := m.perService.Load(code); ok {
		return v.(*serviceMetrics)
	}
	sm := &serviceMetrics{seconds: m.seconds.WithLabelValues(code), in: m.bytes.WithLabelValues(code, "in"),
		out: m.bytes.WithLabelValues(code, "out")}
	v, _ := m.perService.LoadOrStore(code, sm)
	return v.(*serviceMetrics)
}

// NewMetrics creates the gateway's series and registers them with reg (nil:
// kept unregistered, as in tests).
func NewMetrics(reg prometheus.Registerer, s *Service) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hopnhat_gateway_calls_total",
			Help: "Calls through the gateway by service, status class and the upstream that answered (empty: the gateway answered)."},
			[]string{"service", "class", "upstream"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hopnhat_gateway_call_seconds",
			Help:    "Time from a call's arrival to the end of its answer, by service.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"service"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hopnhat_gateway_bytes_total",
			Help: "Body bytes through the gateway by service and direction (in: from callers, out: to callers)."},
			[]string{"service", "direction"}),
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hopnhat_gateway_failovers_total",
			Help: "Calls sent to a service's second upstream after the first failed."}, []string{"service"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hopnhat_gateway_shadow_total",
			Help: "Shadow comparisons by service and result (match, differ, skipped)."}, []string{"service", "result"}),
		upstreamUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hopnhat_gateway_upstream_up",
			Help: "1 when the upstream's last health check passed."}, []string{"upstream"}),
		breaker: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hopnhat_gateway_breaker_open_total",
			Help: "Times an upstream's circuit opened."}, []string{"upstream"}),
		logWritten: prometheus.NewCounter(prometheus.CounterOpts{Name: "hopnhat_gateway_log_written_total",
			Help: "Message-log records written to the database."}),
		logErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "hopnhat_gateway_log_write_errors_total",
			Help: "Failed attempts to write a batch of the message log (the batch is kept and tried again)."}),
	}
	m.logPending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hopnhat_gateway_log_pending",
		Help: "Message-log records waiting to be written."}, func() float64 {
		if s == nil || s.msg == nil {
			return 0
		}
		return float64(len(s.msg.ch))
	})
	if reg != nil {
		reg.MustRegister(m.calls, m.seconds, m.bytes, m.failovers, m.shadow, m.upstreamUp, m.breaker, m.logPending,
			m.logWritten, m.logErrors)
	}
	return m
}

// UseMetrics makes the gateway count into m.
func (s *Service) UseMetrics(m *Metrics) { s.met = m }

var (
	defaultMetricsOnce sync.Once
	defaultMetrics     *Metrics
)

func (s *Service) metrics() *Metrics {
	if s.met != nil {
		return s.met
	}
	defaultMetricsOnce.Do(func() { defaultMetrics = NewMetrics(nil, nil) })
	return defaultMetrics
}

var classes = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if c := status / 100; c >= 1 && c <= 5 {
		return classes[c]
	}
	return strconv.Itoa(status)
}

// observe counts one finished call.
func (m *Metrics) observe(msg *Message) {
	code := msg.ServiceCode
	if code == "" {
		code = "-"
	}
	sm := m.service(code)
	k := statusClass(msg.Status) + " " + msg.Upstream
	c, ok := sm.calls.Load(k)
	if !ok {
		c, _ = sm.calls.LoadOrStore(k, m.calls.WithLabelValues(code, statusClass(msg.Status), msg.Upstream))
	}
	c.(prometheus.Counter).Inc()
	sm.seconds.Observe(msg.Latency.Seconds())
	if msg.BytesIn > 0 {
		sm.in.Add(float64(msg.BytesIn))
	}
	if msg.BytesOut > 0 {
		sm.out.Add(float64(msg.BytesOut))
	}
}
