// @internal/testcontainers depends on this package (for migrations), so a package dependency back
// would be a workspace cycle; the tests import the fixtures by path instead.
export { postgresTest, heteroPostgresTest, TEST_DATABASE_URL } from "../../testcontainers/src/index.js";
