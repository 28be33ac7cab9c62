/**
 * The IAM and model core: what the local runtime and the access proof share, behind one entry
 * point (as iam-simulate is its own package). The accounts model read from cdktf.out, ARNs and
 * partitions, principals and the authorizer. verify/ imports this file only (eslint.config.mjs).
 */
export {
  accountOf,
  accountRootArn,
  functionNameOf,
  iamNameOf,
  parseArn,
  partitionOf,
  regionOf,
  serviceOf,
  splitFunctionArn,
  type Arn,
} from "./arn";
export { PROJECT_ROOT } from "./paths";

export type {
  AccountModel,
  AliasModel,
  AccountsModel,
  BucketModel,
  FunctionModel,
  KeyModel,
  NamedPolicy,
  PolicyDocument,
  RoleModel,
  SourceRef,
  TableModel,
  VpcEndpointModel,
} from "./model/types";
export { FULL_ACCESS_ENDPOINT_POLICY } from "./model/network";
export { ModelError } from "./model/types";
export { loadAccountsModel } from "./model/load-model";
export { ensureSynthesized } from "./model/freshness";
export { Resolver, child, type Where } from "./model/resolver";
export {
  blockList,
  isObject,
  readStacks,
  resourcesOf,
  singleBlock,
  stackNamesIn,
  type JsonObject,
  type StackDoc,
} from "./model/stack-files";
export { templateExpressions } from "./model/template";

export {
  ANONYMOUS,
  Authorizer,
  SimulationError,
  accessDeniedMessage,
  type AnonymousPrincipal,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type EvaluationResult,
  type OrganizationMembership,
  type ServicePrincipal,
  type VpcEndpointPassage,
} from "./iam/authorize";
export {
  ADMINISTRATOR_ACCESS,
  OUTSIDER_ACCOUNT_ID,
  adminUser,
  roleSession,
  uniqueId,
  type Principal,
  type RoleSessionPrincipal,
  type UserPrincipal,
} from "./iam/principals";
