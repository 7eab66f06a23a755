# One image for every k8ts component; the command picks the component (`k8ts apiserver …`, `k8ts kubelet …`), see
# images/k8ts/k8ts.mjs. docker-compose.yml builds the `k8ts` target for the components and the `etcd` target for etcd.
#
# The base images are build arguments whose defaults are the official images, so that with a registry nothing else
# is needed. Where none answers, `scripts/images` builds local stand-ins from the host's own binaries and names them
# in .env (K8TS_NODE_IMAGE, K8TS_ETCD_IMAGE), which compose passes here.
ARG NODE_IMAGE=node:22-bookworm-slim
ARG ETCD_IMAGE=gcr.io/etcd-development/etcd:v3.5.17

# etcd's volume, owned by the user etcd runs as (a named volume mounted there starts with this ownership); etcd
# makes its data directory, data/, inside with the mode it wants.
FROM ${NODE_IMAGE} AS etcd-data
RUN mkdir -p /var/lib/etcd && touch /var/lib/etcd/.keep

FROM ${ETCD_IMAGE} AS etcd
COPY --from=etcd-data --chown=1000:1000 /var/lib/etcd /var/lib/etcd
USER 1000:1000
EXPOSE 2379

# The build: node_modules from the context when it has them (an offline build), else `npm ci` from the registry;
# then the dev dependencies (the compiler, linters, test runner) go: pruning needs no registry (the local stand-in
# for the Node image carries the host's npm, as the official one has its own).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
RUN if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi \
 && node node_modules/typescript/bin/tsc -b packages/*/tsconfig.json \
 && npm prune --omit=dev --offline --no-audit --no-fund \
 && rm -rf node_modules/.cache

FROM ${NODE_IMAGE} AS k8ts
# kube-proxy's iptables mode runs iptables-restore; the official Node image has no iptables.
RUN command -v iptables-restore >/dev/null \
 || (apt-get update && apt-get install -y --no-install-recommends iptables && rm -rf /var/lib/apt/lists/*)
COPY --from=build /app /app
RUN ln -s /app/images/k8ts/k8ts.mjs /usr/local/bin/k8ts
ENV NODE_ENV=production
WORKDIR /app
# Non-root by default; the kubelet (the Docker socket) and kube-proxy (iptables) run as root in docker-compose.yml.
USER 1000:1000
ENTRYPOINT ["k8ts"]
CMD ["--help"]
