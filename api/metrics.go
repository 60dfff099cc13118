package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"strongroom/audit"
	"strongroom/internal/notify"
	"strongroom/vault"
)

// Metrics is what GET /metrics serves, in the Prometheus text format.
// No label carries a name, a credential, an address or a secret: routes
// are Echo's patterns (/v1/creds/:name), destinations are "mail",
// "webhook", "syslog", incident kinds are audit.IncidentKind values.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	write    prometheus.Histogram // per write: start to durable
	commits  prometheus.Counter
	batch    prometheus.Histogram // per commit: write functions carried
	commit   prometheus.Histogram // per commit: bbolt's Tx.Commit
	disk     prometheus.Histogram // per commit: page and meta writes with their fdatasyncs
	incident *prometheus.CounterVec
}

// NewMetrics makes the registry with the process's, the requests' and the
// store's metrics; Attach adds the vault's.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strongroom_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code."}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strongroom_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern and method.", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	secs := []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}
	m.write = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strongroom_store_write_seconds",
		Help:    "Time from a write's start until its group commit is durable (fsynced): queueing, the transaction and the commit.",
		Buckets: secs})
	m.commits = prometheus.NewCounter(prometheus.CounterOpts{Name: "strongroom_store_commits_total",
		Help: "Durable group commits of the store (each may carry many writes)."})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strongroom_store_commit_writes",
		Help:    "Writes carried by one durable group commit (the batch size).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000}})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strongroom_store_commit_seconds",
		Help:    "Time bbolt's commit took for one group commit: laying out the changed pages, writing them and the meta page, and both fdatasyncs.",
		Buckets: secs})
	m.disk = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strongroom_store_commit_disk_write_seconds",
		Help:    "Time one commit spent writing its pages and then its meta page to the file, each followed by an fdatasync (bbolt's TxStats.WriteTime).",
		Buckets: secs})
	m.incident = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strongroom_incidents_total",
		Help: "Security incidents recorded since the server started, by kind."}, []string{"kind"})
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.write, m.commits, m.batch, m.commit, m.disk, m.incident)
	return m
}

// Attach registers the vault's seal state and log size, and, if
// deliveries is not nil, each destination's queue and counters.
func (m *Metrics) Attach(v *vault.Vault, deliveries func() []notify.Status) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "strongroom_sealed", Help: "1 while the vault is sealed."},
		func() float64 { return b2f(v.Sealed()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "strongroom_audit_entries_total", Help: "Entries in the audit log (the head's seq)."},
			func() float64 { n, _ := v.AuditHead(context.Background()); return float64(n) }))
	if deliveries != nil {
		m.reg.MustRegister(&deliveryCollector{deliveries})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// observe is the middleware that counts requests.
func (m *Metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound {
			route = "unmatched" // an unknown path is never a label
		}
		method := c.Request().Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		default:
			method = "other"
		}
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// Incident counts one incident by its kind (the "metrics" destination
// feeds it from the log).
func (m *Metrics) Incident(e *audit.Entry) { m.incident.WithLabelValues(string(audit.KindOf(e))).Inc() }

// Deliver implements notify.Destination: it counts the incidents of each
// batch of the log.
func (m *Metrics) Deliver(_ context.Context, batch []*audit.Entry) (int, error) {
	for _, e := range batch {
		if audit.IsIncident(e) {
			m.Incident(e)
		}
	}
	return 0, nil
}

// ObserveCommit records one durable commit of the store; it is the
// store's observer (vault.BoltOptions.Observe).
func (m *Metrics) ObserveCommit(s vault.CommitStats) {
	m.commits.Inc()
	m.batch.Observe(float64(s.Writes))
	m.commit.Observe(s.Commit.Seconds())
	m.disk.Observe(s.Write.Seconds())
}

// Store wraps a store so that each write is timed from its start until
// it is durable.
func (m *Metrics) Store(st vault.Store) vault.Store { return &meteredStore{Store: st, m: m} }

type meteredStore struct {
	vault.Store
	m *Metrics
}

func (s *meteredStore) Update(ctx context.Context, fn func(vault.Tx) error) error {
	start := time.Now()
	err := s.Store.Update(ctx, fn)
	if err == nil {
		s.m.write.Observe(time.Since(start).Seconds())
	}
	return err
}

// deliveryCollector reports each destination's queue and counters.
type deliveryCollector struct{ list func() []notify.Status }

var (
	descPending   = prometheus.NewDesc("strongroom_delivery_pending", "Audit entries waiting to be delivered, by destination.", []string{"destination"}, nil)
	descDelivered = prometheus.NewDesc("strongroom_delivery_delivered_total", "Audit entries delivered, by destination.", []string{"destination"}, nil)
	descFailures  = prometheus.NewDesc("strongroom_delivery_failures_total", "Failed delivery attempts, by destination.", []string{"destination"}, nil)
	descRefused   = prometheus.NewDesc("strongroom_delivery_refused_total", "Messages a destination refused for good, by destination.", []string{"destination"}, nil)
	descFailing   = prometheus.NewDesc("strongroom_delivery_failing", "Failed attempts in a row now (0 when delivering), by destination.", []string{"destination"}, nil)
)

func (d *deliveryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{descPending, descDelivered, descFailures, descRefused, descFailing} {
		ch <- x
	}
}

func (d *deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range d.list() {
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(s.Pending), s.Name)
		ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(s.Delivered), s.Name)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.Failures), s.Name)
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(s.Refused), s.Name)
		ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, float64(s.Failing), s.Name)
	}
}

// healthz answers while the process serves.
func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "alive"})
}

// readyz answers 200 while the vault is unsealed and a commit goes
// through the store (an empty one: it writes nothing), 503 otherwise.
func (s *server) readyz(c echo.Context) error {
	if s.v.Sealed() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "sealed"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	if err := s.v.ProbeCommit(ctx); err != nil {
		s.log.Warn("readiness: a commit failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "cannot commit"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
