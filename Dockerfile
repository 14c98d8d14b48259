# syntax=docker/dockerfile:1
#
# Kalends server image.
#
#   docker build -t kalends .
#   openssl rand -base64 32 > kalends.key      # once; keep it with your backups
#   docker run --init -p 8080:8080 -v kalends-data:/data \
#       -e KALENDS_SECRET_KEY="$(cat kalends.key)" kalends
#
# Node 24 runs the TypeScript sources directly (type stripping): no build step.
# The entry is the launcher `bin/kalends serve` (node with its flags running
# src/cli.ts), the same one scripts/start uses;
# on an empty database it creates the first admin and prints how to sign in
# (see `docker logs`).  NODE_ENV=production makes KALENDS_SECRET_KEY required
# (it encrypts stored secrets, so it must stay the same across restarts).
# Other settings are environment variables too (DATABASE_URL for PostgreSQL,
# KALENDS_PUBLIC_URL, ...; see README); the embedded database lives in /data.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- dependencies: production node_modules only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# argon2 ships prebuilt binaries, so no compiler is normally used; the
# toolchain is here so that `npm ci` can still build from source if a
# prebuild is ever missing for this platform.  This stage is discarded.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    KALENDS_DATA_DIR=/data

# Unprivileged user; the code stays owned by root (read-only to the server),
# only /data is writable.
RUN groupadd --system kalends \
    && useradd --system --gid kalends --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin kalends \
    && mkdir -p /data \
    && chown kalends:kalends /data \
    && chmod 0700 /data

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY scripts/node24.sh ./scripts/node24.sh
COPY migrations ./migrations
COPY src ./src

USER kalends
VOLUME /data
EXPOSE 8080

# Node 24 has fetch built in; honours a PORT overridden at `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["bin/kalends", "serve"]
