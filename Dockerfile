# mysql-pitr image: the binlog archiver (ECS service), the Fargate job task and the job worker
# Lambda (container image). Debian slim + Node 22 LTS + mariadb-client (mariadb-dump for dumps).
#
#   docker build -t mysql-pitr:0.1.0 .
#
# No ENTRYPOINT: ECS task definitions give the whole command (see cdk/lib/archiver-service.ts and
# cdk/lib/job-worker.ts) and the worker Lambda sets its own entry point, lambdas/lambda-runtime.js,
# a small Lambda Runtime API client, so this image needs neither the AWS base image nor aws-lambda-ric.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY lambdas ./lambdas
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends mariadb-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Lambda ignores USER and runs as its own unprivileged user; ECS honours it.
USER node
CMD ["node", "/app/bin/mysql-pitr.js", "--help"]
