# One image for both Mission Control services; docker-compose.yml picks the
# command (worker.ts or api/server.ts).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY scripts/complete-lockfile.mjs scripts/
COPY patches/ patches/
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/server.ts"]
