/**
 * Property-based tests of the configuration validator (config/config.ts `validateConfig`, which
 * `loadConfig` runs on the merged configuration): it throws nothing but ConfigValidationError,
 * rejects every malformed account id, ARN, VPC id and subnet id naming the field, and accepts
 * every well-formed one.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { anyJavaScriptValue } from "./arbitraries";
import { CONFIG_KEYS, ConfigValidationError, DEMO_DEFAULTS, validateConfig, type CrossAccountConfig } from "../../config/config";
import { envVarName, loadConfig } from "../../config/load";

type Raw = Record<string, unknown>;

/** The problems validateConfig reports, or undefined if it accepted `raw`; anything else thrown fails the test. */
function problemsOf(raw: unknown): readonly string[] | undefined {
  try {
    validateConfig(raw);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigValidationError))
      throw new Error(`validateConfig threw something other than ConfigValidationError: ${String(err)}`);
    return err.problems;
  }
}

/** Rejected with exactly one problem, and that problem names `field` first. */
function expectRejectedNaming(raw: Raw, field: string, what: string): void {
  const problems = problemsOf(raw);
  expect({ what, problems }).toEqual({ what, problems: [expect.stringMatching(new RegExp(`^${field} `))] });
}

// ---------------------------------------------------------------------------
// Well-formed values, from the documented shapes
// ---------------------------------------------------------------------------

const DIGITS = "0123456789";
const HEX = "0123456789abcdef";
const ROLE_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-";
const PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];
const REGIONS = [
  "eu-west-1",
  "us-east-1",
  "ap-southeast-2",
  "cn-north-1",
  "us-gov-west-1",
  "us-iso-east-1",
  "us-isob-east-1",
  "eu-central-2",
  "me-south-1",
];

const chars = (alphabet: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
/** Exactly `n` characters of `alphabet`. */
const exactly = (alphabet: string, n: number) => chars(alphabet, n, n);
/** `min..max` characters of `alphabet`, the boundary lengths as likely as all others together. */
const charsWithEdges = (alphabet: string, min: number, max: number) =>
  fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max })).chain((n) => exactly(alphabet, n));

const accountId = exactly(DIGITS, 12);
const twoAccounts = fc.uniqueArray(accountId, { minLength: 2, maxLength: 2 }).map(([caller, callee]) => ({ caller, callee }));
const awsId = (prefix: string) =>
  fc
    .constantFrom(8, 17)
    .chain((n) => exactly(HEX, n))
    .map((hex) => `${prefix}-${hex}`);
const vpcId = awsId("vpc");
const subnetId = awsId("subnet");
const subnetIds = fc.uniqueArray(subnetId, { minLength: 1, maxLength: 6 });
const routeTableId = awsId("rtb");

const roleName = fc.oneof(chars(ROLE_NAME_CHARS, 1, 64), exactly(ROLE_NAME_CHARS, 64));
/** IAM role paths: `/`, or `/seg/.../`; in the ARN the leading slash is the one after `role`. */
const rolePath = fc.array(chars(ROLE_NAME_CHARS, 1, 20), { maxLength: 4 }).map((segments) => segments.map((s) => `${s}/`).join(""));
const roleArn = (account: string) =>
  fc
    .tuple(fc.constantFrom(...PARTITIONS), rolePath, roleName)
    .map(([partition, p, name]) => `arn:${partition}:iam::${account}:role/${p}${name}`);

const uuid = fc.tuple(exactly(HEX, 8), exactly(HEX, 4), exactly(HEX, 4), exactly(HEX, 4), exactly(HEX, 12)).map((parts) => parts.join("-"));
const kmsKeyArn = fc
  .tuple(fc.constantFrom(...PARTITIONS), fc.constantFrom(...REGIONS), accountId, uuid)
  .map(([partition, region, account, id]) => `arn:${partition}:kms:${region}:${account}:key/${id}`);

