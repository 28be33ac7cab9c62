import {
  ConfigError,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_ROLE_SESSION_NAME,
  DEFAULT_STS_THROTTLE_COOLDOWN_MS,
  describeCallerConfig,
  parseCallerConfig,
  parseFunctionArn,
  toRoleSessionName,
} from "../../lambda-src/caller/config";
import { CALLEE_ARN, CALLEE_ACCOUNT, CALLEE_UNQUALIFIED_ARN, EXTERNAL_ID, ROLE_ARN, validEnv } from "./helpers";

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseCallerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected parseCallerConfig to throw");
}

describe("parseCallerConfig", () => {
  it("parses a minimal valid environment with defaults", () => {
    const config = parseCallerConfig(validEnv());
    expect(config).toEqual({
      calleeFunctionArn: CALLEE_ARN,
      calleeRegion: "eu-central-1",
      calleeAccountId: CALLEE_ACCOUNT,
      invokerRoleArn: ROLE_ARN,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      calleeIdempotent: false,
      stsThrottleCooldownMs: DEFAULT_STS_THROTTLE_COOLDOWN_MS,
      region: "eu-west-1",
      roleSessionName: "cross-account-caller",
    });
    expect(config).not.toHaveProperty("externalId");
  });

  it("parses every optional variable", () => {
    const config = parseCallerConfig(
      validEnv({
        CALLEE_FUNCTION_ARN: `arn:aws:lambda:us-east-1:${CALLEE_ACCOUNT}:function:callee:prod`,
        INVOKER_ROLE_ARN: `arn:aws:iam::${CALLEE_ACCOUNT}:role/service-role/invoker`,
        INVOKER_EXTERNAL_ID: EXTERNAL_ID,
        INVOKE_MAX_ATTEMPTS: "7",
      }),
    );
    expect(config.calleeRegion).toBe("us-east-1");
    expect(config.externalId).toBe(EXTERNAL_ID);
    expect(config.maxAttempts).toBe(7);
    expect(config.invokerRoleArn).toBe(`arn:aws:iam::${CALLEE_ACCOUNT}:role/service-role/invoker`);
  });

  it("treats empty optional variables as unset", () => {
    const config = parseCallerConfig(validEnv({ INVOKER_EXTERNAL_ID: "", INVOKE_MAX_ATTEMPTS: "" }));
    expect(config.maxAttempts).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(config.externalId).toBeUndefined();
  });

  it.each<[string, string]>([
    ["", "the unqualified ARN"],
    [":7", "the qualifier ':7'"],
    [":$LATEST", "the qualifier ':$LATEST'"],
  ])("refuses CALLEE_FUNCTION_ARN%s: the invoker role grants only the alias", (qualifier, given) => {
    const escape = (text: string) => text.replace(/[$().*+?[\]\\]/g, "\\$&");
    expect(() => parseCallerConfig(validEnv({ CALLEE_FUNCTION_ARN: `${CALLEE_UNQUALIFIED_ARN}${qualifier}` }))).toThrow(
      new RegExp(
        `CALLEE_FUNCTION_ARN must be the callee's alias ARN \\(…:function:cross-account-callee:live\\), got ${escape(given)}: .*callee_alias_arn`,
      ),
    );
  });

  it("accepts the alias ARN and keeps its qualifier", () => {
    expect(parseCallerConfig(validEnv({})).calleeFunctionArn).toBe(CALLEE_ARN);
  });

  it.each([
    [
      "CALLEE_FUNCTION_ARN",
      { CALLEE_FUNCTION_ARN: undefined },
      /CALLEE_FUNCTION_ARN is required: the callee's alias ARN to invoke, like arn:aws:lambda:<region>:<12-digit account>:function:<name>:live/,
    ],
    [
      "CALLEE_FUNCTION_ARN",
      { CALLEE_FUNCTION_ARN: "x" },
      /CALLEE_FUNCTION_ARN must be a Lambda function ARN like arn:aws:lambda:<region>:<12-digit account>:function:<name>.*got 'x'/,
    ],
    ["CALLEE_FUNCTION_ARN", { CALLEE_FUNCTION_ARN: `arn:aws:lambda:eu-west-1:12345:function:f` }, /CALLEE_FUNCTION_ARN must be/],
    ["CALLEE_FUNCTION_ARN", { CALLEE_FUNCTION_ARN: ROLE_ARN }, /CALLEE_FUNCTION_ARN must be/],
    ["INVOKER_ROLE_ARN", { INVOKER_ROLE_ARN: undefined }, /INVOKER_ROLE_ARN is required/],
    [
      "INVOKER_ROLE_ARN",
      { INVOKER_ROLE_ARN: "arn:aws:iam::222222222222:user/bob" },
      /INVOKER_ROLE_ARN must be an IAM role ARN.*got 'arn:aws:iam::222222222222:user\/bob'/,
    ],
    [
      "INVOKER_ROLE_ARN",
      { INVOKER_ROLE_ARN: "arn:aws:iam::333333333333:role/invoker" },
      /INVOKER_ROLE_ARN must be in the same account as CALLEE_FUNCTION_ARN \(222222222222\), got account 333333333333/,
    ],
    [
      "INVOKER_ROLE_ARN",
      { INVOKER_ROLE_ARN: "arn:aws-cn:iam::222222222222:role/invoker" },
      /INVOKER_ROLE_ARN must be in the same partition/,
    ],
    ["INVOKER_EXTERNAL_ID", { INVOKER_EXTERNAL_ID: "x" }, /INVOKER_EXTERNAL_ID must be 2-1224 characters/],
    ["INVOKER_EXTERNAL_ID", { INVOKER_EXTERNAL_ID: "has space" }, /INVOKER_EXTERNAL_ID must be/],
    ["INVOKER_EXTERNAL_ID", { INVOKER_EXTERNAL_ID: "a".repeat(1225) }, /INVOKER_EXTERNAL_ID must be/],
    ["INVOKE_MAX_ATTEMPTS", { INVOKE_MAX_ATTEMPTS: "0" }, /INVOKE_MAX_ATTEMPTS must be an integer from 1 to 10 \(default 3\), got '0'/],
    ["INVOKE_MAX_ATTEMPTS", { INVOKE_MAX_ATTEMPTS: "11" }, /INVOKE_MAX_ATTEMPTS must be an integer from 1 to 10/],
    ["INVOKE_MAX_ATTEMPTS", { INVOKE_MAX_ATTEMPTS: "2.5" }, /INVOKE_MAX_ATTEMPTS must be an integer/],
    ["INVOKE_MAX_ATTEMPTS", { INVOKE_MAX_ATTEMPTS: "three" }, /INVOKE_MAX_ATTEMPTS must be an integer.*got 'three'/],
    [
      "CALLEE_IDEMPOTENT",
      { CALLEE_IDEMPOTENT: "yes" },
      /CALLEE_IDEMPOTENT must be 'true' or 'false' \(default false: an Invoke whose outcome is unknown is never sent again\), got 'yes'/,
    ],
    ["CALLEE_IDEMPOTENT", { CALLEE_IDEMPOTENT: "1" }, /CALLEE_IDEMPOTENT must be 'true' or 'false'.*got '1'/],
    ["CALLEE_IDEMPOTENT", { CALLEE_IDEMPOTENT: "true false" }, /CALLEE_IDEMPOTENT must be/],
    [
      "STS_THROTTLE_COOLDOWN_MS",
      { STS_THROTTLE_COOLDOWN_MS: "-1" },
      /STS_THROTTLE_COOLDOWN_MS must be an integer number of milliseconds from 0 \(off\) to 60000 \(default 1000\), got '-1'/,
    ],
    ["STS_THROTTLE_COOLDOWN_MS", { STS_THROTTLE_COOLDOWN_MS: "60001" }, /STS_THROTTLE_COOLDOWN_MS must be an integer.*got '60001'/],
    ["STS_THROTTLE_COOLDOWN_MS", { STS_THROTTLE_COOLDOWN_MS: "1.5" }, /STS_THROTTLE_COOLDOWN_MS must be an integer/],
    ["STS_THROTTLE_COOLDOWN_MS", { STS_THROTTLE_COOLDOWN_MS: "2s" }, /STS_THROTTLE_COOLDOWN_MS must be an integer.*got '2s'/],
    ["STS_THROTTLE_COOLDOWN_MS", { STS_THROTTLE_COOLDOWN_MS: "1e3" }, /STS_THROTTLE_COOLDOWN_MS must be an integer/],
    ["AWS_REGION", { AWS_REGION: undefined }, /AWS_REGION is required/],
    ["AWS_REGION", { AWS_REGION: "Europe" }, /AWS_REGION must be a region name like eu-west-1, got 'Europe'/],
  ])("rejects a bad %s (case %#)", (variable, overrides, pattern) => {
    const error = configErrorOf(validEnv(overrides));
    expect(error.message).toMatch(pattern);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(variable);
  });

  it("lists every bad variable at once", () => {
    const error = configErrorOf({ INVOKER_EXTERNAL_ID: "!", INVOKE_MAX_ATTEMPTS: "99" });
    expect(error.problems).toHaveLength(5);
    for (const name of ["CALLEE_FUNCTION_ARN", "INVOKER_ROLE_ARN", "INVOKER_EXTERNAL_ID", "INVOKE_MAX_ATTEMPTS", "AWS_REGION"]) {
      expect(error.message).toContain(name);
    }
  });

  it("lists the new variables with every other bad one", () => {
    const error = configErrorOf({ INVOKE_MAX_ATTEMPTS: "99", CALLEE_IDEMPOTENT: "maybe", STS_THROTTLE_COOLDOWN_MS: "forever" });
    expect(error.problems).toHaveLength(6);
    for (const name of [
      "CALLEE_FUNCTION_ARN",
      "INVOKER_ROLE_ARN",
      "INVOKE_MAX_ATTEMPTS",
      "CALLEE_IDEMPOTENT",
      "STS_THROTTLE_COOLDOWN_MS",
      "AWS_REGION",
    ]) {
      expect(error.message).toContain(name);
    }
  });

  it.each<[string, boolean]>([
    ["true", true],
    ["TRUE", true],
    [" True ", true],
    ["false", false],
    ["False", false],
    ["", false],
  ])("parses CALLEE_IDEMPOTENT=%j as %s", (value, expected) => {
    expect(parseCallerConfig(validEnv({ CALLEE_IDEMPOTENT: value })).calleeIdempotent).toBe(expected);
  });

  it.each<[string, number]>([
    ["0", 0],
    ["1", 1],
    ["2500", 2500],
    ["60000", 60_000],
    ["", DEFAULT_STS_THROTTLE_COOLDOWN_MS],
  ])("parses STS_THROTTLE_COOLDOWN_MS=%j as %d", (value, expected) => {
    expect(parseCallerConfig(validEnv({ STS_THROTTLE_COOLDOWN_MS: value })).stsThrottleCooldownMs).toBe(expected);
  });

  it("describeCallerConfig shows the retry and cooldown settings", () => {
    const description = describeCallerConfig(parseCallerConfig(validEnv({ CALLEE_IDEMPOTENT: "true", STS_THROTTLE_COOLDOWN_MS: "1500" })));
    expect(description).toMatchObject({ calleeIdempotent: true, stsThrottleCooldownMs: 1500, maxAttempts: DEFAULT_MAX_ATTEMPTS });
  });

  it("never echoes the external id in an error", () => {
    const secret = "bad value with spaces and-a-secret";
    const error = configErrorOf(validEnv({ INVOKER_EXTERNAL_ID: secret }));
    expect(error.message).not.toContain("a-secret");
    expect(error.message).toContain(`got ${secret.length} characters; value not shown`);
  });

  it("accepts external ids at the STS length limits", () => {
    expect(parseCallerConfig(validEnv({ INVOKER_EXTERNAL_ID: "ab" })).externalId).toBe("ab");
    const longest = "a:b/c=d,e.f@g+h_i-".repeat(64).slice(0, 1224);
    expect(parseCallerConfig(validEnv({ INVOKER_EXTERNAL_ID: longest })).externalId).toBe(longest);
  });

  it("describeCallerConfig says whether an external id is set without revealing it", () => {
    const description = describeCallerConfig(parseCallerConfig(validEnv({ INVOKER_EXTERNAL_ID: EXTERNAL_ID })));
    expect(description.externalIdConfigured).toBe(true);
    expect(JSON.stringify(description)).not.toContain(EXTERNAL_ID);
  });
});

