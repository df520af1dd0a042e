// The API reference page: reads the OpenAPI document next to it and lists each operation
// (grouped by tag) with its roles, parameters, body and answers, then every schema.

import { $, h, replaceChildren } from "./common/dom.js";

const METHODS = ["get", "post", "put", "patch", "delete"];

function refName(ref) {
  return ref.split("/").pop();
}

/** A schema as one line of text: a link for a named schema, else its type. */
function typeOf(schema) {
  if (!schema) return "—";
  if (schema.$ref) return h("a", { href: `#schema-${refName(schema.$ref)}` }, refName(schema.$ref));
  if (schema.anyOf || schema.oneOf) {
    const parts = (schema.anyOf || schema.oneOf).map(typeOf);
    return h("span", {}, ...parts.flatMap((p, i) => (i ? [" | ", p] : [p])));
  }
  if (schema.type === "array") return h("span", {}, "[", typeOf(schema.items), "]");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const bits = [schema.type || "any"];
  if (schema.format) bits.push(`(${schema.format})`);
  if (schema.maxLength !== undefined) bits.push(`≤ ${schema.maxLength} chars`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) {
    bits.push(`${schema.minimum ?? ""}…${schema.maximum ?? ""}`);
  }
  return bits.join(" ");
}

function fieldsTable(schema) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const rows = Object.entries(props).map(([name, prop]) =>
    h(
      "tr",
      {},
      h("td", {}, h("code", {}, name), required.has(name) ? " *" : ""),
      h("td", {}, typeOf(prop)),
      h("td", {}, prop.description || prop.title || ""),
    ),
  );
  if (!rows.length) return h("p", { class: "muted" }, typeOf(schema));
  return h("table", { class: "fields" }, h("tbody", {}, rows));
}

function parameters(op) {
  const params = op.parameters || [];
  if (!params.length) return null;
  return h(
    "table",
    { class: "fields" },
    h(
      "tbody",
      {},
      params.map((p) =>
        h(
          "tr",
          {},
          h("td", {}, h("code", {}, p.name), p.required ? " *" : ""),
          h("td", {}, p.in),
          h("td", {}, typeOf(p.schema)),
          h("td", {}, p.description || ""),
        ),
      ),
    ),
  );
}

function body(op) {
  const content = op.requestBody && op.requestBody.content;
  if (!content) return null;
  const [type, media] = Object.entries(content)[0];
  return h("p", {}, "Body ", h("code", {}, type), ": ", typeOf(media.schema));
}

function answers(op) {
  return h(
    "ul",
    { class: "answers" },
    Object.entries(op.responses || {}).map(([code, r]) => {
      const media = r.content ? Object.entries(r.content)[0] : null;
      return h(
        "li",
        {},
        h("code", {}, code),
        " ",
        media ? [h("code", {}, media[0]), " ", typeOf(media[1].schema), " — "] : "",
        r.description || "",
      );
    }),
  );
}

// What the document's own extensions say about an operation, in words.
const NOTES = {
  "x-lenient-body": "A body that breaks its schema is read, not refused.",
  "x-revokes-credential": "After a success, the caller's own token no longer works.",
};

function notes(op) {
  const said = Object.keys(NOTES).filter((key) => op[key]);
  if (!said.length) return null;
  return h("ul", { class: "notes" }, said.map((key) => h("li", {}, NOTES[key])));
}

function operation(path, method, op) {
  const roles = op["x-roles"];
  return h(
    "section",
    {
      class: "op",
      dataset: {
        testid: "reference-op",
        op: `${method.toUpperCase()} ${path}`,
        search: `${method} ${path} ${op.summary || ""}`.toLowerCase(),
      },
    },
    h("h3", {}, h("span", { class: `method method-${method}` }, method.toUpperCase()), " ", h("code", {}, path)),
    op.summary ? h("p", {}, op.summary) : null,
    h("p", { class: "roles" }, "Roles: ", roles && roles.length ? roles.join(", ") : "public"),
    op.description ? h("p", { class: "muted" }, op.description) : null,
    notes(op),
    parameters(op),
    body(op),
    answers(op),
  );
}

function render(doc) {
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(path, method, op));
    }
  }
  const tags = [...byTag.keys()].sort();
  replaceChildren($("#toc"), tags.map((t) => h("a", { href: `#tag-${t}` }, t)), h("a", { href: "#schemas" }, "schemas"));
  replaceChildren($("#operations"), tags.map((t) => [h("h2", { id: `tag-${t}` }, t), byTag.get(t)]));
  $("#operations").removeAttribute("aria-busy");
  const schemas = Object.entries(doc.components.schemas).sort(([a], [b]) => a.localeCompare(b));
  replaceChildren(
    $("#schema-list"),
    schemas.map(([name, schema]) =>
      h("section", { class: "schema", id: `schema-${name}` }, h("h3", {}, name), schema.description ? h("p", {}, schema.description) : null, fieldsTable(schema)),
    ),
  );
  $("#filter").addEventListener("input", (e) => {
    const words = e.target.value.trim().toLowerCase();
    for (const section of document.querySelectorAll("section.op")) {
      section.hidden = Boolean(words) && !section.dataset.search.includes(words);
    }
  });
}

const link = document.querySelector("[data-testid=openapi-link]");
fetch(link.href, { headers: { Accept: "application/json" } })
  .then((r) => r.json())
  .then(render)
  .catch((err) => replaceChildren($("#operations"), h("p", { class: "error" }, String(err))));
