"""Prometheus metrics of every ugc process, exposed at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

HTTP_REQUESTS = Counter(
    "ugc_http_requests_total",
    "HTTP requests by route and status",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ugc_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=_LATENCY,
)
HTTP_SHED = Counter(
    "ugc_http_shed_total", "Requests answered 503 at once: too many in flight in the process"
)
HTTP_STRANGERS_REFUSED = Counter(
    "ugc_http_strangers_refused_total",
    "Requests with a body and no credential answered 503 at once: their client's share is full",
)
EVENTS_ACCEPTED = Counter("ugc_events_accepted_total", "Events acknowledged by Kafka", ["type"])
EVENTS_REJECTED = Counter(
    "ugc_events_rejected_total", "Events refused: invalid (by error type) or over quota", ["reason"]
)
PUBLISH_FAILURES = Counter("ugc_kafka_publish_failures_total", "Requests Kafka did not acknowledge")
PUBLISH_LATENCY = Histogram(
    "ugc_kafka_publish_seconds",
    "From a batch's first record to Kafka's acknowledgement",
    buckets=_LATENCY,
)
LOADER_LAG = Gauge(
    "ugc_loader_lag_messages", "Messages behind the end of each partition", ["partition"]
)
LOADER_BATCH_ROWS = Histogram(
    "ugc_loader_batch_rows", "Rows per loader batch",
    buckets=(10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000),
)  # fmt: skip
LOADER_INSERT = Histogram(
    "ugc_loader_insert_seconds", "ClickHouse insert latency", buckets=_LATENCY
)
LOADER_ROWS = Counter("ugc_loader_rows_total", "Rows inserted into ClickHouse")
LOADER_DEAD_LETTERED = Counter(
    "ugc_loader_dead_lettered_total", "Rows sent to the dead-letter topic"
)
LOADER_INSERT_FAILURES = Counter("ugc_loader_insert_failures_total", "Failed inserts, retried")
LOADER_OFFSET_RESETS = Counter(
    "ugc_loader_offset_resets_total",
    "Partitions that handed out offsets below the committed one (topic made again)",
    ["partition"],
)
ERRORS_ANSWERED = Counter(
    "ugc_errors_answered_total",
    "Domain errors answered to clients, by service and error",
    ["service", "error"],
)
ERASURE_OLDEST_PENDING = Gauge(
    "ugc_erasure_oldest_pending_seconds",
    "Age of the oldest erasure request not done yet (0 when none waits)",
)