/** A complete valid configuration: demo defaults with every id, ARN and list generated. */
const validConfig: fc.Arbitrary<Raw> = twoAccounts.chain(({ caller, callee }) =>
  fc
    .record(
      {
        callerVpcId: vpcId,
        calleeVpcId: vpcId,
        callerSubnetIds: subnetIds,
        calleeSubnetIds: subnetIds,
        // Each side reaches its account with a deploy role, a profile, or neither.
        callerAccess: fc.oneof(
          roleArn(caller).map((arn) => ({ callerDeployRoleArn: arn })),
          fc.constant({ callerProfile: "account-a" }),
          fc.constant({}),
        ),
        calleeAccess: fc.oneof(
          roleArn(callee).map((arn) => ({ calleeDeployRoleArn: arn })),
          fc.constant({ calleeProfile: "account-b" }),
          fc.constant({}),
        ),
        // Outside the demo accounts the state key is required: a key of account A in the state region, or a bootstrap-only synth.
        // The idempotent callee: off (absent or false), or on with its route tables ('create') and maybe an expiry.
        idempotency: fc.oneof(
          fc.constant({}),
          fc.constant({ calleeIdempotency: false }),
          fc
            .tuple(
              fc.uniqueArray(routeTableId, { minLength: 1, maxLength: 4 }),
              fc.option(fc.oneof(fc.constantFrom(3600, 2592000), fc.integer({ min: 3600, max: 2592000 })), { nil: undefined }),
            )
            .map(([tables, expiry]) => ({
              calleeIdempotency: true,
              calleeRouteTableIds: tables,
              ...(expiry !== undefined ? { calleeIdempotencyExpirySeconds: expiry } : {}),
            })),
        ),
        kms: fc.option(
          fc
            .tuple(fc.constantFrom(...PARTITIONS), uuid)
            .map(([partition, id]) => `arn:${partition}:kms:${DEMO_DEFAULTS.stateRegion}:${caller}:key/${id}`),
          { nil: undefined },
        ),
      },
      { noNullPrototype: true },
    )
    .map(({ callerAccess, calleeAccess, idempotency, kms, ...ids }) => ({
      ...DEMO_DEFAULTS,
      callerAccountId: caller,
      calleeAccountId: callee,
      ...ids,
      ...callerAccess,
      ...calleeAccess,
      ...idempotency,
      ...(kms !== undefined ? { stateKmsKeyArn: kms } : { bootstrapOnly: true }),
    })),
);

// ---------------------------------------------------------------------------
// Malformed values, each labelled
// ---------------------------------------------------------------------------

type Labelled = [what: string, value: unknown];
const label = (what: string, arb: fc.Arbitrary<unknown>): fc.Arbitrary<Labelled> => arb.map((value) => [what, value] as Labelled);

/** Replaces the character at a random position of `s` with one drawn from `replacement`. */
const replaceOne = (s: string, replacement: fc.Arbitrary<string>) =>
  fc.tuple(fc.nat({ max: s.length - 1 }), replacement).map(([i, c]) => s.slice(0, i) + c + s.slice(i + 1));

const UNICODE_DIGITS = ["٠", "٣", "۵", "०", "৯", "๓", "０", "９", "𝟎", "𝟗", "²", "①"];
const WHITESPACE = [" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\ufeff"];
const asciiNonDigit = fc
  .integer({ min: 0x20, max: 0x7e })
  .map((c) => String.fromCharCode(c))
  .filter((c) => !/[0-9]/.test(c));
const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

