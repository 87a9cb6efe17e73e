"""`/metrics` on a real app (real SQLite file, the bundled model): only for the token,
in Prometheus' text format as prometheus_client parses it, counting requests by route
(never by raw path), decisions, the queue and the outbox, and the batcher's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def metrics_app(app_factory, bot_dir: Path):  # type: ignore[no-untyped-def]
    application = app_factory(bot_dir, METRICS_TOKEN=TOKEN)
    yield application
    application.extensions["botbuilder"].storage.close()


def _scrape(client: Any) -> dict[str, list[Any]]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def _value(samples: dict[str, list[Any]], name: str, **labels: str) -> float:
    found = [s.value for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    return sum(found)


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    off = app_factory(bot_dir)
    assert off.test_client().get("/metrics").status_code == 404
    off.extensions["botbuilder"].storage.close()
    on = app_factory(bot_dir, METRICS_TOKEN=TOKEN)
    client = on.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.json["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "botbuilder_" not in response.text
    on.extensions["botbuilder"].storage.close()


def test_requests_are_counted_by_route_and_status_never_by_path(metrics_app: Any) -> None:
    client = metrics_app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).json["conversation_id"]
    url = f"/api/v1/conversations/{conversation}/messages"
    client.post(url, json={"text": "Ik ben mijn wachtwoord kwijt"})
    client.get(f"{url}?after=0")
    client.get("/no/such/page?email=ann@example.org")
    samples = _scrape(client)
    route = "/api/v1/conversations/<conversation_id>/messages"
    requests = "botbuilder_http_requests_total"
    assert _value(samples, requests, route=route, method="POST", status="200") == 1
    assert _value(samples, requests, route=route, method="GET", status="200") == 1
    assert _value(samples, requests, route="unmatched", status="404") == 1
    assert _value(samples, "botbuilder_http_request_duration_seconds_count", route=route) == 2
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert conversation not in text and "ann@example.org" not in text and "wachtwoord" not in text


def test_decisions_queue_and_outbox_are_reported(metrics_app: Any) -> None:
    client = metrics_app.test_client()
    client.post("/api/v1/match", json={"text": "Ik ben mijn wachtwoord kwijt"})
    conversation = client.post("/api/v1/conversations", json={}).json["conversation_id"]
    said = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": "medewerker"}
    ).json
    assert said["state"] == "waiting"
    samples = _scrape(client)
    decisions = "botbuilder_match_decisions_total"
    assert _value(samples, decisions, decision="answer") == 1
    assert _value(samples, decisions, decision="handoff") == 1
    assert _value(samples, "botbuilder_handoff_queue_length", team="leden") == 1
    assert "botbuilder_webhook_outbox_depth" in samples  # 0: the small bot has no webhooks


def test_the_batchers_figures_are_read_at_scrape_time(metrics_app: Any) -> None:
    client = metrics_app.test_client()
    for _ in range(3):  # the same question: one miss, then the cache
        client.post("/api/v1/match", json={"text": "Hoeveel kost de contributie?"})
    samples = _scrape(client)
    stats = metrics_app.extensions["botbuilder"].runtime.batcher.stats()
    assert _value(samples, "botbuilder_matcher_cache_hits_total") == stats["cache_hits"] >= 2
    assert _value(samples, "botbuilder_matcher_questions_total") == stats["questions"]
    hits, misses = stats["cache_hits"], stats["cache_misses"]
    ratio = _value(samples, "botbuilder_matcher_cache_hit_ratio")
    assert ratio == pytest.approx(hits / (hits + misses))
    assert _value(samples, "botbuilder_matcher_batch_size_count") == sum(
        stats["batch_sizes"].values()
    )


def test_two_apps_in_one_process_keep_their_own_figures(app_factory, bot_dir: Path) -> None:  # type: ignore[no-untyped-def]
    first = app_factory(bot_dir, METRICS_TOKEN=TOKEN)
    second = app_factory(bot_dir, METRICS_TOKEN=TOKEN)
    first.test_client().get("/health")
    health = "botbuilder_http_requests_total"
    assert _value(_scrape(first.test_client()), health, route="/health") == 1
    assert _value(_scrape(second.test_client()), health, route="/health") == 0
    for app in (first, second):
        app.extensions["botbuilder"].storage.close()
