import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigValidationError, DEMO_DEFAULTS, validateConfig } from "../config/config";
import { envVarName, loadConfig } from "../config/load";
import { namesFor } from "../config/names";
import { resolveCallers } from "../config/callers";
import { synthAll } from "./support/synth";

function problemsOf(raw: unknown): string[] {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return [...(err as ConfigValidationError).problems];
  }
  throw new Error("expected the configuration to be rejected");
}

describe("validateConfig", () => {
  it("accepts the built-in demo defaults", () => {
    const config = validateConfig({ ...DEMO_DEFAULTS });
    expect(config.callerAccountId).toBe("111111111111");
    expect(config.calleeAccountId).toBe("222222222222");
  });

  it.each([
    ["callerAccountId", "1234", "callerAccountId must be 12 digits, got '1234'"],
    ["calleeAccountId", "22222222222a", "calleeAccountId must be 12 digits, got '22222222222a'"],
    ["region", "Europe", "region must be an AWS region name such as 'eu-west-1', got 'Europe'"],
    ["callerVpcId", "vpc-123", "callerVpcId must be a VPC id like 'vpc-0123456789abcdef0', got 'vpc-123'"],
    [
      "calleeSubnetIds",
      ["subnet-0b1b1b1b1b1b1b1b1", "sub-1"],
      "calleeSubnetIds must contain only subnet ids like 'subnet-0123456789abcdef0', got 'sub-1'",
    ],
    ["callerSubnetIds", [], "callerSubnetIds must be a non-empty list of subnet ids"],
    ["stateBucket", "My_Bucket", "stateBucket must be an S3 bucket name"],
    ["stateKeyPrefix", "/leading", "stateKeyPrefix must be a key prefix without leading or trailing '/'"],
    ["stateKmsKeyArn", "alias/foo", "stateKmsKeyArn must be a KMS key ARN"],
    ["externalId", "x", "externalId must be 2 to 1224 characters"],
    ["organizationId", "org-1", "organizationId must be an AWS Organizations id like 'o-a1b2c3d4e5', got 'org-1'"],
    ["logRetentionDays", 2, "logRetentionDays must be one of 1, 3, 5"],
    ["calleeReservedConcurrency", 0, "calleeReservedConcurrency must be a whole number from 1 to 10000, got 0"],
    ["callerMemoryMb", 64, "callerMemoryMb must be a whole number from 128 to 10240, got 64"],
    ["calleeTimeoutSeconds", 901, "calleeTimeoutSeconds must be a whole number from 1 to 900, got 901"],
    ["architecture", "arm", "architecture must be 'arm64' or 'x86_64', got 'arm'"],
    ["egressCidrBlocks", ["10.0.0.0/33"], "egressCidrBlocks must contain only IPv4 CIDR blocks like '10.0.0.0/16', got '10.0.0.0/33'"],
    ["namePrefix", "Bad_Prefix", "namePrefix must be 2 to 12 lowercase letters"],
    ["callerDeployRoleArn", "arn:aws:iam::111111111111:user/bob", "callerDeployRoleArn must be an IAM role ARN"],
  ])("rejects an invalid %s with a message naming it", (field, value, message) => {
    const problems = problemsOf({ ...DEMO_DEFAULTS, [field]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({ ...DEMO_DEFAULTS, callerAccountId: "1", calleeAccountId: "2", region: "x" });
    expect(problems).toHaveLength(3);
  });

  it("requires missing fields by name", () => {
    const { callerVpcId: _omitted, ...rest } = DEMO_DEFAULTS;
    expect(problemsOf(rest)).toEqual(["callerVpcId is required: expected a VPC id like 'vpc-0123456789abcdef0'"]);
  });

  it("refuses the same account on both sides", () => {
    expect(problemsOf({ ...DEMO_DEFAULTS, calleeAccountId: "111111111111" })[0]).toMatch(/must differ/);
  });

  it("refuses a caller timeout that does not exceed the callee's", () => {
    expect(problemsOf({ ...DEMO_DEFAULTS, callerTimeoutSeconds: 10, calleeTimeoutSeconds: 10 })[0]).toMatch(
      /callerTimeoutSeconds \(10\) must be greater than calleeTimeoutSeconds \(10\)/,
    );
  });

  it("refuses a deploy role in another account than its side's", () => {
    const problems = problemsOf({ ...DEMO_DEFAULTS, calleeDeployRoleArn: "arn:aws:iam::111111111111:role/deploy" });
    expect(problems).toEqual(["calleeDeployRoleArn must be a role in calleeAccountId 222222222222, got a role in account 111111111111"]);
  });

  it("refuses both a deploy role and a profile for one side", () => {
    const problems = problemsOf({ ...DEMO_DEFAULTS, callerDeployRoleArn: "arn:aws:iam::111111111111:role/deploy", callerProfile: "a" });
    expect(problems[0]).toMatch(/callerDeployRoleArn and callerProfile are both set/);
  });

  it("refuses unknown fields, naming them", () => {
    expect(problemsOf({ ...DEMO_DEFAULTS, callerAcountId: "111111111111" })[0]).toMatch(/unknown field 'callerAcountId'/);
  });

  it("suggests the known field a misspelt one is closest to, and lists no others", () => {
    expect(problemsOf({ ...DEMO_DEFAULTS, callerAcountId: "111111111111" })).toEqual([
      "unknown field 'callerAcountId': did you mean callerAccountId? (remove it or fix its spelling)",
    ]);
  });

  it.each([
    ["a missing letter", "calleeVpcI", "calleeVpcId"],
    ["as close to two fields", "calleVpcId", "callerVpcId or calleeVpcId"],
    ["two letters swapped", "regoin", "region"],
    ["another case", "CallerAccountID", "callerAccountId"],
    ["all lower case", "externalid", "externalId"],
    ["an extra letter", "stateBuckett", "stateBucket"],
  ])("a typo (%s): %s -> %s", (_what, typo, meant) => {
    const problems = problemsOf({ ...DEMO_DEFAULTS, [typo]: "x" });
    expect(problems).toEqual([`unknown field '${typo}': did you mean ${meant}? (remove it or fix its spelling)`]);
  });

  it.each(["databasePassword", "x", "callerAccountIdentifierNumber"])(
    "a name close to none (%s): says so and points to the README's table, listing no fields",
    (name) => {
      const problems = problemsOf({ ...DEMO_DEFAULTS, [name]: "x" });
      expect(problems).toEqual([
        `unknown field '${name}': no known field is close to it (remove it; the fields are in the Configuration table of README.md)`,
      ]);
      expect(problems[0]).not.toMatch(/did you mean|known fields|region|calleeVpcId/);
    },
  );

  it("refuses names that would overflow AWS limits", () => {
    const problems = problemsOf({
      ...DEMO_DEFAULTS,
      namePrefix: "abcdefghijkl",
      environment: "production",
      region: "ap-southeasternmostregion-1",
    });
    expect(problems.join("\n")).toMatch(/too long for the code bucket name/);
  });

  describe("the state's KMS key", () => {
    const real = { ...DEMO_DEFAULTS, callerAccountId: "123456789012", calleeAccountId: "210987654321", stateBucket: "acme-tfstate" };
    const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-0000-4000-8000-000000000000";

    it("is required outside the demo accounts, naming the bootstrap output and the bootstrap-only first step", () => {
      const problems = problemsOf(real);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^stateKmsKeyArn is required when the accounts are not the built-in demo's: .*SSE-S3 \(AES256\)/);
      expect(problems[0]).toContain("state_kms_key_arn");
      expect(problems[0]).toContain("XACCT_BOOTSTRAP_ONLY=true");
    });

    it.each([
      ["an empty string", ""],
      ["null", null],
    ])("is required when given as %s (the same as not given)", (_what, value) => {
      expect(problemsOf({ ...real, stateKmsKeyArn: value })).toEqual([
        expect.stringMatching(/^stateKmsKeyArn is required when the accounts are not the built-in demo's/),
      ]);
    });

    it("is not required for the demo accounts, nor for a bootstrap-only synth", () => {
      expect(validateConfig({ ...DEMO_DEFAULTS }).stateKmsKeyArn).toBeUndefined();
      expect(validateConfig({ ...real, bootstrapOnly: true }).bootstrapOnly).toBe(true);
      expect(validateConfig({ ...real, stateKmsKeyArn: keyArn }).stateKmsKeyArn).toBe(keyArn);
    });

    it("must be in account A and the state region, where the bootstrap stack creates it", () => {
      expect(problemsOf({ ...real, stateKmsKeyArn: keyArn.replace("123456789012", "210987654321") })).toEqual([
        "stateKmsKeyArn must be a key in callerAccountId 123456789012, where the bootstrap stack creates it, got a key in account 210987654321",
      ]);
      expect(problemsOf({ ...real, stateKmsKeyArn: keyArn.replace("eu-west-1", "us-east-1") })).toEqual([
        "stateKmsKeyArn must be a key in stateRegion eu-west-1, where the state bucket is, got a key in us-east-1",
      ]);
    });

    it("refuses a bootstrapOnly that is not a boolean", () => {
      expect(problemsOf({ ...DEMO_DEFAULTS, bootstrapOnly: "yes" })).toEqual(["bootstrapOnly must be true or false, got 'yes'"]);
    });
  });

  it("leaves reserved concurrency unset by default", () => {
    const config = validateConfig({ ...DEMO_DEFAULTS });
    expect(config.callerReservedConcurrency).toBeUndefined();
    expect(config.calleeReservedConcurrency).toBeUndefined();
  });

  it.each([null, undefined, 42, "text", [], true])("rejects a non-object (%p) without throwing anything else", (raw) => {
    expect(() => validateConfig(raw)).toThrow(ConfigValidationError);
  });
});

describe("validateConfig: the callers list", () => {
  const caller = (overrides: Record<string, unknown> = {}) => ({
    name: "orders",
    accountId: "333333333333",
    vpcId: "vpc-0c1c1c1c1c1c1c1c1",
    subnetIds: ["subnet-0c1c1c1c1c1c1c1c1"],
    ...overrides,
  });
  const withCallers = (callers: unknown) => ({ ...DEMO_DEFAULTS, callers });

  it("refuses, before anything is written, callers outside the state bucket's account whose statements overflow its 20 KB policy", () => {
    const many = Array.from({ length: 19 }, (_, i) => caller({ name: `a-caller-name-${i}`, vpcId: `vpc-${String(i).padStart(17, "0")}` }));
    expect(() => synthAll({ callers: many, stateKeyPrefix: "a/rather/long/state/key/prefix/for/this/org" } as never)).toThrow(
      /the bucket policy of s3:\/\/xacct-demo-tfstate-111111111111 \(Terraform state of the caller and callee stacks\) would be about \d+ bytes, over S3's limit of 20480: fewer callers outside/,
    );
    expect(() => synthAll({ callers: many.slice(0, 10) } as never)).not.toThrow();
  });

  it("treats an empty externalId as not given: the caller falls back to the shared one", () => {
    const config = validateConfig({ ...withCallers([caller({ externalId: "" })]), externalId: "shared-external-id" });
    expect(resolveCallers(config)[0].externalId).toBe("shared-external-id");
    expect(
      resolveCallers(validateConfig({ ...withCallers([caller({ externalId: "" })]), externalId: null }))[0].externalId,
    ).toBeUndefined();
    expect(validateConfig({ ...DEMO_DEFAULTS, externalId: null, organizationId: "" })).not.toHaveProperty("externalId");
  });

  it("accepts 1 and 50 callers, two of them in one account", () => {
    expect(() => validateConfig(withCallers([caller()]))).not.toThrow();
    const fifty = Array.from({ length: 50 }, (_, i) =>
      caller({ name: `c${i}`, accountId: i < 18 ? "333333333333" : "111111111111", vpcId: `vpc-${String(i).padStart(17, "0")}` }),
    );
    expect(validateConfig(withCallers(fifty)).callers).toHaveLength(50);
  });

  it.each<[string, unknown, string[]]>([
    [
      "51 callers",
      Array.from({ length: 51 }, (_, i) => caller({ name: `c${i}` })),
      ["callers must be a list of 1 to 50 callers (one stack and one invoker role each), got 51 entries"],
    ],
    ["an empty list", [], ["callers must be a list of 1 to 50 callers (one stack and one invoker role each), got 0 entries"]],
    ["not a list", "orders", ["callers must be a list of 1 to 50 callers (one stack and one invoker role each), got 'orders'"]],
    [
      "a non-object entry",
      [42],
      ['callers[0] must be an object like {"name": "orders", "accountId": "...", "vpcId": "...", "subnetIds": [...]}, got 42'],
    ],
    [
      "duplicate names",
      [caller(), caller({ accountId: "444444444444" })],
      ["callers[1] 'orders': name 'orders' is already used by callers[0]: give each caller its own name"],
    ],
    [
      "the callee's account as a caller",
      [caller({ accountId: "222222222222" })],
      ["callers[0] 'orders': accountId 222222222222 is the callee's account (calleeAccountId): a caller must run in another account"],
    ],
    [
      "a name with capitals",
      [caller({ name: "Orders" })],
      [
        "callers[0] 'Orders': name must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, got 'Orders'",
      ],
    ],
    ["a misspelt field", [caller({ acountId: "1" })], ["callers[0] 'orders': unknown field 'acountId': did you mean accountId?"]],
    [
      "a name too long once derived",
      [caller({ name: "a-name-of-thirty-characters-xx" })],
      [
        "callers[0] 'a-name-of-thirty-characters-xx': name 'a-name-of-thirty-characters-xx' is too long: its codeBucket would be 'xacct-demo-a-name-of-thirty-characters-xx-code-333333333333-eu-west-1' (69 > 63 characters); shorten the name by 6 or more",
      ],
    ],
    [
      "both a profile and a deploy role",
      [caller({ profile: "p", deployRoleArn: "arn:aws:iam::333333333333:role/deploy" })],
      ["callers[0] 'orders': deployRoleArn and profile are both set: give one way for its stack to reach its account, not two"],
    ],
    [
      "a deploy role in another account",
      [caller({ deployRoleArn: "arn:aws:iam::444444444444:role/deploy" })],
      ["callers[0] 'orders': deployRoleArn must be a role in its accountId 333333333333, got a role in account 444444444444"],
    ],
    [
      "a timeout that does not exceed the callee's",
      [caller({ timeoutSeconds: 10 })],
      [
        "callers[0] 'orders': timeoutSeconds (10) must be greater than calleeTimeoutSeconds (10): the caller needs time left to report a callee timeout",
      ],
    ],
    ["too little memory", [caller({ memoryMb: 64 })], ["callers[0] 'orders': memoryMb must be a whole number from 128 to 10240, got 64"]],
    [
      "bad subnets",
      [caller({ subnetIds: ["subnet-1", "subnet-1"] })],
      [
        "callers[0] 'orders': subnetIds must be a non-empty list of distinct subnet ids like 'subnet-0123456789abcdef0', got [\"subnet-1\",\"subnet-1\"]",
      ],
    ],
  ])("refuses %s with one message naming the entry and the fix", (_what, callers, expected) => {
    expect(problemsOf(withCallers(callers))).toEqual(expected);
  });

  it("reports the problems of every entry at once, with the rest of the configuration's", () => {
    const problems = problemsOf({ ...withCallers([caller({ name: "x-" }), caller({ vpcId: "vpc" })]), region: "mars" });
    expect(problems).toEqual([
      "region must be an AWS region name such as 'eu-west-1', got 'mars'",
      "callers[0] 'x-': name must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, got 'x-'",
      "callers[1] 'orders': vpcId must be a VPC id like 'vpc-0123456789abcdef0', got 'vpc'",
    ]);
  });

  it("reads XACCT_CALLERS as JSON, and says so when it is not", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-callers-"));
    try {
      const loaded = loadConfig({ env: { XACCT_CALLERS: JSON.stringify([caller()]) }, cwd: dir });
      expect(loaded.callers).toEqual([caller()]);
      expect(() => loadConfig({ env: { XACCT_CALLERS: "[{name: orders}]" }, cwd: dir })).toThrow(
        /XACCT_CALLERS must be JSON text, like '\[\{"name": "orders", \.\.\.\}\]'/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("validateConfig: vpcEndpoints", () => {
  const callerAt = (name: string, vpcId: string, extra: Record<string, unknown> = {}) => ({
    name,
    accountId: "333333333333",
    vpcId,
    subnetIds: ["subnet-0c1c1c1c1c1c1c1c1"],
    ...extra,
  });

  it("defaults to 'create' on both sides", () => {
    expect([DEMO_DEFAULTS.callerVpcEndpoints, DEMO_DEFAULTS.calleeVpcEndpoints]).toEqual(["create", "create"]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      "an unknown mode",
      { callerVpcEndpoints: "nat" },
      [
        "callerVpcEndpoints must be 'create' (interface endpoints for STS and Lambda in the VPC), 'existing' (endpoints that already exist: give their security groups or a prefix list) or 'none' (egress to egressCidrBlocks, for a VPC with a NAT gateway), got 'nat'",
      ],
    ],
    [
      "'existing' without a destination",
      { calleeVpcEndpoints: "existing" },
      [
        "calleeVpcEndpoints is 'existing', but neither calleeEndpointSecurityGroupIds nor calleeEndpointPrefixListIds is set: give the security group of your STS and Lambda endpoints (or a prefix list), the only place the function may send HTTPS to",
      ],
    ],
    [
      "endpoint groups without 'existing'",
      { callerEndpointSecurityGroupIds: ["sg-0e1e1e1e1e1e1e1e1"] },
      [
        "callerEndpointSecurityGroupIds and callerEndpointPrefixListIds apply only when callerVpcEndpoints is 'existing' (it is 'create'): remove them",
      ],
    ],
    [
      "a malformed group id",
      { callerVpcEndpoints: "existing", callerEndpointSecurityGroupIds: ["sg-1"] },
      ["callerEndpointSecurityGroupIds must be a list of distinct security group ids like 'sg-0123456789abcdef0', got [\"sg-1\"]"],
    ],
    [
      "two callers creating endpoints in one VPC",
      { callers: [callerAt("orders", "vpc-0c1c1c1c1c1c1c1c1"), callerAt("billing", "vpc-0c1c1c1c1c1c1c1c1")] },
      [
        'callers orders, billing share VPC vpc-0c1c1c1c1c1c1c1c1 in account 333333333333 and would each create STS and Lambda endpoints with private DNS, which a VPC allows once per service: let the first create them and give the others "vpcEndpoints": "existing" with "endpointSecurityGroupIds": [its endpoint security group, the output endpoint_security_group_id of its stack] (or put them in different VPCs)',
      ],
    ],
    [
      "a caller's own 'existing' without groups",
      { callers: [callerAt("orders", "vpc-0c1c1c1c1c1c1c1c1", { vpcEndpoints: "existing" })] },
      [
        "callers[0] 'orders': vpcEndpoints is 'existing', but neither callers[0] 'orders': endpointSecurityGroupIds nor callers[0] 'orders': endpointPrefixListIds is set: give the security group of your STS and Lambda endpoints (or a prefix list), the only place the function may send HTTPS to",
      ],
    ],
  ])("refuses %s", (_what, overrides, expected) => {
    expect(problemsOf({ ...DEMO_DEFAULTS, ...overrides })).toEqual(expected);
  });

  it("accepts two callers in one VPC when the second uses the first's endpoints", () => {
    const second = callerAt("billing", "vpc-0c1c1c1c1c1c1c1c1", {
      vpcEndpoints: "existing",
      endpointSecurityGroupIds: ["sg-0e1e1e1e1e1e1e1e1"],
    });
    const config = validateConfig({ ...DEMO_DEFAULTS, callers: [callerAt("orders", "vpc-0c1c1c1c1c1c1c1c1"), second] });
    expect(resolveCallers(config).map((c) => c.network)).toEqual([
      { mode: "create", endpointSecurityGroupIds: [], endpointPrefixListIds: [] },
      { mode: "existing", endpointSecurityGroupIds: ["sg-0e1e1e1e1e1e1e1e1"], endpointPrefixListIds: [] },
    ]);
  });
});

describe("validateConfig: the idempotent callee", () => {
  const ROUTE_TABLES = ["rtb-0b1b1b1b1b1b1b1b1", "rtb-0b2b2b2b2b2b2b2b2"];
  const REQUIRED =
    "calleeRouteTableIds is required when calleeIdempotency is true and calleeVpcEndpoints is 'create': give the route tables of the callee's subnets, " +
    "which the DynamoDB gateway endpoint is added to (aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=<subnet>); " +
    "or set calleeVpcEndpoints to 'existing' (with your DynamoDB gateway endpoint's prefix list in calleeEndpointPrefixListIds) or 'none'";
  const ROUTE_TABLES_ONLY_WITH_CREATE =
    "calleeRouteTableIds applies only when calleeIdempotency is true and calleeVpcEndpoints is 'create' (the DynamoDB gateway endpoint's route tables): remove it";
  const EXPIRY_ONLY_WITH_IDEMPOTENCY =
    "calleeIdempotencyExpirySeconds applies only when calleeIdempotency is true: remove it, or set calleeIdempotency";
  const expiryRange = (got: string) =>
    `calleeIdempotencyExpirySeconds must be a whole number of seconds from 3600 (the callee's maximum event age: a redelivered Event must still find its record) to 2592000 (30 days), got ${got}`;
  const existing = { calleeVpcEndpoints: "existing", calleeEndpointPrefixListIds: ["pl-0f1f1f1f1f1f1f1f1"] };

  it("takes null or an empty value for the expiry, the route tables and the switch as not given, as for the other optional fields", () => {
    for (const empty of [null, ""]) {
      const config = validateConfig({
        ...DEMO_DEFAULTS,
        calleeIdempotency: null,
        calleeIdempotencyExpirySeconds: empty,
        calleeRouteTableIds: empty,
      });
      expect(config).not.toHaveProperty("calleeIdempotencyExpirySeconds");
      expect(config).not.toHaveProperty("calleeRouteTableIds");
      expect(config).not.toHaveProperty("calleeIdempotency");
    }
    // With idempotency on and 'create', a null list is still no list: the route tables are asked for.
    expect(() => validateConfig({ ...DEMO_DEFAULTS, calleeIdempotency: true, calleeRouteTableIds: null })).toThrow(REQUIRED);
  });

  it("with 'existing', asks for the DynamoDB gateway endpoint's prefix list: security groups alone give the callee no way to its table", () => {
    const groupsOnly = { calleeVpcEndpoints: "existing", calleeEndpointSecurityGroupIds: ["sg-0e1e1e1e1e1e1e1e1"] };
    expect(() => validateConfig({ ...DEMO_DEFAULTS, ...groupsOnly, calleeIdempotency: true })).toThrow(
      "calleeEndpointPrefixListIds must name your DynamoDB gateway endpoint's prefix list when calleeIdempotency is true and calleeVpcEndpoints is 'existing'",
    );
    // Without idempotency the callee calls nothing, so security groups alone are fine; with a prefix list, so is idempotency.
    expect(() => validateConfig({ ...DEMO_DEFAULTS, ...groupsOnly })).not.toThrow();
    expect(() => validateConfig({ ...DEMO_DEFAULTS, ...existing, calleeIdempotency: true })).not.toThrow();
  });

  it("is off in the default configuration, with no expiry and no route tables", () => {
    const config = validateConfig({ ...DEMO_DEFAULTS });
    expect(DEMO_DEFAULTS).not.toHaveProperty("calleeIdempotency");
    expect(config.calleeIdempotency).toBeUndefined();
    expect(config.calleeIdempotencyExpirySeconds).toBeUndefined();
    expect(config.calleeRouteTableIds).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ["with route tables ('create')", { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES }],
    [
      "with 3600 seconds, the shortest expiry (the callee's maximum event age)",
      { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: 3600 },
    ],
    [
      "with 30 days, the longest expiry",
      { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: 2592000 },
    ],
    ["with 'existing' endpoints and no route tables", { calleeIdempotency: true, ...existing }],
    ["with 'none' and no route tables", { calleeIdempotency: true, calleeVpcEndpoints: "none" }],
    ["switched off explicitly", { calleeIdempotency: false }],
  ])("accepts idempotency %s, unchanged", (_what, overrides) => {
    expect(validateConfig({ ...DEMO_DEFAULTS, ...overrides })).toEqual({ ...DEMO_DEFAULTS, ...overrides });
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a string for calleeIdempotency", { calleeIdempotency: "true" }, ["calleeIdempotency must be true or false, got 'true'"]],
    ["a number for calleeIdempotency", { calleeIdempotency: 1 }, ["calleeIdempotency must be true or false, got 1"]],
    ["an expiry without idempotency", { calleeIdempotencyExpirySeconds: 600 }, [EXPIRY_ONLY_WITH_IDEMPOTENCY]],
    ["an expiry with idempotency false", { calleeIdempotency: false, calleeIdempotencyExpirySeconds: 600 }, [EXPIRY_ONLY_WITH_IDEMPOTENCY]],
    [
      "an expiry below an hour, the callee's maximum event age",
      { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: 3599 },
      [expiryRange("3599")],
    ],
    [
      "an expiry above 30 days",
      { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: 2592001 },
      [expiryRange("2592001")],
    ],
    [
      "an expiry that is not whole",
      { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: 90.5 },
      [expiryRange("90.5")],
    ],
    [
      "an expiry given as text",
      { calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: "3600" },
      [expiryRange("'3600'")],
    ],
    ["idempotency with 'create' (the default) and no route tables", { calleeIdempotency: true }, [REQUIRED]],
    ["idempotency with 'create' named and no route tables", { calleeIdempotency: true, calleeVpcEndpoints: "create" }, [REQUIRED]],
    ["route tables without idempotency", { calleeRouteTableIds: ROUTE_TABLES }, [ROUTE_TABLES_ONLY_WITH_CREATE]],
    [
      "route tables with idempotency false",
      { calleeIdempotency: false, calleeRouteTableIds: ROUTE_TABLES },
      [ROUTE_TABLES_ONLY_WITH_CREATE],
    ],
    [
      "route tables with 'existing' endpoints",
      { calleeIdempotency: true, ...existing, calleeRouteTableIds: ROUTE_TABLES },
      [ROUTE_TABLES_ONLY_WITH_CREATE],
    ],
    [
      "route tables with 'none'",
      { calleeIdempotency: true, calleeVpcEndpoints: "none", calleeRouteTableIds: ROUTE_TABLES },
      [ROUTE_TABLES_ONLY_WITH_CREATE],
    ],
    [
      "a malformed route table id",
      { calleeIdempotency: true, calleeRouteTableIds: ["rtb-0b1b1b1b1b1b1b1b1", "rtb-123"] },
      ["calleeRouteTableIds must contain only route table ids like 'rtb-0123456789abcdef0', got 'rtb-123'"],
    ],
    [
      "a subnet id for a route table",
      { calleeIdempotency: true, calleeRouteTableIds: ["subnet-0b1b1b1b1b1b1b1b1"] },
      ["calleeRouteTableIds must contain only route table ids like 'rtb-0123456789abcdef0', got 'subnet-0b1b1b1b1b1b1b1b1'"],
    ],
    [
      "an empty list of route tables",
      { calleeIdempotency: true, calleeRouteTableIds: [] },
      ["calleeRouteTableIds must be a non-empty list of route table ids like 'rtb-0123456789abcdef0', got []"],
    ],
    [
      "a repeated route table",
      { calleeIdempotency: true, calleeRouteTableIds: [ROUTE_TABLES[0], ROUTE_TABLES[0]] },
      ['calleeRouteTableIds must not repeat an entry, got ["rtb-0b1b1b1b1b1b1b1b1","rtb-0b1b1b1b1b1b1b1b1"]'],
    ],
  ])("refuses %s", (_what, overrides, expected) => {
    expect(problemsOf({ ...DEMO_DEFAULTS, ...overrides })).toEqual(expected);
  });

  it("reports the switch, the expiry and the route tables together", () => {
    expect(
      problemsOf({ ...DEMO_DEFAULTS, calleeIdempotency: "yes", calleeIdempotencyExpirySeconds: 10, calleeRouteTableIds: ROUTE_TABLES }),
    ).toEqual(["calleeIdempotency must be true or false, got 'yes'", EXPIRY_ONLY_WITH_IDEMPOTENCY, ROUTE_TABLES_ONLY_WITH_CREATE]);
  });

  describe("from the environment", () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-config-idem-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("names the variables after the fields", () => {
      expect(envVarName("calleeIdempotency")).toBe("XACCT_CALLEE_IDEMPOTENCY");
      expect(envVarName("calleeIdempotencyExpirySeconds")).toBe("XACCT_CALLEE_IDEMPOTENCY_EXPIRY_SECONDS");
      expect(envVarName("calleeRouteTableIds")).toBe("XACCT_CALLEE_ROUTE_TABLE_IDS");
    });

    it("reads XACCT_CALLEE_IDEMPOTENCY=true as a boolean, the route tables comma-separated and the expiry as a number", () => {
      const config = loadConfig({
        env: {
          XACCT_CALLEE_IDEMPOTENCY: "true",
          XACCT_CALLEE_ROUTE_TABLE_IDS: "rtb-0b1b1b1b1b1b1b1b1, rtb-0b2b2b2b2b2b2b2b2",
          XACCT_CALLEE_IDEMPOTENCY_EXPIRY_SECONDS: "7200",
        },
        cwd: dir,
      });
      expect(config.calleeIdempotency).toBe(true);
      expect(config.calleeRouteTableIds).toEqual(ROUTE_TABLES);
      expect(config.calleeIdempotencyExpirySeconds).toBe(7200);
    });

    it("reads XACCT_CALLEE_IDEMPOTENCY=false as off", () => {
      expect(loadConfig({ env: { XACCT_CALLEE_IDEMPOTENCY: "false" }, cwd: dir }).calleeIdempotency).toBe(false);
    });

    it("refuses another word for the switch, naming the variable", () => {
      expect(() => loadConfig({ env: { XACCT_CALLEE_IDEMPOTENCY: "yes" }, cwd: dir })).toThrow(
        /calleeIdempotency must be true or false, got 'yes'[\s\S]*environment \(XACCT_CALLEE_IDEMPOTENCY\)/,
      );
    });

    it("asks for the route tables when only the switch is given (vpcEndpoints 'create')", () => {
      expect(() => loadConfig({ env: { XACCT_CALLEE_IDEMPOTENCY: "true" }, cwd: dir })).toThrow(REQUIRED);
    });

    it("clears the route tables with an empty variable, over a file that set them", () => {
      const file = path.join(dir, "idem.json");
      fs.writeFileSync(file, JSON.stringify({ calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES }));
      const config = loadConfig({
        env: { XACCT_CONFIG_FILE: file, XACCT_CALLEE_VPC_ENDPOINTS: "none", XACCT_CALLEE_ROUTE_TABLE_IDS: "" },
        cwd: dir,
      });
      expect(config.calleeRouteTableIds).toBeUndefined();
      expect(config.calleeVpcEndpoints).toBe("none");
    });

    it("loads examples/idempotent-callee.json as it is", () => {
      const example = path.join(__dirname, "..", "examples", "idempotent-callee.json");
      expect(loadConfig({ env: { XACCT_CONFIG_FILE: example }, cwd: dir })).toEqual({
        ...DEMO_DEFAULTS,
        calleeIdempotency: true,
        calleeRouteTableIds: ROUTE_TABLES,
      });
    });
  });
});

describe("resolveCallers", () => {
  it("turns the single-caller fields into one caller with today's names, stack, state key and outputs", () => {
    expect(resolveCallers(validateConfig(DEMO_DEFAULTS))).toEqual([
      expect.objectContaining({
        name: "caller",
        stackName: "caller",
        functionName: "xacct-demo-caller",
        roleArn: "arn:aws:iam::111111111111:role/xacct-demo-caller-exec",
        invokerRoleArn: "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker",
        stateKey: "cross-account-lambda/caller.tfstate",
        outputs: { invokerRoleArn: "invoker_role_arn", externalIdRequired: "external_id_required" },
      }),
    ]);
  });

  it("names a listed caller's stack caller-<name> once there are two, and applies the shared defaults", () => {
    const callers = resolveCallers(
      validateConfig({
        ...DEMO_DEFAULTS,
        externalId: "shared-external-id",
        callers: [
          {
            name: "a",
            accountId: "333333333333",
            vpcId: "vpc-0c1c1c1c1c1c1c1c1",
            subnetIds: ["subnet-0c1c1c1c1c1c1c1c1"],
            vpcEndpoints: "none",
          },
          {
            name: "b",
            accountId: "333333333333",
            vpcId: "vpc-0c1c1c1c1c1c1c1c1",
            subnetIds: ["subnet-0c1c1c1c1c1c1c1c1"],
            externalId: "own-id",
            memoryMb: 1024,
          },
        ],
      }),
    );
    expect(callers.map((c) => [c.stackName, c.externalId, c.memoryMb, c.timeoutSeconds, c.invokerRoleName])).toEqual([
      ["caller-a", "shared-external-id", 256, 30, "xacct-demo-invoker-a"],
      ["caller-b", "own-id", 1024, 30, "xacct-demo-invoker-b"],
    ]);
  });
});

describe("loadConfig", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-config-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("uses the demo defaults when nothing is given", () => {
    expect(loadConfig({ env: {}, cwd: dir })).toEqual(DEMO_DEFAULTS);
  });

  it("layers cdktf.json context, then the config file, then the environment", () => {
    fs.writeFileSync(path.join(dir, "cross-account.config.json"), JSON.stringify({ region: "us-east-1", environment: "file" }));
    const config = loadConfig({
      context: { region: "eu-central-1", environment: "context", namePrefix: "ctx" },
      env: {
        [envVarName("environment")]: "env",
        XACCT_CALLER_SUBNET_IDS: "subnet-0c1c1c1c1c1c1c1c1, subnet-0c2c2c2c2c2c2c2c2",
        XACCT_CALLEE_MEMORY_MB: "512",
      },
      cwd: dir,
    });
    expect(config.namePrefix).toBe("ctx");
    expect(config.region).toBe("us-east-1");
    expect(config.environment).toBe("env");
    expect(config.callerSubnetIds).toEqual(["subnet-0c1c1c1c1c1c1c1c1", "subnet-0c2c2c2c2c2c2c2c2"]);
    expect(config.calleeMemoryMb).toBe(512);
  });

  it("names environment variables after their fields", () => {
    expect(envVarName("callerAccountId")).toBe("XACCT_CALLER_ACCOUNT_ID");
    expect(envVarName("stateKmsKeyArn")).toBe("XACCT_STATE_KMS_KEY_ARN");
  });

  it("says which sources it read when a value is wrong", () => {
    expect(() => loadConfig({ env: { XACCT_CALLEE_MEMORY_MB: "lots" }, cwd: dir })).toThrow(
      /calleeMemoryMb must be a whole number from 128 to 10240, got 'lots'[\s\S]*environment \(XACCT_CALLEE_MEMORY_MB\)/,
    );
  });

  it("reports a config file that is not JSON, naming the file", () => {
    const file = path.join(dir, "broken.json");
    fs.writeFileSync(file, "{ not json");
    expect(() => loadConfig({ env: { XACCT_CONFIG_FILE: file }, cwd: dir })).toThrow(/config file '.*broken.json' is not valid JSON/);
  });

  it("reports a missing explicit config file", () => {
    expect(() => loadConfig({ env: { XACCT_CONFIG_FILE: "nope.json" }, cwd: dir })).toThrow(/config file '.*nope.json' cannot be read/);
  });
});

describe("namesFor", () => {
  it("derives the deterministic cross-account names from configuration", () => {
    const names = namesFor(validateConfig({ ...DEMO_DEFAULTS }));
    expect(names.callerRoleArn).toBe("arn:aws:iam::111111111111:role/xacct-demo-caller-exec");
    expect(names.invokerRoleArn).toBe("arn:aws:iam::222222222222:role/xacct-demo-callee-invoker");
    expect(names.calleeStateKey).toBe("cross-account-lambda/callee.tfstate");
    expect(names.callerCodeBucket).toBe("xacct-demo-code-111111111111-eu-west-1");
  });

  it("uses the right partition outside the commercial regions", () => {
    const names = namesFor(validateConfig({ ...DEMO_DEFAULTS, region: "us-gov-west-1" }));
    expect(names.callerRoleArn).toBe("arn:aws-us-gov:iam::111111111111:role/xacct-demo-caller-exec");
  });
});

describe("the app entry point", () => {
  it("synthesizes only the bootstrap stack when bootstrapOnly is set", () => {
    const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xacct-out-")), "cdktf.out");
    const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), "main.ts"], {
      cwd: path.resolve(__dirname, ".."),
      env: {
        ...process.env,
        CHECKPOINT_DISABLE: "1",
        CDKTF_OUTDIR: outdir,
        XACCT_CALLER_ACCOUNT_ID: "123456789012",
        XACCT_BOOTSTRAP_ONLY: "true",
      },
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(fs.readdirSync(path.join(outdir, "stacks"))).toEqual(["bootstrap"]);
    fs.rmSync(path.dirname(outdir), { recursive: true, force: true });
  });

  it("exits 1 with the field's message and writes nothing when the configuration is invalid", () => {
    const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xacct-out-")), "cdktf.out");
    const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), "main.ts"], {
      cwd: path.resolve(__dirname, ".."),
      env: { ...process.env, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: outdir, XACCT_CALLER_ACCOUNT_ID: "1234" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("callerAccountId must be 12 digits, got '1234'");
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(fs.existsSync(outdir)).toBe(false);
  });
});
