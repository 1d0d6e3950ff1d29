# The conductor image: Node.js 20 and the npm registry only, no native Prisma engine.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY src/config.ts ./src/config.ts
# postinstall generates the Prisma client, which needs the schema and the config module above.
RUN npm ci --omit=dev && npm cache clean --force
COPY src ./src
COPY docs ./docs
ENV HOST=0.0.0.0 PORT=6666
EXPOSE 6666
USER node
# npm start: preflight (services, database, migrations), then the conductor; SIGTERM flushes and exits.
CMD ["npm", "start"]
