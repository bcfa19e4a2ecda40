# affcheck in a container, for CI systems that run jobs in images (GitLab CI, Jenkins, Drone …):
#
#   docker build -t affcheck .
#   docker run --rm -v "$PWD:/work" affcheck check public --base-url https://www.example.com/
#
# The build stage compiles the release binary from this checkout with the locked dependency
# versions; the runtime stage is a slim Debian with the CA certificates that `check URL` and
# `crawl` need for HTTPS (rustls reads the system's store), run as an unprivileged user.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# .dockerignore keeps target/, .git, the fuzzers and the test data out of the context: the build
# reads Cargo.toml, Cargo.lock, build.rs, src/ and rules/ only.
COPY . .
RUN cargo build --release --locked --bin affcheck

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin affcheck
COPY --from=build /src/target/release/affcheck /usr/local/bin/affcheck
USER affcheck
# Mount the site (or the repository) here; relative paths in the command line resolve from it.
WORKDIR /work
ENTRYPOINT ["affcheck"]
CMD ["--help"]
