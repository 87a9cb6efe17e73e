"""`GET /metrics`: the server's figures in Prometheus' text format, for a token only.

Counted as requests go (this process only, as Prometheus expects of each replica):
- `botbuilder_http_requests_total{method, route, status}`: the route is the URL rule
  (`/api/v1/conversations/<conversation_id>/messages`), never the path with its ids
  or a query string; a path no rule matches counts as `unmatched`;
- `botbuilder_http_request_duration_seconds{route}`: a latency histogram;
- `botbuilder_match_decisions_total{decision}`: answer, clarify or handoff, of the
  widget API's turns and of `/api/v1/match` (a view notes it with `note_decision`).

Read when scraped: the handoff queue's length per team and the webhook outbox's
depth (from the shared database, so the same on every replica), and the matcher's
batches, questions, cache hits and misses and queue from the batcher's `stats()`
(`matching/batching.py`; nothing when the runtime has none).

The figures name no member and no conversation, yet they show how busy the bot is,
so `/metrics` answers only with `Authorization: Bearer $BOTBUILDER_METRICS_TOKEN`:
401 with a wrong or missing token, 404 when no token is set (the page is off).
Each app has its own registry, so several apps in one process never mix figures.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from botbuilder.conversations.store import Handoff
from botbuilder.server.common import Services, error_response

__all__ = ["Metrics", "init_app", "note_decision"]

log = logging.getLogger(__name__)

# Seconds: the matcher answers in milliseconds, an editor save or upload takes longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """One app's registry and the figures counted as requests go."""

    def __init__(self, built: Services) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "botbuilder_http_requests",
            "HTTP requests by method, route (the URL rule) and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "botbuilder_http_request_duration_seconds",
            "Seconds from a request's arrival to its response, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "botbuilder_match_decisions",
            "What the bot did with members' questions: answer, clarify or handoff",
            ["decision"],
            registry=self.registry,
        )
        self.registry.register(_ReadWhenScraped(built))


class _ReadWhenScraped(Collector):
    """Levels read at each scrape: the queue, the outbox and the batcher."""

    def __init__(self, built: Services) -> None:
        self.built = built

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._database()
        except Exception:  # the database down: the other figures still come
            log.warning("metrics: cannot read the queue or the outbox", exc_info=True)
        yield from _batcher(getattr(self.built.runtime, "batcher", None))

    def _database(self) -> Iterator[Metric]:
        with self.built.storage.session() as s:
            rows = s.execute(
                select(Handoff.team, func.count())
                .where(Handoff.status == "waiting")
                .group_by(Handoff.team)
            ).all()
        queue = GaugeMetricFamily(
            "botbuilder_handoff_queue_length",
            "Conversations waiting for an agent, by team (all replicas)",
            labels=["team"],
        )
        for team, count in rows:
            queue.add_metric([team], count)
        yield queue
        yield GaugeMetricFamily(
            "botbuilder_webhook_outbox_depth",
            "Team webhook deliveries still pending (all replicas)",
            value=self.built.notifier.depth(),
        )


def _batcher(batcher: Any) -> Iterator[Metric]:
    stats = getattr(batcher, "stats", None)
    if not callable(stats):
        return
    figures: dict[str, Any] = stats()
    for key, doc in (
        ("batches", "Batches the matcher scored"),
        ("questions", "Questions the matcher scored (in batches)"),
        ("cache_hits", "Questions answered from the matcher's cache"),
        ("cache_misses", "Questions the matcher's cache did not have"),
    ):
        if key in figures:
            yield CounterMetricFamily(f"botbuilder_matcher_{key}", doc, value=figures[key])
    if "queue_depth" in figures:
        yield GaugeMetricFamily(
            "botbuilder_matcher_queue_depth",
            "Questions waiting for the matcher",
            value=figures["queue_depth"],
        )
    hits, misses = figures.get("cache_hits", 0), figures.get("cache_misses", 0)
    if hits + misses:
        yield GaugeMetricFamily(
            "botbuilder_matcher_cache_hit_ratio",
            "Share of questions answered from the cache since the start",
            value=hits / (hits + misses),
        )
    sizes = figures.get("batch_sizes")
    if isinstance(sizes, dict) and sizes:
        running, buckets = 0, []
        for bound in sorted(sizes, key=float):  # batches of at most `bound` questions
            running += sizes[bound]
            buckets.append((str(float(bound)), running))
        buckets.append(("+Inf", running))
        yield HistogramMetricFamily(
            "botbuilder_matcher_batch_size",
            "Questions per scored batch",
            buckets=buckets,
            sum_value=figures.get("questions"),  # the questions scored in batches
        )


def note_decision(decision: str | None) -> None:
    """Count what the bot did with this request's question (answer, clarify or handoff)."""
    if decision:
        g.botbuilder_decision = str(decision)


def init_app(app: Flask) -> None:
    """Count every request and serve `/metrics` (404 unless BOTBUILDER_METRICS_TOKEN is set)."""
    metrics = Metrics(app.extensions["botbuilder"])
    app.extensions["botbuilder_metrics"] = metrics

    @app.before_request
    def started() -> None:
        g.botbuilder_started = time.perf_counter()

    # The labelled children, found once: prometheus' labels() takes a lock and checks
    # its arguments each time. The label values are few (URL rules, methods, statuses).
    children: dict[tuple[Any, ...], Any] = {}

    def child(metric: Any, *labels: str) -> Any:
        key = (metric, *labels)
        found = children.get(key)
        if found is None:
            found = children[key] = metric.labels(*labels)
        return found

    @app.after_request
    def counted(response: Response) -> Response:
        rule = request.url_rule
        route = rule.rule if rule is not None else "unmatched"
        method = request.method if request.method in METHODS else "OTHER"
        child(metrics.requests, method, route, str(response.status_code)).inc()
        began = g.get("botbuilder_started")
        if began is not None:
            child(metrics.latency, route).observe(time.perf_counter() - began)
        decision = g.get("botbuilder_decision")
        if decision is not None:
            child(metrics.decisions, decision).inc()
        return response

    app.add_url_rule("/metrics", "metrics", scrape)


def scrape() -> Any:
    """`GET /metrics`: the figures, for the bearer of BOTBUILDER_METRICS_TOKEN."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        return error_response("not found", 404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    ):
        response = error_response("a valid metrics token is required", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    metrics: Metrics = current_app.extensions["botbuilder_metrics"]
    response = Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
