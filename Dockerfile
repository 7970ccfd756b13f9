# Build a static binary, then run it as an unprivileged user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hikvision_exporter .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hikvision_exporter /bin/hikvision_exporter
COPY config.example.yml /etc/hikvision_exporter/hikvision.yml
USER nonroot:nonroot
# --storage.path (default data/) keeps lockout hold-offs across restarts;
# mount a volume here to keep them across container replacements too.
WORKDIR /home/nonroot
EXPOSE 10729
ENTRYPOINT ["/bin/hikvision_exporter"]
CMD ["--config.file=/etc/hikvision_exporter/hikvision.yml"]
