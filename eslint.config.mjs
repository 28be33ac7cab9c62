// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", "build/", ".venv/", ".gen/", "coverage/", "**/*.js", "**/*.mjs"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Deep imports of @cdktf/provider-aws classes only: the package barrel costs seconds and a GB per synth.
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@cdktf/provider-aws", message: "Import the class by deep path, e.g. '@cdktf/provider-aws/lib/iam-role'." }] },
      ],
    },
  },
);
