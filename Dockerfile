# syntax=docker/dockerfile:1
# One image for every process of the system: `docker run payproof <api|relay|purchase|allocation|
# session|cache|provision|supervise>` (system/main.ts). Small (Alpine, production dependencies
# only, no harness, no tests), non-root, base pinned by version. TypeScript runs as is: Node 24
# strips the types, so there is no build step and the image holds the sources the tests ran.
# Checked here without a Docker engine by BuildKit's own Dockerfile parser (test/int/deploy-files).
ARG NODE_IMAGE=node:24.21.0-alpine3.22

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install script is the `node` devDependency's, not installed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
# A 4 MiB young generation, as the launcher runs every process the benchmarks measured; the old
# generation's growth is capped by system/main.ts (HEAP_GROWING_PERCENT, default 30).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0 \
    KAFKAJS_NO_PARTITIONER_WARNING=1 \
    NODE_OPTIONS="--disable-warning=TimeoutNegativeWarning --max-semi-space-size=4"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY system ./system
COPY migrations ./migrations
# The image's own unprivileged user (uid 1000); nothing under /app is writable by it.
USER node
EXPOSE 3000 9400
HEALTHCHECK --interval=5s --timeout=2s --start-period=20s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||process.env.METRICS_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "system/main.ts"]
CMD ["api"]
