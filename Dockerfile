# The conductor image: Node.js 20 and the npm registry only, no native Prisma engine.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# postinstall generates the Prisma client; prisma.config.ts reads the conductor's configuration module,
# which imports from the rest of src/.
COPY src ./src
RUN npm ci --omit=dev && npm cache clean --force
COPY docs ./docs
ENV HOST=0.0.0.0 PORT=6666
EXPOSE 6666
USER node
# npm start: preflight (services, database, migrations), then the conductor; SIGTERM flushes and exits.
CMD ["npm", "start"]
