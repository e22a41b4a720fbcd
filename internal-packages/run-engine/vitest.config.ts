import { runplaneProject } from "../../vitest.shared";

export default runplaneProject("@internal/run-engine");