const malformedAccountId: fc.Arbitrary<Labelled> = fc.oneof(
  label("shorter", charsWithEdges(DIGITS, 0, 11)),
  label("longer", charsWithEdges(DIGITS, 13, 40)),
  label(
    "a letter or symbol",
    accountId.chain((a) => replaceOne(a, asciiNonDigit)),
  ),
  label("only letters", exactly("abcdefghijklmnopqrstuvwxyzABCDEF", 12)),
  label(
    "whitespace",
    accountId.chain((a) =>
      fc.oneof(
        replaceOne(a, fc.constantFrom(...WHITESPACE)),
        fc.constantFrom(...WHITESPACE).map((w) => `${a}${w}`),
        fc.constantFrom(...WHITESPACE).map((w) => `${w}${a}`),
      ),
    ),
  ),
  label(
    "a unicode digit",
    accountId.chain((a) => replaceOne(a, fc.constantFrom(...UNICODE_DIGITS))),
  ),
  label(
    "all unicode digits",
    fc.array(fc.constantFrom(...UNICODE_DIGITS), { minLength: 12, maxLength: 12 }).map((d) => d.join("")),
  ),
  label("a number", fc.oneof(fc.integer({ min: 100_000_000_000, max: 999_999_999_999 }), fc.integer(), fc.double())),
  label("another type", notAString),
  label("null", fc.constant(null)),
);

/** Valid hex ids with exactly one defect; `prefix` is vpc or subnet. */
const malformedAwsId = (prefix: string): fc.Arbitrary<Labelled> => {
  const other = prefix === "vpc" ? "subnet" : "vpc";
  return fc.oneof(
    label(
      "wrong prefix",
      fc
        .tuple(
          fc.constantFrom(
            `${prefix.toUpperCase()}-`,
            `${prefix}_`,
            prefix,
            `${prefix}--`,
            `${other}-`,
            "sg-",
            "",
            ` ${prefix}-`,
            `${prefix[0]}-`,
          ),
          fc.constantFrom(8, 17).chain((n) => exactly(HEX, n)),
        )
        .map(([p, h]) => p + h),
    ),
    label(
      "wrong length",
      fc
        .integer({ min: 0, max: 30 })
        .filter((n) => n !== 8 && n !== 17)
        .chain((n) => exactly(HEX, n))
        .map((h) => `${prefix}-${h}`),
    ),
    label(
      "uppercase hex",
      fc
        .constantFrom(8, 17)
        .chain((n) => exactly(HEX, n - 1))
        .chain((h) =>
          fc.tuple(fc.nat({ max: h.length }), fc.constantFrom(..."ABCDEF")).map(([i, c]) => `${prefix}-${h.slice(0, i)}${c}${h.slice(i)}`),
        ),
    ),
    label(
      "a non-hex character",
      fc
        .constantFrom(8, 17)
        .chain((n) => exactly(HEX, n))
        .chain((h) => replaceOne(h, fc.constantFrom(..."ghijklmnopqrstuvwxyzG-_. /\n:é０")))
        .map((h) => `${prefix}-${h}`),
    ),
    label(
      "surrounding whitespace",
      awsId(prefix).chain((id) => fc.constantFrom(...WHITESPACE).chain((w) => fc.constantFrom(`${id}${w}`, `${w}${id}`))),
    ),
    label("empty", fc.constant("")),
    label("another type", notAString),
  );
};
const malformedVpcId = malformedAwsId("vpc");
const malformedSubnetId = malformedAwsId("subnet");
const malformedRouteTableId = malformedAwsId("rtb");

/** Lists of subnet ids the validator must refuse. */
const malformedSubnetList: fc.Arbitrary<Labelled> = fc.oneof(
  // One bad entry among good ones, anywhere in the list.
  fc
    .tuple(subnetIds, malformedSubnetId, fc.nat())
    .filter(([, [, bad]]) => bad !== null && bad !== undefined)
    .map(([good, [what, bad], at]) => {
      const list: unknown[] = [...good];
      list.splice(at % (good.length + 1), 0, bad);
      return [`an entry with ${what}`, list] as Labelled;
    }),
  label(
    "a null entry",
    subnetIds.map((good) => [...good, null]),
  ),
  label(
    "duplicates",
    subnetIds.chain((good) => fc.nat({ max: good.length - 1 }).map((i) => [...good, good[i]])),
  ),
  label("empty list", fc.constant([])),
  label("a single id instead of a list", subnetId),
  label(
    "a comma-joined string",
    subnetIds.map((good) => good.join(",")),
  ),
  label(
    "a nested list",
    subnetIds.map((good) => [good]),
  ),
  label(
    "a hole",
    subnetIds.map((good) => Object.assign(new Array<unknown>(good.length + 1), Object.fromEntries(good.map((id, i) => [i + 1, id])))),
  ),
  label("another type", fc.oneof(fc.integer(), fc.boolean(), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }), fc.constant(null))),
);

