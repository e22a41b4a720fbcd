export * from "@runplane/core/schemas";
