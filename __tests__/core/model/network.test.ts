/** The network part of the model (core/model/network.ts): each function's VPC and each VPC's endpoints with their policies. */
import { FULL_ACCESS_ENDPOINT_POLICY, loadAccountsModel } from "../../../core";
import { OUT_DIR, stacksVariant, type TfJson } from "../../local/support";

describe("the network model of the synthesized stacks", () => {
  const model = loadAccountsModel(OUT_DIR);

  it("puts each function in the VPC of its security group", () => {
    expect(Object.fromEntries([...model.functions.values()].map((f) => [f.name, f.vpcId]))).toEqual({
      "xacct-demo-caller": "vpc-0a1a1a1a1a1a1a1a1",
      "xacct-demo-callee": "vpc-0b1b1b1b1b1b1b1b1",
    });
  });

  it("has the caller VPC's two interface endpoints with their own policies and private DNS", () => {
    expect(model.vpcEndpoints.map((e) => [e.service, e.type, e.vpcId, e.accountId, e.privateDns, e.defaultPolicy]).sort()).toEqual([
      ["lambda", "Interface", "vpc-0a1a1a1a1a1a1a1a1", "111111111111", true, false],
      ["sts", "Interface", "vpc-0a1a1a1a1a1a1a1a1", "111111111111", true, false],
    ]);
    for (const e of model.vpcEndpoints) {
      expect(e.id).toMatch(/^vpce-[0-9a-f]{17}$/);
      expect(e.subnetIds).toEqual(["subnet-0a1a1a1a1a1a1a1a1", "subnet-0a2a2a2a2a2a2a2a2"]);
    }
  });

  it("gives an endpoint without a policy AWS's full-access default, and says so", () => {
    const dir = stacksVariant(({ caller }: { caller: TfJson }) => {
      for (const e of Object.values(caller.resource.aws_vpc_endpoint) as TfJson[]) delete e.policy;
    });
    const variant = loadAccountsModel(dir);
    expect(variant.vpcEndpoints.map((e) => e.defaultPolicy)).toEqual([true, true]);
    expect(variant.vpcEndpoints[0].policy).toEqual(FULL_ACCESS_ENDPOINT_POLICY);
  });
});
