# The ugc image: every process of the platform, chosen by the command (`ugc ...`).
# Exact base images, and every runtime package at the version the tests ran
# (requirements.lock, written by `make lock`).
FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY src ./src
RUN pip wheel --no-cache-dir --constraint requirements.lock --wheel-dir /wheels .

FROM python:3.12.8-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home ugc \
    # A fresh volume mounted here takes this owner: `ugc backup --to /backups/...`
    && mkdir /backups && chown 10001 /backups
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Numeric, so that runAsNonRoot-style checks can verify it without /etc/passwd.
USER 10001
ENV UGC_ENVIRONMENT=production UGC_HOST=0.0.0.0 UGC_PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
# The APIs answer /healthz; the loader's compose service asks its /metrics instead.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=6 CMD ["ugc", "healthcheck"]
ENTRYPOINT ["ugc"]
CMD ["serve-events"]
