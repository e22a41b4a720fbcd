import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

// A small reader for the subset of the Prisma schema language this repository uses. It refuses any
// line it does not understand, so a new construct cannot slip past the drift check unnoticed.

export type SchemaField = {
  name: string;
  column: string;
  type: string;
  kind: "scalar" | "enum";
  list: boolean;
  optional: boolean;
};
export type SchemaModel = { name: string; table: string; fields: SchemaField[] };
export type SchemaEnum = { name: string; dbName: string; values: string[] };
export type PrismaSchema = { models: SchemaModel[]; enums: SchemaEnum[] };

const SCALAR_TYPES = new Set(["String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes"]);

type Block = { keyword: string; name: string; lines: { text: string; where: string }[] };

function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' && line[i - 1] !== "\\") inString = !inString;
    if (!inString && line[i] === "/" && line[i + 1] === "/") return line.slice(0, i);
  }
  return line;
}

function mappedName(attributes: string): string | undefined {
  return /@map\(\s*(?:name:\s*)?"([^"]+)"\s*\)/.exec(attributes)?.[1];
}

function blocksOf(source: string, file: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  source.split("\n").forEach((raw, index) => {
    const where = `${file}:${index + 1}`;
    const line = stripComment(raw).trim();
    if (!line) return;
    if (!current) {
      const open = /^(model|enum|generator|datasource|view|type)\s+(\w+)\s*\{$/.exec(line);
      if (!open) throw new Error(`${where}: unrecognised top-level line: ${raw.trim()}`);
      current = { keyword: open[1], name: open[2], lines: [] };
      return;
    }
    if (line === "}") {
      blocks.push(current);
      current = undefined;
      return;
    }
    current.lines.push({ text: line, where });
  });
  if (current) throw new Error(`${file}: block ${current.keyword} ${current.name} is not closed`);
  return blocks;
}

export function parsePrismaSchema(files: { name: string; source: string }[]): PrismaSchema {
  const blocks = files.flatMap((file) => blocksOf(file.source, file.name));
  const unsupported = blocks.find((b) => b.keyword === "view" || b.keyword === "type");
  if (unsupported) throw new Error(`${unsupported.keyword} ${unsupported.name}: not supported by the drift check`);

  const enumNames = new Set(blocks.filter((b) => b.keyword === "enum").map((b) => b.name));
  const modelNames = new Set(blocks.filter((b) => b.keyword === "model").map((b) => b.name));

  const enums: SchemaEnum[] = blocks
    .filter((b) => b.keyword === "enum")
    .map((block) => {
      let dbName = block.name;
      const values: string[] = [];
      for (const { text, where } of block.lines) {
        const map = /^@@map\(\s*"([^"]+)"\s*\)$/.exec(text);
        if (map) {
          dbName = map[1];
          continue;
        }
        const value = /^(\w+)(\s+@map\(\s*"([^"]+)"\s*\))?$/.exec(text);
        if (!value) throw new Error(`${where}: unrecognised enum line: ${text}`);
        values.push(value[3] ?? value[1]);
      }
      return { name: block.name, dbName, values };
    });

  const models: SchemaModel[] = blocks
    .filter((b) => b.keyword === "model")
    .map((block) => {
      let table = block.name;
      const fields: SchemaField[] = [];
      let pendingAttribute = "";
      for (const { text, where } of block.lines) {
        // A block attribute (@@unique, @@index, …) may span lines until its parentheses balance.
        if (pendingAttribute || text.startsWith("@@")) {
          pendingAttribute += text;
          const open = (pendingAttribute.match(/\(/g) ?? []).length;
          const close = (pendingAttribute.match(/\)/g) ?? []).length;
          if (open !== close) continue;
          const map = /^@@map\(\s*(?:name:\s*)?"([^"]+)"\s*\)$/.exec(pendingAttribute);
          if (map) table = map[1];
          else if (!/^@@(id|unique|index|ignore|schema|fulltext)\b/.test(pendingAttribute)) {
            throw new Error(`${where}: unrecognised block attribute: ${pendingAttribute}`);
          }
          pendingAttribute = "";
          continue;
        }
        const field = /^(\w+)\s+(\w+|Unsupported\("[^"]*"\))(\[\])?(\?)?(\s+.*)?$/.exec(text);
        if (!field) throw new Error(`${where}: unrecognised field line: ${text}`);
        const [, name, type, list, optional, attributes = ""] = field;
        if (modelNames.has(type)) continue; // relation field: no column of its own
        const kind = enumNames.has(type) ? "enum" : SCALAR_TYPES.has(type) || type.startsWith("Unsupported(") ? "scalar" : undefined;
        if (!kind) throw new Error(`${where}: unknown type ${type} of ${block.name}.${name}`);
        fields.push({ name, column: mappedName(attributes) ?? name, type, kind, list: !!list, optional: !!optional });
      }
      if (pendingAttribute) throw new Error(`${block.name}: unterminated block attribute ${pendingAttribute}`);
      return { name: block.name, table, fields };
    });

  return { models, enums };
}

/** Every `.prisma` file of a schema folder (symlinked files included), parsed as one schema. */
export async function readPrismaSchema(schemaDir: string): Promise<PrismaSchema> {
  const names = (await readdir(schemaDir)).filter((name) => name.endsWith(".prisma")).sort();
  const files = await Promise.all(
    names.map(async (name) => ({ name, source: await readFile(path.join(schemaDir, name), "utf8") }))
  );
  return parsePrismaSchema(files);
}
