# One image for every process of the Visitor Service Center: each nameko
# service, the relay and the tests; docker-compose.yml gives each its command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# dependencies first: this layer is rebuilt only when the pins change
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# the source (listed, so a local .venv/ or var/ never lands in the image)
COPY pyproject.toml ./
COPY contracts/ contracts/
COPY services/ services/
COPY deploy/ deploy/
COPY tests/ tests/
COPY docs/ docs/
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && useradd --create-home --uid 10001 --user-group vsc \
    && mkdir -p /app/var /app/.hypothesis \
    && chown vsc:vsc /app/var /app/.hypothesis

USER vsc

# no default service: docker-compose.yml sets the command of each container,
# e.g. ["nameko", "run", "--config", "deploy/config.yaml", "services.duty_log.service"]
