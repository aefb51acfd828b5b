"""The throttle, limits, upstream, retry and breaker config (gateway/config/): names, defaults, errors."""

from __future__ import annotations

import pytest

from gateway.secrets import ConfigError
from tests.resilience.harness import gateway_config

APP = {"vendor": "invicti", "base_url": "https://platform.invicti.com/api/scim/v2", "credentials": {"token": "x"}}


def test_every_option_as_named_in_the_shared_contract() -> None:
    app = {
        **APP,
        "limits": {"rate": 10, "burst": 20},
        "upstream": {"rate": 20, "burst": 20, "concurrency": 10},
        "retry": {"attempts": 4, "base_delay": 0.2, "max_delay": 5, "deadline": 25},
        "breaker": {"failures": 5, "cooldown": 30},
        "http": {"connect_timeout": 2, "read_timeout": 10, "pool_timeout": 1, "pool_size": 20},
    }
    config = gateway_config(
        {"acme": {"limits": {"rate": 50, "burst": 100, "max_wait": 0.5}, "apps": {"invicti": app}}},
        throttle={"backend": "local", "redis": {"url": "env:UNSET_IS_FINE_WHEN_LOCAL", "timeout": 0.05}, "replicas": 3},
    )
    tenant = config.tenants["acme"]
    assert (tenant.limits.rate, tenant.limits.burst, tenant.limits.max_wait) == (50, 100, 0.5)
    parsed = tenant.apps["invicti"]
    assert parsed.limits.burst == 20 and parsed.upstream.concurrency == 10
    assert parsed.retry.deadline == 25 and parsed.breaker.cooldown == 30 and parsed.http.pool_timeout == 1
    assert config.throttle.replicas == 3 and config.throttle.redis.url is None  # not resolved when local


def test_defaults_are_safe_and_limits_are_opt_in() -> None:
    config = gateway_config({"acme": {"apps": {"invicti": APP}}})
    app = config.tenants["acme"].apps["invicti"]
    assert config.tenants["acme"].limits is None and app.limits is None and app.upstream.rate is None
    assert app.retry.deadline < 60  # Entra gives up at 60 s
    assert (app.retry.attempts, app.breaker.failures) == (4, 5)
    assert config.throttle.backend == "local"
    limited = gateway_config({"acme": {"limits": {"rate": 7}, "apps": {"invicti": APP}}})
    assert limited.tenants["acme"].limits.burst == 7  # one second's worth when not given


def test_redis_url_is_a_secret_reference_resolved_only_for_the_redis_backend(monkeypatch) -> None:
    monkeypatch.setenv("TEST_REDIS_URL", "redis://:hunter2@127.0.0.1:6379/0")
    config = gateway_config(
        {"acme": {"apps": {"invicti": APP}}}, throttle={"backend": "redis", "redis": {"url": "env:TEST_REDIS_URL"}}
    )
    assert config.throttle.redis.url.get_secret_value().startswith("redis://")
    assert "hunter2" not in repr(config.throttle)
    with pytest.raises(ConfigError, match=r"throttle\.redis\.url: required"):
        gateway_config({"acme": {"apps": {"invicti": APP}}}, throttle={"backend": "redis"})


@pytest.mark.parametrize(
    ("tenant", "message"),
    [
        ({"limits": {"rate": 0}}, r"tenants\.acme\.limits\.rate"),
        ({"limits": {"rate": 5, "max_wait": 120}}, r"tenants\.acme\.limits\.max_wait"),
        ({"limits": {"rate": 5, "bursts": 5}}, r"tenants\.acme\.limits\.bursts: unknown key"),
        ({"apps": {"invicti": {**APP, "retry": {"deadline": 90}}}}, r"apps\.invicti\.retry\.deadline"),
        ({"apps": {"invicti": {**APP, "breaker": {"failures": 0}}}}, r"apps\.invicti\.breaker\.failures"),
        ({"apps": {"invicti": {**APP, "upstream": {"concurrency": 0}}}}, r"apps\.invicti\.upstream\.concurrency"),
    ],
)
def test_bad_values_name_their_key(tenant: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gateway_config({"acme": {"apps": {"invicti": APP}, **tenant}})
