# syntax=docker/dockerfile:1
# Node 20, as package.json's engines, the README and .ci/run say (the dependencies support ^20.19 || >=22.12).
# Build stage: compile TypeScript and the native SQLite driver.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Dependencies first, so this layer survives source edits: the package's own 'prepare' (the build)
# needs the sources, so scripts are skipped here and the one native driver is built explicitly.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

# Runtime stage: only what the server needs, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY profiles ./profiles
COPY conformance ./conformance
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The same start command as `npm start`, without the build step (already built above).
# The heap ceiling (HEAP_LIMIT_MB) is a V8 flag, so it is applied where node starts, as npm start does.
CMD ["sh", "-c", "exec node --max-old-space-size=${HEAP_LIMIT_MB:-1024} dist/src/main.js"]
