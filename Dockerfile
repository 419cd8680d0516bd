# syntax=docker/dockerfile:1
# The capim-edge controller image (config/manager runs `node --import tsx controller/main.ts` in it):
# Node LTS, production dependencies only, the controller's sources, a numeric non-root user (the
# manager's securityContext has runAsNonRoot, which kubelet can verify only for a numeric USER).
#   docker build -t ghcr.io/capim-edge/controller:v0.1.0 .
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY controller ./controller
COPY edge-contract ./edge-contract
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "--import", "tsx", "controller/main.ts"]
