# botbuilder in a container: one `botbuilder serve` per container (deploy/compose.yml
# runs two behind nginx). The install steps are `make install`'s, in the same order:
# torch 2.13.0's CPU build first, then the package; tests/test_deploy.py checks that
# the pip steps below are the Makefile's. Not built in CI (no registry is reachable
# there); docs/operations.md says what is tested where.
FROM python:3.11-slim-bookworm

# Where pip finds torch's CPU build (the Makefile gets the same wheel from this
# machine's disk). Without it pip would take a CUDA build of several GB.
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

RUN useradd --system --create-home --home-dir /var/lib/botbuilder \
        --shell /usr/sbin/nologin botbuilder

WORKDIR /app
COPY . /app

# make install, step by step:
RUN python3 -m venv .venv
RUN .venv/bin/python -m pip install --quiet --upgrade pip
RUN .venv/bin/python -m pip install --quiet torch==2.13.0
RUN .venv/bin/python -m pip install --quiet -e '.[dev]'

# The flows folder is the replica's own copy (the editor writes it); the instance
# folder holds the embedding cache and, without BOTBUILDER_SECRET_KEY, the secret.
RUN mkdir -p /var/lib/botbuilder/instance && chown -R botbuilder /app/flows /var/lib/botbuilder
ENV PATH=/app/.venv/bin:$PATH \
    BOTBUILDER_INSTANCE_PATH=/var/lib/botbuilder/instance
USER botbuilder
EXPOSE 5000

# Liveness only: /ready (database and bot) is for the load balancer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=2)"]

CMD ["botbuilder", "serve", "flows", "--host", "0.0.0.0", "--port", "5000"]
