# scim-gateway production image.
#
#   docker build -t scim-gateway:0.1.0 .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 \
#     -v "$PWD/config.yaml:/etc/scim-gateway/config.yaml:ro" -e ACME_INVICTI_TOKEN scim-gateway:0.1.0
#
# Two stages on the same pinned base: the builder makes a wheel of the project and a venv with the
# exact pins of requirements.lock; the final stage copies only that venv (no pip cache, no sources,
# no build tools). The base is pinned by exact tag; pin it by digest too (python:...@sha256:...) in
# your registry mirror: a digest cannot be looked up from where this file was written.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# Byte-code is compiled here, at install time, so the read-only final image never needs to write it.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies first: this layer is reused until requirements.lock changes.
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --only-binary=:all: --no-deps -r requirements.lock \
    && python -m pip install setuptools==80.9.0
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY vendors ./vendors
COPY config ./config
# --no-deps: every dependency is already installed from the lock, so nothing unpinned slips in.
# pip check fails the build if the lock misses a requirement on this interpreter (markers such as
# python_full_version differ between patch releases: redis needs async-timeout before 3.11.3).
RUN python -m pip wheel --no-build-isolation --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-deps /wheels/*.whl \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/python -m pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="scim-gateway" \
      org.opencontainers.image.description="One clean SCIM 2.0 face for every SaaS app" \
      org.opencontainers.image.licenses="Apache-2.0"
# Numeric UID/GID so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid 10001 scim \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin scim
COPY --from=builder /opt/venv /opt/venv
# Read-only root filesystem friendly: no .pyc writes, HOME and TMPDIR in /tmp (an emptyDir/tmpfs).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080
# Liveness only (the process serves HTTP); no curl in the image, the venv's Python does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["scim-gateway"]
CMD ["serve", "--config", "/etc/scim-gateway/config.yaml"]
