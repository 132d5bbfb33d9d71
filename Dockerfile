# One image for every process of the Visitor Service Center: each nameko
# service and the relay; docker-compose.yml gives each its command.
#
#   runtime     the source and the runtime pins (requirements.lock) only
#   tests       runtime + the test pins (requirements-test.lock) and tests/
#   production  the default (last) stage: runtime, nothing more
FROM python:3.11.12-slim-bookworm AS runtime

# PYTHONWARNINGS: the deprecation banners of eventlet (imported by nameko's
# CLI) and pkg_resources, printed before any of our code runs; only those
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONWARNINGS="ignore::Warning:nameko.cli.commands,ignore:pkg_resources is deprecated:UserWarning"

WORKDIR /app

# dependencies first: this layer is rebuilt only when the pins change
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# the source (listed, so a local .venv/ or var/ never lands in the image)
COPY pyproject.toml ./
COPY contracts/ contracts/
COPY services/ services/
COPY deploy/ deploy/
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && useradd --create-home --uid 10001 --user-group vsc \
    && mkdir -p /app/var /audit \
    && chown vsc:vsc /app/var /audit

USER vsc

# no default command: docker-compose.yml sets the command of each container,
# e.g. ["python", "-m", "services.chassis.run", "--config", "deploy/config.yaml", "services.duty_log.service"]


FROM runtime AS tests

USER root
COPY requirements-test.lock ./
RUN pip install --no-cache-dir -r requirements.lock -r requirements-test.lock
COPY tests/ tests/
COPY bench/ bench/
COPY docs/ docs/
COPY docker-compose.yml Dockerfile Makefile ./
RUN mkdir -p /app/.hypothesis && chown vsc:vsc /app/.hypothesis
USER vsc


FROM runtime AS production
