# natter: build a release binary, run it on a slim image as a non-root user.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The workspace names the bench crate; cargo reads its manifest even when
# building only the server.
COPY bench/Cargo.toml bench/Cargo.toml
COPY bench/src bench/src
COPY src src
COPY templates templates
COPY assets assets
COPY migrations migrations
RUN cargo build --release --locked -p natter --bin natter

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin natter \
    && mkdir -p /data \
    && chown natter:natter /data
COPY --from=build /src/target/release/natter /usr/local/bin/natter
USER natter
WORKDIR /data
VOLUME ["/data"]
ENV NATTER_BIND=0.0.0.0:3000 \
    DATABASE_URL=sqlite:/data/natter.db \
    RUST_LOG=natter=info,tower_http=info,warn
EXPOSE 3000
STOPSIGNAL SIGTERM
CMD ["natter"]
