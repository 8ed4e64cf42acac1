# syntax=docker/dockerfile:1
#
# kakaoauth in a container: a static binary (CGO_ENABLED=0; SQLite is modernc.org/sqlite, pure Go)
# on Debian slim, as an unprivileged user, with the SQLite database on the /data volume.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t kakaoauth .
#   docker run -d -p 127.0.0.1:8080:8080 -v kakaoauth-data:/data --env-file kakaoauth.env kakaoauth
#
# No secret is baked in: KAKAOAUTH_SECRET, the Kakao keys and the public URL come from the
# environment at run time (deploy/kakaoauth.env.example lists them).
#
# Why Debian slim and not distroless: HEALTHCHECK runs a program inside the container, and
# kakaoauth has no health subcommand, so the image needs an HTTP client; curl from Debian is the
# smallest well-maintained one. A distroless image (gcr.io/distroless/static-debian12:nonroot)
# works as well for the server itself, but has no health check then.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# VERSION, when given, is what `kakaoauth version` prints; .git is not in the build context, so
# the build info carries no VCS revision of its own.
ARG VERSION=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w ${VERSION:+-X main.version=$VERSION}" \
      -o /out/kakaoauth ./cmd/kakaoauth

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kakaoauth \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin kakaoauth \
 && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=build /out/kakaoauth /usr/local/bin/kakaoauth
USER 10001:10001
WORKDIR /data
ENV KAKAOAUTH_ADDR=:8080 \
    KAKAOAUTH_DATABASE_URL=sqlite:/data/kakaoauth.db
VOLUME ["/data"]
EXPOSE 8080
# /readyz answers 200 once the database answers and a signing key is loaded. It asks port 8080:
# change both if you change KAKAOAUTH_ADDR.
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["curl", "--fail", "--silent", "--show-error", "--output", "/dev/null", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/kakaoauth"]
CMD ["serve"]
