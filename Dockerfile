# trunkgate image: build with the dev dependencies, run the compiled dist/ on a slim base as the unprivileged
# `node` user. Configuration and certificates live in volumes:
#   /app/profiles  the profiles directory (mount yours read-only; the image carries the example)
#   /app/pki       trustpoints, trust stores and the local CA, written on first start (keys mode 0600)
#   /app/cdr       call detail records (JSON lines, rotated) and the CDR database's on-disk queue
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production TRUNKGATE_PROFILES=/app/profiles
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY profiles ./profiles
# The web console's pages (Preact and htm come from node_modules).
COPY console ./console
RUN mkdir -p /app/pki && chown node:node /app/pki
# CDRs: the JSON-lines file (profiles' default ../cdr/cdr.jsonl) and the database's on-disk queue.
RUN mkdir -p /app/cdr && chown node:node /app/cdr
USER node
VOLUME ["/app/pki"]
VOLUME ["/app/cdr"]
# The admin API's /health answers without the token: 200 while SIP and the engine are up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TRUNKGATE_ADMIN_PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The options npm start gives node (package.json): V8's background pool cut to one thread, so its GC and compiler
# helpers do not take the cores from the engine and b2bua threads (README, Performance).
ENTRYPOINT ["node", "--v8-pool-size=1", "--heap-growing-percent=200", "dist/main.js"]
CMD ["start"]
