/** ARNs split and built in one place (core/arn.ts). */
import { accountOf, accountRootArn, functionNameOf, iamNameOf, parseArn, regionOf, serviceOf, splitFunctionArn } from "../../core";

describe("parseArn", () => {
  it.each<[string, ReturnType<typeof parseArn>]>([
    [
      "arn:aws:lambda:eu-west-1:222222222222:function:callee:live",
      { partition: "aws", service: "lambda", region: "eu-west-1", account: "222222222222", resource: "function:callee:live" },
    ],
    [
      "arn:aws-cn:iam::111111111111:role/svc/r",
      { partition: "aws-cn", service: "iam", region: "", account: "111111111111", resource: "role/svc/r" },
    ],
    ["arn:aws:s3:::bucket/key", { partition: "aws", service: "s3", region: "", account: "", resource: "bucket/key" }],
    ["*", undefined],
    ["arn:aws:lambda", undefined],
    ["urn:aws:iam::111111111111:root", undefined],
  ])("%s", (arn, expected) => {
    expect(parseArn(arn)).toEqual(expected);
  });
});

describe("the field accessors", () => {
  it.each<[string, string, string, string]>([
    ["arn:aws:sqs:eu-west-1:111111111111:dlq", "111111111111", "sqs", "eu-west-1"],
    ["arn:aws:iam::222222222222:root", "222222222222", "iam", ""],
    ["not-an-arn", "", "", ""],
  ])("%s", (arn, account, service, region) => {
    expect([accountOf(arn), serviceOf(arn), regionOf(arn)]).toEqual([account, service, region]);
  });

  it("names", () => {
    expect(accountRootArn("aws-us-gov", "111111111111")).toBe("arn:aws-us-gov:iam::111111111111:root");
    expect(iamNameOf("arn:aws:iam::111111111111:role/a/b/invoker")).toBe("invoker");
    expect(functionNameOf("arn:aws:lambda:eu-west-1:1:function:callee:live")).toBe("callee");
    expect(functionNameOf("arn:aws:iam::1:role/x")).toBe("arn:aws:iam::1:role/x");
  });
});

describe("splitFunctionArn", () => {
  it.each<[string, ReturnType<typeof splitFunctionArn>]>([
    ["arn:aws:lambda:eu-west-1:2:function:f", { unqualified: "arn:aws:lambda:eu-west-1:2:function:f", name: "f" }],
    [
      "arn:aws:lambda:eu-west-1:2:function:f:$LATEST",
      { unqualified: "arn:aws:lambda:eu-west-1:2:function:f", name: "f", qualifier: "$LATEST" },
    ],
    ["arn:aws:lambda:eu-west-1:2:function:f:live:extra", undefined],
    ["arn:aws:lambda:eu-west-1:2:layer:l:1", undefined],
    ["arn:aws:sqs:eu-west-1:2:function:q", undefined],
  ])("%s", (arn, expected) => {
    expect(splitFunctionArn(arn)).toEqual(expected);
  });
});
