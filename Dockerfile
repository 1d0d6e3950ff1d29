# The conductor image: Node.js 20 and the npm registry only, no native Prisma engine. The build stage
# compiles src/ into dist/; the image holds dist/, the production dependencies, and what is read from
# the source tree at run time: the Lua scripts and the migrations.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies from the manifests alone, so a change to src/ reuses this layer. postinstall generates
# the Prisma client from prisma/schema.prisma; prisma.config.ts reads nothing from src/.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# No install scripts: the generated Prisma client is compiled into dist/ already.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY src/buffer/lua ./src/buffer/lua
COPY src/cache/lua ./src/cache/lua
COPY src/queues/client/lua ./src/queues/client/lua
ENV HOST=0.0.0.0 PORT=6666
EXPOSE 6666
USER node
# node itself, never npm as PID 1: docker stop's SIGTERM reaches the conductor, which stops taking jobs,
# flushes and exits 0. Migrations are a one-shot of their own (docker-compose.yml: migrate), run before.
CMD ["node", "dist/server.js"]
