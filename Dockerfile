# syntax=docker/dockerfile:1
# Sessiongate image: the gateway (default command) and, with another command, the demo API.
#   docker build -t sessiongate .
#   docker run --env-file gateway.env -p 3000:3000 sessiongate
# Configuration is environment only: see libs/config/src/settings.ts and docs/DOCKER.md.

# --- build: full dependency tree, TypeScript compiled into dist/ -------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

# Manifests first, so the dependency layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
RUN npm run build

# --- runtime: production dependencies and compiled output only ----------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# package.json stays in the image: its "imports" map resolves #sessiongate/* to dist/libs/*/src/index.js.
# Files stay root-owned and the process runs as `node`, so a compromised process cannot rewrite its code.
COPY --from=build /app/dist ./dist
# The admin console's static page (HTML, CSS, JS: no build step), read from beside dist/.
COPY --from=build /app/libs/admin/public ./libs/admin/public
COPY deploy/docker/healthcheck.mjs ./healthcheck.mjs

USER node
EXPOSE 3000

# Liveness: /healthz (see healthcheck.mjs).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "healthcheck.mjs"]

CMD ["node", "dist/apps/gateway/src/main.js"]
