export { ReplicaSetController, selectorOf, BURST_REPLICAS } from './replicaset/replica-set-controller.js';
export type { ReplicaSetControllerDeps, ReplicatedObject } from './replicaset/replica-set-controller.js';
export { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from './expectations.js';
export { deletionOrder, isPodActive, isPodAvailable, isPodReady, podFromTemplate, rankByRelatedOnSameNode, slowStartBatch } from './pods.js';
export { CONTROLLERS, enabledControllers } from './controllers.js';
export type { ControllerContext, ControllerDescriptor } from './controllers.js';
export { DeploymentController } from './deployment/deployment-controller.js';
export type { DeploymentControllerDeps } from './deployment/deployment-controller.js';
