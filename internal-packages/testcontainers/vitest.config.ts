import { runplaneProject } from "../../vitest.shared";

export default runplaneProject("@internal/testcontainers");
