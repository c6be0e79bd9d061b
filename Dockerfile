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
# The CAs that MySQL connections trust (--tls-ca; the CDK sets verify-identity with this file):
# the RDS global bundle, fetched at build time (the build needs HTTPS access to
# truststore.pki.rds.amazonaws.com, or --build-arg MYSQL_CA_BUNDLE_URL=<a mirror>), plus every
# certs/*.pem of the build context (add your own CA there). See docs/deployment.md.
ARG MYSQL_CA_BUNDLE_URL=https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
ADD ${MYSQL_CA_BUNDLE_URL} /tmp/ca/rds-global-bundle.pem
COPY certs/ /tmp/ca/extra/
RUN mkdir -p /app/certs \
  && find /tmp/ca -name '*.pem' -type f | sort | xargs cat > /app/certs/mysql-ca.pem \
  && grep -q 'BEGIN CERTIFICATE' /app/certs/mysql-ca.pem \
  && rm -rf /tmp/ca
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Lambda ignores USER and runs as its own unprivileged user; ECS honours it.
USER node
CMD ["node", "/app/bin/mysql-pitr.js", "--help"]
