import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against sources: no build needed to test one package against another.
    alias: {
      // The longer name first: '@k8ts/api' would also match '@k8ts/api/testing'.
      '@k8ts/api/testing': src('./packages/api/src/testing.ts'),
      '@k8ts/api/client': src('./packages/api/src/client.ts'),
      '@k8ts/api/patch-meta': src('./packages/api/src/patch-meta.ts'),
      '@k8ts/api': src('./packages/api/src/index.ts'),
      '@k8ts/apiserver': src('./packages/apiserver/src/index.ts'),
      '@k8ts/kubelet': src('./packages/kubelet/src/index.ts'),
      '@k8ts/controller-manager': src('./packages/controller-manager/src/index.ts'),
      '@k8ts/scheduler': src('./packages/scheduler/src/index.ts'),
      '@k8ts/dns': src('./packages/dns/src/index.ts'),
      '@k8ts/kube-proxy': src('./packages/kube-proxy/src/index.ts'),
      '@k8ts/ingress': src('./packages/ingress/src/index.ts'),
      '@k8ts/kubectl': src('./packages/kubectl/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Clusters that tests start with scripts/cluster run kube-proxy in userspace mode: test files run in parallel,
    // and one host's iptables can have only one kube-proxy. test/kube-proxy-iptables.test.ts asks for iptables itself.
    // Their ingress controllers take free ports (not 80/443), for the same reason.
    env: { K8TS_PROXY_MODE: 'userspace', K8TS_INGRESS_HTTP_PORT: '0', K8TS_INGRESS_HTTPS_PORT: '0' },
  },
});
