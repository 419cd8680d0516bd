# syntax=docker/dockerfile:1
# The capim-edge controller image (config/manager runs `node dist/controller/main.js` in it): Node LTS,
# the controller bundled by esbuild as `npm start` runs it (tsx's loader thread, transform cache and
# esbuild service cost the process ~160 MB of RSS), production dependencies only, a numeric non-root
# user (the manager's securityContext has runAsNonRoot, which kubelet can verify only for a numeric USER).
#   docker build -t ghcr.io/capim-edge/controller:v0.1.0 .
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY controller ./controller
COPY edge-contract ./edge-contract
RUN npm run -s build:controller

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/controller ./dist/controller
USER 1000:1000
EXPOSE 8080
# --max-semi-space-size: see controller/node-flags.ts (the same flags as every local VIP process).
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/controller/main.js"]