/** Valid role ARNs with exactly one defect. */
const malformedRoleArn = (account: string): fc.Arbitrary<Labelled> => {
  const swap = (from: RegExp, to: fc.Arbitrary<string>, what: string): fc.Arbitrary<Labelled> =>
    fc.tuple(roleArn(account), to).map(([arn, replacement]) => [what, arn.replace(from, replacement)] as Labelled);
  return fc.oneof(
    swap(/^arn:/, fc.constantFrom("", "ARN:", "arn ", "arn::", "urn:"), "bad arn: prefix"),
    swap(
      /^arn:[a-z-]+:/,
      fc.constantFrom("arn:AWS:", "arn::", "arn:aw:", "arn:awsx:", "arn:aws-:", "arn:aws--cn:", "arn:aws-CN:", "arn:amazon:"),
      "bad partition",
    ),
    swap(/:iam::/, fc.constantFrom(":IAM::", ":sts::", ":lambda::", ":iam:eu-west-1:", ":iam:::"), "bad service or region"),
    fc
      .tuple(
        roleArn(account),
        malformedAccountId.filter(([, v]) => typeof v === "string" && !v.includes(":")),
      )
      .map(([arn, [what, bad]]) => [`account ${what}`, arn.replace(`::${account}:`, `::${String(bad)}:`)] as Labelled),
    swap(/:role\//, fc.constantFrom(":user/", ":group/", ":Role/", ":role:", ":assumed-role/", ":role", ":policy/"), "not a role"),
    fc
      .tuple(fc.constantFrom(...PARTITIONS), rolePath)
      .map(([p, rp]) => ["no role name (trailing slash)", `arn:${p}:iam::${account}:role/${rp}`] as Labelled),
    fc
      .tuple(fc.constantFrom(...PARTITIONS), rolePath, chars(ROLE_NAME_CHARS, 65, 100))
      .map(([p, rp, n]) => ["role name over 64 characters", `arn:${p}:iam::${account}:role/${rp}${n}`] as Labelled),
    fc
      .tuple(roleArn(account), fc.constantFrom(" ", "*", "#", "?", "é", "\n", ":", "!", "%"))
      .map(([arn, c]) => [`a ${JSON.stringify(c)} in the role name`, `${arn}${c}`] as Labelled),
    label("another type", notAString),
  );
};

/** Valid KMS key ARNs with exactly one defect. */
const malformedKmsKeyArn: fc.Arbitrary<Labelled> = (() => {
  const swap = (from: RegExp, to: fc.Arbitrary<string>, what: string): fc.Arbitrary<Labelled> =>
    fc.tuple(kmsKeyArn, to).map(([arn, replacement]) => [what, arn.replace(from, replacement)] as Labelled);
  return fc.oneof(
    swap(/^arn:/, fc.constantFrom("", "ARN:", "arn "), "bad arn: prefix"),
    swap(/^arn:[a-z-]+:/, fc.constantFrom("arn:AWS:", "arn::", "arn:awsx:", "arn:aws-:"), "bad partition"),
    swap(/:kms:/, fc.constantFrom(":KMS:", ":kms2:", ":s3:", "::"), "bad service"),
    swap(
      /:kms:[^:]+:/,
      fc.constantFrom(":kms::", ":kms:-:", ":kms:EU-WEST-1:", ":kms:eu-west:", ":kms:euwest1:", ":kms:1:", ":kms:eu-west-123:"),
      "bad region",
    ),
    swap(/:\d{12}:key\//, fc.constantFrom(":12345678901:key/", ":1234567890123:key/", ":12345678901a:key/", "::key/"), "bad account"),
    swap(/:key\//, fc.constantFrom(":alias/", ":keys/", ":Key/", ":key:", ":key//"), "not a key"),
    swap(/key\/.*$/, fc.constantFrom("key/" + "-".repeat(36), "key/" + "0".repeat(32), "key/" + "0".repeat(36)), "key id not a UUID"),
    fc
      .tuple(kmsKeyArn, fc.constantFrom(..."ABCDEFghz"))
      .map(([arn, c]) => ["key id with a non-lowercase-hex character", arn.replace(/[0-9a-f](?=[0-9a-f-]*$)/, c)] as Labelled),
    fc
      .tuple(kmsKeyArn, fc.nat({ max: 35 }))
      .map(([arn, i]) => {
        const id = arn.slice(-36);
        const moved = id.replace(/-/g, "").slice(0, 32);
        const regrouped = `${moved.slice(0, i % 32)}-${moved.slice(i % 32)}`.padEnd(36, "0");
        return ["key id with wrong grouping", arn.slice(0, -36) + regrouped] as Labelled;
      })
      .filter(([, v]) => !/key\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v as string)),
    swap(/$/, fc.constantFrom("0", "/", " ", "\n"), "something after the key id"),
    label("another type", notAString),
  );
})();

const SIDES = ["caller", "callee"] as const;

// ---------------------------------------------------------------------------

describe("validateConfig (property-based)", () => {
  it("accepts every well-formed configuration and returns it unchanged and frozen", () => {
    fc.assert(
      fc.property(validConfig, (raw) => {
        expect(problemsOf(raw)).toBeUndefined();
        const config: CrossAccountConfig = validateConfig(raw);
        expect(config).toStrictEqual(raw);
        expect(Object.isFrozen(config)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.each(SIDES)("rejects every malformed %sAccountId, naming the field", (side) => {
    fc.assert(
      fc.property(validConfig, malformedAccountId, (raw, [what, value]) => {
        expectRejectedNaming({ ...raw, [`${side}AccountId`]: value }, `${side}AccountId`, what);
      }),
      { numRuns: 500 },
    );
  });

  it.each(SIDES)("rejects every malformed %sVpcId, naming the field", (side) => {
    fc.assert(
      fc.property(validConfig, malformedVpcId, (raw, [what, value]) => {
        expectRejectedNaming({ ...raw, [`${side}VpcId`]: value }, `${side}VpcId`, what);
      }),
      { numRuns: 500 },
    );
  });

  it.each(SIDES)("rejects every malformed %sSubnetIds list, naming the field", (side) => {
    fc.assert(
      fc.property(validConfig, malformedSubnetList, (raw, [what, value]) => {
        expectRejectedNaming({ ...raw, [`${side}SubnetIds`]: value }, `${side}SubnetIds`, what);
      }),
      { numRuns: 500 },
    );
  });

  it.each(SIDES)("rejects every malformed %sDeployRoleArn, and one in another account, naming the field", (side) => {
    const field = `${side}DeployRoleArn`;
    fc.assert(
      fc.property(
        validConfig.chain((raw) => {
          const account = raw[`${side}AccountId`] as string;
          const otherAccount = accountId.filter((a) => a !== account);
          return fc.tuple(
            fc.constant(raw),
            fc.oneof(
              malformedRoleArn(account),
              otherAccount.chain((a) => label("a role in another account", roleArn(a))),
            ),
          );
        }),
        ([raw, [what, value]]) => {
          const { [`${side}Profile`]: _profile, ...rest } = raw;
          expectRejectedNaming({ ...rest, [field]: value }, field, what);
        },
      ),
      { numRuns: 700 },
    );
  });

  it("rejects every malformed entry of calleeRouteTableIds, anywhere in the list, naming the field", () => {
    fc.assert(
      fc.property(
        validConfig,
        fc.uniqueArray(routeTableId, { maxLength: 3 }),
        malformedRouteTableId,
        fc.nat(),
        (raw, good, [what, bad], at) => {
          const tables: unknown[] = [...good];
          tables.splice(at % (good.length + 1), 0, bad);
          const idempotent = { ...raw, calleeIdempotency: true, calleeRouteTableIds: tables };
          expectRejectedNaming(idempotent, "calleeRouteTableIds", what);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("rejects every calleeIdempotencyExpirySeconds outside 3600..2592000 whole seconds, naming the field", () => {
    const outside = fc.oneof(
      label("below an hour", fc.integer({ min: -1_000_000, max: 3599 })),
      label("above 30 days", fc.integer({ min: 2_592_001, max: Number.MAX_SAFE_INTEGER })),
      label(
        "not whole",
        fc.double({ min: 3600, max: 2592000, noNaN: true }).filter((n) => !Number.isInteger(n)),
      ),
      // "" (like null) is not given, as for every optional field, so it is no wrong value.
      label("not a number", fc.oneof(fc.string({ minLength: 1 }), fc.boolean(), fc.constant(Number.NaN))),
    );
    fc.assert(
      fc.property(validConfig, outside, (raw, [what, expiry]) => {
        const on = {
          ...raw,
          calleeIdempotency: true,
          calleeRouteTableIds: ["rtb-0b1b1b1b1b1b1b1b1"],
          calleeIdempotencyExpirySeconds: expiry,
        };
        expectRejectedNaming(on, "calleeIdempotencyExpirySeconds", what);
      }),
      { numRuns: 500 },
    );
  });

  it("rejects every malformed stateKmsKeyArn, naming the field", () => {
    fc.assert(
      fc.property(validConfig, malformedKmsKeyArn, (raw, [what, value]) => {
        expectRejectedNaming({ ...raw, stateKmsKeyArn: value }, "stateKmsKeyArn", what);
      }),
      { numRuns: 700 },
    );
  });

  it("suggests the field an unknown one misspells by one edit (a letter dropped, doubled, swapped or in another case), and lists no fields otherwise", () => {
    const misspelt = fc
      .tuple(fc.constantFrom(...CONFIG_KEYS), fc.nat(), fc.constantFrom("drop", "double", "swap", "case"))
      .map(([key, at, how]) => {
        const i = at % (how === "swap" ? key.length - 1 : key.length);
        const typo =
          how === "drop"
            ? key.slice(0, i) + key.slice(i + 1)
            : how === "double"
              ? key.slice(0, i + 1) + key.slice(i)
              : how === "swap"
                ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2)
                : key.slice(0, i) + (key[i] === key[i].toUpperCase() ? key[i].toLowerCase() : key[i].toUpperCase()) + key.slice(i + 1);
        return { key, typo };
      })
      .filter(({ typo }) => !(CONFIG_KEYS as string[]).includes(typo));
    fc.assert(
      fc.property(misspelt, ({ key, typo }) => {
        const problems = problemsOf({ ...DEMO_DEFAULTS, [typo]: "x" });
        expect(problems).toHaveLength(1);
        const m = /^unknown field '(.*)': did you mean (.*)\? \(remove it or fix its spelling\)$/.exec(problems?.[0] ?? "");
        expect(m?.[1]).toBe(typo);
        expect(m?.[2].split(" or ")).toContain(key);
      }),
      { numRuns: 500 },
    );
  });

  it("throws nothing but ConfigValidationError for arbitrary input, and accepts only what it returns unchanged (less its empty optional fields)", () => {
    const anything = anyJavaScriptValue(3);
    const input = fc.oneof(
      anything,
      // Known fields with arbitrary values, alone or over a valid configuration.
      fc.dictionary(fc.constantFrom(...CONFIG_KEYS), anything, { maxKeys: 6 }),
      fc
        .tuple(validConfig, fc.dictionary(fc.oneof(fc.constantFrom(...CONFIG_KEYS), fc.string()), anything, { maxKeys: 3 }))
        .map(([raw, over]) => ({ ...raw, ...over })),
    );
    fc.assert(
      fc.property(input, (raw) => {
        let result: unknown;
        try {
          result = validateConfig(raw);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigValidationError);
          const problems = (err as ConfigValidationError).problems;
          expect(problems.length).toBeGreaterThan(0);
          for (const p of problems) expect(p).toMatch(/\S/);
          expect((err as Error).message).toContain(problems[0]);
          return;
        }
        // Unchanged but for the optional fields given as "" or null, which count as not given and are left out.
        const given = Object.fromEntries(Object.entries(raw as Raw).filter(([, value]) => value !== null && value !== ""));
        expect(result).toStrictEqual(given);
        expect(Object.keys(raw as Raw).every((k) => (CONFIG_KEYS as string[]).includes(k))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("loadConfig (property-based)", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-config-prop-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const load = (options: { context?: unknown; env?: NodeJS.ProcessEnv }): { config?: CrossAccountConfig; problems?: readonly string[] } => {
    try {
      return { config: loadConfig({ env: {}, cwd: dir, ...options }) };
    } catch (err) {
      if (!(err instanceof ConfigValidationError))
        throw new Error(`loadConfig threw something other than ConfigValidationError: ${String(err)}`);
      return { problems: err.problems };
    }
  };

  it("throws nothing but ConfigValidationError for any cdktf.json context and any XACCT_* environment", () => {
    const envValue = fc.oneof(
      fc.string({ maxLength: 30 }),
      subnetIds.map((ids) => ids.join(", ")),
      accountId,
      fc.integer().map(String),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.dictionary(fc.constantFrom(...CONFIG_KEYS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        ),
        fc.dictionary(fc.constantFrom(...CONFIG_KEYS).map(envVarName), envValue, { maxKeys: 4 }),
        (context, env) => {
          const { config, problems } = load({ context, env });
          if (problems) expect(problems.length).toBeGreaterThan(0);
          else expect(config).toBeDefined();
        },
      ),
      { numRuns: 400 },
    );
  });

  it.each(SIDES)("rejects a malformed %sAccountId given through the environment, naming the field", (side) => {
    const field = `${side}AccountId`;
    fc.assert(
      fc.property(
        malformedAccountId.filter(([, v]) => typeof v === "string" && v.trim() !== "" && !/^\d{12}$/.test(v.trim())),
        ([what, value]) => {
          const { problems } = load({ env: { [envVarName(field)]: value as string } });
          expect({ what, problems }).toEqual({ what, problems: [expect.stringMatching(new RegExp(`^${field} `))] });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("accepts well-formed ids through the environment, trimmed and split", () => {
    fc.assert(
      fc.property(twoAccounts, subnetIds, vpcId, ({ caller, callee }, subnets, vpc) => {
        const { config, problems } = load({
          env: {
            XACCT_CALLER_ACCOUNT_ID: ` ${caller} `,
            XACCT_CALLEE_ACCOUNT_ID: callee,
            XACCT_CALLER_SUBNET_IDS: subnets.join(" , "),
            XACCT_CALLEE_VPC_ID: vpc,
            XACCT_STATE_KMS_KEY_ARN: ` arn:aws:kms:${DEMO_DEFAULTS.stateRegion}:${caller}:key/0b1c2d3e-0000-4000-8000-000000000000 `,
          },
        });
        expect(problems).toBeUndefined();
        expect(config).toMatchObject({ callerAccountId: caller, calleeAccountId: callee, callerSubnetIds: subnets, calleeVpcId: vpc });
        expect(config?.stateKmsKeyArn).toBe(`arn:aws:kms:${DEMO_DEFAULTS.stateRegion}:${caller}:key/0b1c2d3e-0000-4000-8000-000000000000`);
      }),
      { numRuns: 200 },
    );
  });
});
