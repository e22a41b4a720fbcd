import { fileURLToPath } from "node:url";
import { mergeConfig } from "vitest/config";
import { runplaneProject } from "../../vitest.shared";

export default mergeConfig(
  runplaneProject("@runplane/webapp", { globalSetup: ["./test/support/globalSetup.ts"] }),
  { resolve: { alias: { "~": fileURLToPath(new URL("./app", import.meta.url)) } } }
);
