import { runplaneProject } from "../../vitest.shared";

export default runplaneProject("@internal/database");
