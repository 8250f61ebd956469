# The loadstar container image, for sharded runs on Kubernetes
# (docs/distributed.md): loadstar kube generate/run put it in the shard pods
# and the collector.
#
#   docker build -t registry.example/loadstar:v1 .
#   docker push registry.example/loadstar:v1
#   loadstar kube run bench.star --shards 4 --image registry.example/loadstar:v1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/loadstar ./cmd/loadstar

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/loadstar /usr/local/bin/loadstar
WORKDIR /work
USER nonroot
ENTRYPOINT ["/usr/local/bin/loadstar"]
