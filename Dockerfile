# The ugc image: every process of the platform, chosen by the command (`ugc ...`).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --system --uid 10001 ugc
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER ugc
ENV UGC_ENVIRONMENT=production UGC_HOST=0.0.0.0 UGC_PORT=8000
EXPOSE 8000
ENTRYPOINT ["ugc"]
CMD ["serve-events"]
