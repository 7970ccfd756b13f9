# Build a static binary, then run it as an unprivileged user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git (.dockerignore), so the revision, branch and
# build user come as build arguments: `make docker` passes them. The version
# comes from VERSION, through the same `make build` as outside Docker.
ARG REVISION=
ARG BRANCH=
ARG BUILD_USER=docker
RUN CGO_ENABLED=0 make build OUT=/out/hikvision_exporter BUILDFLAGS=-trimpath EXTRA_LDFLAGS="-s -w" \
	REVISION="$REVISION" BRANCH="$BRANCH" BUILD_USER="$BUILD_USER"
# The state directory, owned by the user the exporter runs as: a volume
# mounted on it starts with that owner, so hold-offs can be saved.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hikvision_exporter /bin/hikvision_exporter
# A configuration without devices (config.example.yml names fictitious
# ones): mount your own hikvision.yml over it, and the password file it
# reads at /etc/hikvision_exporter/password. Without that file the exporter
# refuses to start and says so.
COPY examples/docker.yml /etc/hikvision_exporter/hikvision.yml
USER nonroot:nonroot
# --storage.path (default data/) keeps lockout hold-offs across restarts;
# mount a volume on /home/nonroot/data to keep them across container
# replacements too.
WORKDIR /home/nonroot
COPY --from=build --chown=65532:65532 /out/data /home/nonroot/data
EXPOSE 10729
ENTRYPOINT ["/bin/hikvision_exporter"]
CMD ["--config.file=/etc/hikvision_exporter/hikvision.yml"]
