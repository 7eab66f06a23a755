import { kubeProxyClusterSuite } from './kube-proxy-cluster-suite.js';

kubeProxyClusterSuite('userspace');
