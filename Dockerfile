# syntax=docker/dockerfile:1
#
# Seat gateway container image.
#   docker build -t seat-gateway .
#   docker run -p 8080:8080 -v seat-data:/data \
#     -v ./appsettings.Production.json:/app/appsettings.Production.json:ro seat-gateway
#
# .NET 10 ships no Debian images: the default 10.0 tags are Ubuntu 24.04 "noble" (glibc, apt).
# The tags below are pinned to noble explicitly. Do not switch to -alpine: the embedded store's
# Lua runtime (KeraLua) needs glibc.

# The SDK runs on the build machine's platform and publishes for the image's (TARGETARCH: amd64 or
# arm64, set by BuildKit), so the image carries the native libraries (Lua, Garnet) of its own
# platform only, not those of every platform the packages ship (publish: 78 MB -> 32 MB).
# appsettings.Development.json and the demo signing key are never published.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG TARGETARCH
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Gateway/Gateway.csproj -c Release --os linux -a "$TARGETARCH" --self-contained false \
      -o /app /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
# curl serves the HEALTHCHECK only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/store \
 && chown -R "$APP_UID" /data

WORKDIR /app
COPY --from=build /app ./

# Plain HTTP on 8080 (TLS usually ends at the load balancer). ASPNETCORE_HTTP_PORTS (set to 8080 by
# the base image) is cleared so ASP.NET does not warn that ASPNETCORE_URLS overrides it. The
# embedded store (used when ConnectionStrings__Redis is empty) keeps its data in the /data volume.
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Licensing__Embedded__DataPath=/data/store
VOLUME /data
EXPOSE 8080

USER $APP_UID

# Liveness only (200 while the process runs); adjust the path if Licensing__ManagementPath changes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS --max-time 4 -o /dev/null http://127.0.0.1:8080/_licensing/healthz || exit 1

ENTRYPOINT ["dotnet", "Gateway.dll"]
