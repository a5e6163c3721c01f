# Heimdall container image (docs/src/production.md#the-container).
#   docker build -t heimdall .
#   docker run -p 8080:8080 -e HEIMDALL_MASTER_KEY=... -v heimdall:/var/lib/heimdall heimdall
# Multi-stage: the toolchain stays in the build stage; the runtime image holds the
# binary, CA certificates (outbound TLS: webhooks, identity providers, SMTP) and curl
# for the health check. Runs as an unprivileged user and writes only to
# /var/lib/heimdall, so `--read-only` works.

FROM rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin heimdall \
    && install -m 0755 target/release/heimdall /usr/local/bin/heimdall

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 heimdall \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/heimdall --shell /usr/sbin/nologin heimdall \
    && mkdir -p /var/lib/heimdall \
    && chown 10001:10001 /var/lib/heimdall
COPY --from=build /usr/local/bin/heimdall /usr/local/bin/heimdall
ENV HEIMDALL_BIND=0.0.0.0:8080 \
    HEIMDALL_DATA_DIR=/var/lib/heimdall \
    HEIMDALL_DATABASE_URL=sqlite:///var/lib/heimdall/heimdall.db?mode=rwc \
    HEIMDALL_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/heimdall
VOLUME ["/var/lib/heimdall"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/heimdall"]
CMD ["serve"]