describe("toRoleSessionName", () => {
  it("keeps valid names", () => {
    expect(toRoleSessionName("my-caller_fn.v2@x=y,z+1")).toBe("my-caller_fn.v2@x=y,z+1");
  });
  it("replaces characters STS rejects and caps the length at 64", () => {
    const name = toRoleSessionName(`fn name/with:odd#chars${"x".repeat(80)}`);
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name).toHaveLength(64);
    expect(name.startsWith("fn-name-with-odd-chars")).toBe(true);
  });
  it("falls back when the name is missing or too short", () => {
    expect(toRoleSessionName(undefined)).toBe(DEFAULT_ROLE_SESSION_NAME);
    expect(toRoleSessionName("a")).toBe(DEFAULT_ROLE_SESSION_NAME);
  });
});

describe("parseFunctionArn", () => {
  it("parses region, account, name and qualifier", () => {
    expect(parseFunctionArn(`arn:aws:lambda:ap-southeast-2:${CALLEE_ACCOUNT}:function:fn:$LATEST`)).toEqual({
      partition: "aws",
      region: "ap-southeast-2",
      accountId: CALLEE_ACCOUNT,
      functionName: "fn",
      qualifier: "$LATEST",
    });
    expect(parseFunctionArn(`arn:aws-us-gov:lambda:us-gov-west-1:${CALLEE_ACCOUNT}:function:fn`)?.region).toBe("us-gov-west-1");
  });
  it("rejects non-function ARNs", () => {
    expect(parseFunctionArn(`arn:aws:lambda:eu-west-1:${CALLEE_ACCOUNT}:layer:fn`)).toBeUndefined();
    expect(parseFunctionArn("cross-account-callee")).toBeUndefined();
  });
});

describe("caller index.ts", () => {
  const saved = process.env;
  afterEach(() => {
    process.env = saved;
  });

  async function loadIndex(): Promise<{ handler: unknown }> {
    let mod: { handler: unknown } = { handler: undefined };
    await jest.isolateModulesAsync(async () => {
      mod = await import("../../lambda-src/caller/index");
    });
    return mod;
  }

  it("validates the environment at load and exports handler", async () => {
    process.env = { ...saved, ...validEnv() };
    expect(typeof (await loadIndex()).handler).toBe("function");
  });

  it("fails the cold start with a ConfigError naming the bad variable", async () => {
    process.env = { ...saved, ...validEnv({ INVOKER_ROLE_ARN: "not-an-arn" }) };
    await expect(loadIndex()).rejects.toThrow(
      expect.objectContaining({ name: "ConfigError", message: expect.stringContaining("INVOKER_ROLE_ARN must be an IAM role ARN") }),
    );
  });
});
